"""Request limits and injected faults: leaky bucket (503), per-method operating budget (429), 500s."""

import random
import threading
import time
from collections import defaultdict, deque

from .errors import ApiError

OPERATING_WINDOW = 600.0  # settings/performance/limits.md: 10 one-minute buckets


class Limits:
    """Per-portal leaky bucket, per (portal, method) operating time, and the fault switches."""

    def __init__(self, rate, burst, op_budget, op_cost, fault_rate):
        self.lock = threading.Lock()
        self.rate = float(rate)
        self.burst = float(burst)
        self.op_budget = float(op_budget)
        self.op_cost = float(op_cost)
        self.fault_rate = float(fault_rate)
        self.fault_after_write = False
        self.expire_tokens_every = 0
        self.burst_503 = 0
        self.method_429 = {}
        self.calls_seen = 0
        self._buckets = {}
        self._operating = defaultdict(deque)

    def configure(self, options):
        """Partial update from the control API."""
        with self.lock:
            for key in ("fault_rate", "rate", "burst", "op_budget", "op_cost"):
                if key in options:
                    setattr(self, key, float(options[key]))
            if "fault_after_write" in options:
                self.fault_after_write = bool(options["fault_after_write"])
            if "expire_tokens_every" in options:
                self.expire_tokens_every = int(options["expire_tokens_every"] or 0)
                self.calls_seen = 0
            if "burst_503" in options:
                self.burst_503 = int(options["burst_503"] or 0)
            rule = options.get("method_429")
            if rule:
                self.method_429[rule["method"].lower()] = time.time() + float(rule.get("seconds", 60))
            if options.get("reset_buckets"):
                self._buckets.clear()
                self._operating.clear()

    def snapshot(self):
        with self.lock:
            return {
                "rate": self.rate,
                "burst": self.burst,
                "op_budget": self.op_budget,
                "op_cost": self.op_cost,
                "fault_rate": self.fault_rate,
                "fault_after_write": self.fault_after_write,
                "expire_tokens_every": self.expire_tokens_every,
                "burst_503": self.burst_503,
                "method_429": dict(self.method_429),
            }

    # ---- leaky bucket ------------------------------------------------------------------------
    def take_request(self, member_id):
        """Count one HTTP request against the portal's bucket; a refused request adds nothing."""
        with self.lock:
            if self.burst_503 > 0:
                self.burst_503 -= 1
                raise _query_limit()
            now = time.monotonic()
            level, last = self._buckets.get(member_id, (0.0, now))
            level = max(0.0, level - (now - last) * self.rate)
            if level + 1 > self.burst:
                self._buckets[member_id] = (level, now)
                raise _query_limit()
            self._buckets[member_id] = (level + 1, now)

    def should_expire_tokens(self):
        """True on every N-th REST call when "expire tokens every N calls" is on."""
        with self.lock:
            if self.expire_tokens_every <= 0:
                return False
            self.calls_seen += 1
            return self.calls_seen % self.expire_tokens_every == 0

    # ---- operating budget --------------------------------------------------------------------
    def _window(self, member_id, method, now):
        entries = self._operating[(member_id, method)]
        while entries and entries[0][0] <= now - OPERATING_WINDOW:
            entries.popleft()
        return entries

    def check_method(self, member_id, method):
        """Raise 429 OPERATION_TIME_LIMIT if this method's budget is spent (or forced by a fault)."""
        with self.lock:
            now = time.time()
            forced_until = self.method_429.get(method)
            if forced_until and forced_until > now:
                raise _operation_limit(forced_until)
            entries = self._window(member_id, method, now)
            if sum(cost for _, cost in entries) >= self.op_budget:
                raise _operation_limit(entries[0][0] + OPERATING_WINDOW)

    def spend(self, member_id, method):
        """Record one command's simulated execution time; return (operating, reset_at)."""
        with self.lock:
            now = time.time()
            entries = self._window(member_id, method, now)
            entries.append((now, self.op_cost))
            return round(sum(cost for _, cost in entries), 6), int(entries[0][0] + OPERATING_WINDOW)

    # ---- random faults -----------------------------------------------------------------------
    def roll_fault(self):
        """``None`` (no fault), ``"before"`` or ``"after"`` the write is applied."""
        with self.lock:
            if self.fault_rate <= 0 or random.random() >= self.fault_rate:
                return None
            return "after" if self.fault_after_write else "before"


def _query_limit():
    return ApiError("QUERY_LIMIT_EXCEEDED", "Too many requests", 503)


def _operation_limit(reset_at):
    return ApiError(
        "OPERATION_TIME_LIMIT",
        "Method is blocked due to operation time limit.",
        429,
        operating_reset_at=int(reset_at),
    )
