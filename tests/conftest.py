"""Shared fixtures: both emulators over real HTTP, and a portal provisioned the way the installer leaves it."""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from bx24app.models import Portal, PortalSettings
from emulators.bitrix24 import Bitrix24Emulator
from emulators.onec import OneCEmulator

FAST_RATE = 1000.0  # functional tests: the limiter is proven in its own tests at the real 2 req/s


@pytest.fixture(scope="session", autouse=True)
def _close_stray_connections(django_db_setup, django_db_blocker):
    """Threads (live_server, emulated callbacks, worker threads) may keep a connection to the test database;
    end them before pytest-django drops it, so no test database is left behind."""
    yield
    with django_db_blocker.unblock():
        from django.db import connection

        if connection.vendor == "postgresql" and connection.settings_dict["NAME"].startswith("test_"):
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture(scope="session")
def bitrix_emulator(django_settings_for_emulators):
    emulator = Bitrix24Emulator(port=0, rate=FAST_RATE, burst=1000, client_id=django_settings_for_emulators[0],
                                client_secret=django_settings_for_emulators[1]).start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def django_settings_for_emulators():
    from django.conf import settings

    return settings.BITRIX24_CLIENT_ID, settings.BITRIX24_CLIENT_SECRET


@pytest.fixture
def onec_emulator():
    """A fresh small 1С infobase per test (tests mutate it); generation takes well under a second."""
    emulator = OneCEmulator(port=0, size="small", seed=1)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def emulator_settings(settings, bitrix_emulator):
    settings.BITRIX24_OAUTH_SERVERS = [bitrix_emulator.base_url]
    settings.BITRIX24_ALLOW_HTTP = True
    settings.BITRIX24_RATE_LIMIT = FAST_RATE
    return settings


def provision_portal(bitrix_emulator, onec_emulator, **settings_fields) -> Portal:
    """A portal row as the installer stores it: tokens from the emulator, 1С pointing at the 1С emulator."""
    info = bitrix_emulator.create_portal()
    form = bitrix_emulator.install_params(info["member_id"])["form"]
    portal = Portal.objects.create(
        member_id=info["member_id"], domain=info["domain"], protocol="http",
        client_endpoint=info["client_endpoint"], server_endpoint=info["server_endpoint"],
        application_token=form["APPLICATION_TOKEN"], access_token=form["AUTH_ID"], refresh_token=form["REFRESH_ID"],
        access_expires_at=timezone.now() + timedelta(seconds=int(form["AUTH_EXPIRES"])),
        installed_by_user_id=info["admin_user_id"],
    )
    PortalSettings.objects.create(portal=portal, onec_url=onec_emulator.odata_url, onec_user="odata",
                                  onec_password="odata", **settings_fields)
    return portal


@pytest.fixture
def portal(db, emulator_settings, bitrix_emulator, onec_emulator):
    return provision_portal(bitrix_emulator, onec_emulator)


class PortalView:
    """Reads the emulated portal's state for assertions (the emulator's inspection API)."""

    def __init__(self, emulator, member_id):
        self.emulator, self.member_id = emulator, member_id

    def state(self) -> dict:
        return self.emulator.portal_state(self.member_id)

    def stats(self) -> dict:
        return requests.get(f"{self.emulator.base_url}/_emulator/stats", timeout=10).json()


@pytest.fixture
def crm(portal, bitrix_emulator):
    return PortalView(bitrix_emulator, portal.member_id)
