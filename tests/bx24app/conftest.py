"""Shared fixtures: a Bitrix24 emulator over real HTTP, portals in it, our app wired to it, installs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from django.db import connection

from bx24app.celery import app as celery_app
from bx24app.models import Portal
from emulators.bitrix24 import Bitrix24Emulator

ROOT = Path(__file__).resolve().parents[2]


def start_emulator(**options) -> Bitrix24Emulator:
    options = {"port": 0, "rate": 2.0, "burst": 50, "token_ttl": 3600,
               "client_id": django_settings.BITRIX24_CLIENT_ID,
               "client_secret": django_settings.BITRIX24_CLIENT_SECRET, **options}
    return Bitrix24Emulator(**options).start()


@pytest.fixture(scope="session")
def emulator():
    """One emulator for the session, with the real tariff limits (2 req/s, burst 50 per portal)."""
    emu = start_emulator()
    yield emu
    emu.stop()


@pytest.fixture
def own_emulator():
    """A private emulator for tests that inject faults (faults are emulator-wide)."""
    emu = start_emulator()
    yield emu
    emu.stop()


@pytest.fixture
def bitrix_settings(settings, emulator):
    """Trust the emulator's OAuth server and allow its http:// endpoints."""
    settings.BITRIX24_OAUTH_SERVERS = [emulator.base_url]
    settings.BITRIX24_ALLOW_HTTP = True
    return settings


@pytest.fixture
def app_online(bitrix_settings, live_server):
    """Our app served over HTTP so the emulator can deliver events and robot calls to it."""
    bitrix_settings.APP_BASE_URL = live_server.url
    return live_server


@pytest.fixture
def celery_eager():
    """Run queued tasks inline (the conf is read with the CELERY_ namespace, so set those keys)."""
    keys = ("CELERY_TASK_ALWAYS_EAGER", "CELERY_TASK_EAGER_PROPAGATES")
    previous = {key: celery_app.conf.get(key) for key in keys}
    celery_app.conf.update({key: True for key in keys})
    yield
    celery_app.conf.update(previous)


@pytest.fixture
def emu_portal(emulator):
    """A fresh portal in the emulator (its own leaky bucket)."""
    return emulator.create_portal()


def control(emulator, path, **body):
    response = requests.post(f"{emulator.base_url}/_emulator/{path}", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def portal_state(emulator, member_id) -> dict:
    return requests.get(f"{emulator.base_url}/_emulator/portals/{member_id}/state", timeout=30).json()


def emulator_stats(emulator) -> dict:
    return requests.get(f"{emulator.base_url}/_emulator/stats", timeout=30).json()


def post_install(base_url, emulator, member_id, *, mutate=None) -> requests.Response:
    """POST the installer exactly as Bitrix24 does: query DOMAIN/PROTOCOL/…, form AUTH_ID/REFRESH_ID/…"""
    params = control(emulator, f"portals/{member_id}/install-params")
    query, form = params["query"], params["form"]
    if mutate:
        mutate(query, form)
    return requests.post(f"{base_url}/bitrix/install/", params=query, data=form, timeout=60)


@pytest.fixture
def install(app_online, emulator):
    """Install the app on an emulator portal through our installer page; returns the Portal row."""

    def run(member_id, **options):
        response = post_install(app_online.url, emulator, member_id, **options)
        assert response.status_code == 200, response.text
        return Portal.objects.get(member_id=member_id)

    return run


@pytest.fixture
def installed_portal(install, emu_portal):
    return install(emu_portal["member_id"])


def raw_column(table, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def run_worker_processes(argv_list, extra_env) -> list[subprocess.CompletedProcess]:
    """Start ``tests/bx24app/bitrix/worker.py`` processes in parallel on the test database; wait for all."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    env = {**os.environ, "APP_ENV": "test", "PYTHONPATH": str(ROOT),
           "DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
                           f"/{db['NAME']}",
           "REDIS_URL": django_settings.REDIS_URL, **extra_env}
    processes = [subprocess.Popen([sys.executable, str(ROOT / "tests/bx24app/bitrix/worker.py"), *argv],
                                  cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for argv in argv_list]
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=600)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    return results


def portal_row(emu, info=None, **fields) -> Portal:
    """A Portal row holding fresh admin tokens of an emulator portal (as if installed, without the setup)."""
    info = info or emu.create_portal()
    access, refresh = emu.tokens(info["member_id"])
    return Portal.objects.create(
        member_id=info["member_id"], domain=info["domain"], protocol="http",
        client_endpoint=info["client_endpoint"], server_endpoint=info["server_endpoint"],
        application_token=info["application_token"], access_token=access, refresh_token=refresh,
        license_family=info.get("license_family", ""), **fields)


@pytest.fixture
def client_portal(bitrix_settings, emulator):
    """A Portal row on the session emulator (fresh portal, so a fresh leaky bucket)."""
    return portal_row(emulator)
