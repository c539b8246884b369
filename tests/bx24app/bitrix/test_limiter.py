"""The leaky bucket: a burst, then the drain rate, never above the portal's bucket; 429 pauses per method."""

import time
import uuid
from types import SimpleNamespace

import pytest

from bx24app.bitrix.limiter import PortalRateLimiter, portal_limits


def _portal(enterprise=False):
    return SimpleNamespace(member_id=f"limiter-{uuid.uuid4().hex}", is_enterprise=enterprise)


def _max_level(stamps, rate):
    level, last, highest = 0.0, stamps[0], 0.0
    for stamp in stamps:
        level = max(0.0, level - (stamp - last) * rate) + 1
        last = stamp
        highest = max(highest, level)
    return highest


@pytest.mark.parametrize("use_redis", [True, False], ids=["redis", "process-local"])
def test_burst_then_drain_rate_never_overfills_the_bucket(settings, use_redis):
    settings.BITRIX24_RATE_LIMIT = 100.0
    if not use_redis:
        settings.REDIS_URL = ""  # the one-process demo
    limiter = PortalRateLimiter(_portal())
    started = time.monotonic()
    stamps = []
    for _ in range(limiter.burst + 100):
        limiter.acquire()
        stamps.append(time.monotonic())

    assert limiter.burst == 45  # 10 % below the portal's 50
    assert stamps[limiter.burst - 1] - started < 0.3  # the burst goes at once
    assert 0.95 <= stamps[-1] - started <= 1.3  # then 100 more at 100/s
    assert _max_level(stamps, 100.0) <= limiter.burst + 0.5


def test_tariff_limits(settings):
    settings.BITRIX24_RATE_LIMIT = 0
    assert portal_limits(_portal()) == (2.0, 50)
    assert portal_limits(_portal(enterprise=True)) == (5.0, 250)
    settings.BITRIX24_RATE_LIMIT = 7
    assert portal_limits(_portal()) == (7.0, 50)


def test_a_paused_method_is_reported_until_its_reset():
    limiter = PortalRateLimiter(_portal())
    until = limiter.pause_method("crm.item.update", time.time() + 30)

    assert limiter.method_paused_until("crm.item.update") == pytest.approx(until)
    assert limiter.method_paused_until("crm.item.add") is None
    assert PortalRateLimiter(SimpleNamespace(member_id="other", is_enterprise=False)).method_paused_until(
        "crm.item.update") is None
