"""Pure mapping 1С product → catalog payload, with plain records (no I/O)."""

from dataclasses import replace
from decimal import Decimal

from sync.mapping.products import CatalogSetup, okei_key, product_to_payload, vat_key
from sync.onec.records import Price, Product

SETUP = CatalogSetup(iblock_id=25, base_price_type_id=1, measures={"796": 3, "6": 7, "356": 11},
                     vats={"": 1, "0": 2, "10": 3, "20": 4}, currencies=frozenset({"RUB", "USD", "EUR"}))
RETAIL = Price(Decimal("1290.00"), "RUB", "Тип цен «Розничная»")
PURCHASE = Price(Decimal("700.50"), "RUB", "Тип цен «Закупочная»", includes_vat=False)


def product(**changes) -> Product:
    base = Product(ref="0b5c1f7e-1111-2222-3333-444455556666", version="v1", code="00000042", name="Дрель ДУ-800",
                   unit_okei_code="796", unit_name="шт", vat_rate=Decimal(20), sale_price=RETAIL,
                   purchase_price=PURCHASE)
    return replace(base, **changes)


def codes(payload) -> set[str]:
    return {p.code for p in payload.problems}


def test_product_fields_and_sale_price():
    payload = product_to_payload(product(), SETUP)
    assert payload.fields == {"name": "Дрель ДУ-800", "xmlId": "0b5c1f7e-1111-2222-3333-444455556666",
                              "active": "Y", "measure": 3, "vatId": 4, "vatIncluded": "Y",
                              "purchasingPrice": 700.5, "purchasingCurrency": "RUB"}
    assert payload.price.fields(101) == {"productId": 101, "catalogGroupId": 1, "price": 1290.0, "currency": "RUB"}
    assert payload.problems == ()
    assert payload.label == "00000042 Дрель ДУ-800"
    assert payload.state["sale_price_source"] == "Тип цен «Розничная»"
    assert payload.state["purchase_price_source"] == "Тип цен «Закупочная»"


def test_price_and_fields_hash_separately():
    payload = product_to_payload(product(), SETUP)
    repriced = product_to_payload(product(sale_price=replace(RETAIL, amount=Decimal("1390"))), SETUP)
    renamed = product_to_payload(product(name="Дрель ДУ-850"), SETUP)
    assert repriced.fields_hash == payload.fields_hash and repriced.price_hash != payload.price_hash
    assert renamed.fields_hash != payload.fields_hash and renamed.price_hash == payload.price_hash
    assert product_to_payload(product(version="v2"), SETUP).fields_hash == payload.fields_hash


def test_no_purchase_price_means_no_purchase_fields():
    payload = product_to_payload(product(purchase_price=None), SETUP)
    assert "purchasingPrice" not in payload.fields and "purchasingCurrency" not in payload.fields
    assert payload.problems == ()


def test_purchase_price_is_not_sent_with_inventory_accounting():
    payload = product_to_payload(product(), replace(SETUP, inventory_accounting=True))
    assert "purchasingPrice" not in payload.fields


def test_receipt_fallback_source_is_shown():
    receipt = Price(Decimal("650"), "RUB", "Поступление ТД0000123 от 01.02.2026", includes_vat=True)
    payload = product_to_payload(product(purchase_price=receipt), SETUP)
    assert payload.fields["purchasingPrice"] == 650.0
    assert payload.state["purchase_price_source"] == "Поступление ТД0000123 от 01.02.2026"


def test_no_sale_price_is_a_problem_and_no_price_payload():
    payload = product_to_payload(product(sale_price=None), SETUP)
    assert payload.price is None
    assert [p.message for p in payload.problems] == ["Цена продажи не найдена: товар передан без цены."]
    assert "vatIncluded" not in payload.fields  # it describes the sale price: nothing to say without one


def test_zero_and_negative_sale_prices_are_not_sent():
    zero = product_to_payload(product(sale_price=replace(RETAIL, amount=Decimal(0))), SETUP)
    negative = product_to_payload(product(sale_price=replace(RETAIL, amount=Decimal("-150"))), SETUP)
    assert zero.price is None and codes(zero) == {"zero_price"}
    assert negative.price is None and codes(negative) == {"negative_price"}
    assert "-150.00 RUB" in negative.problems[0].message


