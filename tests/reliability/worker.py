"""A real Celery worker process for the suite: `celery -A bx24app worker -P solo` on a queue of its own.

It talks to the test's database (the test database name is passed explicitly in DATABASE_URL), the same Redis, and
the test's emulators. Killed with SIGKILL it dies like a worker on a crashed machine: no cleanup, no ack.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")


def database_url() -> str:
    db = settings.DATABASES["default"]  # inside a test: NAME is the test database
    auth = quote(db.get("USER") or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def worker_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
    env.update({
        "APP_ENV": "test", "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "CELERY_TASK_ALWAYS_EAGER": "0",
        "BITRIX24_OAUTH_SERVERS": ",".join(settings.BITRIX24_OAUTH_SERVERS),
        "BITRIX24_ALLOW_HTTP": "1" if settings.BITRIX24_ALLOW_HTTP else "0",
        "BITRIX24_RATE_LIMIT": str(settings.BITRIX24_RATE_LIMIT or 0), "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "bx24app.settings", "LOG_LEVEL": "INFO",
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


class CeleryWorker:
    def __init__(self, queue: str | None = None, **env):
        self.queue = queue or f"reliability-{uuid.uuid4().hex[:10]}"
        self.env = env
        self.process: subprocess.Popen | None = None
        self.log = Path(tempfile.mkstemp(prefix="celery-worker-", suffix=".log")[1])

    def start(self, timeout: float = 30.0) -> CeleryWorker:
        self.log.write_text("")
        handle = self.log.open("a")
        self.process = subprocess.Popen(
            [str(CELERY), "-A", "bx24app", "worker", "-P", "solo", "-Q", self.queue, "-n", f"{self.queue}@%h",
             "--without-heartbeat", "--without-mingle", "--without-gossip", "-l", "INFO"],
            cwd=ROOT, env=worker_env(**self.env), stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
        handle.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "ready." in self.log.read_text(errors="replace"):
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited at start:\n{self.output()}")
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"worker not ready in {timeout}s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        """SIGKILL, no goodbye (the process group, so nothing of it survives)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def forget_queue(self) -> None:
        """Drop this queue's leftovers from the broker (killed tasks stay unacked; nobody will consume them)."""
        import redis

        broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        broker.delete(self.queue)
        for tag, payload in (broker.hgetall("unacked") or {}).items():
            if self.queue.encode() in payload:
                broker.hdel("unacked", tag)
                broker.zrem("unacked_index", tag)
        self.log.unlink(missing_ok=True)
