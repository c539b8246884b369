"""«Клиент оплатил»: exactly one notification to the deal's responsible user per deal and payment state."""

import hashlib
import logging
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from bx24app.bitrix.client import BitrixClient
from bx24app.bitrix.errors import BitrixError
from bx24app.models import PaymentNotification, Portal, PortalSettings
from bx24app.portal_schema import portal_client

log = logging.getLogger(__name__)

DEAL_TYPE_ID, CONTACT_TYPE_ID, COMPANY_TYPE_ID = 2, 3, 4
LIST_CHUNK = 50
DEAL_SELECT = ["id", "title", "stageId", "assignedById", "companyId", "contactId", "opportunity", "currencyId"]


def deal_payment_notify(portal: Portal, deal_id: int, *, source: str, client: BitrixClient | None = None,
                        deal: dict | None = None, message: str = "") -> bool:
    """Notify the responsible user if the deal is in the PAID stage and this payment state is new.

    ``deal`` (as ``crm.item.get`` with ``useOriginalUfNames=Y`` returns it) saves a call when the caller has it.
    Returns True when a notification was sent by this call. Inactive portals: nothing happens.
    """
    if not portal.is_active:
        log.info("portal %s is %s: no payment notification for deal %s", portal.member_id, portal.status, deal_id)
        return False
    portal_settings = PortalSettings.objects.filter(portal=portal).first()
    paid_stage = (portal_settings.stage_map or {}).get("PAID") if portal_settings else None
    if not paid_stage:
        return False
    client = client or portal_client(portal)
    deal = deal or deal_fetch(client, deal_id)
    deal = {**deal, "id": int(deal_id)} if deal else deal
    if not deal or deal.get("stageId") != paid_stage:
        return False
    state_key = payment_state_key(deal, portal_settings.field_map or {})
    record = _record_claim(portal, int(deal_id), state_key, source)
    if record is None:
        return False
    try:
        notification_id = _notification_send(client, portal, deal, portal_settings.field_map or {}, state_key,
                                             message)
    except BaseException:
        record.delete()  # a later path (event, robot, sync) retries; the TAG keeps it single in Bitrix24
        raise
    record.notification_id = str(notification_id or "")
    record.save(update_fields=["notification_id"])
    log.info("portal %s: deal %s paid [%s], notified user %s (%s)", portal.member_id, deal_id, state_key,
             deal.get("assignedById"), source)
    return True


def deals_payment_notify(portal: Portal, deal_ids, *, source: str, client: BitrixClient | None = None) -> int:
    """Check many deals at once (one ``crm.item.list`` per 50 ids, only paid-stage deals come back) and notify
    the newly paid ones; returns how many notifications were sent. Used for coalesced events and by the sync."""
    portal_settings = PortalSettings.objects.filter(portal=portal).first()
    paid_stage = (portal_settings.stage_map or {}).get("PAID") if portal_settings else None
    ids = sorted({int(deal_id) for deal_id in deal_ids})
    if not portal.is_active or not paid_stage or not ids:
        return 0
    client = client or portal_client(portal)
    select = [*DEAL_SELECT, *(name for key in ("payment_date", "paid_amount")
                               if (name := (portal_settings.field_map or {}).get(key)))]
    sent = 0
    for start in range(0, len(ids), LIST_CHUNK):
        result = client.call("crm.item.list", {
            "entityTypeId": DEAL_TYPE_ID, "useOriginalUfNames": "Y", "select": select, "start": -1,
            "filter": {"@id": ids[start:start + LIST_CHUNK], "stageId": paid_stage}})
        for deal in (result or {}).get("items") or []:
            sent += deal_payment_notify(portal, int(deal["id"]), source=source, client=client, deal=deal)
    return sent


def deal_payment_notify_enqueue(portal: Portal, deal_id: int, *, source: str, message: str = "") -> None:
    """Run :func:`deal_payment_notify` in a worker once the current transaction commits."""
    from bx24app.tasks import deal_payment_notify_task

    transaction.on_commit(lambda: deal_payment_notify_task.delay(portal.pk, deal_id, source=source,
                                                                 message=message))


