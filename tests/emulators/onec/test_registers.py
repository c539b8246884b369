"""Registers: _RecordType rows, record sets by Recorder, SliceLast/SliceFirst, Balance and Turnovers."""

from collections import defaultdict

import pytest

PRICES = "InformationRegister_ЦеныНоменклатуры"
SETTLEMENTS = "AccumulationRegister_РасчетыСКонтрагентами"
ORDERS = "AccumulationRegister_ЗаказыПокупателей"


@pytest.fixture(scope="module")
def price_types(odata):
    return {t["Description"]: t["Ref_Key"] for t in odata.values("Catalog_ТипыЦенНоменклатуры")}


def deal(order):
    return f"Сделка eq cast(guid''{order}'',''Document_ЗаказПокупателя'')"


def test_price_record_type_rows(odata):
    rows = odata.values(f"{PRICES}_RecordType", _top=5)
    row = rows[0]
    assert row["Recorder_Type"] == "StandardODATA.Document_УстановкаЦенНоменклатуры"
    assert row["LineNumber"] == "1" and row["Active"] is True
    for name in ("Period", "Номенклатура_Key", "ТипЦен_Key", "Цена", "Валюта_Key", "ЕдиницаИзмерения_Key",
                 "ПроцентСкидкиНаценки", "ХарактеристикаНоменклатуры_Key", "СпособРасчетаЦены"):
        assert name in row
    assert "RecordType" not in row


def test_record_sets_keyed_by_recorder(odata):
    sets = odata.values(PRICES, _top=2)
    recorder = sets[0]["Recorder"]
    assert sets[0]["Recorder_Type"] == "StandardODATA.Document_УстановкаЦенНоменклатуры"
    assert sets[0]["RecordSet"] and all(r["Recorder"] == recorder for r in sets[0]["RecordSet"])
    key = f"Recorder=guid'{recorder}',Recorder_Type='StandardODATA.Document_УстановкаЦенНоменклатуры'"
    one = odata.get(f"{PRICES}({key})")
    assert one["RecordSet"] == sets[0]["RecordSet"]
    doc = odata.get(f"Document_УстановкаЦенНоменклатуры(guid'{recorder}')")
    assert doc["Posted"] is True and len(doc["Товары"]) == len(one["RecordSet"])


def latest_prices(rows, period="9999", last=True):
    chosen = {}
    for row in rows:
        if (row["Period"] <= period) if last else (row["Period"] >= period):
            key = row["Номенклатура_Key"]
            if key not in chosen or (row["Period"] >= chosen[key]["Period"] if last
                                     else row["Period"] < chosen[key]["Period"]):
                chosen[key] = row
    return {k: v["Цена"] for k, v in chosen.items()}


def test_slice_last_by_price_type(odata, price_types):
    wholesale = price_types["Оптовая"]
    condition = f"ТипЦен_Key eq guid''{wholesale}''"
    rows = odata.values(f"{PRICES}/SliceLast(Period=datetime'2099-12-31T23:59:59',Condition='{condition}')")
    raw = odata.values(f"{PRICES}_RecordType", _filter=f"ТипЦен_Key eq guid'{wholesale}'")
    assert {r["Номенклатура_Key"]: r["Цена"] for r in rows} == latest_prices(raw)
    changed = defaultdict(set)
    for r in raw:
        changed[r["Номенклатура_Key"]].add(r["Period"])
    product = next(k for k, v in changed.items() if len(v) > 1)
    first_period = min(changed[product])
    early = odata.values(f"{PRICES}/SliceLast(Period=datetime'{first_period}',Condition='{condition}')",
                         _filter=f"Номенклатура_Key eq guid'{product}'")
    assert early[0]["Цена"] == latest_prices(raw, first_period)[product]
    first = odata.values(f"{PRICES}_RecordType/SliceFirst(Condition='{condition}')",
                         _filter=f"Номенклатура_Key eq guid'{product}'")
    assert first[0]["Цена"] == latest_prices(raw, "0000", last=False)[product]
    assert first[0]["Цена"] != rows[[r["Номенклатура_Key"] for r in rows].index(product)]["Цена"]


def test_slice_last_select_and_foreign_currency(odata, cases):
    product = cases["product_foreign_currency_price"][0]
    rows = odata.values(f"{PRICES}/SliceLast()", _filter=f"Номенклатура_Key eq guid'{product}'",
                        _select="Номенклатура_Key,Цена,Валюта_Key")
    usd = odata.values("Catalog_Валюты", _filter="Code eq '840'")[0]["Ref_Key"]
    assert rows == [{"Номенклатура_Key": product, "Цена": 125.5, "Валюта_Key": usd}]


