"""Orders → deals against the Bitrix24 emulator over HTTP (and the 1С emulator through the real order reader).

The portal is set up by the real installer service (``portal_setup``): stages and deal fields exist exactly as in
production and ``stage_map``/``field_map`` come from it. Part one drives the sync with hand-made 1С facts (a
stand-in reader), to pin down the CRM-side rules exactly; part two runs the whole chain against both emulators.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest
import requests

from bx24app.bitrix.client import BitrixClient
from bx24app.models import PaymentNotification
from bx24app.portal_schema import DEAL_FIELDS
from bx24app.services.install import portal_setup
from sync.models import EntityLink, SourceVersion, SyncProblem
from sync.onec.changes import diff_versions
from sync.onec.orders import ORDERS
from sync.onec.records import DocumentLine, Invoice, OrderFacts, Payment, Realization
from sync.services import orders as orders_service
from sync.services.runs import sync_run_execute

pytestmark = pytest.mark.django_db(transaction=True)
F = {key: spec.field_name for key, spec in DEAL_FIELDS.items()}


# ---------------------------------------------------------------- fixtures and helpers
def setup_portal(portal, category_id: int = 0):
    """The installer's own setup (stages and fields in the chosen pipeline, stage_map/field_map)."""
    portal.settings.category_id = category_id
    portal.settings.save()
    portal_setup(portal)
    portal.settings.refresh_from_db()
    return portal


@pytest.fixture
def deal_portal(portal):
    return setup_portal(portal)


def rest(portal) -> BitrixClient:
    return BitrixClient(portal)


def deals_of(crm) -> dict[int, dict]:
    return {int(d["id"]): d for d in _items(crm.state(), "2")}


def _items(state, type_id):
    items = state.get("items", {}).get(type_id) or state.get("deals") or {}
    return list(items.values()) if isinstance(items, dict) else list(items)


def deal_by_origin(portal, ref) -> dict:
    items = rest(portal).call("crm.item.list", {"entityTypeId": 2, "filter": {"originId": ref},
                                                "select": ["*"], "useOriginalUfNames": "Y"})["items"]
    assert len(items) == 1, f"{len(items)} deals for {ref}"
    return items[0]


def rows_of(portal, deal_id) -> list[dict]:
    return rest(portal).call("crm.item.productrow.list", {"filter": {"=ownerType": "D", "=ownerId": deal_id}})[
        "productRows"]


def writes(stats_before: dict, stats_after: dict) -> int:
    """Write commands (add/update/productrow.set) sent between two emulator stats snapshots."""
    def count(stats):
        commands = stats.get("commands", {})
        return sum(n for method, n in commands.items()
                   if method in ("crm.item.add", "crm.item.update", "crm.item.productrow.set"))
    return count(stats_after) - count(stats_before)


def emulator_stats(bitrix_emulator) -> dict:
    return requests.get(f"{bitrix_emulator.base_url}/_emulator/stats", timeout=10).json()


def manager_moves(bitrix_emulator, portal, deal_id, stage_id):
    answer = requests.post(f"{bitrix_emulator.base_url}/_emulator/portals/{portal.member_id}/deals/{deal_id}/move",
                           json={"stageId": stage_id}, timeout=10)
    assert answer.status_code == 200, answer.text


def problems(portal, ref=None) -> set[str]:
    rows = SyncProblem.objects.filter(portal=portal, kind="order", resolved_at__isnull=True)
    if ref:
        rows = rows.filter(onec_ref=ref)
    return set(rows.values_list("code", flat=True))


# ---------------------------------------------------------------- part one: hand-made facts
WHEN = datetime(2026, 11, 20, 10, 0)
LINE = DocumentLine(1, "prod-1", "Дрель", Decimal(2), Decimal(500), Decimal(1000), vat_rate=Decimal(20),
                    vat_amount=Decimal("166.67"), unit_okei_code="796", unit_name="шт")
BASE = OrderFacts(ref="11111111-0000-0000-0000-000000000001", version="v1", number="ТД00000001", date=WHEN,
                  posted=True, deletion_mark=False, counterparty_ref="cp-1", amount=Decimal(1000),
                  currency_code="RUB", organization_name="ООО «Торг»", lines=(LINE,))
