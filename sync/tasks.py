"""Celery tasks of the sync: thin wrappers that call services."""

from celery import shared_task
from django.utils import timezone

from bx24app.models import Portal, PortalSettings

from .services.runs import sync_run_execute


@shared_task(name="sync.tasks.sync_portal", acks_late=True)
def sync_portal(portal_id: int, trigger: str = "schedule", kinds=None) -> int | None:
    portal = Portal.objects.filter(pk=portal_id).select_related("settings").first()
    if portal is None:
        return None
    return sync_run_execute(portal, kinds=kinds, trigger=trigger).pk


@shared_task(name="sync.tasks.sync_due_portals")
def sync_due_portals() -> int:
    """Celery beat, every minute: queue a sync for each active portal whose interval has elapsed."""
    due = 0
    now = timezone.now()
    for row in PortalSettings.objects.filter(schedule_enabled=True, portal__status=Portal.Status.ACTIVE):
        if not row.onec_configured:
            continue
        if row.last_scheduled_at and (now - row.last_scheduled_at).total_seconds() < row.interval_minutes * 60 - 5:
            continue
        PortalSettings.objects.filter(pk=row.pk).update(last_scheduled_at=now)
        sync_portal.delay(row.portal_id, trigger="schedule")
        due += 1
    return due
