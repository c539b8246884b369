"""ProductReader against the emulator: units, VAT, configured and calculated price types, receipt fallback."""

from decimal import Decimal

import pytest

from sync.onec.products import ProductReader, round_price, rounding_step, vat_rate


def read_all(reader):
    changes = reader.scan({})
    return changes, {p.ref: p for p in reader.read(changes.changed_refs)}


@pytest.fixture(scope="module")
def default_products(onec):
    reader = ProductReader(onec.client())
    changes, products = read_all(reader)
    return reader, changes, products


def test_default_price_types_are_retail_and_purchase(default_products):
    reader = default_products[0]
    assert reader.sale_type().name == "Розничная" and reader.purchase_type().name == "Закупочная"
    assert {t.name for t in reader.price_types() if t.calculated} == {"Мелкооптовая"}


def test_every_item_is_read_and_versions_match(default_products):
    _, changes, products = default_products
    assert products and set(products) == set(changes.versions)
    assert all(products[ref].version == version for ref, version in changes.versions.items())


def test_service_with_unit_vat_and_both_prices(onec, default_products):
    product = default_products[2][onec.case("product_service")]
    assert product.is_service and product.unit_okei_code == "356" and product.unit_name == "ч"
    assert product.vat_rate == Decimal(18)
    assert product.sale_price.source == "Тип цен «Розничная»" and product.sale_price.currency_code == "RUB"
    assert product.purchase_price.source == "Тип цен «Закупочная»"
    assert product.sale_price.amount > product.purchase_price.amount > 0


def test_product_without_prices(onec, default_products):
    product = default_products[2][onec.case("product_no_price")]
    assert product.sale_price is None and product.purchase_price is None and product.price_problems == ()


def test_deleted_product_is_read_with_its_mark(onec, default_products):
    assert default_products[2][onec.case("product_deleted")].deletion_mark


def test_calculated_price_type_is_computed_like_ut(onec):
    reader = ProductReader(onec.client(), sale_price_type="Мелкооптовая")
    _, products = read_all(reader)
    ref = onec.case("product_calculated_price")
    product = products[ref]
    # base «Оптовая» 1000; the item's markup row counts only with СпособРасчетаЦены = ПоПроцентнойНаценкеНаБазовыйТип
    # (reference §2.7), otherwise the type's own 10 %; rounded to 1 upwards
    calculated_type = reader.sale_type()
    row = reader.prices.slices[calculated_type.ref].get(ref) or {}
    own = row.get("СпособРасчетаЦены") == "ПоПроцентнойНаценкеНаБазовыйТип"
    percent = Decimal(str(row["ПроцентСкидкиНаценки"])) if own else calculated_type.percent
    assert product.sale_price.amount == (Decimal(1000) * (1 + percent / 100)).quantize(Decimal("0.01"))
    assert product.sale_price.source == f"Расчет от «Оптовая» +{percent.normalize():f}%"
    assert product.sale_price.currency_code == "RUB"


def test_calculated_price_needs_rates_for_another_currency():
    from sync.onec.products import PriceSnapshot, PriceType, ProductBuilder, UnitBook

    usd, rub = "usd-ref", "rub-ref"
    base = PriceType(ref="base", name="Оптовая USD", currency_ref=usd)
    calculated = PriceType(ref="calc", name="Розничная", currency_ref=rub, calculated=True, base_ref="base",
                           percent=Decimal(20), method="ПоПроцентнойНаценкеНаБазовыйТип", rounding="Окр1")
    slices = {"base": {"p": {"Цена": 10, "Валюта_Key": usd}}, "calc": {}}
    reader = type("Reader", (), {})()
    reader.prices = PriceSnapshot(types={"base": base, "calc": calculated}, slices=slices)
    currencies = {usd: {"Code": "840"}, rub: {"Code": "643"}}
    builder = ProductBuilder(reader, UnitBook({}, {}), currencies)
    problems = []
    assert builder.calculated_price(calculated, "p", problems) is None
    assert "КурсыВалют" in problems[0]
    reader.prices.rates = {usd: (Decimal("92.5"), Decimal(1)), rub: (Decimal(1), Decimal(1))}
    price = builder.calculated_price(calculated, "p", [])
    assert price.amount == Decimal("1110.00") and price.currency_code == "RUB"  # 10 × 92.5 × 1.2


def test_foreign_currency_price(onec):
    reader = ProductReader(onec.client(), sale_price_type="Оптовая USD")
    _, products = read_all(reader)
    price = products[onec.case("product_foreign_currency_price")].sale_price
    assert price.currency_code == "USD" and price.amount == Decimal("125.50")


def test_zero_and_negative_prices_are_reported_not_sent(onec):
    reader = ProductReader(onec.client(), sale_price_type="Оптовая")
    _, products = read_all(reader)
    for ref in onec.cases["product_bad_price"]:
        assert products[ref].sale_price is None
        assert products[ref].price_problems and "Оптовая" in products[ref].price_problems[0]


def test_purchase_price_falls_back_to_the_last_posted_receipt(onec):
    reader = ProductReader(onec.client(), purchase_price_type="Оптовая USD")
    _, products = read_all(reader)
    from_receipts = [p for p in products.values() if p.purchase_price and
                     p.purchase_price.source.startswith("Поступление ")]
    assert from_receipts
    assert all(" от " in p.purchase_price.source and p.purchase_price.amount > 0 for p in from_receipts)


def test_rescan_is_idempotent_and_cheap(default_products):
    reader, changes, _ = default_products
    reader.client.stats.requests = 0
    again = reader.scan(changes.versions)
    assert again.changed_refs == [] and again.removed_refs == []
    assert reader.client.stats.requests <= 5  # items + one SliceLast per price type (+ receipt fallback lookups)


def test_price_only_change_is_detected(fresh_onec):
    reader = ProductReader(fresh_onec.client())
    first = reader.scan({})
    product = fresh_onec.case("product_service")
    fresh_onec.call("POST", "/prices", {"product": product, "price_type": "Розничная", "price": 31337})
    second = reader.scan(first.versions)
    assert second.changed_refs == [product]
    [record] = reader.read(second.changed_refs)
    assert record.sale_price.amount == Decimal("31337.00")


def test_vat_rates():
    assert [vat_rate(n) for n in ("НДС20", "НДС18", "НДС10", "НДС0", "НДС20_120", "НДС10_110", "БезНДС", "")] == [
        Decimal(20), Decimal(18), Decimal(10), Decimal(0), Decimal(20), Decimal(10), None, None]


def test_rounding_as_ut():
    assert rounding_step("Окр0_01") == Decimal("0.01") and rounding_step("Окр100") == Decimal(100)
    assert round_price(Decimal("1149.2"), "Окр1", True) == Decimal("1150.00")
    assert round_price(Decimal("1149.2"), "Окр1", False) == Decimal("1149.00")
    assert round_price(Decimal("1149.5"), "Окр1", False) == Decimal("1150.00")
    assert round_price(Decimal("1234"), "Окр10", True) == Decimal("1240.00")
    assert round_price(Decimal("1230"), "Окр10", True) == Decimal("1230.00")
    assert round_price(Decimal("12.345"), "Окр0_01", False) == Decimal("12.35")


def test_unknown_configured_price_type_is_reported(onec):
    reader = ProductReader(onec.client(), sale_price_type="Нет такого")
    _, products = read_all(reader)
    product = products[onec.case("product_service")]
    assert product.sale_price is None
    assert product.price_problems == ("Тип цен продажи «Нет такого» не найден в 1С (Справочник.ТипыЦенНоменклатуры)",)
    assert product.purchase_price is not None
