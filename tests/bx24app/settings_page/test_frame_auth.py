"""Who may open the page and who may change what: every path is checked against the Bitrix24 emulator over HTTP."""

import pytest
from django.core import signing

from bx24app.models import Portal, PortalSettings
from bx24app.settings_page.frame_auth import FrameUser, issue_frame_token
from tests.conftest import provision_portal

from .conftest import APP_URL, frame_token, launch, plain_user, save

pytestmark = pytest.mark.django_db

SCHEDULE = {"schedule_enabled": "on", "interval_minutes": "7", "order_window_days": "30"}


def test_admin_opens_the_page_and_may_edit(client, bitrix_emulator, ready_portal):
    response = launch(client, bitrix_emulator, ready_portal)
    assert response.status_code == 200
    assert response.context["can_edit"] is True
    assert response.context["frame_user"].is_admin is True
    html = response.content.decode()
    assert "Только просмотр" not in html
    for title in ("Подключение к 1С", "Цены", "Воронка и стадии", "Поля сделки", "Ответственные", "Расписание",
                  "Синхронизация", "Уведомление об оплате"):
        assert title in html


def test_frame_headers_allow_only_bitrix24_and_the_portal(client, bitrix_emulator, ready_portal, settings):
    settings.FRAME_ANCESTORS = ["https://*.bitrix24.ru"]
    response = launch(client, bitrix_emulator, ready_portal)
    csp = response["Content-Security-Policy"]
    assert csp == f"frame-ancestors https://*.bitrix24.ru http://{ready_portal.domain}"
    assert "X-Frame-Options" not in response


def test_plain_user_sees_everything_read_only(client, bitrix_emulator, ready_portal):
    user_id = plain_user(bitrix_emulator, ready_portal)
    response = launch(client, bitrix_emulator, ready_portal, user_id=user_id)
    assert response.status_code == 200
    assert response.context["can_edit"] is False
    html = response.content.decode()
    assert "Только просмотр" in html
    assert html.count("<fieldset disabled>") >= 7
    assert 'id="sync-now" disabled' in html


def test_plain_user_cannot_save_any_section(client, bitrix_emulator, ready_portal):
    user_id = plain_user(bitrix_emulator, ready_portal)
    token = frame_token(launch(client, bitrix_emulator, ready_portal, user_id=user_id))
    for section in ("onec", "prices", "stages", "fields", "responsible", "editors", "schedule"):
        response = save(client, token, section, SCHEDULE)
        assert response.status_code == 403, section
        assert "изменять настройки могут администраторы портала" in response.content.decode()
    settings_row = PortalSettings.objects.get(portal=ready_portal)
    assert settings_row.interval_minutes == 5


def test_plain_user_cannot_start_a_sync_or_retry(client, bitrix_emulator, ready_portal):
    user_id = plain_user(bitrix_emulator, ready_portal)
    token = frame_token(launch(client, bitrix_emulator, ready_portal, user_id=user_id))
    response = client.post(APP_URL + "sync-now/", HTTP_X_FRAME_TOKEN=token)
    assert response.status_code == 403
    assert "администраторы портала" in response.json()["error"]
    response = client.post(APP_URL + "problems/1/retry/", HTTP_X_FRAME_TOKEN=token)
    assert response.status_code == 403
    # reading the status is allowed
    assert client.get(APP_URL + "sync-status/", HTTP_X_FRAME_TOKEN=token).status_code == 200


def test_listed_editor_may_edit_but_not_change_the_editor_list(client, bitrix_emulator, ready_portal):
    user_id = plain_user(bitrix_emulator, ready_portal)
    PortalSettings.objects.filter(portal=ready_portal).update(editor_user_ids=[user_id])
    response = launch(client, bitrix_emulator, ready_portal, user_id=user_id)
    assert response.context["can_edit"] is True
    token = frame_token(response)
    assert save(client, token, "schedule", SCHEDULE).status_code == 200
    assert PortalSettings.objects.get(portal=ready_portal).interval_minutes == 7
    response = save(client, token, "editors", {"editor_user_ids": [str(user_id)]})
    assert response.status_code == 403
    assert "меняют только администраторы портала" in response.content.decode()


def test_admin_lists_an_editor_and_removing_them_takes_effect_at_once(client, bitrix_emulator, ready_portal):
    user_id = plain_user(bitrix_emulator, ready_portal)
    admin_token = frame_token(launch(client, bitrix_emulator, ready_portal))
    user_token = frame_token(launch(client, bitrix_emulator, ready_portal, user_id=user_id))
    assert save(client, user_token, "schedule", SCHEDULE).status_code == 403
    assert save(client, admin_token, "editors", {"editor_user_ids": [str(user_id)]}).status_code == 200
    assert PortalSettings.objects.get(portal=ready_portal).editor_user_ids == [user_id]
    assert save(client, user_token, "schedule", SCHEDULE).status_code == 200
    assert save(client, admin_token, "editors", {}).status_code == 200
    assert save(client, user_token, "schedule", SCHEDULE).status_code == 403


def test_identity_comes_from_the_portal_not_from_the_form(client, bitrix_emulator, ready_portal):
    """A plain user's AUTH_ID with forged form fields (user id, admin flags) stays a plain user."""
    user_id = plain_user(bitrix_emulator, ready_portal)
    params = bitrix_emulator.install_params(ready_portal.member_id, user_id=user_id)
    form = {**params["form"], "USER_ID": "1", "IS_ADMIN": "Y", "user_id": "1", "admin": "1"}
    response = client.post(APP_URL, form)
    assert response.status_code == 200
    assert response.context["frame_user"].user_id == user_id
    assert response.context["can_edit"] is False


