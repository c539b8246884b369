"""What our event handler does with a verified Bitrix24 event: uninstall, deal updates."""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bx24app.bitrix.limiter import redis_client
from bx24app.models import Portal
from bx24app.services.payment_notify import deals_payment_notify

log = logging.getLogger(__name__)


def portal_uninstall(portal: Portal) -> None:
    """ONAPPUNINSTALL: the tenant stops (status gates every schedule and call); its tokens are forgotten."""
    portal.status = Portal.Status.UNINSTALLED
    portal.status_reason = _("Приложение удалено с портала. Чтобы возобновить синхронизацию, установите его снова.")
    portal.uninstalled_at = timezone.now()
    portal.access_token = ""
    portal.refresh_token = ""
    portal.save(update_fields=["status", "status_reason", "uninstalled_at", "access_token", "refresh_token",
                               "updated_at"])
    log.info("portal %s uninstalled", portal.member_id)


def deal_update_enqueue(portal: Portal, deal_id: int) -> bool:
    """ONCRMDEALUPDATE: after commit, collect the deal for a coalesced payment check; nothing if inactive.

    A sync that writes 3000 deals echoes 3000 events: they are checked 50 per ``crm.item.list``, a few seconds
    later, instead of one ``crm.item.get`` each. Without Redis (one-process demo) each event is its own task.
    """
    if not portal.is_active or deal_id <= 0:
        return False
    transaction.on_commit(lambda: _deal_update_collect(portal.pk, deal_id))
    return True


def deal_updates_process(portal: Portal) -> int:
    """Take the collected deal ids of the portal and notify the newly paid ones; returns notifications sent."""
    client = redis_client()
    client.delete(_scheduled_key(portal.pk))  # events arriving from now on schedule the next run
    deal_ids = [int(value) for value in client.spop(_pending_key(portal.pk), MAX_COLLECTED) or []]
    try:
        return deals_payment_notify(portal, deal_ids, source="event")
    except Exception:
        if deal_ids:  # keep them for the retry
            client.sadd(_pending_key(portal.pk), *deal_ids)
        raise


EVENT_COALESCE_SECONDS = 3
MAX_COLLECTED = 100_000


def _pending_key(portal_id: int) -> str:
    return f"bx24:deal-events:{portal_id}"


def _scheduled_key(portal_id: int) -> str:
    return f"bx24:deal-events-scheduled:{portal_id}"


def _deal_update_collect(portal_id: int, deal_id: int) -> None:
    from bx24app.tasks import deal_payment_notify_task, deal_updates_process_task

    if not settings.REDIS_URL:
        deal_payment_notify_task.delay(portal_id, deal_id, source="event")
        return
    client = redis_client()
    client.sadd(_pending_key(portal_id), deal_id)
    client.expire(_pending_key(portal_id), 24 * 3600)
    if client.set(_scheduled_key(portal_id), "1", nx=True, ex=120):
        deal_updates_process_task.apply_async(args=[portal_id], countdown=EVENT_COALESCE_SECONDS)