INVOICE = Invoice("inv-1", "ТД00000007", datetime(2026, 11, 21), Decimal(1000), "RUB", (LINE,))
PAYMENT = Payment("pay-1", "Document_ПлатежноеПоручениеВходящее", "ТД00000003", datetime(2026, 11, 22),
                  Decimal(1000))
REALIZATION = Realization("real-1", "ТД00000009", datetime(2026, 11, 23), Decimal(1000), "ООО «Торг»")


class StandInReader:
    """What the order reader answers, from a dict of facts the test edits between runs."""

    orders: dict[str, OrderFacts] = {}

    def __init__(self, client, window_days=90):
        self.window_days = window_days

    def scan(self, known_versions, extra_refs=()):
        current = {f"{ORDERS}:{ref}": f"{f.version}|{ref}" for ref, f in self.orders.items()}
        changes = diff_versions(current, known_versions)
        return replace(changes, changed_refs=[key.split(":", 1)[1] for key in changes.changed_refs],
                       removed_refs=[key.split(":", 1)[1] for key in changes.removed_refs])

    def read(self, refs):
        return [self.orders[ref] for ref in refs]


@pytest.fixture
def stand_in(monkeypatch, deal_portal):
    StandInReader.orders = {}
    monkeypatch.setattr(orders_service, "OrderReader", StandInReader)
    company = rest(deal_portal).call("crm.item.add", {"entityTypeId": 4, "fields": {"title": "ООО Клиент"}})
    EntityLink.objects.create(portal=deal_portal, kind="company", onec_ref="cp-1",
                              bitrix_id=str(company["item"]["id"]))
    return StandInReader


def put(reader, facts: OrderFacts, version: str):
    reader.orders[facts.ref] = replace(facts, version=version)


def run(portal):
    run = sync_run_execute(portal, kinds=["orders"])
    assert not run.error, run.error
    return run


def test_stand_in_new_invoice_payment_stages_fields_and_rows(stand_in, deal_portal, bitrix_emulator):
    stage = deal_portal.settings.stage_map
    put(stand_in, BASE, "v1")
    before = emulator_stats(bitrix_emulator)
    first = run(deal_portal)
    assert writes(before, emulator_stats(bitrix_emulator)) == 2  # crm.item.add + productrow.set, one batch
    deal = deal_by_origin(deal_portal, BASE.ref)
    assert deal["stageId"] == stage["ORDER_RECEIVED"]
    assert deal["title"] == "Заказ покупателя № ТД00000001 от 20.11.2026"
    assert deal["originatorId"] == "1C_UT103" and deal["companyId"] > 0
    assert deal[F["order_number"]] == "ТД00000001" and deal[F["order_date"]] == "2026-11-20"
    rows = rows_of(deal_portal, deal["id"])
    assert [(r["productId"], r["productName"], r["price"], r["quantity"]) for r in rows] == [(0, "Дрель", 500, 2)]
    assert first.counts["order"]["created"] == 1
    assert problems(deal_portal, BASE.ref) == {"product_not_synced"}

    put(stand_in, replace(BASE, invoices=(INVOICE,)), "v2")
    run(deal_portal)
    deal = deal_by_origin(deal_portal, BASE.ref)
    assert deal["stageId"] == stage["INVOICE_SENT"] and deal[F["invoice_number"]] == "ТД00000007"

    partial = replace(PAYMENT, amount=Decimal(400))
    put(stand_in, replace(BASE, invoices=(INVOICE,), payments=(partial,), paid_amount=Decimal(400)), "v3")
    run(deal_portal)
    deal = deal_by_origin(deal_portal, BASE.ref)
    assert deal["stageId"] == stage["INVOICE_SENT"]
    assert deal[F["paid_amount"]] == "400.00|RUB" and deal[F["payment_date"]] == "2026-11-22"
    assert not PaymentNotification.objects.filter(portal=deal_portal).exists()

    before = emulator_stats(bitrix_emulator)
    put(stand_in, replace(BASE, invoices=(INVOICE,), payments=(partial, PAYMENT), paid_amount=Decimal(1400),
                          paid=True), "v4")
    run(deal_portal)
    deal = deal_by_origin(deal_portal, BASE.ref)
    assert deal["stageId"] == stage["PAID"]
    assert writes(before, emulator_stats(bitrix_emulator)) == 1  # fields + stage in one update; rows unchanged
    assert PaymentNotification.objects.filter(portal=deal_portal, deal_id=deal["id"]).count() == 1

    before = emulator_stats(bitrix_emulator)
    again = run(deal_portal)
    assert writes(before, emulator_stats(bitrix_emulator)) == 0
    assert again.counts["order"]["unchanged"] == 1
    assert PaymentNotification.objects.filter(portal=deal_portal, deal_id=deal["id"]).count() == 1