def test_invalid_auth_id_is_rejected(client, bitrix_emulator, ready_portal):
    response = launch(client, bitrix_emulator, ready_portal, AUTH_ID="forged-token")
    assert response.status_code == 403
    assert "Портал не подтвердил пользователя" in response.content.decode()


def test_token_of_another_portal_cannot_open_this_one(client, bitrix_emulator, onec_emulator, ready_portal):
    other = provision_portal(bitrix_emulator, onec_emulator)
    other_form = bitrix_emulator.install_params(other.member_id)["form"]
    response = launch(client, bitrix_emulator, ready_portal, AUTH_ID=other_form["AUTH_ID"])
    assert response.status_code == 403
    assert "другим порталом" in response.content.decode()


def test_frame_token_of_another_portal_only_reaches_that_portal(client, bitrix_emulator, onec_emulator,
                                                                 ready_portal):
    other = provision_portal(bitrix_emulator, onec_emulator)
    other_token = frame_token(launch(client, bitrix_emulator, other))
    assert save(client, other_token, "schedule", SCHEDULE).status_code == 200
    assert PortalSettings.objects.get(portal=other).interval_minutes == 7
    assert PortalSettings.objects.get(portal=ready_portal).interval_minutes == 5
    # re-pointing the token at this portal breaks the signature
    data = signing.loads(other_token, salt="bx24app.settings_page.frame")
    payload = other_token.split(":")[0]
    forged = signing.dumps({**data, "m": ready_portal.member_id}, salt="bx24app.settings_page.frame",
                           compress=True)
    tampered = forged.split(":")[0] + other_token[len(payload):]
    response = save(client, tampered, "schedule", SCHEDULE)
    assert response.status_code == 403
    assert PortalSettings.objects.get(portal=ready_portal).interval_minutes == 5


def test_forged_frame_tokens_are_rejected(client, settings, ready_portal):
    forged_with_other_key = signing.dumps(
        {"m": ready_portal.member_id, "u": 1, "a": True}, key="attacker-key", salt="bx24app.settings_page.frame"
    )
    for token in ("", "garbage", forged_with_other_key):
        response = save(client, token, "schedule", SCHEDULE)
        assert response.status_code == 403
        response = client.get(APP_URL + "sync-status/", HTTP_X_FRAME_TOKEN=token)
        assert response.status_code == 403
        assert response.json()["ok"] is False
    assert PortalSettings.objects.get(portal=ready_portal).interval_minutes == 5


def test_expired_frame_token_is_rejected(client, settings, ready_portal):
    token = issue_frame_token(FrameUser(ready_portal.member_id, 1, True))
    settings.FRAME_TOKEN_TTL = -1
    response = save(client, token, "schedule", SCHEDULE)
    assert response.status_code == 403
    assert "истекла" in response.content.decode()


def test_token_in_a_cookie_or_query_string_is_not_accepted(client, ready_portal):
    token = issue_frame_token(FrameUser(ready_portal.member_id, 1, True))
    client.cookies["frame_token"] = token
    assert client.post(APP_URL + "save/schedule/?frame_token=" + token, SCHEDULE).status_code == 403


def test_cross_site_post_is_rejected_even_with_a_token(client, ready_portal):
    token = issue_frame_token(FrameUser(ready_portal.member_id, 1, True))
    response = save(client, token, "schedule", SCHEDULE, HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403
    response = save(client, token, "schedule", SCHEDULE, HTTP_ORIGIN="http://testserver")
    assert response.status_code == 200


def test_unknown_portal_is_rejected(client, bitrix_emulator, ready_portal):
    response = launch(client, bitrix_emulator, ready_portal, member_id="0" * 32)
    assert response.status_code == 403
    assert "Портал не найден" in response.content.decode()


def test_unready_portal_is_rejected(client, bitrix_emulator, ready_portal):
    token = frame_token(launch(client, bitrix_emulator, ready_portal))
    Portal.objects.filter(pk=ready_portal.pk).update(status=Portal.Status.UNINSTALLED)
    response = launch(client, bitrix_emulator, ready_portal)
    assert response.status_code == 403
    assert "Приложение удалено" in response.content.decode()
    assert save(client, token, "schedule", SCHEDULE).status_code == 403
    assert client.get(APP_URL + "sync-status/", HTTP_X_FRAME_TOKEN=token).status_code == 403


def test_get_and_missing_parameters_explain_how_to_open(client):
    response = client.get(APP_URL)
    assert response.status_code == 400
    assert "Откройте приложение из Битрикс24" in response.content.decode()
    assert client.post(APP_URL, {"AUTH_ID": "x"}).status_code == 400


def test_page_in_english(client, bitrix_emulator, ready_portal):
    response = launch(client, bitrix_emulator, ready_portal, lang="en")
    html = response.content.decode()
    assert "1C connection" in html
    assert "Sync now" in html
    token = frame_token(response)
    response = save(client, token, "schedule", {**SCHEDULE, "interval_minutes": "0"})
    assert "Ensure this value is greater than or equal to 1." in response.content.decode()


def test_http_portal_is_refused_in_production_mode(client, bitrix_emulator, ready_portal, settings):
    settings.BITRIX24_ALLOW_HTTP = False
    response = launch(client, bitrix_emulator, ready_portal)
    assert response.status_code == 403
    assert "https://" in response.content.decode()


def test_page_reopens_with_the_frame_token_on_a_section(client, open_frame, ready_portal):
    token = open_frame(ready_portal)
    response = client.post(APP_URL, {"frame_token": token, "section": "sync"})
    assert response.status_code == 200
    assert response.context["section"] == "sync"
    assert response.context["frame_user"].is_admin is True
