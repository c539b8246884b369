"""The installer over real HTTP: Bitrix24 (the emulator) POSTs install params to our page."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bx24app.models import Portal, PortalSettings
from bx24app.portal_schema import DEAL_FIELDS, LOGICAL_STAGES, ROBOT_CODE
from tests.bx24app.conftest import portal_state, post_install, raw_column

pytestmark = pytest.mark.django_db(transaction=True)


def test_full_install_sets_the_portal_up(install, emulator, emu_portal, app_online):
    portal = install(emu_portal["member_id"])

    assert portal.status == Portal.Status.ACTIVE
    assert portal.application_token == emu_portal["application_token"]
    assert portal.license_family == "project"
    for column in ("access_token", "refresh_token", "application_token"):
        assert raw_column("bx24app_portal", column, portal.pk).startswith("enc1:")
    state = portal_state(emulator, portal.member_id)
    bound = {(e["event"], e["handler"]) for e in state["events_bound"]}
    assert bound == {("ONAPPUNINSTALL", f"{app_online.url}/bitrix/events/"),
                     ("ONCRMDEALUPDATE", f"{app_online.url}/bitrix/events/")}
    robot = state["robots"][ROBOT_CODE]
    assert robot["HANDLER"] == f"{app_online.url}/bitrix/robots/payment-notify/"
    assert robot["USE_SUBSCRIPTION"] == "N"
    assert robot["DOCUMENT_TYPE"] == ["crm", "CCrmDocumentDeal", "DEAL"]
    assert robot["NAME"]["ru"] == "Уведомить ответственного об оплате"
    assert {uf["FIELD_NAME"] for uf in state["userfields"]} == {f.field_name for f in DEAL_FIELDS.values()}
    stages = {s["STATUS_ID"]: s["NAME"] for s in state["statuses"] if s["ENTITY_ID"] == "DEAL_STAGE"}
    for stage in LOGICAL_STAGES:
        assert stages[stage.status_id] == stage.name
    portal_settings = PortalSettings.objects.get(portal=portal)
    assert portal_settings.stage_map == {s.code: s.status_id for s in LOGICAL_STAGES}
    assert portal_settings.field_map == {key: f.field_name for key, f in DEAL_FIELDS.items()}


def test_install_page_finishes_the_install_and_may_only_be_framed_by_bitrix24(emulator, emu_portal, app_online):
    response = post_install(app_online.url, emulator, emu_portal["member_id"])

    assert response.status_code == 200
    assert "BX24.installFinish()" in response.text and "//api.bitrix24.com/api/v1/" in response.text
    assert "X-Frame-Options" not in response.headers
    policy = response.headers["Content-Security-Policy"]
    assert policy.startswith("frame-ancestors ") and "https://*.bitrix24.ru" in policy
    assert f"http://{emu_portal['domain']}" in policy


def test_reinstall_is_idempotent_and_overwrites_the_application_token(install, emulator, emu_portal):
    first = install(emu_portal["member_id"])
    emulator.store.portals[first.member_id]["application_token"] = "new-token-after-reinstall"

    second = install(emu_portal["member_id"])

    assert second.pk == first.pk
    assert second.application_token == "new-token-after-reinstall"
    assert second.access_token != first.access_token
    state = portal_state(emulator, first.member_id)
    assert len(state["events_bound"]) == 2
    assert len(state["userfields"]) == len(DEAL_FIELDS)
    ours = [s for s in state["statuses"] if s["STATUS_ID"].startswith("ONEC_")]
    assert len(ours) == len(LOGICAL_STAGES)
    assert Portal.objects.count() == 1 and PortalSettings.objects.count() == 1


def test_reinstall_after_uninstall_reactivates_the_portal(install, emulator, emu_portal):
    portal = install(emu_portal["member_id"])
    Portal.objects.filter(pk=portal.pk).update(status=Portal.Status.UNINSTALLED)

    assert install(emu_portal["member_id"]).status == Portal.Status.ACTIVE


def test_install_in_another_pipeline_prefixes_the_stages(install, emulator, emu_portal, app_online):
    portal = install(emu_portal["member_id"])
    PortalSettings.objects.filter(portal=portal).update(stage_map={})
    from bx24app.bitrix.client import BitrixClient

    BitrixClient(portal).call("crm.category.add", {"entityTypeId": 2, "fields": {"name": "1С"}})
    category_id = max(c["id"] for c in portal_state(emulator, portal.member_id)["categories"])
    PortalSettings.objects.filter(portal=portal).update(category_id=category_id)

    install(emu_portal["member_id"])

    stage_map = PortalSettings.objects.get(portal=portal).stage_map
    assert stage_map["PAID"] == f"C{category_id}:ONEC_PAID"
    names = {s["STATUS_ID"] for s in portal_state(emulator, portal.member_id)["statuses"]}
    assert {f"C{category_id}:{s.status_id}" for s in LOGICAL_STAGES} <= names


# ---- forged installs: refused, nothing stored -------------------------------------------------------------
def _refused(response):
    assert response.status_code == 400
    assert "Установка приложения не завершена" in response.text
    assert Portal.objects.count() == 0 and PortalSettings.objects.count() == 0


def test_token_not_valid_at_the_oauth_server_is_refused(emulator, emu_portal, app_online):
    def forge(query, form):
        form["AUTH_ID"] = "forged-access-token"

    response = post_install(app_online.url, emulator, emu_portal["member_id"], mutate=forge)

    _refused(response)
    assert "Битрикс24 не подтвердил ключ доступа" in response.text


def test_token_of_another_portal_is_refused(emulator, emu_portal, app_online):
    victim = emulator.create_portal()

    def forge(query, form):
        form["member_id"] = victim["member_id"]

    _refused(post_install(app_online.url, emulator, emu_portal["member_id"], mutate=forge))


class _Recorder(ThreadingHTTPServer):
    """A fake OAuth server that records every request it gets."""

    def __init__(self):
        self.hits = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                recorder.hits.append(self.path)
                body = b'{"result": {"client_id": "x", "install": {}}}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_oauth_server_outside_the_allow_list_is_refused_and_never_contacted(emulator, emu_portal, app_online):
    rogue = _Recorder()

    def forge(query, form):
        form["SERVER_ENDPOINT"] = f"http://127.0.0.1:{rogue.server_address[1]}/rest/"

    try:
        response = post_install(app_online.url, emulator, emu_portal["member_id"], mutate=forge)
    finally:
        rogue.shutdown()
        rogue.server_close()

    _refused(response)
    assert "не входит в список доверенных" in response.text
    assert rogue.hits == []


def test_http_portal_is_refused_without_allow_http(emulator, emu_portal, app_online, settings):
    settings.BITRIX24_ALLOW_HTTP = False

    response = post_install(app_online.url, emulator, emu_portal["member_id"])

    _refused(response)
    assert "http://" in response.text


def test_missing_install_params_are_explained(app_online):
    import requests

    response = requests.post(f"{app_online.url}/bitrix/install/", data={"member_id": "x"}, timeout=30)

    _refused(response)
    assert "Битрикс24 не передал параметры установки" in response.text


def test_failed_setup_step_is_explained_and_a_second_attempt_completes(emulator, emu_portal, app_online):
    admin = emu_portal["admin_user_id"]
    emulator.store.portals[emu_portal["member_id"]]["users"][str(admin)]["IS_ADMIN"] = False

    response = post_install(app_online.url, emulator, emu_portal["member_id"])

    _refused(response)
    assert "Создание робота, полей и стадий сделки" in response.text or "Шаг:" in response.text
    emulator.store.portals[emu_portal["member_id"]]["users"][str(admin)]["IS_ADMIN"] = True
    assert post_install(app_online.url, emulator, emu_portal["member_id"]).status_code == 200
    assert Portal.objects.get().status == Portal.Status.ACTIVE
