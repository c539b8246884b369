"""The event handler: forged events get 401 and change nothing; ONAPPUNINSTALL stops only that portal."""

import pytest
import requests

from bx24app.bitrix.client import BitrixClient
from bx24app.bitrix.errors import PortalNeedsReauth
from bx24app.models import Portal
from tests.bx24app.conftest import control, emulator_stats

pytestmark = pytest.mark.django_db(transaction=True)


def _post_event(base_url, event, member_id, application_token, **data):
    form = {"event": event, "auth[member_id]": member_id, "auth[application_token]": application_token,
            "auth[domain]": "x", "ts": "1", **data}
    return requests.post(f"{base_url}/bitrix/events/", data=form, timeout=30)


@pytest.mark.parametrize("event", ["ONCRMDEALUPDATE", "ONAPPUNINSTALL"])
def test_forged_events_are_rejected(installed_portal, app_online, event, celery_eager):
    for member_id, token in [(installed_portal.member_id, "wrong-token"), ("unknown-member", "whatever"),
                             (installed_portal.member_id, "")]:
        response = _post_event(app_online.url, event, member_id, token, **{"data[FIELDS][ID]": "1"})
        assert response.status_code == 401
    assert Portal.objects.get(pk=installed_portal.pk).status == Portal.Status.ACTIVE


def test_genuine_deal_update_is_accepted_fast(installed_portal, app_online, emulator, celery_eager):
    before = emulator_stats(emulator)["requests"].get("crm.item.list", 0)
    response = _post_event(app_online.url, "ONCRMDEALUPDATE", installed_portal.member_id,
                           installed_portal.application_token, **{"data[FIELDS][ID]": "999"})
    assert response.status_code == 200
    # the task ran (eagerly) and looked the deal up: the handler queued it
    assert emulator_stats(emulator)["requests"].get("crm.item.list", 0) == before + 1


def test_uninstall_stops_only_that_portal(install, emulator, celery_eager):
    first = install(emulator.create_portal()["member_id"])
    second = install(emulator.create_portal()["member_id"])

    control(emulator, f"portals/{first.member_id}/uninstall", clean=1)
    assert control(emulator, "wait-idle", timeout=20)["idle"]

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Portal.Status.UNINSTALLED and first.uninstalled_at is not None
    assert "Приложение удалено" in first.status_reason
    assert first.access_token == "" and first.refresh_token == ""
    assert second.status == Portal.Status.ACTIVE
    assert BitrixClient(second).call("user.current")["ID"]
    before = emulator_stats(emulator)["total_requests"]
    with pytest.raises(PortalNeedsReauth):
        BitrixClient(first).call("user.current")
    assert emulator_stats(emulator)["total_requests"] == before  # no call was made


def test_onappinstall_event_is_verified_at_the_oauth_server(installed_portal, app_online, emulator):
    params = control(emulator, f"portals/{installed_portal.member_id}/install-params")["form"]
    auth = {"auth[access_token]": params["AUTH_ID"], "auth[refresh_token]": params["REFRESH_ID"],
            "auth[server_endpoint]": params["SERVER_ENDPOINT"], "auth[member_id]": installed_portal.member_id,
            "auth[domain]": installed_portal.domain, "auth[application_token]": params["APPLICATION_TOKEN"],
            "auth[client_endpoint]": f"{emulator.base_url}/rest/", "auth[expires_in]": "3600"}

    genuine = requests.post(f"{app_online.url}/bitrix/events/", data={"event": "ONAPPINSTALL", **auth}, timeout=30)
    forged = requests.post(f"{app_online.url}/bitrix/events/",
                           data={"event": "ONAPPINSTALL", **auth, "auth[access_token]": "forged"}, timeout=30)

    assert genuine.status_code == 200
    assert forged.status_code == 401
    assert Portal.objects.get(pk=installed_portal.pk).access_token == params["AUTH_ID"]