def test_stand_in_foreign_stage_beyond_target_and_deleted_deal(stand_in, deal_portal, bitrix_emulator):
    put(stand_in, BASE, "v1")
    second = replace(BASE, ref="11111111-0000-0000-0000-000000000002", number="ТД00000002")
    put(stand_in, second, "v1")
    run(deal_portal)
    first_id = deal_by_origin(deal_portal, BASE.ref)["id"]
    second_id = deal_by_origin(deal_portal, second.ref)["id"]
    manager_moves(bitrix_emulator, deal_portal, first_id, "FINAL_INVOICE")  # sort 50: beyond «Счет оплачен»
    rest(deal_portal).call("crm.item.delete", {"entityTypeId": 2, "id": second_id})
    put(stand_in, replace(BASE, invoices=(INVOICE,), payments=(PAYMENT,), paid=True), "v2")
    put(stand_in, replace(second, invoices=(INVOICE,)), "v2")
    run(deal_portal)
    assert deal_by_origin(deal_portal, BASE.ref)["stageId"] == "FINAL_INVOICE"
    assert deal_by_origin(deal_portal, BASE.ref)[F["paid_amount"]] == "1000.00|RUB"  # fields still follow 1С
    assert "deal_deleted_in_crm" in problems(deal_portal, second.ref)
    found = rest(deal_portal).call("crm.item.list", {"entityTypeId": 2, "filter": {"originId": second.ref}})
    assert found["items"] == []  # not re-created


# ---------------------------------------------------------------- part two: both emulators, the real reader
CHAIN = ["counterparties", "products", "orders"]


class OneC:
    """The 1С emulator's mutation API: what a 1С user does between two syncs."""

    def __init__(self, emulator):
        self.emulator = emulator

    def post(self, path: str, body: dict | None = None) -> dict:
        answer = requests.post(f"{self.emulator.base_url}/_emulator/{path}", json=body or {}, timeout=10)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def order(self, counterparty: str, lines: list[dict]) -> str:
        return self.post("orders", {"counterparty": counterparty, "lines": lines})["ref"]

    def invoice(self, ref):
        return self.post(f"orders/{ref}/invoice")

    def pay(self, ref, amount=None, kind="bank", against="order"):
        body = {"kind": kind, "against": against}
        if amount is not None:
            body["amount"] = amount
        return self.post(f"orders/{ref}/payment", body)

    def ship(self, ref):
        return self.post(f"orders/{ref}/realization")


@pytest.fixture
def onec(onec_emulator):
    return OneC(onec_emulator)


@pytest.fixture
def synced(deal_portal):
    """The whole chain once (clients and products first, so deals link them)."""
    first = sync_run_execute(deal_portal, kinds=CHAIN)
    assert not first.error, first.error
    return deal_portal


def case(onec_emulator, name) -> str:
    return onec_emulator.cases()[name][0]


def sync_orders(portal):
    result = sync_run_execute(portal, kinds=["orders"])
    assert not result.error, result.error
    return result


def new_order(portal, onec, quantity=2, price=1500) -> str:
    company = EntityLink.objects.filter(portal=portal, kind="company").order_by("id").first().onec_ref
    products = list(EntityLink.objects.filter(portal=portal, kind="product").order_by("id")
                    .values_list("onec_ref", flat=True)[:2])
    return onec.order(company, [{"product": p, "quantity": quantity, "price": price} for p in products])


