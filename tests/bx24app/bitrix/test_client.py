"""BitrixClient over HTTP against the emulator: calls, batch, fast list walk, refresh, errors, retries."""

import threading
import time

import pytest
from django.db import transaction

from bx24app.bitrix.client import BitrixClient, is_read_only
from bx24app.bitrix.errors import (
    MethodNotFound,
    OperationTimeLimit,
    OutcomeUnknown,
    PortalNeedsReauth,
    TransportError,
)
from bx24app.bitrix.stats import RequestStats
from bx24app.models import Portal
from tests.bx24app.conftest import emulator_stats, portal_row, portal_state

pytestmark = pytest.mark.django_db(transaction=True)


def test_call_returns_the_result_and_counts_the_request(client_portal):
    stats = RequestStats()
    user = BitrixClient(client_portal, stats=stats).call("user.current")
    assert user["IS_ADMIN"] is True
    assert stats.snapshot() == {"requests": 1, "commands": 1, "per_method": {"user.current": 1}}


def test_batch_surfaces_partial_errors_per_command(client_portal):
    stats = RequestStats()
    client = BitrixClient(client_portal, stats=stats)

    result = client.batch({
        "me": ("user.current", None),
        "company": ("crm.item.add", {"entityTypeId": 4, "fields": {"title": "ООО «Ромашка» & Co"}}),
        "contact": ("crm.item.add", {"entityTypeId": 3, "fields": {
            "name": "Иван", "companyId": "$result[company][item][id]",
            "fm": [{"typeId": "PHONE", "valueType": "WORK", "value": "+7 (495) 123-45-67"}]}}),
        "missing": ("crm.item.get", {"entityTypeId": 2, "id": 999999}),
        "unknown": ("no.such.method", None),
    })

    assert set(result.results) == {"me", "company", "contact"}
    assert set(result.errors) == {"missing", "unknown"}
    assert isinstance(result.errors["unknown"], MethodNotFound)
    assert result.errors["missing"].code == "NOT_FOUND"
    company = result.results["company"]["item"]
    assert company["title"] == "ООО «Ромашка» & Co"
    assert int(result.results["contact"]["item"]["companyId"]) == company["id"]
    assert stats.requests == 1 and stats.commands == 5


def test_batch_refuses_more_than_50_commands(client_portal):
    with pytest.raises(ValueError):
        BitrixClient(client_portal).batch({str(i): ("user.current", None) for i in range(51)})


def test_list_all_walks_every_page_by_id(client_portal):
    client = BitrixClient(client_portal)
    for chunk in range(3):
        client.batch({str(i): ("crm.item.add", {"entityTypeId": 4, "fields": {"title": f"Компания {chunk}-{i}"}})
                      for i in range(40)})
    stats = RequestStats()
    client = BitrixClient(client_portal, stats=stats)

    titles = [item["title"] for item in client.list_all(
        "crm.item.list", params={"entityTypeId": 4, "select": ["id", "title"]}, id_key="id", items_key="items")]

    assert len(titles) == len(set(titles)) == 120
    assert stats.requests == 3  # 50 + 50 + 20


def test_expired_token_is_refreshed_and_the_rotated_pair_persisted(client_portal, emulator):
    old_access, old_refresh = client_portal.access_token, client_portal.refresh_token
    emulator.expire_tokens(client_portal.member_id)

    assert BitrixClient(client_portal).call("user.current")

    stored = Portal.objects.get(pk=client_portal.pk)
    assert stored.access_token not in ("", old_access) and stored.refresh_token not in ("", old_refresh)
    assert stored.access_token == client_portal.access_token


def test_a_refresh_inside_a_caller_transaction_that_rolls_back_is_kept(client_portal, emulator):
    old_refresh = client_portal.refresh_token
    emulator.expire_tokens(client_portal.member_id)

    with pytest.raises(RuntimeError), transaction.atomic():
        assert BitrixClient(client_portal).call("user.current")
        raise RuntimeError("the caller's own work failed")

    stored = Portal.objects.get(pk=client_portal.pk)
    assert stored.refresh_token == client_portal.refresh_token != old_refresh
    emulator.expire_tokens(client_portal.member_id)
    assert BitrixClient(stored).call("user.current")  # the kept refresh token is the valid one


