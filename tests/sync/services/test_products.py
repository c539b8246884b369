"""Products sync against both emulators over HTTP: catalog products/services, sale and purchase prices."""

import os
from collections import Counter
from decimal import Decimal

import pytest
import requests

from sync.models import EntityLink, SourceVersion, SyncProblem
from sync.services.runs import sync_run_execute

PRODUCTS = "Catalog_Номенклатура"
WRITE_METHODS = ("catalog.product.add", "catalog.product.update", "catalog.product.service.add",
                 "catalog.product.service.update", "catalog.price.add", "catalog.price.update",
                 "catalog.price.modify", "catalog.price.delete", "catalog.product.delete")

pytestmark = pytest.mark.django_db(transaction=True)


# ---------------------------------------------------------------------------------------------- helpers
def _catalog(crm):
    """{xmlId: product} and {productId: [prices]} of the emulated portal."""
    state = crm.state()
    products = list(state["products"])
    prices = {}
    for price in state["prices"]:
        prices.setdefault(price["productId"], []).append(price)
    return products, prices


def _by_xml(products):
    by_xml = {}
    for product in products:
        by_xml.setdefault(product["xmlId"], []).append(product)
    return by_xml


def _measure_codes(crm):
    return {int(m["id"]): m["code"] for m in crm.state()["measures"].values()}


def _writes(before, after):
    return {m: after["commands"].get(m, 0) - before["commands"].get(m, 0) for m in WRITE_METHODS
            if after["commands"].get(m, 0) != before["commands"].get(m, 0)}


def _problems(portal, ref):
    return {p.code: p.reason for p in SyncProblem.objects.filter(portal=portal, kind="product", onec_ref=ref,
                                                                 resolved_at__isnull=True)}


def _set_price(onec, ref, price_type, price, currency=None):
    body = {"product": ref, "price_type": price_type, "price": price}
    if currency:
        body["currency"] = currency
    response = requests.post(f"{onec.base_url}/_emulator/prices", json=body, timeout=10)
    assert response.status_code == 201, response.text


def _patch_product(onec, ref, changes):
    response = requests.patch(f"{onec.base_url}/_emulator/products/{ref}", json=changes, timeout=10)
    assert response.status_code == 200, response.text


