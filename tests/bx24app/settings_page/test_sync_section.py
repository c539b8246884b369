"""«Синхронизация»: the JSON status, «Синхронизировать сейчас» and «Повторить»."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bx24app.celery import app as celery_app
from bx24app.models import PortalSettings
from bx24app.settings_page import services
from sync.models import SyncProblem, SyncRun
from tests.conftest import provision_portal

from .conftest import APP_URL, frame_token, launch

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(open_frame, ready_portal):
    return open_frame(ready_portal)


@pytest.fixture
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr(services, "sync_run_request", lambda portal, **kw: calls.append((portal.pk, kw)))
    return calls


def status(client, token):
    response = client.get(APP_URL + "sync-status/", HTTP_X_FRAME_TOKEN=token)
    assert response.status_code == 200
    return response.json()


def make_problem(portal, kind="counterparty", ref="ref-1", **fields):
    defaults = {"label": "00042 ООО «Ромашка»", "code": "inn_invalid", "reason": "ИНН 123 неверной длины"}
    return SyncProblem.objects.create(portal=portal, kind=kind, onec_ref=ref, **{**defaults, **fields})


def test_status_reports_the_latest_run_and_open_problems(client, token, ready_portal, bitrix_emulator,
                                                         onec_emulator):
    SyncRun.objects.create(portal=ready_portal, status=SyncRun.Status.SUCCESS, finished_at=timezone.now())
    run = SyncRun.objects.create(
        portal=ready_portal, kinds=["counterparties", "products"],
        progress={"counterparties": {"done": 68, "total": 68}, "products": {"done": 10, "total": 55}},
        counts={"counterparties": {"created": 60, "updated": 3, "unchanged": 5}}, rest_requests=17,
    )
    open_problem = make_problem(ready_portal)
    make_problem(ready_portal, ref="ref-2", resolved_at=timezone.now())
    other = provision_portal(bitrix_emulator, onec_emulator)
    make_problem(other, ref="ref-3", label="чужая проблема")
    body = status(client, token)
    assert body["ok"] is True
    assert body["run"]["id"] == run.pk
    assert body["run"]["running"] is True
    assert body["run"]["status_label"] == "Выполняется"
    assert body["run"]["progress"]["products"] == {"done": 10, "total": 55}
    assert body["run"]["counts"]["counterparties"]["created"] == 60
    assert body["run"]["rest_requests"] == 17
    assert [p["id"] for p in body["problems"]] == [open_problem.pk]
    problem = body["problems"][0]
    assert (problem["kind"], problem["label"], problem["reason"]) == (
        "counterparty", "00042 ООО «Ромашка»", "ИНН 123 неверной длины")
    assert problem["first_seen"] and problem["retry_requested"] is False
    # POST works too (the page may use either)
    assert client.post(APP_URL + "sync-status/", HTTP_X_FRAME_TOKEN=token).json()["run"]["id"] == run.pk


def test_status_without_runs(client, token):
    assert status(client, token) == {"ok": True, "run": None, "runs": [], "problems": [], "problems_total": 0}


def test_runs_and_problems_are_on_the_page(client, bitrix_emulator, ready_portal):
    started = timezone.now() - timedelta(minutes=3)
    run = SyncRun.objects.create(portal=ready_portal, status=SyncRun.Status.PARTIAL, rest_requests=42,
                                 counts={"products": {"created": 7, "updated": 2, "unchanged": 40}})
    SyncRun.objects.filter(pk=run.pk).update(started_at=started, finished_at=started + timedelta(seconds=12.5))
    make_problem(ready_portal)
    response = launch(client, bitrix_emulator, ready_portal)
    html = response.content.decode()
    assert "С проблемами" in html and "12.5" in html and "products: 7 / 2 / 40" in html and ">42<" in html
    assert "ООО «Ромашка»" in response.content.decode() or response.context["status"]["problems"]


def test_sync_now_queues_a_run(client, token, ready_portal, queued):
    response = client.post(APP_URL + "sync-now/", HTTP_X_FRAME_TOKEN=token)
    assert response.status_code == 200
    assert response.json()["ok"] is True and response.json()["already_running"] is False
    assert queued == [(ready_portal.pk, {"trigger": "manual", "kinds": None})]


def test_sync_now_does_not_queue_twice(client, token, ready_portal, queued):
    from django.db import connections

    from sync.locks import _lock_key

    SyncRun.objects.create(portal=ready_portal)
    worker = connections.create_connection("default")  # a worker in another process holds the portal lock
    with worker.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_lock_key(ready_portal.member_id)])
    try:
        body = client.post(APP_URL + "sync-now/", HTTP_X_FRAME_TOKEN=token).json()
    finally:
        worker.close()
    assert body["already_running"] is True
    assert queued == []


def test_sync_now_needs_the_1c_connection(client, token, ready_portal, queued):
    PortalSettings.objects.filter(portal=ready_portal).update(onec_url="")
    response = client.post(APP_URL + "sync-now/", HTTP_X_FRAME_TOKEN=token)
    assert response.status_code == 400
    assert response.json()["error"] == "Сначала укажите подключение к 1С."
    assert queued == []


def test_sync_now_runs_the_sync_on_a_worker(client, token, ready_portal, django_capture_on_commit_callbacks):
    # the CELERY_-prefixed key: with namespace="CELERY" it shadows conf.task_always_eager
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(APP_URL + "sync-now/", HTTP_X_FRAME_TOKEN=token)
    finally:
        celery_app.conf.CELERY_TASK_ALWAYS_EAGER = False
    assert response.status_code == 200
    run = SyncRun.objects.get(portal=ready_portal)
    assert run.trigger == "manual" and run.finished_at is not None
    body = status(client, token)
    assert body["run"]["id"] == run.pk and body["run"]["running"] is False


def test_retry_requeues_the_kind_and_keeps_the_problem(client, token, ready_portal, queued):
    problem = make_problem(ready_portal, kind="product")
    response = client.post(f"{APP_URL}problems/{problem.pk}/retry/", HTTP_X_FRAME_TOKEN=token)
    assert response.status_code == 200
    assert response.json()["problem"]["retry_requested"] is True
    assert queued == [(ready_portal.pk, {"trigger": "retry", "kinds": ["products"]})]
    assert SyncProblem.objects.filter(pk=problem.pk, resolved_at__isnull=True).exists()
    assert status(client, token)["problems"][0]["retry_requested"] is True


def test_retry_of_another_portals_problem_is_404(client, token, bitrix_emulator, onec_emulator, queued):
    other = provision_portal(bitrix_emulator, onec_emulator)
    problem = make_problem(other)
    response = client.post(f"{APP_URL}problems/{problem.pk}/retry/", HTTP_X_FRAME_TOKEN=token)
    assert response.status_code == 404
    assert queued == []


@pytest.mark.parametrize(("kind", "expected"), [
    ("counterparty", ["counterparties"]), ("contact", ["counterparties"]), ("price", ["products"]),
    ("deal", ["orders"]), ("orders", ["orders"]), ("something", None),
])
def test_problem_kind_to_sync_kind(kind, expected):
    assert services.sync_kind_for_problem(kind) == expected


def test_read_only_user_sees_problems_without_retry(client, bitrix_emulator, ready_portal):
    make_problem(ready_portal)
    user_id = int(bitrix_emulator.add_user(ready_portal.member_id, "Ира", "Читатель", "", admin=False)["ID"])
    response = launch(client, bitrix_emulator, ready_portal, user_id=user_id)
    assert frame_token(response)
    assert response.context["status"]["problems"][0]["label"] == "00042 ООО «Ромашка»"
    assert "canEdit: false" in response.content.decode()


def test_retry_mark_clears_when_a_sync_sees_the_record_again(client, token, ready_portal, queued):
    problem = make_problem(ready_portal, kind="product")
    client.post(f"{APP_URL}problems/{problem.pk}/retry/", HTTP_X_FRAME_TOKEN=token)
    assert status(client, token)["problems"][0]["retry_requested"] is True
    SyncProblem.objects.filter(pk=problem.pk).update(last_seen=timezone.now() + timedelta(seconds=1))
    assert status(client, token)["problems"][0]["retry_requested"] is False
