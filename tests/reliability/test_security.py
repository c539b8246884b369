"""Security: forged installs, events, robot calls and uninstalls are rejected and change nothing; one portal's data
is unreachable with another portal's frame token; tokens and the 1С password are never stored or logged in plain
text; the installer never talks to an OAuth server outside the allow-list. Real endpoints, real emulators.
"""

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
from django.db import connection

from bx24app.models import Portal, PortalSettings
from bx24app.services.install import portal_setup
from emulators.onec import OneCEmulator
from sync.models import SyncProblem, SyncRun
from sync.services.runs import sync_run_execute
from tests.bx24app.settings_page.conftest import frame_token, launch

from .helpers import SIZE

pytestmark = [pytest.mark.django_db(transaction=True)]
ONEC_USER, ONEC_PASSWORD = "integration", "Pa55-1C-never-in-clear-7Qx"


@pytest.fixture
def onec():
    """A 1С whose password is unlike anything else in the database (so a plaintext copy is detectable)."""
    emulator = OneCEmulator(port=0, size=SIZE, seed=1, user=ONEC_USER, password=ONEC_PASSWORD)
    emulator.start()
    yield emulator
    emulator.stop()


class Trap:
    """An 'OAuth server' outside the allow-list that records every request reaching it."""

    def __init__(self):
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                hits.append(self.path)
                self.send_response(200), self.end_headers(), self.wfile.write(b"{}")

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def trap():
    server = Trap()
    yield server
    server.close()


def install_post(client, b24, member, **form_changes):
    params = b24.install_params(member)
    form = {**params["form"], **form_changes}
    return client.post("/bitrix/install/?" + urlencode(params["query"]), form), params["form"]


def portal_row(member_id) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM bx24app_portal WHERE member_id = %s", [member_id])
        return cursor.fetchone()


@pytest.fixture
def installed(client, reliability_settings, b24):
    member_id = b24.create_portal()["member_id"]
    response, form = install_post(client, b24, member_id)
    assert response.status_code == 200, response.content.decode()[:500]
    return Portal.objects.get(member_id=member_id), form


def test_forged_installs_are_rejected_and_change_nothing(client, installed, b24, trap):
    portal, _ = installed
    before, count = portal_row(portal.member_id), Portal.objects.count()
    other = b24.create_portal()["member_id"]
    other_form = b24.install_params(other)["form"]
    forgeries = {
        "OAuth server outside the allow-list": {"SERVER_ENDPOINT": f"{trap.url}/rest/"},
        "made-up access token": {"AUTH_ID": "f" * 64},
        "another portal's tokens": {"AUTH_ID": other_form["AUTH_ID"], "REFRESH_ID": other_form["REFRESH_ID"]},
        "missing application token": {"APPLICATION_TOKEN": ""},
    }
    for name, change in forgeries.items():
        response, _ = install_post(client, b24, portal.member_id, **change)
        assert response.status_code == 400, name
        assert portal_row(portal.member_id) == before, name
    response, _ = install_post(client, b24, portal.member_id, member_id="not-a-portal-" + "0" * 20)
    assert response.status_code == 400
    assert Portal.objects.count() == count and trap.hits == []


def test_token_refresh_never_goes_outside_the_allow_list(installed, b24, trap):
    from bx24app.bitrix.client import BitrixClient
    from bx24app.bitrix.errors import BitrixError

    portal, _ = installed
    Portal.objects.filter(pk=portal.pk).update(server_endpoint=f"{trap.url}/rest/")
    portal.refresh_from_db()
    b24.expire_tokens(portal.member_id)
    with pytest.raises(BitrixError):
        BitrixClient(portal).call("crm.item.list", {"entityTypeId": 4})
    assert trap.hits == []


def event(client, path, member_id, application_token, **fields):
    data = {"auth[member_id]": member_id, "auth[application_token]": application_token, **fields}
    return client.post(path, data)