def _new_product(onec, **body):
    response = requests.post(f"{onec.base_url}/_emulator/products", json=body, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["ref"]


def _sync(portal):
    run = sync_run_execute(portal, kinds=["products"])
    assert not run.error, run.error
    return run


def _configure(portal, **fields):
    settings = portal.settings
    for key, value in fields.items():
        setattr(settings, key, value)
    settings.save()


def _onec_items(onec):
    return {ref: row for ref, row in onec.store.objects[PRODUCTS].items() if not row.get("IsFolder")}


# ---------------------------------------------------------------------------------------------- tests
def test_first_sync_creates_every_product_with_name_unit_and_both_prices(portal, crm, onec_emulator):
    run = _sync(portal)
    products, prices = _catalog(crm)
    by_xml = _by_xml(products)
    items = _onec_items(onec_emulator)
    deleted = {ref for ref, row in items.items() if row.get("DeletionMark")}
    assert set(by_xml) == set(items) - deleted  # never synced and marked deleted → not created
    assert all(len(v) == 1 for v in by_xml.values())
    codes = _measure_codes(crm)
    catalog_iblock = next(c["iblockId"] for c in crm.state()["catalogs"] if not c["productIblockId"])
    for ref, (product,) in by_xml.items():
        row = items[ref]
        assert product["name"] == row["Description"].strip()
        assert product["iblockId"] == catalog_iblock
        assert product["active"] == "Y"
        assert product["type"] == (7 if row["Услуга"] else 1)
        unit_code = onec_emulator.store.get("Catalog_КлассификаторЕдиницИзмерения",
                                            row["БазоваяЕдиницаИзмерения_Key"])["Code"]
        if unit_code in codes.values():
            assert codes[product["measure"]] == unit_code
        else:  # e.g. 715 «пар» is not a portal unit: the portal default, and a problem
            assert codes[product["measure"]] == "796"
            assert "unknown_unit" in _problems(portal, ref)
    counts = run.counts["product"]
    assert counts["created"] == len(by_xml)
    assert counts["onec_records"] == len(items)
    assert counts["skipped"] == len(deleted)
    assert all(len(p) <= 1 for p in prices.values())  # one base price per product, never duplicates
    assert {p["catalogGroupId"] for ps in prices.values() for p in ps} == {1}  # the base type (BASE, id 1)


def test_retail_sale_price_and_purchase_price_reach_the_catalog(portal, crm, onec_emulator):
    ref = _new_product(onec_emulator, name="Дрель ударная ДУ-800")
    _set_price(onec_emulator, ref, "Розничная", 5200)
    _set_price(onec_emulator, ref, "Закупочная", 3100.5)
    _sync(portal)
    products, prices = _catalog(crm)
    (product,) = _by_xml(products)[ref]
    assert product["name"] == "Дрель ударная ДУ-800"
    assert float(product["purchasingPrice"]) == 3100.5 and product["purchasingCurrency"] == "RUB"
    assert product["vatIncluded"] == "Y"
    (price,) = prices[product["id"]]
    assert (price["price"], price["currency"], price["catalogGroupId"]) == (5200.0, "RUB", 1)
    link = EntityLink.objects.get(portal=portal, kind="product", onec_ref=ref)
    assert link.state["sale_price_source"] == "Тип цен «Розничная»"
    assert link.state["purchase_price_source"] == "Тип цен «Закупочная»"
    assert EntityLink.objects.get(portal=portal, kind="price", onec_ref=ref).bitrix_id == str(price["id"])


def test_service_is_created_as_a_service_with_hours(portal, crm, onec_emulator):
    ref = onec_emulator.cases()["product_service"][0]
    _sync(portal)
    products, prices = _catalog(crm)
    (service,) = _by_xml(products)[ref]
    assert service["type"] == 7
    assert _measure_codes(crm)[service["measure"]] == "356"
    assert service["purchasingPrice"] is None  # services carry no purchase price in the catalog
    assert len(prices[service["id"]]) == 1


def test_product_without_sale_price_is_synced_without_price_and_reported(portal, crm, onec_emulator):
    ref = onec_emulator.cases()["product_no_price"][0]
    run = _sync(portal)
    products, prices = _catalog(crm)
    (product,) = _by_xml(products)[ref]
    assert product["id"] not in prices
    assert _problems(portal, ref)["no_sale_price"] == "Цена продажи не найдена: товар передан без цены."
    assert run.status == "partial"


def test_calculated_price_type_is_computed_from_its_base(portal, crm, onec_emulator):
    """«Мелкооптовая» = «Оптовая» 1000 + the type's 10%: the case's item row (15%) has no СпособРасчетаЦены
    = ПоПроцентнойНаценкеНаБазовыйТип, so it does not override the type (reference §2.7, as the reader computes)."""
    _configure(portal, sale_price_type="Мелкооптовая")
    ref = onec_emulator.cases()["product_calculated_price"][0]
    _sync(portal)
    products, prices = _catalog(crm)
    (product,) = _by_xml(products)[ref]
    (price,) = prices[product["id"]]
    assert (price["price"], price["currency"]) == (1100.0, "RUB")
    state = EntityLink.objects.get(portal=portal, kind="product", onec_ref=ref).state
    assert state["sale_price_source"].startswith("Расчет от «Оптовая»")


def test_foreign_currency_price_is_sent_in_its_currency_and_said(portal, crm, onec_emulator):
    _configure(portal, sale_price_type="Оптовая USD")
    ref = onec_emulator.cases()["product_foreign_currency_price"][0]
    _sync(portal)
    products, prices = _catalog(crm)
    (product,) = _by_xml(products)[ref]
    (price,) = prices[product["id"]]
    assert (price["price"], price["currency"]) == (125.5, "USD")
    assert "USD" in _problems(portal, ref)["foreign_currency"]


def test_zero_and_negative_prices_are_not_sent(portal, crm, onec_emulator):
    _configure(portal, sale_price_type="Оптовая")
    zero, negative = onec_emulator.cases()["product_bad_price"]
    _sync(portal)
    products, prices = _catalog(crm)
    by_xml = _by_xml(products)
    for ref in (zero, negative):
        assert by_xml[ref][0]["id"] not in prices
    for ref, amount in ((zero, "0"), (negative, "-150")):
        problems = _problems(portal, ref)
        assert f"цена равна {amount}" in problems["price_problem"]  # the reader's finding, as it said it
        assert problems["no_sale_price"] == "Цена продажи не найдена: товар передан без цены."


def test_unknown_unit_is_left_out_and_reported(portal, crm, onec_emulator):
    ref = _new_product(onec_emulator, name="Перчатки рабочие", unit_code="715")
    _set_price(onec_emulator, ref, "Розничная", 150)
    _sync(portal)
    products, _ = _catalog(crm)
    (product,) = _by_xml(products)[ref]
    default = next(int(m["id"]) for m in crm.state()["measures"].values() if m["isDefault"] == "Y")
    assert product["measure"] == default
    assert "715" in _problems(portal, ref)["unknown_unit"]


def test_deletion_mark_deactivates_and_never_deletes(portal, crm, onec_emulator):
    ref = _new_product(onec_emulator, name="Снятый с продажи товар")
    _set_price(onec_emulator, ref, "Розничная", 990)
    _sync(portal)
    _patch_product(onec_emulator, ref, {"DeletionMark": True})
    before = crm.stats()
    run = _sync(portal)
    assert _writes(before, crm.stats()) == {"catalog.product.update": 1}
    products, prices = _catalog(crm)
    (product,) = _by_xml(products)[ref]
    assert product["active"] == "N"
    assert len(prices[product["id"]]) == 1
    assert run.counts["product"]["updated"] == 1
    assert "deleted_in_1c" in _problems(portal, ref)


def test_price_only_change_is_exactly_one_price_write(portal, crm, onec_emulator):
    ref = _new_product(onec_emulator, name="Шуруповерт аккумуляторный")
    _set_price(onec_emulator, ref, "Розничная", 7000)
    _set_price(onec_emulator, ref, "Закупочная", 4000)
    _sync(portal)
    _set_price(onec_emulator, ref, "Розничная", 7490)
    before = crm.stats()
    run = _sync(portal)
    after = crm.stats()
    assert _writes(before, after) == {"catalog.price.update": 1}
    products, prices = _catalog(crm)
    (product,) = _by_xml(products)[ref]
    (price,) = prices[product["id"]]
    assert price["price"] == 7490.0
    assert run.counts["product"]["updated"] == 1


def test_price_gone_in_1c_deletes_only_our_base_price_and_can_come_back(portal, crm, onec_emulator):
    ref = _new_product(onec_emulator, name="Рулетка 5 м")
    _set_price(onec_emulator, ref, "Розничная", 350)
    _sync(portal)
    _set_price(onec_emulator, ref, "Розничная", 0)  # an operator zeroes the price: no valid sale price
    before = crm.stats()
    _sync(portal)
    # the price row goes; the product itself is written once too: vatIncluded describes a sale price no longer sent
    assert _writes(before, crm.stats()) == {"catalog.price.delete": 1, "catalog.product.update": 1}
    products, prices = _catalog(crm)
    (product,) = _by_xml(products)[ref]
    assert product["id"] not in prices and product["active"] == "Y"
    assert "no_sale_price" in _problems(portal, ref)
    _set_price(onec_emulator, ref, "Розничная", 390)
    before = crm.stats()
    _sync(portal)
    assert _writes(before, crm.stats()) == {"catalog.price.add": 1, "catalog.product.update": 1}
    _, prices = _catalog(crm)
    assert [p["price"] for p in prices[product["id"]]] == [390.0]
    assert "no_sale_price" not in _problems(portal, ref)  # the problem cleared itself


def test_product_or_price_deleted_in_bitrix24_is_written_again_once(portal, crm, onec_emulator):
    from bx24app.bitrix.client import BitrixClient

    first = _new_product(onec_emulator, name="Уровень строительный")
    second = _new_product(onec_emulator, name="Угольник столярный")
    for ref in (first, second):
        _set_price(onec_emulator, ref, "Розничная", 800)
    _sync(portal)
    products, prices = _catalog(crm)
    by_xml = _by_xml(products)
    client = BitrixClient(portal)
    client.call("catalog.product.delete", {"id": by_xml[first][0]["id"]})  # a manager deletes the product
    client.call("catalog.price.delete", {"id": prices[by_xml[second][0]["id"]][0]["id"]})  # …and another's price
    _patch_product(onec_emulator, first, {"Description": "Уровень строительный 60 см"})
    _set_price(onec_emulator, second, "Розничная", 850)
    run = _sync(portal)
    assert not run.counts["product"]["failed"]
    products, prices = _catalog(crm)
    by_xml = _by_xml(products)
    (recreated,) = by_xml[first]
    assert recreated["name"] == "Уровень строительный 60 см"
    assert [p["price"] for p in prices[recreated["id"]]] == [800.0]
    assert [p["price"] for p in prices[by_xml[second][0]["id"]]] == [850.0]
    assert "bitrix_error" not in _problems(portal, first) and "bitrix_error" not in _problems(portal, second)
    before = crm.stats()
    _sync(portal)
    assert _writes(before, crm.stats()) == {}


def test_purchase_price_change_updates_the_product_only(portal, crm, onec_emulator):
    ref = _new_product(onec_emulator, name="Лобзик электрический")
    _set_price(onec_emulator, ref, "Розничная", 4500)
    _set_price(onec_emulator, ref, "Закупочная", 2500)
    _sync(portal)
    _set_price(onec_emulator, ref, "Закупочная", 2650)
    before = crm.stats()
    _sync(portal)
    assert _writes(before, crm.stats()) == {"catalog.product.update": 1}
    products, _ = _catalog(crm)
    assert float(_by_xml(products)[ref][0]["purchasingPrice"]) == 2650.0


def test_resync_without_changes_makes_no_bitrix_request(portal, crm, onec_emulator):
    _sync(portal)
    before = crm.stats()
    run = _sync(portal)
    assert _writes(before, crm.stats()) == {}
    assert run.rest_requests == 0 and run.rest_commands == 0
    assert run.counts["product"]["created"] == run.counts["product"]["updated"] == 0


def test_full_resync_reads_everything_but_writes_nothing(portal, crm, onec_emulator):
    _sync(portal)
    before = crm.stats()
    run = sync_run_execute(portal, kinds=["products"], full=True)
    assert not run.error
    assert _writes(before, crm.stats()) == {}
    assert run.counts["product"]["created"] == run.counts["product"]["updated"] == 0


def test_lost_links_after_a_crash_never_duplicate_products_or_prices(portal, crm, onec_emulator):
    _sync(portal)
    products_before, prices_before = _catalog(crm)
    EntityLink.objects.filter(portal=portal).delete()  # crash: Bitrix24 has the records, we lost the links
    SourceVersion.objects.filter(portal=portal).delete()
    before = crm.stats()
    run = _sync(portal)
    writes = _writes(before, crm.stats())
    products, prices = _catalog(crm)
    assert len(products) == len(products_before)
    assert all(len(v) == 1 for v in _by_xml(products).values())
    assert sum(len(p) for p in prices.values()) == sum(len(p) for p in prices_before.values())
    assert "catalog.product.add" not in writes and "catalog.price.add" not in writes
    assert run.counts["product"]["created"] == 0
    # the links are back: the next run is quiet again
    before = crm.stats()
    _sync(portal)
    assert _writes(before, crm.stats()) == {}


def test_failed_lookup_never_creates_and_is_retried(portal, crm, onec_emulator, monkeypatch):
    from bx24app.bitrix.client import BitrixClient
    from bx24app.bitrix.errors import BitrixError

    _sync(portal)
    count_before = len(crm.state()["products"])
    EntityLink.objects.filter(portal=portal).delete()
    SourceVersion.objects.filter(portal=portal).delete()
    original = BitrixClient.batch

    def failing_lookup(self, commands, halt=False):
        outcome = original(self, commands, halt)
        for key, (method, _) in commands.items():
            if method == "catalog.product.list" and key in outcome.results:
                del outcome.results[key]
                outcome.errors[key] = BitrixError("INTERNAL_SERVER_ERROR", "Internal server error", 500)
        return outcome

    monkeypatch.setattr(BitrixClient, "batch", failing_lookup)
    before = crm.stats()
    run = _sync(portal)
    assert _writes(before, crm.stats()) == {}
    assert len(crm.state()["products"]) == count_before
    assert run.counts["product"]["failed"] == count_before and run.counts["product"]["created"] == 0
    ref = next(iter(_by_xml(crm.state()["products"])))
    assert "не создать дубль" in _problems(portal, ref)["lookup_failed"]
    monkeypatch.setattr(BitrixClient, "batch", original)
    run = _sync(portal)  # nothing was stored as synced: everything is looked up again, found, linked
    assert run.counts["product"]["failed"] == run.counts["product"]["created"] == 0
    assert len(crm.state()["products"]) == count_before
    assert "lookup_failed" not in _problems(portal, ref)


def test_switching_the_sale_price_type_rewrites_prices_only(portal, crm, onec_emulator):
    _sync(portal)
    _, prices_before = _catalog(crm)
    _configure(portal, sale_price_type="Оптовая")
    before = crm.stats()
    _sync(portal)
    writes = _writes(before, crm.stats())
    # prices move to the new type by their ids; products are written only where vatIncluded/price presence changed
    assert set(writes) <= {"catalog.price.update", "catalog.price.add", "catalog.price.delete",
                           "catalog.product.update"}
    assert writes["catalog.price.update"] > 0
    products, prices = _catalog(crm)
    changed = [pid for pid, rows in prices.items() if prices_before.get(pid) and rows[0]["price"] !=
               prices_before[pid][0]["price"]]
    assert changed and all(len(rows) == 1 for rows in prices.values())
    assert len(products) == len(_by_xml(products))


def test_price_type_missing_in_1c_is_said_on_each_product(portal, crm, onec_emulator):
    _configure(portal, sale_price_type="Спеццена")
    ref = _new_product(onec_emulator, name="Молоток 500 г")
    _set_price(onec_emulator, ref, "Розничная", 450)
    _sync(portal)
    products, prices = _catalog(crm)
    assert _by_xml(products)[ref][0]["id"] not in prices
    problems = _problems(portal, ref)
    assert "«Спеццена» не найден в 1С" in problems["price_problem"] and "no_sale_price" in problems


def test_product_changed_in_1c_updates_name_without_touching_price(portal, crm, onec_emulator):
    ref = _new_product(onec_emulator, name="Пила дисковая")
    _set_price(onec_emulator, ref, "Розничная", 6100)
    _sync(portal)
    _patch_product(onec_emulator, ref, {"Description": "Пила дисковая ПД-1600"})
    before = crm.stats()
    _sync(portal)
    assert _writes(before, crm.stats()) == {"catalog.product.update": 1}
    products, _ = _catalog(crm)
    assert _by_xml(products)[ref][0]["name"] == "Пила дисковая ПД-1600"


def test_price_amounts_are_decimal_exact(portal, crm, onec_emulator):
    ref = _new_product(onec_emulator, name="Сверло 6 мм")
    _set_price(onec_emulator, ref, "Розничная", "89.90")
    _sync(portal)
    products, prices = _catalog(crm)
    (price,) = prices[_by_xml(products)[ref][0]["id"]]
    assert Decimal(str(price["price"])) == Decimal("89.90")


def test_purchase_price_falls_back_to_the_last_receipt_and_says_so(portal, crm, onec_emulator):
    """No price of the purchase type («Оптовая USD» has one product only) → the last posted receipt line."""
    _configure(portal, purchase_price_type="Оптовая USD")
    _sync(portal)
    links = {link.onec_ref: link for link in EntityLink.objects.filter(portal=portal, kind="product")}
    from_receipts = {ref for ref, link in links.items()
                     if link.state["purchase_price_source"].startswith("Поступление ")}
    assert from_receipts  # the generated infobase has posted receipts for part of the goods
    products, _ = _catalog(crm)
    by_xml = _by_xml(products)
    for ref in from_receipts:
        assert float(by_xml[ref][0]["purchasingPrice"]) > 0 and by_xml[ref][0]["purchasingCurrency"] == "RUB"
    without = [ref for ref, link in links.items() if not link.state["purchase_price_source"]]
    assert all(by_xml[ref][0]["purchasingPrice"] is None for ref in without)


def test_product_removed_from_1c_is_deactivated_once(portal, crm, onec_emulator):
    ref = _new_product(onec_emulator, name="Удаляемый товар")
    _set_price(onec_emulator, ref, "Розничная", 500)
    _sync(portal)
    store = onec_emulator.store
    with store.lock:  # «Удаление помеченных объектов» in 1С: the object is physically gone
        del store.objects[PRODUCTS][ref]
        store.touch(PRODUCTS)
    before = crm.stats()
    _sync(portal)
    assert _writes(before, crm.stats()) == {"catalog.product.update": 1}
    products, _ = _catalog(crm)
    assert _by_xml(products)[ref][0]["active"] == "N"
    assert "removed_in_1c" in _problems(portal, ref)
    before = crm.stats()
    _sync(portal)
    assert _writes(before, crm.stats()) == {}


def _problem_codes(portal):
    rows = SyncProblem.objects.filter(portal=portal, kind="product", resolved_at__isnull=True)
    return dict(Counter(rows.values_list("code", flat=True)).most_common())


def _figures(run):
    return {"rest_requests": run.rest_requests, "rest_commands": run.rest_commands, "onec_requests": run.onec_requests,
            "seconds": round((run.finished_at - run.started_at).total_seconds(), 2), **run.counts["product"]}


def test_small_dataset_figures(portal, crm, onec_emulator, capsys):
    first = _sync(portal)
    again = _sync(portal)
    with capsys.disabled():
        print(f"\nsmall products: first {_figures(first)}\nsmall products: re-sync {_figures(again)}"
              f"\nsmall products: open problems {_problem_codes(portal)}")
    assert again.rest_requests == 0


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("RUN_SLOW"), reason="medium data set (~1 min): set RUN_SLOW=1")
def test_medium_dataset_figures(transactional_db, emulator_settings, bitrix_emulator, capsys):
    from emulators.onec import OneCEmulator
    from tests.conftest import PortalView, provision_portal

    onec = OneCEmulator(port=0, size="medium", seed=1).start()
    try:
        portal = provision_portal(bitrix_emulator, onec)
        crm = PortalView(bitrix_emulator, portal.member_id)
        first = _sync(portal)
        _set_price(onec, next(iter(_by_xml(_catalog(crm)[0]))), "Розничная", 123456)
        price_only = _sync(portal)
        again = _sync(portal)
        with capsys.disabled():
            for name, run in (("first", first), ("price-only", price_only), ("re-sync", again)):
                print(f"\nmedium products: {name} {_figures(run)}")
            print(f"\nmedium products: open problems {_problem_codes(portal)}")
        products, _ = _catalog(crm)
        assert all(len(v) == 1 for v in _by_xml(products).values())
        assert again.rest_requests == 0
    finally:
        onec.stop()
