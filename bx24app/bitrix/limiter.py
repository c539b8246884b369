"""Redis leaky bucket per portal shared by every process, and per-method pauses after 429."""

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
        self._take = redis_client().register_script(_TAKE_SCRIPT)
        self._penalize = redis_client().register_script(_PENALIZE_SCRIPT)

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
            wait_ms = int(self._take(keys=[self.bucket_key], args=[interval_ms, tolerance_ms]))
            if wait_ms <= 0:
                return waited
            self._sleep(wait_ms / 1000.0)
            waited += wait_ms / 1000.0

    def penalize(self, seconds: float) -> None:
        """After a 503 from the portal: every process of this portal waits ``seconds`` before the next request."""
        _interval_ms, tolerance_ms = self._interval_and_tolerance_ms()
        self._penalize(keys=[self.bucket_key], args=[int(seconds * 1000), tolerance_ms])

    # ---- per-method pauses (429 OPERATION_TIME_LIMIT) ---------------------------------------------
    def _pause_key(self, method: str) -> str:
        return f"bx24:pause:{self.member_id}:{method.lower()}"

    def pause_method(self, method: str, until: float) -> float:
        """Pause ``method`` for every process of this portal; returns the effective end of the pause."""
        until = max(float(until), time.time() + MIN_METHOD_PAUSE)
        seconds = until - time.time()
        redis_client().set(self._pause_key(method), str(until), px=int(seconds * 1000) + 1)
        return until

    def method_paused_until(self, method: str) -> float | None:
        value = redis_client().get(self._pause_key(method))
        return float(value) if value else None

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