def test_virtual_table_errors(odata):
    assert odata.raw(f"{SETTLEMENTS}/SliceLast()").status_code == 400
    assert odata.raw(f"{PRICES}/Balance()").status_code == 400
    assert odata.raw(f"{SETTLEMENTS}/Balance(Condition='Нет eq 1')").status_code == 400
    assert odata.raw(f"{SETTLEMENTS}/Balance(Dimensions='Нет')").status_code == 400


def test_balance_of_order_settlements(odata, cases):
    new = cases["order_new"][0]
    order = odata.get(f"Document_ЗаказПокупателя(guid'{new}')")
    rows = odata.values(f"{SETTLEMENTS}/Balance(Condition='{deal(new)}')")
    assert len(rows) == 1
    assert rows[0]["СуммаВзаиморасчетовBalance"] == order["СуммаДокумента"]
    assert rows[0]["Сделка"] == new and rows[0]["Сделка_Type"] == "StandardODATA.Document_ЗаказПокупателя"
    paid = cases["order_paid_bank"][0]
    assert odata.values(f"{SETTLEMENTS}/Balance(Condition='{deal(paid)}')") == []
    expense = f"Сделка eq cast(guid'{paid}','Document_ЗаказПокупателя') and RecordType eq 'Expense'"
    payment_rows = odata.values(f"{SETTLEMENTS}_RecordType", _filter=expense)
    before_payment = payment_rows[0]["Period"]
    rows = odata.values(f"{SETTLEMENTS}/Balance(Period=datetime'{before_payment}',Condition='{deal(paid)}')")
    assert rows and rows[0]["СуммаВзаиморасчетовBalance"] > 0


def test_balance_dimensions_and_filter(odata, cases):
    new = cases["order_new"][0]
    rows = odata.values(f"{SETTLEMENTS}/Balance(Dimensions='Сделка')",
                        _filter=f"Сделка eq cast(guid'{new}','Document_ЗаказПокупателя')")
    assert len(rows) == 1
    assert set(rows[0]) == {"Сделка", "Сделка_Type", "СуммаВзаиморасчетовBalance", "СуммаУпрBalance"}
    per_line = odata.values(f"{ORDERS}/Balance(Condition='ЗаказПокупателя_Key eq guid''{new}''',"
                            "Dimensions='ЗаказПокупателя,Номенклатура')")
    order = odata.get(f"Document_ЗаказПокупателя(guid'{new}')")
    assert len(per_line) == len(order["Товары"]) + len(order["Услуги"])
    assert {"КоличествоBalance", "СуммаВзаиморасчетовBalance", "Номенклатура_Key"} <= set(per_line[0])


def test_turnovers(odata, cases):
    paid = cases["order_paid_card"][0]
    order = odata.get(f"Document_ЗаказПокупателя(guid'{paid}')")
    rows = odata.values(f"{SETTLEMENTS}/Turnovers(StartPeriod=datetime'2000-01-01T00:00:00',"
                        f"EndPeriod=datetime'2099-01-01T00:00:00',Condition='{deal(paid)}',Dimensions='Сделка')")
    assert len(rows) == 1
    assert rows[0]["СуммаВзаиморасчетовReceipt"] == order["СуммаДокумента"]
    assert rows[0]["СуммаВзаиморасчетовExpense"] == order["СуммаДокумента"]
    assert rows[0]["СуммаВзаиморасчетовTurnover"] == 0


def test_accumulation_record_type_rows(odata, cases):
    shipped = cases["order_shipped_unpaid"][0]
    rows = odata.values(f"{ORDERS}_RecordType", _filter=f"ЗаказПокупателя_Key eq guid'{shipped}'",
                        _orderby="Period,Recorder")
    kinds = {(r["RecordType"], r["Recorder_Type"]) for r in rows}
    assert kinds == {("Receipt", "StandardODATA.Document_ЗаказПокупателя"),
                     ("Expense", "StandardODATA.Document_РеализацияТоваровУслуг")}
    sets = odata.values(ORDERS, _filter=f"Recorder eq cast(guid'{shipped}','Document_ЗаказПокупателя')")
    assert len(sets) == 1 and sets[0]["RecordSet"][0]["ЗаказПокупателя_Key"] == shipped
