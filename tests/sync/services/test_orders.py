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
from sync.models import EntityLink, SyncProblem
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