def test_every_order_state_on_first_sync(synced, onec_emulator, bitrix_emulator):
    portal, stage = synced, synced.settings.stage_map
    deal = lambda name: deal_by_origin(portal, case(onec_emulator, name))  # noqa: E731
    expected = {"order_new": "ORDER_RECEIVED", "order_invoiced": "INVOICE_SENT",
                "order_partially_paid": "INVOICE_SENT", "order_paid_bank": "PAID", "order_paid_cash": "PAID",
                "order_paid_card": "PAID", "order_shipped_unpaid": "SHIPPED_UNPAID", "order_shipped_paid": "PAID",
                "order_paid_by_invoice": "PAID", "order_closed": "ORDER_RECEIVED"}
    for name, logical in expected.items():
        assert deal(name)["stageId"] == stage[logical], name

    new = deal("order_new")
    assert new["title"].startswith("Заказ покупателя № ТД") and new["companyId"] or new["contactIds"]
    assert new["isManualOpportunity"] == "Y" and new[F["invoice_number"]] in ("", None)
    rows = rows_of(portal, new["id"])
    assert any(r["productId"] > 0 for r in rows)  # products linked from the product sync …
    if any(r["productId"] == 0 for r in rows):  # … and one the product sync could not create is reported
        assert "product_not_synced" in problems(portal, case(onec_emulator, "order_new"))

    invoiced = deal("order_invoiced")
    assert invoiced[F["invoice_number"]].startswith("ТД") and invoiced[F["invoice_date"]]
    assert invoiced[F["invoice_amount"]] == f"{invoiced['opportunity']:.2f}|RUB"
    assert invoiced[F["payment_date"]] in ("", None)

    partial = deal("order_partially_paid")
    paid_sum = Decimal(partial[F["paid_amount"]].split("|")[0])
    assert 0 < paid_sum < Decimal(str(partial["opportunity"])) and partial[F["payment_date"]]

    for name in ("order_paid_bank", "order_paid_cash", "order_paid_card", "order_paid_by_invoice"):
        paid = deal(name)
        assert paid[F["payment_date"]] and paid[F["paid_amount"]].endswith("|RUB"), name
        # the first import brings history: recorded as handled, nobody is notified about old payments
        handled = PaymentNotification.objects.get(portal=portal, deal_id=paid["id"])
        assert handled.notification_id == "" and handled.state_key.endswith("|RUB")
    assert _notifications(bitrix_emulator, portal) == []

    unpaid = deal("order_shipped_unpaid")
    assert unpaid[F["payment_date"]] in ("", None) and unpaid[F["paid_amount"]] in ("", None)
    assert unpaid[F["realization_number"]].startswith("ТД") and unpaid[F["realization_date"]]
    assert unpaid[F["realization_amount"]].endswith("|RUB") and unpaid[F["legal_entity"]]
    assert deal("order_shipped_paid")[F["realization_number"]]

    several = deal("order_multiple_realizations")
    assert "(все: " in several[F["realization_number"]]
    assert several[F["realization_number"]].count("ТД") == 3  # the latest, then both listed

    assert deal("order_foreign_currency")["currencyId"] == "USD"
    deleted_line = deal("order_deleted_product_line")
    assert any(r["productId"] == 0 for r in rows_of(portal, deleted_line["id"]))

    for name in ("order_deleted", "order_unposted"):
        ref = case(onec_emulator, name)
        assert rest(portal).call("crm.item.list", {"entityTypeId": 2, "filter": {"originId": ref}})["items"] == []
    assert problems(portal, case(onec_emulator, "order_deleted")) == {"order_deleted"}
    assert problems(portal, case(onec_emulator, "order_unposted")) == {"order_unposted"}
    assert "deleted_product" in problems(portal, case(onec_emulator, "order_deleted_product_line"))
    assert "zero_quantity" in problems(portal, case(onec_emulator, "order_zero_quantity_line"))
    assert "order_closed" in problems(portal, case(onec_emulator, "order_closed"))
    assert "foreign_currency" in problems(portal, case(onec_emulator, "order_foreign_currency"))


