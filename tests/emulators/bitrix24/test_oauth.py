"""OAuth server: refresh rotation, invalid_grant, invalid_client, token expiry, app.info."""

import time

import requests

from emulators.bitrix24 import Bitrix24Emulator


def _refresh(base, refresh_token, secret="secret"):
    return requests.get(
        f"{base}/oauth/token/",
        params={
            "grant_type": "refresh_token",
            "client_id": "app.test",
            "client_secret": secret,
            "refresh_token": refresh_token,
        },
        timeout=10,
    )


def test_refresh_rotates_and_old_refresh_token_is_refused(portal):
    base = portal.emulator.base_url
    response = _refresh(base, portal.refresh)
    assert response.status_code == 200
    body = response.json()
    assert body["member_id"] == portal.member_id
    assert body["client_endpoint"] == f"{base}/rest/"
    assert body["server_endpoint"] == f"{base}/rest/"
    assert body["expires_in"] == 3600 and body["refresh_token"] != portal.refresh
    assert portal.call("user.current", token=body["access_token"])["ID"] == "1"
    again = _refresh(base, portal.refresh)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert _refresh(base, body["refresh_token"]).status_code == 200


def test_refresh_by_post_form_and_wrong_secret(portal):
    base = portal.emulator.base_url
    wrong = _refresh(base, portal.refresh, secret="nope")
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    response = requests.post(
        f"{base}/oauth/token/",
        data={
            "grant_type": "refresh_token",
            "client_id": "app.test",
            "client_secret": "secret",
            "refresh_token": portal.refresh,
        },
        timeout=10,
    )
    assert response.status_code == 200 and response.json()["access_token"]


def test_unknown_refresh_token_is_invalid_grant(emulator):
    response = _refresh(emulator.base_url, "garbage")
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "Invalid grant"}


def test_token_expires_after_ttl_then_refresh_works():
    emu = Bitrix24Emulator(port=0, rate=1000, burst=1000, token_ttl=0.3).start()
    try:
        info = emu.create_portal()
        access, refresh = emu.tokens(info["member_id"])
        base = emu.base_url
        assert requests.post(f"{base}/rest/app.info", json={"auth": access}, timeout=5).status_code == 200
        time.sleep(0.4)
        expired = requests.post(f"{base}/rest/app.info", json={"auth": access}, timeout=5)
        assert expired.status_code == 401 and expired.json()["error"] == "expired_token"
        fresh = _refresh(base, refresh).json()["access_token"]
        assert requests.post(f"{base}/rest/app.info", json={"auth": fresh}, timeout=5).status_code == 200
    finally:
        emu.stop()


def test_invalid_token_and_control_expiry(portal):
    status, body = portal.error("app.info", token="not-a-token")
    assert (status, body["error"]) == (401, "invalid_token")
    portal.control("expire-tokens")
    status, body = portal.error("app.info")
    assert (status, body["error"]) == (401, "expired_token")


def test_expire_tokens_every_n_calls(emulator, portal):
    emulator.set_faults(expire_tokens_every=3)
    try:
        statuses = [portal.raw("app.info").status_code for _ in range(3)]
    finally:
        emulator.set_faults(expire_tokens_every=0)
    assert statuses[-1] == 401


def test_app_info_license_and_install_params(emulator):
    info = emulator.create_portal(license_family="ent")
    params = emulator.install_params(info["member_id"], placement="DEFAULT")
    assert params["query"]["DOMAIN"] == emulator.domain and params["query"]["PROTOCOL"] == "0"
    form = params["form"]
    assert form["member_id"] == info["member_id"] and form["APPLICATION_TOKEN"] == info["application_token"]
    assert form["SERVER_ENDPOINT"] == f"{emulator.base_url}/rest/" and form["PLACEMENT"] == "DEFAULT"
    result = requests.post(f"{emulator.base_url}/rest/app.info.json", data={"auth": form["AUTH_ID"]}, timeout=5).json()[
        "result"
    ]
    assert result["LICENSE_FAMILY"] == "ent" and result["INSTALLED"] is True


def test_auth_in_query_string_and_form_body(portal):
    base = portal.emulator.base_url
    by_query = requests.get(f"{base}/rest/user.admin?auth={portal.access}", timeout=5)
    assert by_query.json()["result"] is True
    by_form = requests.post(
        f"{base}/rest/crm.item.add",
        timeout=5,
        data={
            "auth": portal.access,
            "entityTypeId": "3",
            "fields[name]": "Иван",
            "fields[fm][0][typeId]": "PHONE",
            "fields[fm][0][value]": "+7 900 000-00-01",
        },
    )
    item = by_form.json()["result"]["item"]
    assert item["name"] == "Иван" and item["fm"][0]["value"] == "+7 900 000-00-01"


def test_unknown_method_is_404(portal):
    status, body = portal.error("crm.nothing.here")
    assert (status, body["error"]) == (404, "ERROR_METHOD_NOT_FOUND")


def test_non_admin_gets_access_denied(emulator, portal):
    user = emulator.add_user(portal.member_id, "Пётр", "Менеджеров", "m@example.com", admin=False)
    token, _ = emulator.tokens(portal.member_id, int(user["ID"]))
    for method, params in [
        ("catalog.product.add", {"fields": {"iblockId": 25, "name": "x"}}),
        ("crm.status.add", {"fields": {}}),
        ("crm.deal.userfield.add", {"fields": {}}),
        ("bizproc.robot.add", {}),
        ("placement.bind", {}),
        ("event.bind", {"event": "ONCRMDEALUPDATE", "event_type": "offline"}),
    ]:
        status, body = portal.error(method, token=token, **params)
        assert (status, body["error"]) == (403, "ACCESS_DENIED"), method
    assert portal.call("user.admin", token=token) is False
