"""Concurrency in one process (the two-worker version is in test_crashes): two syncs of one portal started at the
same instant make one run; the other is recorded as skipped and writes nothing. And what a killed run leaves."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from bx24app.models import Portal
from sync.models import SyncRun
from sync.services.runs import sync_run_execute

from .conftest import onec_faults
from .helpers import KINDS, duplicates

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_schedule_and_sync_now_at_the_same_instant_make_one_run(make_portal, b24, onec):
    portal = make_portal()
    onec_faults(onec, latency_ms=20)  # long enough that the second start meets the first run
    barrier = threading.Barrier(2)

    def start(trigger):
        barrier.wait()
        try:
            return sync_run_execute(Portal.objects.get(pk=portal.pk), kinds=list(KINDS), trigger=trigger)
        finally:
            connection.close()  # each thread has its own database session (and its own advisory lock)

    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(start, ["schedule", "manual"]))
    onec_faults(onec)
    statuses = sorted(r.status for r in runs)
    assert statuses.count(SyncRun.Status.SKIPPED) == 1, [(r.trigger, r.status, r.error) for r in runs]
    skipped = next(r for r in runs if r.status == SyncRun.Status.SKIPPED)
    ran = next(r for r in runs if r.status != SyncRun.Status.SKIPPED)
    assert skipped.rest_requests == skipped.rest_commands == 0 and "уже выполняется" in skipped.error
    assert ran.rest_commands > 0 and not ran.error
    assert duplicates(b24.portal_state(portal.member_id)) == {}


def test_a_killed_run_does_not_block_sync_now(make_portal):
    from bx24app.settings_page.services import sync_running

    portal = make_portal()
    SyncRun.objects.create(portal=portal, trigger="schedule", kinds=list(KINDS))  # its worker was SIGKILLed
    assert not sync_running(portal)  # nobody holds the portal's lock: nothing is running