def test_transitions_between_syncs_new_invoice_partial_full(synced, onec, bitrix_emulator):
    portal, stage = synced, synced.settings.stage_map
    ref = new_order(portal, onec)
    sync_orders(portal)
    deal = deal_by_origin(portal, ref)
    assert deal["stageId"] == stage["ORDER_RECEIVED"] and deal["opportunity"] == 6000

    person = rest(portal).call("crm.item.add", {"entityTypeId": 3, "fields": {"name": "Контакт менеджера"}})
    rest(portal).call("crm.item.update", {"entityTypeId": 2, "id": deal["id"],  # a manager's own edit
                                          "fields": {"contactIds": [person["item"]["id"]]}})
    invoice = onec.invoice(ref)
    sync_orders(portal)
    deal = deal_by_origin(portal, ref)
    assert deal["stageId"] == stage["INVOICE_SENT"]
    assert deal["contactIds"] == [person["item"]["id"]] and deal["companyId"]  # fields we don't own stay
    assert deal[F["invoice_number"]] == invoice["number"] and deal[F["invoice_amount"]] == "6000.00|RUB"

    onec.pay(ref, amount=2500)
    sync_orders(portal)
    deal = deal_by_origin(portal, ref)
    assert deal["stageId"] == stage["INVOICE_SENT"]  # a partial payment moves nothing
    assert deal[F["paid_amount"]] == "2500.00|RUB" and deal[F["payment_date"]]
    assert not PaymentNotification.objects.filter(portal=portal, deal_id=deal["id"]).exists()

    onec.pay(ref, kind="cash")  # the rest
    before = emulator_stats(bitrix_emulator)
    sync_orders(portal)
    deal = deal_by_origin(portal, ref)
    assert deal["stageId"] == stage["PAID"] and deal[F["paid_amount"]] == "6000.00|RUB"
    assert writes(before, emulator_stats(bitrix_emulator)) == 1  # one crm.item.update: rows did not change
    notes = PaymentNotification.objects.filter(portal=portal, deal_id=deal["id"])
    assert notes.count() == 1 and notes.get().source == "sync"
    assert any(deal["title"] in n["MESSAGE"] for n in _notifications(bitrix_emulator, portal))

    before = emulator_stats(bitrix_emulator)
    again = sync_orders(portal)
    assert writes(before, emulator_stats(bitrix_emulator)) == 0  # idempotent
    assert again.counts["order"]["created"] == again.counts["order"]["updated"] == 0
    assert PaymentNotification.objects.filter(portal=portal, deal_id=deal["id"]).count() == 1


def _notifications(bitrix_emulator, portal) -> list[dict]:
    per_user = bitrix_emulator.portal_state(portal.member_id).get("notifications") or {}
    return [n for rows in per_user.values() for n in rows]


def test_order_paid_before_its_first_sync_is_created_paid_and_notified(synced, onec, bitrix_emulator):
    portal = synced
    ref = new_order(portal, onec)
    onec.pay(ref, kind="card")
    sync_orders(portal)
    deal = deal_by_origin(portal, ref)
    assert deal["stageId"] == portal.settings.stage_map["PAID"]
    note = PaymentNotification.objects.get(portal=portal, deal_id=deal["id"])
    assert note.notification_id and note.source == "sync"
    sent = [n for n in _notifications(bitrix_emulator, portal) if deal["title"] in n["MESSAGE"]]
    assert len(sent) == 1
    sync_orders(portal)
    assert len([n for n in _notifications(bitrix_emulator, portal) if deal["title"] in n["MESSAGE"]]) == 1


def test_shipped_without_payment_then_paid(synced, onec):
    portal, stage = synced, synced.settings.stage_map
    ref = new_order(portal, onec)
    onec.invoice(ref)
    sync_orders(portal)
    realization = onec.ship(ref)
    sync_orders(portal)
    deal = deal_by_origin(portal, ref)
    assert deal["stageId"] == stage["SHIPPED_UNPAID"]
    assert deal[F["realization_number"]] == realization["number"]
    assert deal[F["payment_date"]] in ("", None) and deal[F["paid_amount"]] in ("", None)
    onec.pay(ref, against="invoice")
    sync_orders(portal)
    assert deal_by_origin(portal, ref)["stageId"] == stage["PAID"]


