"""Mutation API: every change made "as a 1С user" updates DataVersion and the register movements."""

import requests

from .test_cases import order_state

SETTLEMENTS = "AccumulationRegister_РасчетыСКонтрагентами"


def version(odata, entity_set, ref):
    return odata.get(f"{entity_set}(guid'{ref}')", _select="DataVersion")["DataVersion"]


def new_product(odata, price=1000, service=False):
    ref = odata.control("POST", "products", {"name": "Тестовый товар", "service": service})["ref"]
    odata.control("POST", "prices", {"product": ref, "price_type": "Оптовая", "price": price})
    return ref


def new_order(odata, lines=None, **extra):
    party = odata.control("POST", "counterparties", {"name": 'ООО "Мутация"', "inn": "7707083893", "kpp": "770701001",
                                                     "kind": "ЮрЛицо", "phone": "+7 (495) 123-45-67",
                                                     "email": "buyer@example.ru"})["ref"]
    lines = lines or [{"product": new_product(odata), "quantity": 3, "price": 1000},
                      {"product": new_product(odata, service=True), "quantity": 1, "price": 500}]
    return odata.control("POST", "orders", {"counterparty": party, "lines": lines, **extra})


def test_create_counterparty_with_contacts(odata):
    answer = odata.control("POST", "counterparties", {"name": "ИП Смирнов Олег Петрович", "inn": "500100732259",
                                                      "kind": "ФизЛицо", "phone": "+7 (916) 111-22-33",
                                                      "email": "smirnov@mail.ru"})
    item = odata.get(f"Catalog_Контрагенты(guid'{answer['ref']}')")
    assert item["Code"] == answer["code"] and item["ЮрФизЛицо"] == "ФизЛицо" and item["ИНН"] == "500100732259"
    contract = odata.get(f"Catalog_ДоговорыКонтрагентов(guid'{item['ОсновнойДоговорКонтрагента_Key']}')")
    assert contract["Owner_Key"] == answer["ref"] and contract["ВидДоговора"] == "СПокупателем"
    rows = odata.values("InformationRegister_КонтактнаяИнформация",
                        _filter=f"Объект eq cast(guid'{answer['ref']}','Catalog_Контрагенты')")
    assert {(r["Тип"], r["Представление"]) for r in rows} == {("Телефон", "+7 (916) 111-22-33"),
                                                              ("АдресЭлектроннойПочты", "smirnov@mail.ru")}
    phone = next(r for r in rows if r["Тип"] == "Телефон")
    assert (phone["Поле1"], phone["Поле2"], phone["Поле3"]) == ("7", "916", "1112233")


def test_patch_counterparty_changes_data_version(odata):
    ref = odata.control("POST", "counterparties", {"name": 'ООО "Старое"'})["ref"]
    before = version(odata, "Catalog_Контрагенты", ref)
    odata.control("PATCH", f"counterparties/{ref}", {"Description": 'ООО "Новое"', "КПП": "770101001"})
    item = odata.get(f"Catalog_Контрагенты(guid'{ref}')")
    assert item["Description"] == 'ООО "Новое"' and item["КПП"] == "770101001"
    assert item["DataVersion"] != before
    response = requests.patch(f"{odata.emu.base_url}/_emulator/counterparties/{ref}", json={"Нет": 1}, timeout=10)
    assert response.status_code == 400


def test_put_contact_info_replaces_value(odata):
    ref = odata.control("POST", "counterparties", {"name": 'ООО "Контакты"', "phone": "+7 (495) 000-00-01"})["ref"]
    before = version(odata, "Catalog_Контрагенты", ref)
    odata.control("PUT", f"counterparties/{ref}/contact-info",
                  {"type": "Телефон", "kind_code": "000000005", "value": "+7 (812) 999-88-77"})
    odata.control("PUT", f"counterparties/{ref}/contact-info",
                  {"type": "Адрес", "kind_code": "000000001", "value": "101000, Москва г, Мира пр-кт, дом № 1"})
    rows = odata.values("InformationRegister_КонтактнаяИнформация",
                        _filter=f"Объект eq cast(guid'{ref}','Catalog_Контрагенты') and Тип eq 'Телефон'")
    assert [r["Представление"] for r in rows] == ["+7 (812) 999-88-77"]
    assert version(odata, "Catalog_Контрагенты", ref) != before


