"""Order state derived as УТ 10.3 derives it (reference §2.14): pure functions over register rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from . import decode

PAYMENT_RECORDERS = (
    "Document_ПлатежноеПоручениеВходящее",
    "Document_ПриходныйКассовыйОрдер",
    "Document_ОплатаОтПокупателяПлатежнойКартой",
    "Document_АккредитивПолученный",
)
REALIZATION = "Document_РеализацияТоваровУслуг"
CLOSING = "Document_ЗакрытиеЗаказовПокупателей"
AMOUNT = "СуммаВзаиморасчетов"


@dataclass(frozen=True)
class OrderState:
    """What the registers say about one order."""

    paid: bool
    shipped: bool
    closed: bool
    paid_amount: Decimal
    settlement_balance: Decimal | None
    shipment_balance: Decimal | None
    payment_recorders: tuple[tuple[str, str], ...]  # (recorder type, ref) of payment movements, by date
    shipment_recorders: tuple[str, ...]  # realization refs with ЗаказыПокупателей Expense movements


def recorder_type(row: dict) -> str:
    return decode.type_name(row.get("Recorder_Type"))


def is_expense(row: dict) -> bool:
    return row.get("RecordType") == "Expense"


def active(rows: Iterable[dict]) -> list[dict]:
    return [r for r in rows if r.get("Active", True) is not False]


def balance(rows: Iterable[dict]) -> Decimal | None:
    """Receipt − Expense of СуммаВзаиморасчетов; None when there are no movements at all."""
    rows = list(rows)
    if not rows:
        return None
    return sum((decode.number(r.get(AMOUNT)) * (-1 if is_expense(r) else 1) for r in rows), Decimal(0))


def payment_movements(settlement_rows: Iterable[dict]) -> list[dict]:
    """РасчетыСКонтрагентами Expense rows written by customer payment documents."""
    return [r for r in settlement_rows if is_expense(r) and recorder_type(r) in PAYMENT_RECORDERS]


def paid_amount(settlement_rows: Iterable[dict]) -> Decimal:
    return sum((decode.number(r.get(AMOUNT)) for r in payment_movements(settlement_rows)), Decimal(0))


def shipment_movements(order_rows: Iterable[dict]) -> list[dict]:
    return [r for r in order_rows if is_expense(r) and recorder_type(r) == REALIZATION]


def shipment_recorders_of(order_rows: Iterable[dict]) -> list[str]:
    """Refs of realizations that wrote ЗаказыПокупателей Expense movements."""
    return list(dict.fromkeys(decode.text(r.get("Recorder")) for r in shipment_movements(active(order_rows))))


def is_closed(order_rows: Iterable[dict]) -> bool:
    return any(is_expense(r) and recorder_type(r) == CLOSING for r in order_rows)


def derive_state(posted: bool, settlement_rows: Iterable[dict], order_rows: Iterable[dict]) -> OrderState:
    """УТ rule: paid = posted ∧ a payment movement exists ∧ settlement balance ≤ 0;
    shipped = posted ∧ a realization movement exists ∧ ЗаказыПокупателей balance ≤ 0.

    settlement_rows: РасчетыСКонтрагентами rows whose Сделка is the order or one of its invoices;
    order_rows: ЗаказыПокупателей rows of the order.
    """
    settlements, orders = active(settlement_rows), active(order_rows)
    payments = sorted(payment_movements(settlements), key=lambda r: (decode.text(r.get("Period")),
                                                                      decode.text(r.get("Recorder"))))
    shipments = shipment_movements(orders)
    settlement_balance, shipment_balance = balance(settlements), balance(orders)
    return OrderState(
        paid=posted and bool(payments) and settlement_balance is not None and settlement_balance <= 0,
        shipped=posted and bool(shipments) and shipment_balance is not None and shipment_balance <= 0,
        closed=is_closed(orders),
        paid_amount=paid_amount(settlements),
        settlement_balance=settlement_balance,
        shipment_balance=shipment_balance,
        payment_recorders=tuple(dict.fromkeys((recorder_type(r), decode.text(r.get("Recorder"))) for r in payments)),
        shipment_recorders=tuple(shipment_recorders_of(orders)),
    )
