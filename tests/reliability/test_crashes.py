"""Crashes: a real Celery worker is SIGKILLed at random points of a sync, ten times; then a normal run leaves the
CRM equal to the fault-free result, with no duplicate by originId / XML_ID / xmlId. Also: the schedule and
«Синхронизировать сейчас» racing on two real workers make one run; the other skips.
"""

import random
import time

import pytest
from django.db import transaction

from sync.models import SyncRun
from sync.services.runs import sync_run_request
from sync.tasks import sync_due_portals, sync_portal

from .conftest import finished_cleanly, onec_faults
from .helpers import KINDS, duplicates, normalised_crm, state_diff
from .worker import CeleryWorker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
KILLS = 10
SEED = 1127


def wait_for(predicate, timeout: float, poll: float = 0.005):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    return None


def send_sync(portal, queue: str, trigger: str = "manual"):
    sync_portal.apply_async(args=[portal.pk], kwargs={"trigger": trigger, "kinds": list(KINDS)}, queue=queue)


def test_worker_killed_ten_times_then_a_normal_run_matches_the_fault_free_result(make_portal, b24, onec,
                                                                                  baseline):
    portal = make_portal()
    rng = random.Random(SEED)
    onec_faults(onec, latency_ms=10)  # 1С reads take a while, so time-based kills land while reading too
    kill_points = []
    for _ in range(KILLS):
        worker = CeleryWorker().start()
        try:
            known_runs = set(SyncRun.objects.filter(portal=portal).values_list("pk", flat=True))
            b24.stats.reset()
            send_sync(portal, worker.queue)
            run = wait_for(lambda known=known_runs: SyncRun.objects.filter(portal=portal).exclude(pk__in=known).first(),
                           30)
            assert run is not None, worker.output()
            if rng.random() < 0.5:  # after the n-th Bitrix24 request (a write may be applied, its answer lost)
                nth = rng.randint(1, 4)
                wait_for(lambda n=nth: b24.stats.snapshot()["total_requests"] >= n, 30, poll=0.001)
                kill_points.append(f"after request {nth}")
            else:  # at a random moment (reading 1С, mapping, between batches)
                delay = rng.uniform(0.0, 1.5)
                time.sleep(delay)
                kill_points.append(f"at {delay:.2f}s")
            worker.kill()
            kill_points[-1] += f" ({b24.stats.snapshot()['total_requests']} Bitrix24 requests made)"
        finally:
            worker.kill()
            worker.forget_queue()
        assert SyncRun.objects.filter(portal=portal).count() == len(known_runs) + 1
    onec_faults(onec)
    mid_write = [p for p in kill_points if not p.endswith("(0 Bitrix24 requests made)")]
    assert len(mid_write) >= 3, kill_points  # several kills landed while the portal was being written

    worker = CeleryWorker().start()
    try:
        earlier = set(SyncRun.objects.filter(portal=portal).values_list("pk", flat=True))
        send_sync(portal, worker.queue)
        final = wait_for(lambda: SyncRun.objects.filter(portal=portal, finished_at__isnull=False)
                         .exclude(pk__in=earlier).first(), 120, poll=0.1)
        assert final is not None, worker.output()
    finally:
        worker.stop()
        worker.forget_queue()
    assert finished_cleanly(final), (final.status, final.error, kill_points)
    # the killed runs got an ending when the next run took the portal's lock
    assert not SyncRun.objects.filter(portal=portal, status=SyncRun.Status.RUNNING).exists()
    state = b24.portal_state(portal.member_id)
    assert duplicates(state) == {}, kill_points
    assert state_diff(baseline, normalised_crm(state)) == [], kill_points


def test_schedule_and_sync_now_on_two_workers_make_one_run(make_portal, b24, onec, monkeypatch):
    portal = make_portal()
    portal.settings.schedule_enabled = True
    portal.settings.save()
    onec_faults(onec, latency_ms=40)  # a run long enough for the two tasks to overlap
    first = CeleryWorker().start()
    second = CeleryWorker(queue=first.queue).start()
    monkeypatch.setattr(sync_portal, "delay", lambda *args, **kwargs: sync_portal.apply_async(
        args, kwargs, queue=first.queue))
    try:
        assert sync_due_portals() == 1  # the schedule
        with transaction.atomic():  # «Синхронизировать сейчас»: queued when the request's transaction commits
            sync_run_request(portal, kinds=list(KINDS))
        runs = wait_for(lambda: (lambda rows: rows if len(rows) == 2 and all(r.finished_at for r in rows) else None)(
            list(SyncRun.objects.filter(portal=portal))), 120, poll=0.1)
        assert runs is not None, first.output() + second.output()
    finally:
        onec_faults(onec)
        first.stop(), second.stop()
        first.forget_queue()
    statuses = sorted(r.status for r in runs)
    # one ran (its outcome is not the point here: the schedule runs every kind), the other skipped at once
    assert statuses.count(SyncRun.Status.SKIPPED) == 1, [(r.trigger, r.status, r.error) for r in runs]
    ran = next(r for r in runs if r.status != SyncRun.Status.SKIPPED)
    assert ran.rest_requests > 0 and ran.counts.get("counterparty", {}).get("created"), (ran.status, ran.error)
    skipped = next(r for r in runs if r.status == SyncRun.Status.SKIPPED)
    assert "уже выполняется" in skipped.error and skipped.rest_requests == 0
    assert {r.trigger for r in runs} == {"schedule", "manual"}
    assert duplicates(b24.portal_state(portal.member_id)) == {}
