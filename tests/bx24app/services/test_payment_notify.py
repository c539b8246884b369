"""«Клиент оплатил»: exactly one notification per deal and payment state, whichever paths fire."""

import threading

import pytest
import requests
from django.db import connection

from bx24app.bitrix.client import BitrixClient
from bx24app.models import PaymentNotification, Portal, PortalSettings
from bx24app.services.payment_notify import (
    deal_fetch,
    deal_payment_notify,
    deals_paid_unnotified,
    payment_tag,
)
from tests.bx24app.conftest import control, emulator_stats, portal_state

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scene(installed_portal, emulator, celery_eager):
    """An installed portal, a manager, a client company and a deal of that manager at «Счет отправлен»."""
    portal = installed_portal
    stage_map = PortalSettings.objects.get(portal=portal).stage_map
    manager = emulator.add_user(portal.member_id, "Петр", "Менеджеров", "petr@example.com")
    client = BitrixClient(portal)
    company = client.call("crm.item.add", {"entityTypeId": 4, "fields": {"title": "ООО «Ромашка»"}})["item"]
    deal = client.call("crm.item.add", {"entityTypeId": 2, "useOriginalUfNames": "Y", "fields": {
        "title": "Заказ № 17 от 20.11.2026", "stageId": stage_map["INVOICE_SENT"],
        "assignedById": int(manager["ID"]), "companyId": company["id"], "opportunity": 15000,
        "UF_CRM_ONEC_PAYMENT_DATE": "2026-11-27", "UF_CRM_ONEC_PAID_SUM": "15000.00|RUB"}})["item"]
    control(emulator, "wait-idle", timeout=20)
    return {"portal": portal, "manager_id": manager["ID"], "deal_id": deal["id"], "stage_map": stage_map,
            "client": client}


def _notifications(emulator, scene) -> list[dict]:
    state = portal_state(emulator, scene["portal"].member_id)
    return [n for notes in state["notifications"].values() for n in notes]


def _sent(emulator) -> int:
    return emulator_stats(emulator)["commands"].get("im.notify.system.add", 0)


def _move_to_paid(emulator, scene, user_id=None):
    control(emulator, f"portals/{scene['portal'].member_id}/deals/{scene['deal_id']}/move",
            stageId=scene["stage_map"]["PAID"], user_id=user_id or scene["manager_id"])
    assert control(emulator, "wait-idle", timeout=30)["idle"]


def test_manager_moves_the_deal_to_paid_and_the_responsible_user_is_notified_once(scene, emulator):
    sent_before = _sent(emulator)

    _move_to_paid(emulator, scene)

    notes = _notifications(emulator, scene)
    assert len(notes) == 1 and _sent(emulator) == sent_before + 1
    state = portal_state(emulator, scene["portal"].member_id)
    assert list(state["notifications"]) == [str(scene["manager_id"])]
    message = notes[0]["MESSAGE"]
    assert "Клиент оплатил счет по сделке" in message and "ООО «Ромашка»" in message
    assert "15 000,00 руб." in message
    assert f"[url={scene['portal'].deal_url(scene['deal_id'])}]Заказ № 17 от 20.11.2026[/url]" in message
    assert notes[0]["TAG"] == payment_tag(scene["deal_id"], "2026-11-27|15000.00|RUB")
    record = PaymentNotification.objects.get()
    assert (record.deal_id, record.source, record.notification_id) == (scene["deal_id"], "event",
                                                                      str(notes[0]["ID"]))


def test_placed_robot_and_the_event_together_notify_once(scene, emulator):
    control(emulator, f"portals/{scene['portal'].member_id}/robots/place", code="onec_payment_notify",
            stageId=scene["stage_map"]["PAID"], properties={"message": "Отгрузите заказ сегодня."})
    sent_before = _sent(emulator)

    _move_to_paid(emulator, scene)

    deliveries = portal_state(emulator, scene["portal"].member_id)["deliveries"]
    assert {d["what"] for d in deliveries[-2:]} == {"robot:onec_payment_notify", "ONCRMDEALUPDATE"}
    assert all(d["status"] == 200 for d in deliveries[-2:])
    assert len(_notifications(emulator, scene)) == 1 and _sent(emulator) == sent_before + 1
    record = PaymentNotification.objects.get()
    if record.source == "robot":
        assert "Отгрузите заказ сегодня." in _notifications(emulator, scene)[0]["MESSAGE"]


def _robot_form(scene, application_token, message=""):
    return {"workflow_id": "wf1", "code": "onec_payment_notify", "document_id[0]": "crm",
            "document_id[1]": "CCrmDocumentDeal", "document_id[2]": f"DEAL_{scene['deal_id']}",
            "auth[member_id]": scene["portal"].member_id, "auth[application_token]": application_token,
            "properties[message]": message, "use_subscription": "N"}


def test_forged_robot_call_gets_401_and_notifies_nobody(scene, emulator, app_online):
    _move_to_paid(emulator, scene)
    PaymentNotification.objects.all().delete()  # even a deal nobody was told about yet stays untouched
    sent_before = _sent(emulator)

    response = requests.post(f"{app_online.url}/bitrix/robots/payment-notify/",
                             data=_robot_form(scene, "forged", "x"), timeout=30)

    assert response.status_code == 401
    assert PaymentNotification.objects.count() == 0 and _sent(emulator) == sent_before