def test_products_and_prices(odata):
    ref = odata.control("POST", "products", {"name": "Гвозди 100 мм", "unit_code": "166"})["ref"]
    product = odata.get(f"Catalog_Номенклатура(guid'{ref}')", _expand="БазоваяЕдиницаИзмерения,ЕдиницаХраненияОстатков")
    assert product["БазоваяЕдиницаИзмерения"]["Code"] == "166" and product["Услуга"] is False
    assert product["ЕдиницаХраненияОстатков"]["Owner"] == ref
    before = product["DataVersion"]
    odata.control("PATCH", f"products/{ref}", {"Артикул": "ГВ-100"})
    assert version(odata, "Catalog_Номенклатура", ref) != before
    odata.control("POST", "prices", {"product": ref, "price_type": "Оптовая", "price": 10,
                                     "period": "2026-01-01T00:00:00"})
    odata.control("POST", "prices", {"product": ref, "price_type": "Оптовая", "price": 12.5,
                                     "period": "2026-06-01T00:00:00"})
    usd = odata.control("POST", "prices", {"product": ref, "price_type": "Оптовая USD", "price": 0.2,
                                           "currency": "840"})
    assert usd["number"]

    def price(period):
        rows = odata.values(f"InformationRegister_ЦеныНоменклатуры/SliceLast(Period=datetime'{period}')",
                            _filter=f"Номенклатура_Key eq guid'{ref}'", _select="ТипЦен_Key,Цена")
        return sorted(r["Цена"] for r in rows)

    assert price("2026-03-01T00:00:00") == [10]
    assert price("2099-01-01T00:00:00") == [0.2, 12.5]


def test_order_lifecycle_updates_registers(odata):
    order = new_order(odata)
    ref = order["ref"]
    assert order["number"] and order["posted"] is True
    state = order_state(odata, ref)
    assert state["amount"] == 3500 and state["debt"] == 3500 and not state["paid"] and not state["shipped"]
    invoice = odata.control("POST", f"orders/{ref}/invoice", {})
    assert odata.get(f"Document_СчетНаОплатуПокупателю(guid'{invoice['ref']}')")["ЗаказПокупателя_Key"] == ref
    odata.control("POST", f"orders/{ref}/payment", {"kind": "cash", "amount": 1000})
    state = order_state(odata, ref)
    assert state["paid_amount"] == 1000 and not state["paid"]
    odata.control("POST", f"orders/{ref}/payment", {"kind": "card"})
    state = order_state(odata, ref)
    assert state["paid"] and state["paid_amount"] == 3500
    response = requests.post(f"{odata.emu.base_url}/_emulator/orders/{ref}/payment", json={}, timeout=10)
    assert response.status_code == 400 and "odata.error" in response.json()
    line = state["order"]["Товары"][0]
    odata.control("POST", f"orders/{ref}/realization", {"lines": [{"product": line["Номенклатура_Key"],
                                                                   "quantity": 1}]})
    assert not order_state(odata, ref)["shipped"]
    odata.control("POST", f"orders/{ref}/realization", {})
    state = order_state(odata, ref)
    assert state["shipped"] and state["shipments"] == 2


