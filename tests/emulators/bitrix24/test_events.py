"""Outgoing calls: ONCRMDEALUPDATE delivery, robots on a placed stage, notifications, uninstall."""

import requests


def _deal(portal, **fields):
    return portal.call("crm.item.add", entityTypeId=2, fields={"title": "Заказ", **fields})["item"]


def test_deal_update_event_is_delivered_as_php_form(portal, receiver):
    assert portal.call("event.bind", event="ONCRMDEALUPDATE", handler=f"{receiver.url}/events") is True
    status, body = portal.error("event.bind", event="onCrmDealUpdate", handler=f"{receiver.url}/events")
    assert (status, body["error"]) == (400, "ERROR_HANDLER_ALREADY_EXIST")
    assert portal.call("event.get")[0]["event"] == "ONCRMDEALUPDATE"
    deal = _deal(portal)
    portal.call("crm.item.update", entityTypeId=2, id=deal["id"], fields={"stageId": "EXECUTING"})
    portal.emulator_control("wait-idle")
    assert len(receiver.received) == 1
    call = receiver.received[0]
    form = call["form"]
    assert call["content_type"] == "application/x-www-form-urlencoded"
    assert form["event"] == "ONCRMDEALUPDATE" and form["data[FIELDS][ID]"] == str(deal["id"])
    assert form["auth[member_id]"] == portal.member_id
    assert form["auth[application_token]"] == portal.info["application_token"]
    assert form["auth[domain]"] == portal.emulator.domain and form["event_handler_id"]
    assert portal.call("user.current", token=form["auth[access_token]"])["ID"] == "1"
    assert portal.call("event.unbind", event="ONCRMDEALUPDATE", handler=f"{receiver.url}/events") == {"count": 1}


def test_manager_move_fires_event_and_runs_placed_robot(portal, receiver):
    portal.call("event.bind", event="ONCRMDEALUPDATE", handler=f"{receiver.url}/events")
    robot = {
        "CODE": "notify_paid",
        "HANDLER": f"{receiver.url}/robot",
        "NAME": {"ru": "Уведомить"},
        "USE_SUBSCRIPTION": "Y",
        "PROPERTIES": {"text": {"Name": "Текст", "Type": "string"}},
    }
    assert portal.call("bizproc.robot.add", **robot) is True
    assert portal.error("bizproc.robot.add", **robot)[1]["error"] == "ERROR_ACTIVITY_ALREADY_INSTALLED"
    assert portal.error("bizproc.robot.add", **{**robot, "CODE": "x", "HANDLER": "ftp://h/"})[0] == 400
    assert portal.call("bizproc.robot.list") == ["notify_paid"]
    portal.control("robots/place", code="notify_paid", stageId="FINAL_INVOICE", properties={"text": "Оплачено"})
    deal = _deal(portal)
    manager = portal.control("users", NAME="Мария", LAST_NAME="Иванова", EMAIL="m@example.com", ADMIN=False)
    portal.control(f"deals/{deal['id']}/move", stageId="FINAL_INVOICE", user_id=int(manager["ID"]))
    portal.emulator_control("wait-idle")
    by_path = {r["path"]: r["form"] for r in receiver.received}
    assert by_path["/events"]["data[FIELDS][ID]"] == str(deal["id"])
    call = by_path["/robot"]
    assert call["code"] == "notify_paid" and call["properties[text]"] == "Оплачено"
    assert [call[f"document_id[{i}]"] for i in range(3)] == ["crm", "CCrmDocumentDeal", f"DEAL_{deal['id']}"]
    assert call["document_type[2]"] == "DEAL" and call["use_subscription"] == "Y"
    assert call["auth[application_token]"] == portal.info["application_token"]
    assert portal.call("bizproc.event.send", EVENT_TOKEN=call["event_token"], RETURN_VALUES={}) is True
    assert portal.error("bizproc.event.send", EVENT_TOKEN=call["event_token"])[0] == 403
    history = portal.emulator.portal_state(portal.member_id)["stage_history"]
    assert history[-1]["USER_ID"] == int(manager["ID"]) and history[-1]["STAGE_ID"] == "FINAL_INVOICE"


def test_notifications_tag_replaces_earlier(portal):
    first = portal.call("im.notify.system.add", USER_ID=1, MESSAGE="Оплата 1", TAG="deal-1-paid")
    second = portal.call("im.notify.system.add", USER_ID=1, MESSAGE="Оплата 2", TAG="deal-1-paid")
    portal.call("im.notify.personal.add", USER_ID=1, MESSAGE="Другое")
    assert first != second
    notes = portal.emulator.portal_state(portal.member_id)["notifications"]["1"]
    assert [n["MESSAGE"] for n in notes] == ["Оплата 2", "Другое"]
    assert portal.error("im.notify.system.add", USER_ID=1, MESSAGE="")[1]["error"] == "MESSAGE_EMPTY"


def test_uninstall_sends_event_without_token_and_revokes(portal, receiver):
    portal.call("event.bind", event="ONAPPUNINSTALL", handler=f"{receiver.url}/uninstall")
    portal.control("uninstall", clean=1)
    portal.emulator_control("wait-idle")
    form = receiver.received[0]["form"]
    assert form["event"] == "ONAPPUNINSTALL" and form["data[CLEAN]"] == "1" and form["data[LANGUAGE_ID]"] == "ru"
    assert form["auth[application_token]"] == portal.info["application_token"]
    assert "auth[access_token]" not in form
    assert portal.error("app.info")[0] == 401
    refresh = requests.get(
        f"{portal.emulator.base_url}/oauth/token/",
        timeout=5,
        params={
            "grant_type": "refresh_token",
            "client_id": "app.test",
            "client_secret": "secret",
            "refresh_token": portal.refresh,
        },
    )
    assert refresh.json()["error"] == "invalid_grant"


def test_placement_bind_and_get(portal):
    assert portal.call("placement.bind", PLACEMENT="CRM_DEAL_DETAIL_TAB", HANDLER="http://app/tab", TITLE="1С") is True
    assert portal.call("placement.get")[0]["placement"] == "CRM_DEAL_DETAIL_TAB"


def test_offline_events_keep_latest_and_respect_auth_connector(portal):
    assert portal.call("event.bind", event="ONCRMDEALUPDATE", event_type="offline", auth_connector="sync")
    deal = _deal(portal)
    for stage in ("PREPARATION", "EXECUTING"):
        portal.call("crm.item.update", entityTypeId=2, id=deal["id"], fields={"stageId": stage})
    own = _deal(portal)
    portal.call("crm.item.update", entityTypeId=2, id=own["id"], fields={"title": "x"}, auth_connector="sync")
    reserved = portal.call("event.offline.get", clear=0)
    assert [e["EVENT_DATA"]["FIELDS"]["ID"] for e in reserved["events"]] == [deal["id"]]
    assert reserved["process_id"] and portal.call("event.offline.get")["events"] == []
    assert portal.call("event.offline.clear", process_id=reserved["process_id"]) is True
    assert portal.call("event.offline.list") == []
