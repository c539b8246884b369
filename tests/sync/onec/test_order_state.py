"""order_state: УТ 10.3's paid/shipped/closed rule over plain register rows."""

from decimal import Decimal

from sync.onec.order_state import derive_state

BANK = "StandardODATA.Document_ПлатежноеПоручениеВходящее"
CASH = "StandardODATA.Document_ПриходныйКассовыйОрдер"
ORDER = "StandardODATA.Document_ЗаказПокупателя"
REALIZATION = "StandardODATA.Document_РеализацияТоваровУслуг"
CLOSING = "StandardODATA.Document_ЗакрытиеЗаказовПокупателей"
ADJUSTMENT = "StandardODATA.Document_КорректировкаДолга"


def row(kind, recorder_type, amount, recorder="r1", period="2026-11-01T10:00:00", active=True):
    return {"RecordType": kind, "Recorder_Type": recorder_type, "Recorder": recorder, "Period": period,
            "СуммаВзаиморасчетов": amount, "Active": active}


ORDER_RECEIPT = row("Receipt", ORDER, 1000, "order")


def test_nothing_posted():
    state = derive_state(False, [], [])
    assert not state.paid and not state.shipped and not state.closed
    assert state.settlement_balance is None and state.shipment_balance is None and state.paid_amount == 0


def test_fully_paid_by_two_payments():
    state = derive_state(True, [ORDER_RECEIPT, row("Expense", BANK, 600, "p1"), row("Expense", CASH, 400, "p2")],
                         [ORDER_RECEIPT])
    assert state.paid and state.paid_amount == Decimal(1000) and state.settlement_balance == 0
    assert state.payment_recorders == (("Document_ПлатежноеПоручениеВходящее", "p1"),
                                       ("Document_ПриходныйКассовыйОрдер", "p2"))


def test_partial_payment():
    state = derive_state(True, [ORDER_RECEIPT, row("Expense", BANK, 300.5, "p1")], [ORDER_RECEIPT])
    assert not state.paid and state.paid_amount == Decimal("300.5") and state.settlement_balance == Decimal("699.5")


def test_overpayment_is_paid():
    assert derive_state(True, [ORDER_RECEIPT, row("Expense", BANK, 1200)], []).paid


def test_balance_closed_by_a_non_payment_document_is_not_paid():
    state = derive_state(True, [ORDER_RECEIPT, row("Expense", ADJUSTMENT, 1000)], [])
    assert state.settlement_balance == 0 and not state.paid and state.paid_amount == 0


def test_unposted_order_is_never_paid_or_shipped():
    settlements = [ORDER_RECEIPT, row("Expense", BANK, 1000)]
    shipments = [ORDER_RECEIPT, row("Expense", REALIZATION, 1000)]
    state = derive_state(False, settlements, shipments)
    assert not state.paid and not state.shipped


def test_inactive_rows_are_ignored():
    state = derive_state(True, [ORDER_RECEIPT, row("Expense", BANK, 1000, active=False)], [])
    assert not state.paid and state.paid_amount == 0


def test_shipped_partially_then_fully():
    partial = derive_state(True, [], [ORDER_RECEIPT, row("Expense", REALIZATION, 400, "s1")])
    assert not partial.shipped and partial.shipment_balance == 600 and partial.shipment_recorders == ("s1",)
    full = derive_state(True, [], [ORDER_RECEIPT, row("Expense", REALIZATION, 400, "s1"),
                                   row("Expense", REALIZATION, 600, "s2")])
    assert full.shipped and full.shipment_recorders == ("s1", "s2")


def test_closed_without_shipment_is_closed_not_shipped():
    state = derive_state(True, [], [ORDER_RECEIPT, row("Expense", CLOSING, 1000, "c1")])
    assert state.closed and not state.shipped and state.shipment_balance == 0


def test_partly_shipped_then_closed_counts_as_shipped_like_ut():
    state = derive_state(True, [], [ORDER_RECEIPT, row("Expense", REALIZATION, 400, "s1"),
                                    row("Expense", CLOSING, 600, "c1")])
    assert state.shipped and state.closed
