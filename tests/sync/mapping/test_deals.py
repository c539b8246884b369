"""1С order facts → deal payload (plain data, no database)."""

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from bx24app.portal_schema import DEAL_FIELDS
from sync.mapping.deals import DealResolved, currency_iso, order_to_deal
from sync.mapping.payloads import ORIGINATOR_ID
from sync.onec.records import DocumentLine, Invoice, OrderFacts, Payment, Realization

FIELDS = {key: spec.field_name for key, spec in DEAL_FIELDS.items()}
LINE = DocumentLine(line_number=1, product_ref="p1", product_name="Дрель", quantity=Decimal(2), price=Decimal(1000),
                    amount=Decimal(1800), discount_percent=Decimal(10), vat_rate=Decimal(20), vat_amount=Decimal(300),
                    unit_okei_code="796", unit_name="шт")
SERVICE = DocumentLine(line_number=1, product_ref="s1", product_name="Доставка", quantity=Decimal(1),
                       price=Decimal(500), amount=Decimal(500), vat_rate=Decimal(20), vat_amount=Decimal("83.33"),
                       is_service=True)
ORDER = OrderFacts(ref="o1", version="v1", number="ТД00000042", date=datetime(2026, 11, 20, 10, 30), posted=True,
                   deletion_mark=False, counterparty_ref="c1", amount=Decimal(2300), currency_code="RUB",
                   organization_name="ООО «Торговый дом»", responsible_ref="u1", lines=(LINE, SERVICE))
RESOLVED = DealResolved(company_id=7, product_ids={"p1": 101, "s1": 102}, field_map=FIELDS, category_id=3,
                        assigned_by_id=5)
INVOICE = Invoice(ref="i1", number="СЧ-0017", date=datetime(2026, 11, 21, 9, 0), amount=Decimal(1800),
                  currency_code="RUB", lines=(LINE,))
PAY1 = Payment("p1", "Document_ПлатежноеПоручениеВходящее", "ПП-1", datetime(2026, 11, 22, 12, 0), Decimal(1000))
PAY2 = Payment("p2", "Document_ПриходныйКассовыйОрдер", "ПКО-5", datetime(2026, 11, 23, 12, 0), Decimal(800))
REAL1 = Realization("r1", "РТ-1", datetime(2026, 11, 24, 8, 0), Decimal(1000), "ООО «Торговый дом»")
REAL2 = Realization("r2", "РТ-2", datetime(2026, 11, 25, 8, 0), Decimal(800), "ООО «Торговый дом-2»")


def codes(payload):
    return {p.code for p in payload.problems}


def test_new_order():
    deal = order_to_deal(ORDER, RESOLVED)
    assert deal.stage == "ORDER_RECEIVED"
    assert deal.fields["title"] == "Заказ покупателя № ТД00000042 от 20.11.2026"
    assert deal.fields["companyId"] == 7 and "contactIds" not in deal.fields  # a manager's contacts stay
    assert deal.fields["opportunity"] == 2300 and deal.fields["isManualOpportunity"] == "Y"
    assert deal.fields["currencyId"] == "RUB"
    assert deal.create_only_fields == {"categoryId": 3, "originatorId": ORIGINATOR_ID, "originId": "o1",
                                       "typeId": "SALE", "assignedById": 5}
    assert deal.fields[FIELDS["order_number"]] == "ТД00000042"
    assert deal.fields[FIELDS["order_date"]] == "2026-11-20"
    for key in ("invoice_number", "invoice_date", "invoice_amount", "payment_date", "paid_amount",
                "realization_date", "realization_number", "realization_amount", "legal_entity"):
        assert deal.fields[FIELDS[key]] == "", key
    assert not deal.problems


