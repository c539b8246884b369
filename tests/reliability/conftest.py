"""Fixtures of the reliability suite: emulators of its own (faults are emulator-wide), portals, the fault-free result.

Size: ``RELIABILITY_SIZE=small`` (default, what ``make test`` runs) or ``medium``; kinds: ``RELIABILITY_KINDS``
(default counterparties,products,orders).
"""

import pytest
import requests

from bx24app.services.install import portal_setup
from emulators.bitrix24 import Bitrix24Emulator
from emulators.onec import OneCEmulator
from sync.models import SyncRun
from sync.services.runs import sync_run_execute
from tests.conftest import provision_portal

from .helpers import KINDS, SIZE, normalised_crm

FAST_RATE = 1000.0


@pytest.fixture
def b24(django_settings_for_emulators):
    """A portal emulator of this test only: set_faults() must not leak into other tests."""
    client_id, client_secret = django_settings_for_emulators
    emulator = Bitrix24Emulator(port=0, rate=FAST_RATE, burst=1000, client_id=client_id,
                                client_secret=client_secret).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def onec():
    emulator = OneCEmulator(port=0, size=SIZE, seed=1)
    emulator.start()
    yield emulator
    emulator.stop()


def onec_faults(onec_emulator, *, fault_rate=0.0, latency_ms=0) -> None:
    requests.post(f"{onec_emulator.base_url}/_emulator/faults", json={"fault_rate": fault_rate,
                                                                      "latency_ms": latency_ms},
                  timeout=10).raise_for_status()


def portal_faults_off(b24_emulator) -> None:
    b24_emulator.set_faults(fault_rate=0.0, fault_after_write=False, expire_tokens_every=0, burst_503=0,
                            method_429={"method": "crm.item.add", "seconds": 0})


@pytest.fixture
def reliability_settings(settings, b24):
    settings.BITRIX24_OAUTH_SERVERS = [b24.base_url]
    settings.BITRIX24_ALLOW_HTTP = True
    settings.BITRIX24_RATE_LIMIT = FAST_RATE
    return settings


@pytest.fixture
def make_portal(transactional_db, reliability_settings, b24, onec):
    def make(**settings_fields):
        portal = provision_portal(b24, onec, **settings_fields)
        portal_setup(portal)  # stages, deal fields and robot, as the installer leaves the portal
        portal.refresh_from_db()
        return portal
    return make


def finished_cleanly(run: SyncRun) -> bool:
    return run.status in (SyncRun.Status.SUCCESS, SyncRun.Status.PARTIAL) and not run.error and \
        all(not c.get("failed") for c in run.counts.values())


def sync_until_clean(portal, *, kinds=KINDS, max_runs: int = 12, between=None, batch_size=None) -> list[SyncRun]:
    """Run the sync again and again (as the schedule would) until one run ends without errors or failures."""
    runs = []
    for attempt in range(max_runs):
        if between:
            between(attempt)
        portal.refresh_from_db()
        run = sync_run_execute(portal, kinds=list(kinds), trigger="schedule", batch_size=batch_size)
        runs.append(run)
        if finished_cleanly(run):
            return runs
    raise AssertionError(f"No clean run in {max_runs}: " + "; ".join(f"{r.status} {r.error}" for r in runs))


@pytest.fixture
def baseline(make_portal, b24):
    """The fault-free result: a portal of its own synced once from the same 1С, normalised."""
    portal = make_portal()
    run = sync_run_execute(portal, kinds=list(KINDS))
    assert finished_cleanly(run), (run.status, run.error, run.counts)
    return normalised_crm(b24.portal_state(portal.member_id))
