"""A real Celery worker consumes from Redis and executes a task."""

from celery.contrib.testing.worker import start_worker

from bx24app.celery import app
from bx24app.tasks import ping


def test_worker_executes_a_task_from_redis():
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        assert ping.delay().get(timeout=20) == "pong"