def test_close_and_deletion_mark_and_unpost(odata):
    ref = new_order(odata)["ref"]
    odata.control("POST", f"orders/{ref}/close", {})
    assert order_state(odata, ref)["closed"]
    before = version(odata, "Document_ЗаказПокупателя", ref)
    answer = odata.control("POST", f"objects/Document_ЗаказПокупателя/{ref}/deletion-mark", {"value": True})
    assert answer["deletion_mark"] is True and answer["posted"] is False
    assert version(odata, "Document_ЗаказПокупателя", ref) != before
    recorder = f"Recorder eq cast(guid'{ref}','Document_ЗаказПокупателя')"
    assert odata.values(f"{SETTLEMENTS}_RecordType", _filter=recorder) == []
    paid = new_order(odata)["ref"]
    payment = odata.control("POST", f"orders/{paid}/payment", {"kind": "bank"})
    assert order_state(odata, paid)["paid"]
    odata.control("POST", f"objects/Document_ПлатежноеПоручениеВходящее/{payment['ref']}/unpost")
    assert not order_state(odata, paid)["paid"]
    odata.control("POST", f"objects/Document_ПлатежноеПоручениеВходящее/{payment['ref']}/post")
    assert order_state(odata, paid)["paid"]


def test_unposted_order_then_posting(odata):
    order = new_order(odata, posted=False)
    assert order["posted"] is False and order_state(odata, order["ref"])["movements"] == 0
    odata.control("POST", f"objects/Document_ЗаказПокупателя/{order['ref']}/post")
    assert order_state(odata, order["ref"])["debt"] == 3500


def test_payment_against_invoice_on_by_invoice_contract(odata, cases):
    template = odata.get(f"Document_ЗаказПокупателя(guid'{cases['order_paid_by_invoice'][0]}')")
    lines = [{"product": new_product(odata), "quantity": 2, "price": 700}]
    order = odata.control("POST", "orders", {"counterparty": template["Контрагент_Key"], "lines": lines,
                                             "contract": template["ДоговорКонтрагента_Key"]})
    invoice = odata.control("POST", f"orders/{order['ref']}/invoice", {})
    rows = odata.values(f"{SETTLEMENTS}_RecordType",
                        _filter=f"Recorder eq cast(guid'{order['ref']}','Document_ЗаказПокупателя')")
    assert [(r["Сделка"], r["Сделка_Type"]) for r in rows] == [
        (invoice["ref"], "StandardODATA.Document_СчетНаОплатуПокупателю")]
    odata.control("POST", f"orders/{order['ref']}/payment", {"kind": "bank", "against": "invoice"})
    state = order_state(odata, order["ref"])
    assert state["paid"] and state["paid_amount"] == 1400


def test_mutation_errors(odata):
    base = odata.emu.base_url + "/_emulator/"
    missing = "11111111-2222-3333-4444-555555555555"
    assert requests.post(base + f"orders/{missing}/invoice", json={}, timeout=10).status_code == 404
    assert requests.post(base + "counterparties", json={}, timeout=10).status_code == 400
    assert requests.post(base + "counterparties", json={"name": "x", "kind": "Никто"}, timeout=10).status_code == 400
    assert requests.post(base + "prices", json={"product": missing, "price_type": "Оптовая", "price": 1},
                         timeout=10).status_code == 404
    assert requests.get(base + "nothing", timeout=10).status_code == 404
    assert requests.post(base + "objects/Catalog_Нет/" + missing + "/unpost", timeout=10).status_code == 404


def test_order_price_defaults_to_current_wholesale_price(odata):
    product = new_product(odata, price=777)
    order = new_order(odata, lines=[{"product": product, "quantity": 2}])
    doc = odata.get(f"Document_ЗаказПокупателя(guid'{order['ref']}')")
    assert doc["Товары"][0]["Цена"] == 777 and doc["СуммаДокумента"] == 1554


def test_patch_accepts_1c_attribute_names(odata, cases):
    ref = odata.control("POST", "counterparties", {"name": 'ООО "Имена"'})["ref"]
    manager = odata.values("Catalog_Пользователи")[-1]["Ref_Key"]
    odata.control("PATCH", f"counterparties/{ref}", {"ОсновнойМенеджерПокупателя": manager})
    assert odata.get(f"Catalog_Контрагенты(guid'{ref}')")["ОсновнойМенеджерПокупателя_Key"] == manager
