"""Fixtures of the settings page tests: a portal set up as the installer leaves it, and a frame opened the way
Bitrix24 opens it (the emulator mints the exact POST parameters)."""

import pytest

from bx24app.services.install import portal_setup

APP_URL = "/bitrix/app/"


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def ready_portal(portal):
    """Stages, deal fields and robot created exactly as on install."""
    portal_setup(portal)
    portal.refresh_from_db()
    return portal


def launch(client, bitrix_emulator, portal, user_id=None, lang="ru", **overrides):
    """POST /bitrix/app/ with what the portal sends for this user (query DOMAIN/PROTOCOL/LANG/APP_SID + form)."""
    params = bitrix_emulator.install_params(portal.member_id, user_id=user_id)
    query = {**params["query"], "LANG": lang}
    form = {**params["form"], **overrides}
    url = APP_URL + "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return client.post(url, form)


def frame_token(response) -> str:
    return response.context["frame_token"]


@pytest.fixture
def open_frame(client, bitrix_emulator):
    def _open(portal, user_id=None, lang="ru"):
        response = launch(client, bitrix_emulator, portal, user_id=user_id, lang=lang)
        assert response.status_code == 200, response.content.decode()[:2000]
        return frame_token(response)

    return _open


def save(client, token, section, data, **extra):
    return client.post(f"{APP_URL}save/{section}/", {"frame_token": token, **data}, **extra)


def plain_user(bitrix_emulator, portal, name="Пётр", last_name="Менеджеров", email="petr@example.ru"):
    return int(bitrix_emulator.add_user(portal.member_id, name, last_name, email, admin=False)["ID"])
