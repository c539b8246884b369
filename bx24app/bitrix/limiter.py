"""Leaky bucket per portal shared by every process (Redis), and per-method pauses after 429.

Without REDIS_URL (the single-process demo) the same algorithm runs in process memory.
"""

import math
import threading
import time
from functools import cache

import redis
from django.conf import settings

from .errors import OperationTimeLimit

# GCRA form of the portal's leaky bucket (reference §2.4): the bucket drains `rate` requests per second and
# holds `burst`. The stored value is the "theoretical arrival time" (TAT): level = (TAT - now) * rate.
# Returns 0 when the request may go now (and takes its place), else the milliseconds to wait.
_TAKE_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local wait = tat - now - tolerance
-- whole milliseconds, at least 1: Redis truncates a Lua number reply, and 0 means "granted"
if wait > 0 then return math.max(1, math.ceil(wait)) end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now) + 1000)
return 0
"""

# After a 503 from the portal: nobody sends before `now + delay` (TAT moved so that the wait is `delay`).
_PENALIZE_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local target = now + tonumber(ARGV[1]) + tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or 0)
if tat < target then redis.call('SET', KEYS[1], target, 'PX', math.ceil(target - now) + 1000) end
return 0
"""

# Headroom kept below the portal's own bucket: network delays can make requests arrive bunched up.
SAFETY_SHARE = 0.1
MAX_METHOD_PAUSE = 60.0  # default seconds a caller waits for a paused method before OperationTimeLimit
MIN_METHOD_PAUSE = 1.0  # operating_reset_at is whole seconds: never retry a paused method sooner than this


@cache
def _redis_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def redis_client() -> redis.Redis:
    return _redis_for(settings.REDIS_URL)


class _RedisBuckets:
    """The shared state in Redis: atomic scripts on Redis's clock, so every process and host agrees."""

    def __init__(self):
        client = redis_client()
        self._take = client.register_script(_TAKE_SCRIPT)
        self._penalize = client.register_script(_PENALIZE_SCRIPT)

    def take(self, key: str, interval_ms: float, tolerance_ms: float) -> int:
        return int(self._take(keys=[key], args=[interval_ms, tolerance_ms]))

    def penalize(self, key: str, delay_ms: int, tolerance_ms: float) -> None:
        self._penalize(keys=[key], args=[delay_ms, tolerance_ms])

    def set_until(self, key: str, until: float) -> None:
        redis_client().set(key, str(until), px=max(1, int((until - time.time()) * 1000)) + 1)

    def get_until(self, key: str) -> float | None:
        value = redis_client().get(key)
        return float(value) if value else None


class _LocalBuckets:
    """The same algorithm in process memory (no Redis: the one-process demo)."""

    _lock = threading.Lock()
    _tats: dict = {}
    _untils: dict = {}

    def take(self, key: str, interval_ms: float, tolerance_ms: float) -> int:
        with self._lock:
            now = time.time() * 1000
            tat = max(self._tats.get(key, now), now)
            wait = tat - now - tolerance_ms
            if wait > 0:
                return max(1, math.ceil(wait))
            self._tats[key] = tat + interval_ms
            return 0

    def penalize(self, key: str, delay_ms: int, tolerance_ms: float) -> None:
        with self._lock:
            target = time.time() * 1000 + delay_ms + tolerance_ms
            self._tats[key] = max(self._tats.get(key, 0), target)

    def set_until(self, key: str, until: float) -> None:
        with self._lock:
            self._untils[key] = until

    def get_until(self, key: str) -> float | None:
        with self._lock:
            until = self._untils.get(key)
        return until if until is not None and until > time.time() else None


def _buckets():
    return _RedisBuckets() if settings.REDIS_URL else _LocalBuckets()


def portal_limits(portal) -> tuple[float, int]:
    """(requests per second, burst) for the portal's tariff; BITRIX24_RATE_LIMIT overrides the rate."""
    rate, burst = (5.0, 250) if portal.is_enterprise else (2.0, 50)
    override = float(getattr(settings, "BITRIX24_RATE_LIMIT", 0) or 0)
    return (override or rate), burst


class PortalRateLimiter:
    """Blocks the caller until the portal's shared bucket has room; pauses single methods after a 429."""

    def __init__(self, portal, *, sleep=time.sleep):
        self.member_id = portal.member_id
        self.rate, burst = portal_limits(portal)
        self.burst = max(1, int(burst - max(1, burst * SAFETY_SHARE)))
        self._sleep = sleep
        self._buckets = _buckets()

    @property
    def bucket_key(self) -> str:
        return f"bx24:bucket:{self.member_id}"

    def _interval_and_tolerance_ms(self) -> tuple[float, float]:
        interval_ms = 1000.0 / self.rate
        return interval_ms, interval_ms * (self.burst - 1)

    def acquire(self) -> float:
        """Wait for a place in the bucket; returns the seconds waited."""
        interval_ms, tolerance_ms = self._interval_and_tolerance_ms()
        waited = 0.0
        while True:
            wait_ms = self._buckets.take(self.bucket_key, interval_ms, tolerance_ms)
            if wait_ms <= 0:
                return waited
            self._sleep(wait_ms / 1000.0)
            waited += wait_ms / 1000.0

    def penalize(self, seconds: float) -> None:
        """After a 503 from the portal: every process of this portal waits ``seconds`` before the next request."""
        _interval_ms, tolerance_ms = self._interval_and_tolerance_ms()
        self._buckets.penalize(self.bucket_key, int(seconds * 1000), tolerance_ms)

    # ---- per-method pauses (429 OPERATION_TIME_LIMIT) ---------------------------------------------
    def _pause_key(self, method: str) -> str:
        return f"bx24:pause:{self.member_id}:{method.lower()}"

    def pause_method(self, method: str, until: float) -> float:
        """Pause ``method`` for every process of this portal; returns the effective end of the pause."""
        until = max(float(until), time.time() + MIN_METHOD_PAUSE)
        self._buckets.set_until(self._pause_key(method), until)
        return until

    def method_paused_until(self, method: str) -> float | None:
        return self._buckets.get_until(self._pause_key(method))

    def wait_for_methods(self, methods) -> None:
        """Sleep until none of ``methods`` is paused, or raise OperationTimeLimit if that is too far away."""
        max_pause = float(getattr(settings, "BITRIX24_MAX_METHOD_PAUSE", MAX_METHOD_PAUSE))
        for method in sorted(set(methods)):
            until = self.method_paused_until(method)
            if until is None:
                continue
            remaining = until - time.time()
            if remaining > max_pause:
                raise OperationTimeLimit(
                    "OPERATION_TIME_LIMIT", f"{method} is paused until {until:.0f}", 429, reset_at=until
                )
            if remaining > 0:
                self._sleep(remaining)
