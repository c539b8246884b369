"""Celery tasks of the Bitrix24 side; thin wrappers that call services."""

from celery import shared_task


@shared_task(name="bx24app.ping")
def ping() -> str:
    """Liveness probe for workers (used by the smoke test and by operators: `celery call bx24app.ping`)."""
    return "pong"