def test_invalid_grant_marks_the_portal_as_needing_reauthorisation(client_portal, emulator):
    Portal.objects.filter(pk=client_portal.pk).update(refresh_token="revoked-refresh-token")
    client_portal.refresh_from_db()
    emulator.expire_tokens(client_portal.member_id)

    with pytest.raises(PortalNeedsReauth):
        BitrixClient(client_portal).call("user.current")

    stored = Portal.objects.get(pk=client_portal.pk)
    assert stored.status == Portal.Status.NEEDS_REAUTH
    assert "Администратор портала должен открыть приложение" in stored.status_reason


def test_http_endpoints_are_refused_unless_allowed(client_portal, settings):
    settings.BITRIX24_ALLOW_HTTP = False
    with pytest.raises(TransportError):
        BitrixClient(client_portal).call("user.current")


def test_read_only_methods_are_recognised():
    assert all(map(is_read_only, ["crm.item.get", "crm.item.list", "crm.item.fields", "app.info", "user.get"]))
    assert not any(map(is_read_only, ["crm.item.add", "crm.item.update", "im.notify.system.add", "event.bind"]))


# ---- faults need a private emulator -------------------------------------------------------------------
@pytest.fixture
def fault_portal(settings, own_emulator):
    settings.BITRIX24_OAUTH_SERVERS = [own_emulator.base_url]
    settings.BITRIX24_ALLOW_HTTP = True
    return portal_row(own_emulator)


def test_write_with_a_500_after_the_write_is_outcome_unknown_and_not_retried(fault_portal, own_emulator):
    own_emulator.set_faults(fault_rate=1.0, fault_after_write=True)
    client = BitrixClient(fault_portal, sleep=lambda seconds: None)

    with pytest.raises(OutcomeUnknown):
        client.call("crm.item.add", {"entityTypeId": 4, "fields": {"title": "Once"}})

    own_emulator.set_faults(fault_rate=0.0)
    assert [c["title"] for c in portal_state(own_emulator, fault_portal.member_id)["companies"]] == ["Once"]
    assert emulator_stats(own_emulator)["commands"]["crm.item.add"] == 1


def test_reads_are_retried_after_a_500(fault_portal, own_emulator):
    own_emulator.set_faults(fault_rate=1.0)
    backoffs = []

    def backoff(seconds):  # the portal recovers while we back off
        backoffs.append(seconds)
        own_emulator.set_faults(fault_rate=0.0)

    assert BitrixClient(fault_portal, sleep=backoff).call("user.current")
    assert len(backoffs) == 1 and backoffs[0] > 0
    assert emulator_stats(own_emulator)["requests"]["user.current"] == 2


def test_429_pauses_only_that_method_until_operating_reset_at(fault_portal, own_emulator):
    own_emulator.set_faults(method_429={"method": "crm.item.list", "seconds": 2})
    client = BitrixClient(fault_portal)
    outcome = {}

    def slow_list():
        started = time.monotonic()
        outcome["items"] = client.call("crm.item.list", {"entityTypeId": 4})
        outcome["seconds"] = time.monotonic() - started

    worker = threading.Thread(target=slow_list)
    worker.start()
    time.sleep(0.5)
    started = time.monotonic()
    assert BitrixClient(fault_portal).call("user.current")  # another method is not paused
    other_seconds = time.monotonic() - started
    requests_while_paused = emulator_stats(own_emulator)["requests"]["crm.item.list"]
    worker.join(timeout=30)

    assert other_seconds < 0.5
    assert requests_while_paused == 1  # the paused method waited instead of hammering the portal
    assert outcome["items"] == {"items": []} and outcome["seconds"] >= 1.5


def test_429_beyond_the_allowed_wait_raises_and_blocks_the_method_without_calls(fault_portal, own_emulator,
                                                                                   settings):
    settings.BITRIX24_MAX_METHOD_PAUSE = 1
    own_emulator.set_faults(method_429={"method": "crm.item.list", "seconds": 120})
    client = BitrixClient(fault_portal)

    with pytest.raises(OperationTimeLimit) as first:
        client.call("crm.item.list", {"entityTypeId": 4})
    with pytest.raises(OperationTimeLimit):
        client.call("crm.item.list", {"entityTypeId": 4})

    assert first.value.reset_at > time.time() + 60
    assert emulator_stats(own_emulator)["requests"]["crm.item.list"] == 1
    assert client.call("user.current")