def test_rows_price_includes_discount_and_vat_services_included():
    rows = order_to_deal(ORDER, RESOLVED).product_rows
    assert [r["productId"] for r in rows] == [101, 102]  # goods first, then services
    drill, delivery = rows
    assert drill == {"productId": 101, "productName": "Дрель", "price": 900, "quantity": 2, "taxRate": 20,
                     "taxIncluded": "Y", "sort": 10, "discountTypeId": 2, "discountRate": 10, "discountSum": 100,
                     "measureCode": 796, "measureName": "шт"}
    assert delivery["price"] == 500 and "measureCode" not in delivery


def test_rows_of_a_document_without_vat_in_amounts():
    line = replace(LINE, amount=Decimal(1500), price=Decimal(750), discount_percent=Decimal(0), vat_amount=Decimal(300))
    rows = order_to_deal(replace(ORDER, lines=(line,), amount_includes_vat=False), RESOLVED).product_rows
    assert rows[0]["price"] == 900  # (1500 + 300) / 2: Bitrix24 PRICE is with tax


def test_invoiced_order_takes_invoice_number_lines_and_amount():
    deal = order_to_deal(replace(ORDER, invoices=(INVOICE,)), RESOLVED)
    assert deal.stage == "INVOICE_SENT"
    assert deal.fields["opportunity"] == 1800
    assert deal.fields[FIELDS["invoice_number"]] == "СЧ-0017"
    assert deal.fields[FIELDS["invoice_date"]] == "2026-11-21"
    assert deal.fields[FIELDS["invoice_amount"]] == "1800.00|RUB"
    assert [r["productId"] for r in deal.product_rows] == [101]


def test_partial_payment_fills_payment_fields_without_moving():
    facts = replace(ORDER, invoices=(INVOICE,), payments=(PAY1,), paid_amount=Decimal(1000))
    deal = order_to_deal(facts, RESOLVED)
    assert deal.stage == "INVOICE_SENT"
    assert deal.fields[FIELDS["payment_date"]] == "2026-11-22"
    assert deal.fields[FIELDS["paid_amount"]] == "1000.00|RUB"


def test_full_payment():
    facts = replace(ORDER, invoices=(INVOICE,), payments=(PAY2, PAY1), paid_amount=Decimal(1800), paid=True)
    deal = order_to_deal(facts, RESOLVED)
    assert deal.stage == "PAID"
    assert deal.fields[FIELDS["payment_date"]] == "2026-11-23"  # the latest payment
    assert deal.fields[FIELDS["paid_amount"]] == "1800.00|RUB"


def test_shipped_unpaid_leaves_payment_fields_empty():
    deal = order_to_deal(replace(ORDER, realizations=(REAL1,), shipped=True), RESOLVED)
    assert deal.stage == "SHIPPED_UNPAID"
    assert deal.fields[FIELDS["payment_date"]] == "" and deal.fields[FIELDS["paid_amount"]] == ""
    assert deal.fields[FIELDS["realization_number"]] == "РТ-1"
    assert deal.fields[FIELDS["realization_date"]] == "2026-11-24"
    assert deal.fields[FIELDS["realization_amount"]] == "1000.00|RUB"
    assert deal.fields[FIELDS["legal_entity"]] == "ООО «Торговый дом»"


def test_several_realizations():
    deal = order_to_deal(replace(ORDER, realizations=(REAL2, REAL1), shipped=True), RESOLVED)
    assert deal.fields[FIELDS["realization_date"]] == "2026-11-25"
    assert deal.fields[FIELDS["realization_number"]] == "РТ-2 (все: РТ-1, РТ-2)"
    assert deal.fields[FIELDS["realization_amount"]] == "1800.00|RUB"
    assert deal.fields[FIELDS["legal_entity"]] == "ООО «Торговый дом-2»"


def test_private_person_is_a_contact():
    deal = order_to_deal(ORDER, replace(RESOLVED, company_id=None, contact_id=9))
    assert deal.fields["contactIds"] == [9] and "companyId" not in deal.fields