@pytest.mark.parametrize("action", ["unpost", "deletion-mark"])
def test_unposted_or_deleted_order_leaves_its_deal_alone(synced, onec, onec_emulator, action):
    portal = synced
    ref = case(onec_emulator, "order_invoiced")
    before = deal_by_origin(portal, ref)
    onec.post(f"objects/Document_ЗаказПокупателя/{ref}/{action}")
    onec.pay(case(onec_emulator, "order_new"))  # something else changes in the same run
    sync_orders(portal)
    after = deal_by_origin(portal, ref)
    assert {k: after[k] for k in ("stageId", "opportunity", "title", F["invoice_number"])} == \
        {k: before[k] for k in ("stageId", "opportunity", "title", F["invoice_number"])}
    assert problems(portal, ref) == {"order_unposted" if action == "unpost" else "order_deleted"}
    assert deal_by_origin(portal, case(onec_emulator, "order_new"))["stageId"] == portal.settings.stage_map["PAID"]


def test_paid_by_invoice_settlements(synced, onec_emulator):
    deal = deal_by_origin(synced, case(onec_emulator, "order_paid_by_invoice"))
    assert deal["stageId"] == synced.settings.stage_map["PAID"]
    assert deal[F["invoice_number"]] and deal[F["paid_amount"]] == deal[F["invoice_amount"]]


def test_manager_closed_deal_is_never_moved(synced, onec, onec_emulator, bitrix_emulator):
    portal = synced
    ref = case(onec_emulator, "order_invoiced")
    deal = deal_by_origin(portal, ref)
    manager_moves(bitrix_emulator, portal, deal["id"], "WON")
    onec.pay(ref)
    sync_orders(portal)
    deal = deal_by_origin(portal, ref)
    assert deal["stageId"] == "WON" and deal["closed"] == "Y"
    assert deal[F["paid_amount"]].endswith("|RUB")  # 1С's fields still arrive
    assert not PaymentNotification.objects.filter(portal=portal, deal_id=deal["id"]).exists()
    lost = deal_by_origin(portal, case(onec_emulator, "order_new"))
    manager_moves(bitrix_emulator, portal, lost["id"], "LOSE")
    onec.invoice(case(onec_emulator, "order_new"))
    sync_orders(portal)
    assert deal_by_origin(portal, case(onec_emulator, "order_new"))["stageId"] == "LOSE"


def test_deal_a_manager_moved_forward_is_not_moved_back(synced, onec, onec_emulator, bitrix_emulator):
    portal, stage = synced, synced.settings.stage_map
    ref = case(onec_emulator, "order_new")
    deal = deal_by_origin(portal, ref)
    manager_moves(bitrix_emulator, portal, deal["id"], stage["SHIPPED_UNPAID"])
    onec.invoice(ref)
    sync_orders(portal)
    deal = deal_by_origin(portal, ref)
    assert deal["stageId"] == stage["SHIPPED_UNPAID"] and deal[F["invoice_number"]]


def test_non_default_pipeline(portal, onec, bitrix_emulator):
    category = rest(portal).call("crm.category.add", {"entityTypeId": 2, "fields": {"name": "Продажи 1С"}})
    category_id = int(category["category"]["id"])
    setup_portal(portal, category_id)
    stage = portal.settings.stage_map
    assert all(s.startswith(f"C{category_id}:") for s in stage.values())
    run_ = sync_run_execute(portal, kinds=CHAIN)
    assert not run_.error, run_.error
    ref = new_order(portal, onec)
    onec.invoice(ref)
    sync_orders(portal)
    deal = deal_by_origin(portal, ref)
    assert deal["categoryId"] == category_id and deal["stageId"] == stage["INVOICE_SENT"]
    onec.pay(ref)
    sync_orders(portal)
    deal = deal_by_origin(portal, ref)
    assert deal["stageId"] == f"C{category_id}:ONEC_PAID" == stage["PAID"]
    assert PaymentNotification.objects.filter(portal=portal, deal_id=deal["id"]).count() == 1


