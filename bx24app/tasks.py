"""Celery tasks of the Bitrix24 side; thin wrappers that call services."""

from celery import shared_task

from bx24app.bitrix.errors import OperationTimeLimit, OutcomeUnknown, QueryLimitExceeded, TransportError


@shared_task(name="bx24app.ping")
def ping() -> str:
    """Liveness probe for workers (used by the smoke test and by operators: `celery call bx24app.ping`)."""
    return "pong"


@shared_task(name="bx24app.deal_payment_notify", bind=True, max_retries=5, default_retry_delay=30)
def deal_payment_notify_task(self, portal_id: int, deal_id: int, source: str = "event", message: str = "") -> bool:
    """A deal changed (event) or the robot ran: notify its responsible user if it is newly paid."""
    from bx24app.models import Portal
    from bx24app.services.payment_notify import deal_payment_notify

    portal = Portal.objects.filter(pk=portal_id).first()
    if portal is None or not portal.is_active:
        return False
    try:
        return deal_payment_notify(portal, deal_id, source=source, message=message)
    except (QueryLimitExceeded, OperationTimeLimit, TransportError, OutcomeUnknown) as exc:
        raise self.retry(exc=exc) from exc


@shared_task(name="bx24app.deal_updates_process", bind=True, max_retries=5, default_retry_delay=30)
def deal_updates_process_task(self, portal_id: int) -> int:
    """The deals of a portal's ONCRMDEALUPDATE events of the last seconds, checked together for payment."""
    from bx24app.models import Portal
    from bx24app.services.portal_events import deal_updates_process

    portal = Portal.objects.filter(pk=portal_id).first()
    if portal is None or not portal.is_active:
        return 0
    try:
        return deal_updates_process(portal)
    except (QueryLimitExceeded, OperationTimeLimit, TransportError, OutcomeUnknown) as exc:
        raise self.retry(exc=exc) from exc
