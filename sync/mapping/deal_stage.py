"""The deal stage as a function of the 1С facts, and the forward-only rule for moving a deal (DESIGN §7). Pure.

Logical stages (bx24app.portal_schema.LOGICAL_STAGES) are resolved to the portal's STATUS_IDs only through the
per-portal ``stage_map``; nothing here knows a stage id.

Progress order. The spec's stages are not a straight line: «Отгрузка, без оплаты» is a detour that a payment
ends («При смене статуса заказа на "Оплачен" сделка переходит в стадию "Счет оплачен"»), while a paid deal is
never "shipped unpaid". So the rank used for "forward" is

    ORDER_RECEIVED < INVOICE_SENT < SHIPPED_UNPAID < PAID

— the same as LOGICAL_STAGES except that PAID is the furthest point (a shipped-unpaid deal that gets paid moves
on to PAID; a paid deal is never moved back to SHIPPED_UNPAID).
"""

from __future__ import annotations

from collections.abc import Mapping

from sync.onec.records import OrderFacts

ORDER_RECEIVED, INVOICE_SENT, PAID, SHIPPED_UNPAID = "ORDER_RECEIVED", "INVOICE_SENT", "PAID", "SHIPPED_UNPAID"
PROGRESS = (ORDER_RECEIVED, INVOICE_SENT, SHIPPED_UNPAID, PAID)
RANK = {code: index for index, code in enumerate(PROGRESS)}
CLOSED_SEMANTICS = {"S", "F", "SUCCESS", "FAILURE"}


def target_stage(facts: OrderFacts) -> str | None:
    """The logical stage 1С's facts call for; None for an order that must not be in the CRM (unposted/deleted).

    posted → ORDER_RECEIVED; an invoice issued → INVOICE_SENT; fully paid (УТ rule) → PAID; shipped (even
    partly) and not fully paid → SHIPPED_UNPAID. A partial payment fills the payment fields only.
    """
    if not facts.posted or facts.deletion_mark:
        return None
    if facts.paid:
        return PAID
    if facts.shipped or facts.realizations:
        return SHIPPED_UNPAID
    if facts.invoices:
        return INVOICE_SENT
    return ORDER_RECEIVED


def logical_of(stage_id: str | None, stage_map: Mapping[str, str]) -> str | None:
    """The logical code a portal stage is mapped to, or None for a stage that is not ours."""
    for code, mapped in stage_map.items():
        if mapped and mapped == stage_id:
            return code
    return None


def stage_is_closed(stage_id: str | None, stage_semantics: Mapping[str, str]) -> bool:
    return str(stage_semantics.get(stage_id or "") or "").upper() in CLOSED_SEMANTICS


def next_stage(current_stage_id: str | None, target_logical: str | None, stage_map: Mapping[str, str],
               stage_semantics: Mapping[str, str], *, closed: bool = False,
               stage_sort: Mapping[str, int] | None = None) -> str | None:
    """The stage id to set now, or None to leave the deal's stage as it is.

    - a new deal (no current stage) goes straight to the target;
    - a deal a manager closed (won/lost: semantics S/F, or ``closed``) is never moved;
    - our own stages move only forward (see PROGRESS);
    - a stage that is not ours (a person moved the deal there) is left unless it lies before the target in the
      pipeline (by SORT, when known): a person who moved a deal beyond our target is not overruled.
    """
    target_id = stage_map.get(target_logical) if target_logical else None
    if not target_id:
        return None
    if current_stage_id is None or current_stage_id == "":
        return target_id
    if current_stage_id == target_id:
        return None
    if closed or stage_is_closed(current_stage_id, stage_semantics):
        return None
    current_logical = logical_of(current_stage_id, stage_map)
    if current_logical is not None:
        return target_id if RANK[target_logical] > RANK.get(current_logical, len(PROGRESS)) else None
    sorts = stage_sort or {}
    if current_stage_id in sorts and target_id in sorts:
        return target_id if int(sorts[current_stage_id]) < int(sorts[target_id]) else None
    return None  # an unknown stage of someone else's: leave it