def test_unknown_product_line(synced, onec):
    """A product created in 1С after the product sync: the deal gets a free-text row and a problem — and the
    catalog row once the product is synced, though the order never changed."""
    portal = synced
    product = onec.post("products", {"name": "Новинка без синхронизации"})["ref"]
    company = EntityLink.objects.filter(portal=portal, kind="company").first().onec_ref
    ref = onec.order(company, [{"product": product, "quantity": 3, "price": 100}])
    sync_orders(portal)
    deal = deal_by_origin(portal, ref)
    assert [(r["productId"], r["productName"], r["quantity"]) for r in rows_of(portal, deal["id"])] == [
        (0, "Новинка без синхронизации", 3)]
    assert problems(portal, ref) == {"product_not_synced"}

    sync_run_execute(portal, kinds=["products"])  # the product reaches the catalog; the order itself is unchanged
    sync_orders(portal)
    rows = rows_of(portal, deal_by_origin(portal, ref)["id"])
    linked = EntityLink.objects.get(portal=portal, kind="product", onec_ref=product).bitrix_id
    assert [(r["productId"], r["quantity"]) for r in rows] == [(int(linked), 3)]
    assert problems(portal, ref) == set()


def test_crash_safety_no_duplicates_by_origin_id(synced, onec_emulator, bitrix_emulator):
    """Links lost (a crash after the batch, before the links were saved): deals are found by originId."""
    portal = synced
    count = len(rest(portal).call("crm.item.list", {"entityTypeId": 2, "select": ["id"]})["items"])
    assert count > 0
    EntityLink.objects.filter(portal=portal, kind="deal").delete()
    SourceVersion.objects.filter(portal=portal).delete()
    sync_run_execute(portal, kinds=["orders"])
    deals = rest(portal).call("crm.item.list", {"entityTypeId": 2, "select": ["id", "originId"]})["items"]
    assert len(deals) == count
    assert len({d["originId"] for d in deals}) == count
    assert EntityLink.objects.filter(portal=portal, kind="deal").count() == count
    before = emulator_stats(bitrix_emulator)
    sync_orders(portal)
    assert writes(before, emulator_stats(bitrix_emulator)) == 0


def test_lost_event_paid_deal_is_notified_once(synced, onec_emulator, bitrix_emulator, settings):
    """A manager moved a deal of ours into PAID and the event never arrived: the next sync notifies, once
    (the catch-up looks at most every SYNC_PAID_CATCH_UP_SECONDS; here: on every run)."""
    settings.SYNC_PAID_CATCH_UP_SECONDS = 0
    portal = synced
    deal = deal_by_origin(portal, case(onec_emulator, "order_invoiced"))
    manager_moves(bitrix_emulator, portal, deal["id"], portal.settings.stage_map["PAID"])
    assert not PaymentNotification.objects.filter(portal=portal, deal_id=deal["id"]).exists()
    sync_orders(portal)
    assert PaymentNotification.objects.filter(portal=portal, deal_id=deal["id"]).count() == 1
    sync_orders(portal)
    assert PaymentNotification.objects.filter(portal=portal, deal_id=deal["id"]).count() == 1


def test_paid_deal_catch_up_runs_at_most_every_ten_minutes(synced, bitrix_emulator, settings):
    settings.SYNC_PAID_CATCH_UP_SECONDS = 600
    portal = synced
    sync_orders(portal)  # looks (or has just looked) …
    before = emulator_stats(bitrix_emulator)
    second = sync_orders(portal)  # … and is not due again
    assert second.rest_requests == 0 and writes(before, emulator_stats(bitrix_emulator)) == 0


@pytest.fixture
def celery_eager():
    from sync.tasks import sync_portal

    conf = sync_portal.app.conf  # with namespace="CELERY" the prefixed keys shadow task_always_eager
    conf.CELERY_TASK_ALWAYS_EAGER = conf.CELERY_TASK_EAGER_PROPAGATES = True
    yield
    conf.CELERY_TASK_ALWAYS_EAGER = conf.CELERY_TASK_EAGER_PROPAGATES = False