def test_client_not_synced_is_reported():
    deal = order_to_deal(ORDER, replace(RESOLVED, company_id=None))
    assert "companyId" not in deal.fields and "contactIds" not in deal.fields
    assert "client_not_synced" in codes(deal)


def test_unknown_deleted_and_unsynced_products_become_free_text_rows():
    unknown = replace(LINE, line_number=2, product_ref=None, product_name="")
    deleted = replace(LINE, line_number=3, product_ref="p3", product_name="Старый товар", product_deleted=True)
    unsynced = replace(LINE, line_number=4, product_ref="p4", product_name="Новый товар")
    deal = order_to_deal(replace(ORDER, lines=(LINE, unknown, deleted, unsynced)), RESOLVED)
    assert [(r["productId"], r["productName"]) for r in deal.product_rows] == [
        (101, "Дрель"), (0, "Строка 2"), (0, "Старый товар"), (0, "Новый товар")]
    assert {"unknown_product", "deleted_product", "product_not_synced"} <= codes(deal)
    deleted_problem = next(p for p in deal.problems if p.code == "deleted_product")
    assert "Старый товар" in deleted_problem.message


def test_product_missing_in_1c_is_unknown_not_deleted():
    missing = replace(LINE, product_ref="gone", product_name="", product_deleted=True)  # the reader's shape
    deal = order_to_deal(replace(ORDER, lines=(missing,)), RESOLVED)
    assert [(r["productId"], r["productName"]) for r in deal.product_rows] == [(0, "Строка 1")]
    assert codes(deal) == {"unknown_product"}


def test_zero_quantity_line_is_reported_and_left_out():
    zero = replace(LINE, line_number=2, quantity=Decimal(0), amount=Decimal(0))
    deal = order_to_deal(replace(ORDER, lines=(LINE, zero)), RESOLVED)
    assert len(deal.product_rows) == 1 and "zero_quantity" in codes(deal)


def test_unposted_and_deleted_orders_make_no_deal():
    unposted = order_to_deal(replace(ORDER, posted=False), RESOLVED)
    deleted = order_to_deal(replace(ORDER, deletion_mark=True), RESOLVED)
    assert unposted.fields is None and codes(unposted) == {"order_unposted"}
    assert deleted.fields is None and codes(deleted) == {"order_deleted"}
    assert unposted.stage is None and deleted.stage is None


def test_foreign_currency_and_closed_orders_are_reported():
    deal = order_to_deal(replace(ORDER, currency_code="USD", closed=True), RESOLVED)
    assert deal.fields["currencyId"] == "USD"
    assert {"foreign_currency", "order_closed"} <= codes(deal)


def test_unmapped_field_is_reported_only_when_there_is_a_value():
    partial = {k: v for k, v in FIELDS.items() if k not in ("paid_amount", "invoice_number")}
    deal = order_to_deal(ORDER, replace(RESOLVED, field_map=partial))
    assert "field_not_mapped" not in codes(deal)
    deal = order_to_deal(replace(ORDER, invoices=(INVOICE,)), replace(RESOLVED, field_map=partial))
    assert "invoice_number" in next(p.message for p in deal.problems if p.code == "field_not_mapped")


def test_no_responsible_means_portal_default():
    deal = order_to_deal(ORDER, replace(RESOLVED, assigned_by_id=None))
    assert "assignedById" not in deal.create_only_fields


def test_hashes_are_stable_and_sensitive():
    a, b = order_to_deal(ORDER, RESOLVED), order_to_deal(ORDER, RESOLVED)
    assert a.fields_hash == b.fields_hash and a.rows_hash == b.rows_hash
    c = order_to_deal(replace(ORDER, payments=(PAY1,), paid_amount=Decimal(1000)), RESOLVED)
    assert c.fields_hash != a.fields_hash and c.rows_hash == a.rows_hash


def test_currency_codes():
    assert currency_iso("643") == "RUB" and currency_iso("") == "RUB" and currency_iso("usd") == "USD"
    assert currency_iso("руб.") == "RUB"
