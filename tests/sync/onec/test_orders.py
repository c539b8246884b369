"""OrderReader against the emulator: derived state of every order case, bulk reading, change detection."""

from decimal import Decimal

import pytest

from sync.onec.orders import ORDERS, OrderReader, version_key

# case → (posted, deleted, paid, shipped, closed, invoices, payments, realizations)
EXPECTED = {
    "order_new": (True, False, False, False, False, 0, 0, 0),
    "order_unposted": (False, False, False, False, False, 0, 0, 0),
    "order_invoiced": (True, False, False, False, False, 1, 0, 0),
    "order_partially_paid": (True, False, False, False, False, 1, 1, 0),
    "order_paid_bank": (True, False, True, False, False, 0, 1, 0),
    "order_paid_cash": (True, False, True, False, False, 0, 1, 0),
    "order_paid_card": (True, False, True, False, False, 0, 1, 0),
    "order_shipped_unpaid": (True, False, False, True, False, 0, 0, 1),
    "order_shipped_paid": (True, False, True, True, False, 0, 1, 1),
    "order_closed": (True, False, False, False, True, 0, 0, 0),
    "order_deleted": (False, True, False, False, False, 0, 0, 0),
    "order_paid_by_invoice": (True, False, True, False, False, 1, 1, 0),
    "order_deleted_product_line": (True, False, False, False, False, 0, 0, 0),
    "order_multiple_realizations": (True, False, False, True, False, 0, 0, 2),
    "order_foreign_currency": (True, False, False, False, False, 0, 0, 0),
}
PAYMENT_TYPES = {"order_paid_bank": "Document_ПлатежноеПоручениеВходящее",
                 "order_paid_cash": "Document_ПриходныйКассовыйОрдер",
                 "order_paid_card": "Document_ОплатаОтПокупателяПлатежнойКартой"}


@pytest.fixture(scope="module")
def all_orders(onec):
    reader = OrderReader(onec.client(), window_days=3650)
    changes = reader.scan({})
    reader.client.stats.requests = 0
    facts = {f.ref: f for f in reader.read(changes.changed_refs)}
    return reader, changes, facts, reader.client.stats.requests


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_derived_state_of_each_case(onec, all_orders, case):
    facts = all_orders[2][onec.case(case)]
    posted, deleted, paid, shipped, closed, invoices, payments, realizations = EXPECTED[case]
    assert (facts.posted, facts.deletion_mark, facts.paid, facts.shipped, facts.closed) == (
        posted, deleted, paid, shipped, closed)
    assert (len(facts.invoices), len(facts.payments), len(facts.realizations)) == (invoices, payments, realizations)
    assert facts.number and facts.date and facts.lines and facts.counterparty_ref
    assert facts.organization_name and facts.responsible_name
    if case in PAYMENT_TYPES:
        assert facts.payments[0].recorder_type == PAYMENT_TYPES[case]
        assert facts.payments[0].number and facts.payments[0].date
        assert facts.paid_amount == facts.amount and facts.settlement_balance <= 0


def test_partial_payment(onec, all_orders):
    facts = all_orders[2][onec.case("order_partially_paid")]
    assert facts.partially_paid and not facts.paid
    assert 0 < facts.paid_amount < facts.amount
    assert facts.settlement_balance == facts.amount - facts.paid_amount


def test_payment_against_invoice_on_a_by_invoices_contract(onec, all_orders):
    facts = all_orders[2][onec.case("order_paid_by_invoice")]
    assert facts.settlement_by_invoices and facts.paid and facts.paid_amount == facts.amount
    assert facts.invoices[0].lines and facts.invoices[0].amount == facts.amount


def test_unposted_and_deleted_orders_have_no_movements(onec, all_orders):
    for case in ("order_unposted", "order_deleted"):
        facts = all_orders[2][onec.case(case)]
        assert facts.settlement_balance is None and facts.shipment_balance is None


def test_shipped_unpaid_and_multiple_realizations(onec, all_orders):
    unpaid = all_orders[2][onec.case("order_shipped_unpaid")]
    assert unpaid.shipped and not unpaid.paid and unpaid.realizations[0].organization_name
    several = all_orders[2][onec.case("order_multiple_realizations")]
    assert several.shipped and not several.partially_shipped
    assert sum(r.amount for r in several.realizations) == several.amount
    assert several.realizations[0].date <= several.realizations[1].date


def test_closed_order(onec, all_orders):
    facts = all_orders[2][onec.case("order_closed")]
    assert facts.closed and not facts.shipped and facts.shipment_balance == 0


def test_deleted_product_line(onec, all_orders):
    lines = all_orders[2][onec.case("order_deleted_product_line")].lines
    assert [line.product_deleted for line in lines].count(True) == 1
    assert all(line.product_name for line in lines)