def test_schedule_a_payment_reaches_the_deal_within_one_interval(synced, onec, onec_emulator, celery_eager):
    """Beat ticks every minute; a portal is due once its interval (minimum 1 minute) elapsed. A payment posted
    in 1С is therefore in the deal after at most one interval plus one run of the chain — measured here."""
    from datetime import timedelta
    from time import monotonic

    from django.utils import timezone

    from bx24app.models import PortalSettings
    from sync.tasks import sync_due_portals

    portal = synced
    PortalSettings.objects.filter(portal=portal).update(interval_minutes=1, last_scheduled_at=timezone.now())
    ref = case(onec_emulator, "order_invoiced")
    onec.pay(ref)
    assert sync_due_portals() == 0  # the tick right after a run: not due yet
    assert deal_by_origin(portal, ref)["stageId"] == portal.settings.stage_map["INVOICE_SENT"]

    one_interval_later = timezone.now() - timedelta(minutes=1)
    PortalSettings.objects.filter(portal=portal).update(last_scheduled_at=one_interval_later)
    started = monotonic()
    assert sync_due_portals() == 1  # the next tick: due, the whole chain runs (eagerly here)
    elapsed = monotonic() - started
    last = portal.sync_runs.first()
    assert last.trigger == "schedule" and not last.error, (last.status, last.error)
    deal = deal_by_origin(portal, ref)
    assert deal["stageId"] == portal.settings.stage_map["PAID"]
    assert PaymentNotification.objects.filter(portal=portal, deal_id=deal["id"]).count() == 1
    print(f"\nschedule: payment → PAID in one tick; chain run {elapsed:.2f} s "
          f"({last.rest_requests} REST requests, {last.rest_commands} commands, {last.onec_requests} 1С requests); "
          f"worst case = interval (1 min) + run")
    assert elapsed < 60


def test_crash_between_batch_and_link_save_makes_no_duplicates(synced, onec, monkeypatch):
    """The process dies right after Bitrix24 applied a batch, before the links were written: the next run finds
    the deals by originId and completes them instead of creating them again."""
    from sync.engine import LinkStore

    portal = synced
    refs = [new_order(portal, onec, quantity=n + 1) for n in range(3)]
    original = LinkStore.flush

    def crash(self):
        if any(kind == "deal" for kind, _ref in self._dirty):
            raise KeyboardInterrupt("worker killed")  # the process stops: no exception handler saves anything
        return original(self)

    monkeypatch.setattr(LinkStore, "flush", crash)
    with pytest.raises(KeyboardInterrupt, match="worker killed"):
        sync_run_execute(portal, kinds=["orders"])
    assert all(deal_by_origin(portal, ref) for ref in refs)  # created in Bitrix24 …
    assert not EntityLink.objects.filter(portal=portal, kind="deal", onec_ref__in=refs).exists()  # … no links
    monkeypatch.setattr(LinkStore, "flush", original)

    sync_orders(portal)
    for n, ref in enumerate(refs):
        deal = deal_by_origin(portal, ref)  # exactly one each
        assert [r["quantity"] for r in rows_of(portal, deal["id"])] == [n + 1, n + 1]
    assert EntityLink.objects.filter(portal=portal, kind="deal", onec_ref__in=refs).count() == 3


def test_rest_cost_of_the_small_set(deal_portal, bitrix_emulator):
    """Every new deal costs two commands (add + rows, chained in one batch); reads are one batch per chunk."""
    from math import ceil

    portal = deal_portal
    assert not sync_run_execute(portal, kinds=["counterparties", "products"]).error
    first = sync_orders(portal)
    counts = first.counts["order"]
    created = counts["created"]
    assert created >= 15 and counts["failed"] == 0
    lookups = ceil(counts["onec_records"] / 50) + 1  # originId look-ups + the pipeline's stages
    # + the paid-deal catch-up list + one user.get page matching 1С managers to portal users
    assert first.rest_commands <= 2 * created + lookups + 2
    assert first.rest_requests <= ceil((2 * created + lookups) / 50) + 3
    before = emulator_stats(bitrix_emulator)
    second = sync_orders(portal)
    assert writes(before, emulator_stats(bitrix_emulator)) == 0 and second.rest_requests <= 1
    print(f"\nsmall set orders: {created} deals, first run {first.rest_requests} requests / {first.rest_commands} "
          f"commands / {first.onec_requests} 1С requests; re-sync {second.rest_requests} / {second.rest_commands} / "
          f"{second.onec_requests}")
