"""Leaky bucket (503), operating budget (429), injected 503/429/500 faults."""

import time

import pytest

from emulators.bitrix24 import Bitrix24Emulator

from .conftest import Portal


@pytest.fixture
def limited():
    """The documented default bucket: 2 requests/s, burst 50."""
    emu = Bitrix24Emulator(port=0, rate=2, burst=50).start()
    yield Portal(emu, emu.create_portal())
    emu.stop()


@pytest.fixture
def budgeted():
    """A tiny operating budget: 5 commands of 0.01 s per method and 10 minutes."""
    emu = Bitrix24Emulator(port=0, rate=1000, burst=1000, op_budget=0.05, op_cost=0.01).start()
    yield Portal(emu, emu.create_portal())
    emu.stop()


def test_leaky_bucket_503_and_refused_requests_do_not_fill(limited):
    statuses = [limited.raw("app.info").status_code for _ in range(55)]
    assert statuses[:50] == [200] * 50
    assert 503 in statuses[50:]
    assert limited.raw("app.info").json()["error"] == "QUERY_LIMIT_EXCEEDED"
    time.sleep(0.6)
    assert limited.raw("app.info").status_code == 200


def test_batch_is_one_request_for_the_bucket(limited):
    for _ in range(3):
        result = limited.call("batch", cmd={str(i): f"crm.item.get?entityTypeId=2&id={i}" for i in range(50)})
        assert len(result["result_error"]) == 50


def test_operating_budget_per_method_429(budgeted):
    operating = [budgeted.raw("user.current").json()["time"]["operating"] for _ in range(5)]
    assert operating == sorted(operating) and operating[-1] == pytest.approx(0.05)
    status, body = budgeted.error("user.current")
    assert (status, body["error"]) == (429, "OPERATION_TIME_LIMIT")
    assert body["operating_reset_at"] > time.time() + 500
    assert budgeted.raw("app.info").status_code == 200, "other methods keep working"


def test_batch_subcommands_spend_their_own_budget(budgeted):
    result = budgeted.call("batch", cmd={str(i): "profile" for i in range(8)})
    assert len(result["result"]) == 5
    assert {e["error"] for e in result["result_error"].values()} == {"OPERATION_TIME_LIMIT"}
    assert result["result_time"]["4"]["operating"] == pytest.approx(0.05)


def test_injected_503_burst_and_forced_429(emulator, portal):
    emulator.set_faults(burst_503=2)
    assert [portal.raw("app.info").status_code for _ in range(3)] == [503, 503, 200]
    emulator.set_faults(method_429={"method": "crm.item.add", "seconds": 30})
    try:
        status, body = portal.error("crm.item.add", entityTypeId=4, fields={"title": "x"})
        assert status == 429 and body["operating_reset_at"] >= int(time.time()) + 29
        assert portal.raw("crm.item.list", entityTypeId=4).status_code == 200
    finally:
        emulator.set_faults(method_429={"method": "crm.item.add", "seconds": 0})
    assert portal.raw("crm.item.add", entityTypeId=4, fields={"title": "x"}).status_code == 200


def test_fault_500_before_or_after_write(emulator, portal):
    try:
        emulator.set_faults(fault_rate=1.0, fault_after_write=False)
        status, body = portal.error("crm.item.add", entityTypeId=4, fields={"title": "before"})
        assert (status, body["error"]) == (500, "INTERNAL_SERVER_ERROR")
        emulator.set_faults(fault_after_write=True)
        assert portal.error("crm.item.add", entityTypeId=4, fields={"title": "after"})[0] == 500
    finally:
        emulator.set_faults(fault_rate=0.0, fault_after_write=False)
    titles = [c["title"] for c in emulator.portal_state(portal.member_id)["companies"]]
    assert titles == ["after"], "the 'after' fault applies the write; the 'before' one does not"
