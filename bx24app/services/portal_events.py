"""What our event handler does with a verified Bitrix24 event: uninstall, deal updates."""

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bx24app.models import Portal

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
    """ONCRMDEALUPDATE: check the deal for a payment in a worker (after commit); nothing for inactive portals."""
    if not portal.is_active or deal_id <= 0:
        return False
    from bx24app.tasks import deal_payment_notify_task

    transaction.on_commit(lambda: deal_payment_notify_task.delay(portal.pk, deal_id, source="event"))
    return True