def deal_fetch(client: BitrixClient, deal_id: int) -> dict:
    """The deal with original UF names; an empty dict when it no longer exists."""
    try:
        result = client.call("crm.item.get", {"entityTypeId": DEAL_TYPE_ID, "id": deal_id,
                                              "useOriginalUfNames": "Y"})
    except BitrixError as exc:
        if exc.code == "NOT_FOUND":
            return {}
        raise
    return (result or {}).get("item") or {}


def payment_state_key(deal: dict, field_map: dict) -> str:
    """Payment date + paid amount; empty when someone moved the deal without payment data."""
    date = _field(deal, field_map.get("payment_date"))
    amount = _field(deal, field_map.get("paid_amount"))
    return f"{date}|{amount}"[:200] if (date or amount) else ""


def payment_tag(deal_id: int, state_key: str) -> str:
    digest = hashlib.sha1(state_key.encode()).hexdigest()[:10]
    return f"onec_paid_{deal_id}_{digest}"


# ---- selector for the scheduled sync ---------------------------------------------------------------------
def deals_paid_unnotified(portal: Portal, deal_ids) -> list[int]:
    """Of the given (paid-stage) deal ids, those never notified; lost events are caught with it."""
    wanted = {int(deal_id) for deal_id in deal_ids}
    notified = set(PaymentNotification.objects.filter(portal=portal, deal_id__in=wanted)
                   .values_list("deal_id", flat=True))
    return sorted(wanted - notified)


# ---- internals ----------------------------------------------------------------------------------------
def _record_claim(portal, deal_id, state_key, source) -> PaymentNotification | None:
    """Insert first: the unique constraint lets exactly one of concurrent paths go on."""
    try:
        with transaction.atomic():
            return PaymentNotification.objects.create(portal=portal, deal_id=deal_id, state_key=state_key,
                                                      source=source)
    except IntegrityError:
        return None


def _notification_send(client, portal, deal, field_map, state_key, message) -> int | None:
    deal_id = int(deal.get("id") or 0)
    text = payment_message(portal, deal, _client_name(client, deal), _amount(deal, field_map), message)
    return client.call("im.notify.system.add", {
        "USER_ID": deal.get("assignedById"), "MESSAGE": text, "TAG": payment_tag(deal_id, state_key)})


def payment_message(portal: Portal, deal: dict, client_name: str, amount: str, custom: str = "") -> str:
    deal_id = deal.get("id")
    title = deal.get("title") or _("Сделка №{id}").format(id=deal_id)
    link = f"[url={portal.deal_url(deal_id)}]{title}[/url]"
    lines = [_("Клиент оплатил счет по сделке {link}.").format(link=link)]
    if client_name:
        lines.append(_("Клиент: {name}.").format(name=client_name))
    if amount:
        lines.append(_("Сумма оплаты: {amount}").format(amount=amount))
    if custom:
        lines.append(custom)
    return "\n".join(lines)


def _client_name(client, deal) -> str:
    """Company title, else contact name (one call; an unreadable client only shortens the message)."""
    company_id = int(deal.get("companyId") or 0)
    contact_id = int(deal.get("contactId") or 0)
    try:
        if company_id:
            item = client.call("crm.item.get", {"entityTypeId": COMPANY_TYPE_ID, "id": company_id})["item"]
            return str(item.get("title") or "")
        if contact_id:
            item = client.call("crm.item.get", {"entityTypeId": CONTACT_TYPE_ID, "id": contact_id})["item"]
            return " ".join(p for p in (item.get("name"), item.get("secondName"), item.get("lastName")) if p)
    except (BitrixError, KeyError, TypeError) as exc:
        log.info("client of deal %s not readable: %s", deal.get("id"), exc)
    return ""


def _amount(deal, field_map) -> str:
    raw = _field(deal, field_map.get("paid_amount"))
    if raw:
        value, _sep, currency = raw.partition("|")
        return _money(value, currency or "RUB")
    if deal.get("opportunity"):
        return _money(deal["opportunity"], deal.get("currencyId") or "RUB")
    return ""


def _money(value, currency) -> str:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return f"{value} {currency}".strip()
    text = f"{number:,.2f}".replace(",", " ").replace(".", ",")
    return f"{text} {'руб.' if currency == 'RUB' else currency}"


def _field(deal: dict, name: str | None) -> str:
    if not name:
        return ""
    value = deal.get(name)
    if value in (None, False):
        return ""
    return str(value).strip()
