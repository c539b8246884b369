"""Deal-update events are coalesced: many events → one delayed task → one crm.item.list per 50 deals."""

import pytest

from bx24app import tasks
from bx24app.bitrix.client import BitrixClient
from bx24app.bitrix.limiter import redis_client
from bx24app.models import PaymentNotification, PortalSettings
from bx24app.services.portal_events import _pending_key, deal_update_enqueue, deal_updates_process
from tests.bx24app.conftest import emulator_stats

pytestmark = pytest.mark.django_db(transaction=True)


def test_sixty_events_are_checked_with_two_list_calls(installed_portal, emulator, monkeypatch):
    scheduled = []
    monkeypatch.setattr(tasks.deal_updates_process_task, "apply_async",
                        lambda args, countdown: scheduled.append((args, countdown)))
    stage_map = PortalSettings.objects.get(portal=installed_portal).stage_map
    manager = int(emulator.add_user(installed_portal.member_id, "Анна", "Продажина")["ID"])
    client = BitrixClient(installed_portal)
    deal_ids = []
    for chunk in (range(0, 50), range(50, 60)):
        result = client.batch({str(i): ("crm.item.add", {"entityTypeId": 2, "fields": {
            "title": f"Сделка {i}", "assignedById": manager, "opportunity": 1000 + i,
            "stageId": stage_map["PAID"] if i in (3, 33, 55) else stage_map["INVOICE_SENT"]}}) for i in chunk})
        deal_ids += [result.results[str(i)]["item"]["id"] for i in chunk]

    for deal_id in deal_ids:
        assert deal_update_enqueue(installed_portal, deal_id)

    assert len(scheduled) == 1 and scheduled[0][1] == 3
    lists_before = emulator_stats(emulator)["commands"].get("crm.item.list", 0)
    assert deal_updates_process(installed_portal) == 3
    assert emulator_stats(emulator)["commands"].get("crm.item.list", 0) == lists_before + 2
    assert sorted(PaymentNotification.objects.values_list("deal_id", flat=True)) == sorted(
        deal_ids[i] for i in (3, 33, 55))
    assert redis_client().scard(_pending_key(installed_portal.pk)) == 0
    assert deal_updates_process(installed_portal) == 0