def test_forged_events_robot_calls_and_uninstalls_are_rejected(client, installed, b24, trap, monkeypatch):
    portal, form = installed
    queued = []
    monkeypatch.setattr("bx24app.views.events.deal_update_enqueue", lambda *a, **k: queued.append(a))
    monkeypatch.setattr("bx24app.views.robots.deal_payment_notify_enqueue", lambda *a, **k: queued.append(a))
    before = portal_row(portal.member_id)
    wrong = "0" * len(form["APPLICATION_TOKEN"])
    for token in (wrong, "", form["AUTH_ID"]):  # wrong, empty, and the access token instead of the app token
        assert event(client, "/bitrix/events/", portal.member_id, token, event="ONAPPUNINSTALL").status_code == 401
        assert event(client, "/bitrix/events/", portal.member_id, token, event="ONCRMDEALUPDATE",
                     **{"data[FIELDS][ID]": "1"}).status_code == 401
        assert event(client, "/bitrix/robots/payment-notify/", portal.member_id, token,
                     **{"document_id[2]": "DEAL_1", "properties[message]": "x"}).status_code == 401
    assert event(client, "/bitrix/events/", "unknown-member", form["APPLICATION_TOKEN"],
                 event="ONAPPUNINSTALL").status_code == 401
    forged_install = {"event": "ONAPPINSTALL", "auth[domain]": portal.domain, "auth[access_token]": "f" * 64,
                      "auth[refresh_token]": "f" * 64, "auth[server_endpoint]": f"{trap.url}/rest/",
                      "auth[client_endpoint]": portal.client_endpoint}
    assert event(client, "/bitrix/events/", portal.member_id, wrong, **forged_install).status_code == 401
    forged_install["auth[server_endpoint]"] = portal.server_endpoint
    assert event(client, "/bitrix/events/", portal.member_id, wrong, **forged_install).status_code == 401
    assert portal_row(portal.member_id) == before and queued == [] and trap.hits == []
    # the genuine token does get through (so the rejections above are not an endpoint that is simply broken)
    assert event(client, "/bitrix/events/", portal.member_id, form["APPLICATION_TOKEN"],
                 event="ONAPPUNINSTALL").status_code == 200
    assert Portal.objects.get(pk=portal.pk).status == Portal.Status.UNINSTALLED


def test_a_frame_token_reaches_only_its_own_portal(client, make_portal, b24):
    mine, theirs = make_portal(), make_portal()
    for portal in (mine, theirs):
        portal_setup(portal)
        portal.refresh_from_db()
    their_run = SyncRun.objects.create(portal=theirs, trigger="manual", status=SyncRun.Status.FAILED,
                                       error="их-секретная-ошибка")
    their_problem = SyncProblem.objects.create(portal=theirs, kind="counterparty", onec_ref="their-ref",
                                               label="ООО Чужой клиент", code="invalid_inn", reason="их причина")
    response = launch(client, b24, mine)
    assert response.status_code == 200
    token = frame_token(response)
    headers = {"HTTP_X_FRAME_TOKEN": token}

    status = client.get("/bitrix/app/sync-status/", **headers)
    assert status.status_code == 200
    assert "их-секретная-ошибка" not in status.content.decode() and "Чужой клиент" not in status.content.decode()
    retry = client.post(f"/bitrix/app/problems/{their_problem.pk}/retry/", **headers)
    assert retry.status_code in (403, 404)
    page = client.post("/bitrix/app/", {"frame_token": token})
    assert "Чужой клиент" not in page.content.decode()
    client.post("/bitrix/app/save/schedule/", {"frame_token": token, "schedule_enabled": "on",
                                               "interval_minutes": "9", "order_window_days": "30"})
    their_problem.refresh_from_db()
    assert their_problem.resolved_at is None and their_problem.reason == "их причина"
    assert PortalSettings.objects.get(portal=theirs).interval_minutes != 9
    assert SyncRun.objects.filter(portal=theirs).count() == 1 and their_run.error == "их-секретная-ошибка"


def all_rows_text() -> str:
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            chunks.append(repr(cursor.fetchall()))
    return "\n".join(chunks)


def test_tokens_and_the_1c_password_are_never_in_plain_text(client, installed, b24, onec, caplog):
    from bx24app.bitrix.client import BitrixClient

    caplog.set_level(logging.DEBUG)
    portal, form = installed
    settings_row = PortalSettings.objects.get(portal=portal)
    settings_row.onec_url, settings_row.onec_user, settings_row.onec_password = onec.odata_url, ONEC_USER, \
        ONEC_PASSWORD
    settings_row.save()
    portal.refresh_from_db()
    run = sync_run_execute(portal, kinds=["counterparties", "products"])
    assert run.status in ("success", "partial"), run.error
    b24.expire_tokens(portal.member_id)  # the next call refreshes: the rotated tokens must be safe too
    BitrixClient(portal).call("crm.item.list", {"entityTypeId": 4, "select": ["id"]})
    portal.refresh_from_db()
    assert portal.access_token != form["AUTH_ID"]

    secrets = {"install access token": form["AUTH_ID"], "install refresh token": form["REFRESH_ID"],
               "application token": form["APPLICATION_TOKEN"], "access token": portal.access_token,
               "refresh token": portal.refresh_token, "1С password": ONEC_PASSWORD}
    stored = all_rows_text()
    logged = caplog.text
    assert len(logged) > 0 and "access token refreshed" in logged
    for name, secret in secrets.items():
        assert secret and secret not in stored, f"{name} stored in plain text"
        assert secret not in logged, f"{name} in the logs"