def test_non_positive_purchase_price_is_left_out():
    payload = product_to_payload(product(purchase_price=replace(PURCHASE, amount=Decimal(0))), SETUP)
    assert "purchasingPrice" not in payload.fields and codes(payload) == {"bad_purchase_price"}


def test_foreign_currency_is_sent_and_said():
    usd = Price(Decimal("125.5"), "USD", "Тип цен «Оптовая USD»")
    payload = product_to_payload(product(sale_price=usd), SETUP)
    assert payload.price.currency == "USD" and payload.price.amount == Decimal("125.50")
    (problem,) = payload.problems
    assert problem.code == "foreign_currency" and "USD" in problem.message and "125.50" in problem.message


def test_currency_unknown_to_the_portal_is_not_sent():
    cny = Price(Decimal("80"), "CNY", "Тип цен «Юани»")
    payload = product_to_payload(product(sale_price=cny, purchase_price=replace(PURCHASE, currency_code="CNY")),
                                 SETUP)
    assert payload.price is None and "purchasingPrice" not in payload.fields
    assert codes(payload) == {"unknown_currency"}


def test_without_a_base_price_type_no_price():
    payload = product_to_payload(product(), replace(SETUP, base_price_type_id=None))
    assert payload.price is None and codes(payload) == {"no_base_price_type"}


def test_reader_price_problems_are_reported_as_sentences():
    payload = product_to_payload(product(sale_price=None, price_problems=(
        "Тип цен «Мелкооптовая» рассчитывается способом «ПоВхождениюБазовойЦеныВДиапазон» — цена не рассчитана",)),
        SETUP)
    assert codes(payload) == {"price_problem", "no_sale_price"}
    assert next(p for p in payload.problems if p.code == "price_problem").message.endswith("не рассчитана.")


def test_deletion_mark_deactivates():
    payload = product_to_payload(product(deletion_mark=True), SETUP)
    assert payload.fields["active"] == "N" and payload.deleted
    assert "deleted_in_1c" in codes(payload)


def test_long_name_is_cut_with_a_problem():
    payload = product_to_payload(product(name="Кабель " * 60), SETUP)
    assert len(payload.fields["name"]) == 255 and codes(payload) == {"too_long"}


def test_empty_name_falls_back_to_full_name_or_cannot_be_sent():
    assert product_to_payload(product(name=" ", full_name="Дрель полная"), SETUP).fields["name"] == "Дрель полная"
    payload = product_to_payload(product(name=" ", full_name=""), SETUP)
    assert payload.fields is None and codes(payload) == {"empty_name"}


def test_units_by_okei_code():
    assert product_to_payload(product(unit_okei_code="006"), SETUP).fields["measure"] == 7
    unknown = product_to_payload(product(unit_okei_code="715", unit_name="пар"), SETUP)
    assert "measure" not in unknown.fields and codes(unknown) == {"unknown_unit"}
    assert "«пар»" in unknown.problems[0].message and "715" in unknown.problems[0].message
    missing = product_to_payload(product(unit_okei_code=""), SETUP)
    assert "measure" not in missing.fields and codes(missing) == {"no_unit"}


def test_vat_rates():
    assert product_to_payload(product(vat_rate=None), SETUP).fields["vatId"] == 1
    assert product_to_payload(product(vat_rate=Decimal(10)), SETUP).fields["vatId"] == 3
    old_rate = product_to_payload(product(vat_rate=Decimal(18)), SETUP)
    assert "vatId" not in old_rate.fields and codes(old_rate) == set()  # legacy НДС18: no rate, no noise
    assert "vatId" not in product_to_payload(product(), replace(SETUP, vats={})).fields


def test_service_has_no_purchase_price_and_is_marked():
    payload = product_to_payload(product(is_service=True, unit_okei_code="356"), SETUP)
    assert payload.is_service and payload.state["service"] is True
    assert payload.fields["measure"] == 11 and "purchasingPrice" not in payload.fields
    assert payload.fields_hash != product_to_payload(product(unit_okei_code="356"), SETUP).fields_hash


def test_key_helpers():
    assert okei_key("006") == okei_key("6") == okei_key(" 006 ") == "6"
    assert okei_key("000") == "0" and okei_key("") == ""
    assert vat_key(20.0) == vat_key(Decimal("20.00")) == "20" and vat_key(None) == ""