def test_robot_call_after_a_lost_event_notifies_with_the_custom_message(scene, emulator, app_online):
    _move_to_paid(emulator, scene)
    PaymentNotification.objects.all().delete()  # as if the event had been lost

    response = requests.post(f"{app_online.url}/bitrix/robots/payment-notify/",
                             data=_robot_form(scene, scene["portal"].application_token, "Спасибо!"), timeout=30)

    assert response.status_code == 200
    assert PaymentNotification.objects.get().source == "robot"
    notes = _notifications(emulator, scene)
    assert len(notes) == 1 and notes[0]["MESSAGE"].endswith("Спасибо!")  # same TAG: replaced, not doubled


def test_calling_the_service_twice_or_concurrently_notifies_once(scene, emulator):
    _move_to_paid(emulator, scene)
    PaymentNotification.objects.all().delete()
    sent_before = _sent(emulator)
    portal = Portal.objects.get(pk=scene["portal"].pk)
    outcomes = []
    barrier = threading.Barrier(4)

    def notify():
        try:
            barrier.wait()
            outcomes.append(deal_payment_notify(portal, scene["deal_id"], source="sync"))
        finally:
            connection.close()

    threads = [threading.Thread(target=notify) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == [False, False, False, True]
    assert deal_payment_notify(portal, scene["deal_id"], source="sync") is False
    assert _sent(emulator) == sent_before + 1 and PaymentNotification.objects.count() == 1


def test_a_second_payment_state_is_a_second_notification(scene, emulator):
    _move_to_paid(emulator, scene)

    scene["client"].call("crm.item.update", {"entityTypeId": 2, "id": scene["deal_id"], "useOriginalUfNames": "Y",
                                             "fields": {"UF_CRM_ONEC_PAYMENT_DATE": "2026-12-05",
                                                        "UF_CRM_ONEC_PAID_SUM": "7000.00|RUB"}})
    assert control(emulator, "wait-idle", timeout=30)["idle"]

    keys = sorted(PaymentNotification.objects.values_list("state_key", flat=True))
    assert keys == ["2026-11-27|15000.00|RUB", "2026-12-05|7000.00|RUB"]
    assert len(_notifications(emulator, scene)) == 2


def test_a_deal_moved_without_payment_data_is_notified_once(scene, emulator):
    scene["client"].call("crm.item.update", {"entityTypeId": 2, "id": scene["deal_id"], "useOriginalUfNames": "Y",
                                             "fields": {"UF_CRM_ONEC_PAYMENT_DATE": "",
                                                        "UF_CRM_ONEC_PAID_SUM": ""}})
    _move_to_paid(emulator, scene)
    _move_to_paid(emulator, scene)

    assert list(PaymentNotification.objects.values_list("state_key", flat=True)) == [""]
    assert "15 000,00 руб." in _notifications(emulator, scene)[0]["MESSAGE"]  # the deal amount instead


def test_deals_outside_the_paid_stage_are_not_notified(scene, emulator):
    portal = Portal.objects.get(pk=scene["portal"].pk)
    assert deal_payment_notify(portal, scene["deal_id"], source="sync") is False
    assert deal_payment_notify(portal, 987654, source="sync") is False  # deleted deal
    assert PaymentNotification.objects.count() == 0


@pytest.mark.parametrize("status", [Portal.Status.NEEDS_REAUTH, Portal.Status.UNINSTALLED])
def test_inactive_portals_make_no_calls(scene, emulator, status):
    _move_to_paid(emulator, scene)
    PaymentNotification.objects.all().delete()
    Portal.objects.filter(pk=scene["portal"].pk).update(status=status, status_reason="причина")
    before = emulator_stats(emulator)["total_requests"]

    assert deal_payment_notify(Portal.objects.get(pk=scene["portal"].pk), scene["deal_id"], source="sync") is False

    assert emulator_stats(emulator)["total_requests"] == before
    assert PaymentNotification.objects.count() == 0


def test_sync_catches_a_lost_event_with_the_selector_and_an_already_fetched_deal(scene, emulator):
    _move_to_paid(emulator, scene)
    PaymentNotification.objects.all().delete()  # the event was lost
    portal = Portal.objects.get(pk=scene["portal"].pk)
    assert deals_paid_unnotified(portal, [scene["deal_id"], 424242]) == [scene["deal_id"], 424242]
    client = BitrixClient(portal)
    deal = deal_fetch(client, scene["deal_id"])
    gets_before = emulator_stats(emulator)["commands"].get("crm.item.get", 0)

    assert deal_payment_notify(portal, scene["deal_id"], source="sync", client=client, deal=deal) is True

    assert deals_paid_unnotified(portal, [scene["deal_id"], 424242]) == [424242]
    assert PaymentNotification.objects.get().source == "sync"
    # only the client's name was read: the deal itself was not fetched again
    assert emulator_stats(emulator)["commands"].get("crm.item.get", 0) == gets_before + 1
