"""Thread-safe counters of REST traffic (HTTP requests, commands, per method) that a SyncRun records."""

import threading
from collections import Counter


class RequestStats:
    """Counts what a client sent; one instance may be shared by the clients of one sync run."""

    def __init__(self):
        self._lock = threading.Lock()
        self.requests = 0
        self.commands = 0
        self.per_method: Counter = Counter()

    def record(self, method: str, commands: list[str] | None = None) -> None:
        """One HTTP request to ``method``; a batch passes the methods of its commands."""
        executed = commands if commands is not None else [method]
        with self._lock:
            self.requests += 1
            self.commands += len(executed)
            self.per_method.update(executed)

    def snapshot(self) -> dict:
        with self._lock:
            return {"requests": self.requests, "commands": self.commands, "per_method": dict(self.per_method)}