def test_lines_units_services_and_vat(onec, all_orders):
    lines = all_orders[2][onec.case("order_new")].lines
    goods = [line for line in lines if not line.is_service]
    services = [line for line in lines if line.is_service]
    assert goods and services
    assert all(line.unit_okei_code and line.unit_name and line.vat_rate is not None for line in lines)
    assert [line.line_number for line in goods] == list(range(1, len(goods) + 1))


def test_foreign_currency_order(onec, all_orders):
    assert all_orders[2][onec.case("order_foreign_currency")].currency_code == "USD"


def test_versions_are_hashes_of_facts(all_orders):
    facts = list(all_orders[2].values())
    assert len({f.version for f in facts}) == len(facts)


def test_read_is_bulk(all_orders):
    _, changes, facts, requests = all_orders
    assert len(facts) == len(changes.changed_refs) > 40
    assert requests < len(facts) / 2


def test_rescan_is_idempotent_and_costs_one_request_per_document_kind(all_orders):
    reader, changes, _, _ = all_orders
    reader.client.stats.requests = 0
    again = reader.scan(changes.versions)
    assert again.changed_refs == [] and again.removed_refs == []
    assert again.versions == changes.versions
    assert reader.client.stats.requests == 7


def test_window_and_extra_refs(onec, all_orders):
    everything = all_orders[2]
    reader = OrderReader(onec.client(), window_days=90)
    recent = reader.scan({})
    oldest = min(everything.values(), key=lambda f: f.date)
    assert oldest.ref not in recent.changed_refs and len(recent.changed_refs) < len(everything)
    with_extra = reader.scan({}, extra_refs=[oldest.ref])
    assert oldest.ref in with_extra.changed_refs
    assert version_key(ORDERS, oldest.ref) in with_extra.versions


def test_physically_removed_order_is_reported(onec):
    reader = OrderReader(onec.client(), window_days=3650)
    first = reader.scan({})
    ghost = "00000000-aaaa-bbbb-cccc-000000000001"
    second = reader.scan({**first.versions, version_key(ORDERS, ghost): f"x|{ghost}"})
    assert second.removed_refs == [ghost] and second.changed_refs == []


def test_a_new_payment_marks_the_order_changed_and_paid(fresh_onec):
    reader = OrderReader(fresh_onec.client())
    order = fresh_onec.case("order_new")
    first = reader.scan({})
    assert order in first.changed_refs
    fresh_onec.call("POST", f"/orders/{order}/payment", {"kind": "bank", "against": "order"})
    second = reader.scan(first.versions)
    assert second.changed_refs == [order]
    [facts] = reader.read(second.changed_refs)
    assert facts.paid and facts.paid_amount == facts.amount and len(facts.payments) == 1


def test_payment_against_an_invoice_reaches_its_order(fresh_onec):
    reader = OrderReader(fresh_onec.client())
    order = fresh_onec.case("order_invoiced")
    first = reader.scan({})
    fresh_onec.call("POST", f"/orders/{order}/payment", {"kind": "cash", "against": "invoice", "amount": 1000})
    second = reader.scan(first.versions)
    assert second.changed_refs == [order]
    [facts] = reader.read([order])
    assert facts.partially_paid and facts.paid_amount == Decimal(1000)


def test_realization_and_closing_mark_orders_changed(fresh_onec):
    reader = OrderReader(fresh_onec.client())
    shipped, closed = fresh_onec.case("order_new"), fresh_onec.case("order_invoiced")
    first = reader.scan({})
    fresh_onec.call("POST", f"/orders/{shipped}/realization", {})
    fresh_onec.call("POST", f"/orders/{closed}/close", {})
    second = reader.scan(first.versions)
    assert sorted(second.changed_refs) == sorted([shipped, closed])
    facts = {f.ref: f for f in reader.read(second.changed_refs)}
    assert facts[shipped].shipped and facts[closed].closed


def test_whole_set_reading_gives_the_same_facts_as_or_chains(onec, all_orders):
    reader = OrderReader(onec.client(), window_days=3650, full_read_minimum=10)
    changes = reader.scan({})
    assert changes.versions == all_orders[1].versions
    reader.client.stats.requests = 0
    facts = {f.ref: f for f in reader.read(changes.changed_refs)}
    assert facts == all_orders[2]
    assert reader.client.stats.requests < all_orders[3]


def test_chunked_reads_after_an_initial_scan_are_served_from_one_prefetch(onec, all_orders):
    reader = OrderReader(onec.client(), window_days=3650, full_read_minimum=10)
    changes = reader.scan({})
    reader.client.stats.requests = 0
    refs = changes.changed_refs
    facts = [f for i in range(0, len(refs), 10) for f in reader.read(refs[i:i + 10])]
    assert {f.ref: f for f in facts} == all_orders[2]
    first_chunk_cost = reader.client.stats.requests
    assert reader.read(refs[:3]) and reader.client.stats.requests > first_chunk_cost  # not cached twice
