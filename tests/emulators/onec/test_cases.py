"""Hard cases and bad records: requisites' check digits, and paid/shipped/closed derived per reference §2.14."""

import re

import pytest

from emulators.onec.generator import checkdigits

ORDER = "Document_ЗаказПокупателя"
PAYMENT_TYPES = {"StandardODATA.Document_ПлатежноеПоручениеВходящее", "StandardODATA.Document_ПриходныйКассовыйОрдер",
                 "StandardODATA.Document_ОплатаОтПокупателяПлатежнойКартой"}
REALIZATION_TYPE = "StandardODATA.Document_РеализацияТоваровУслуг"
CLOSING_TYPE = "StandardODATA.Document_ЗакрытиеЗаказовПокупателей"
REQUIRED_CASES = [
    "counterparty_legal_full", "counterparty_ip", "counterparty_person", "counterparty_folder",
    "counterparty_deleted", "counterparty_no_contacts", "counterparty_with_contact_persons", "bad_inn", "bad_kpp",
    "bad_bik", "bad_account", "bad_email", "bad_phone", "long_name", "empty_name", "dangling_reference",
    "product_service", "product_no_price", "product_calculated_price", "product_deleted",
    "product_foreign_currency_price", "product_bad_price", "order_new", "order_unposted", "order_invoiced",
    "order_partially_paid", "order_paid_bank", "order_paid_cash", "order_paid_card", "order_shipped_unpaid",
    "order_shipped_paid", "order_closed", "order_deleted", "order_paid_by_invoice", "order_deleted_product_line",
    "order_multiple_realizations", "order_zero_quantity_line", "order_foreign_currency",
]


def order_state(odata, ref):
    """What a client derives from OData alone, following УТ 10.3's own rule (reference §2.14)."""
    order = odata.get(f"{ORDER}(guid'{ref}')")
    deals = [(ref, ORDER)]
    invoices = odata.values("Document_СчетНаОплатуПокупателю", _filter=f"ЗаказПокупателя_Key eq guid'{ref}'")
    deals += [(i["Ref_Key"], "Document_СчетНаОплатуПокупателю") for i in invoices if not i["DeletionMark"]]
    settlements = []
    for deal, kind in deals:
        settlements += odata.values("AccumulationRegister_РасчетыСКонтрагентами_RecordType",
                                    _filter=f"Сделка eq cast(guid'{deal}','{kind}') and Active eq true")
    payments = [r for r in settlements if r["RecordType"] == "Expense" and r["Recorder_Type"] in PAYMENT_TYPES]
    debt = sum(r["СуммаВзаиморасчетов"] * (1 if r["RecordType"] == "Receipt" else -1) for r in settlements)
    lines = odata.values("AccumulationRegister_ЗаказыПокупателей_RecordType",
                         _filter=f"ЗаказПокупателя_Key eq guid'{ref}'")
    open_amount = sum(r["СуммаВзаиморасчетов"] * (1 if r["RecordType"] == "Receipt" else -1) for r in lines)
    shipments = {r["Recorder"] for r in lines
                 if r["RecordType"] == "Expense" and r["Recorder_Type"] == REALIZATION_TYPE}
    posted = order["Posted"]
    return {
        "posted": posted, "deleted": order["DeletionMark"], "invoices": len(invoices),
        "paid": posted and bool(payments) and debt <= 0, "paid_amount": round(sum(p["СуммаВзаиморасчетов"]
                                                                              for p in payments), 2),
        "payment_types": {p["Recorder_Type"] for p in payments}, "debt": round(debt, 2),
        "shipped": posted and bool(shipments) and open_amount <= 0, "shipments": len(shipments),
        "closed": any(r["Recorder_Type"] == CLOSING_TYPE for r in lines), "movements": len(settlements) + len(lines),
        "amount": order["СуммаДокумента"], "order": order,
    }


def test_every_required_case_is_listed_over_http(odata, emu):
    listed = odata.control("GET", "cases")
    assert listed == emu.cases()
    for name in REQUIRED_CASES:
        assert listed.get(name), name


EXPECTED = {
    # case: (posted, paid, shipped, closed, payment type suffix)
    "order_new": (True, False, False, False, None),
    "order_invoiced": (True, False, False, False, None),
    "order_paid_bank": (True, True, False, False, "ПлатежноеПоручениеВходящее"),
    "order_paid_cash": (True, True, False, False, "ПриходныйКассовыйОрдер"),
    "order_paid_card": (True, True, False, False, "ОплатаОтПокупателяПлатежнойКартой"),
    "order_shipped_unpaid": (True, False, True, False, None),
    "order_shipped_paid": (True, True, True, False, "ПлатежноеПоручениеВходящее"),
    "order_closed": (True, False, False, True, None),
    "order_paid_by_invoice": (True, True, False, False, "ПлатежноеПоручениеВходящее"),
    "order_multiple_realizations": (True, False, True, False, None),
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_order_state_derives_like_ut(odata, cases, case):
    posted, paid, shipped, closed, payment = EXPECTED[case]
    state = order_state(odata, cases[case][0])
    assert (state["posted"], state["paid"], state["shipped"], state["closed"]) == (posted, paid, shipped, closed)
    if payment:
        assert state["payment_types"] == {f"StandardODATA.Document_{payment}"}
        assert state["paid_amount"] == state["amount"]
    else:
        assert not state["payment_types"]


def test_unposted_and_deleted_orders_have_no_movements(odata, cases):
    for case in ("order_unposted", "order_deleted"):
        state = order_state(odata, cases[case][0])
        assert not state["posted"] and state["movements"] == 0
    assert order_state(odata, cases["order_deleted"][0])["deleted"] is True


def test_partially_paid(odata, cases):
    state = order_state(odata, cases["order_partially_paid"][0])
    assert not state["paid"] and state["invoices"] == 1
    assert 0 < state["paid_amount"] < state["amount"]
    assert state["debt"] == round(state["amount"] - state["paid_amount"], 2)


def test_paid_by_invoice_goes_through_the_invoice(odata, cases):
    ref = cases["order_paid_by_invoice"][0]
    state = order_state(odata, ref)
    contract = odata.get(f"Catalog_ДоговорыКонтрагентов(guid'{state['order']['ДоговорКонтрагента_Key']}')")
    assert contract["ВедениеВзаиморасчетов"] == "ПоСчетам"
    invoice = odata.values("Document_СчетНаОплатуПокупателю", _filter=f"ЗаказПокупателя_Key eq guid'{ref}'")[0]
    assert invoice["Posted"] is False
    rows = odata.values("Document_ПлатежноеПоручениеВходящее_РасшифровкаПлатежа",
                        _filter=f"Сделка eq cast(guid'{invoice['Ref_Key']}','Document_СчетНаОплатуПокупателю')")
    assert len(rows) == 1 and rows[0]["Сделка_Type"] == "StandardODATA.Document_СчетНаОплатуПокупателю"


def test_realization_writes_no_settlement_for_order_deal(odata, cases):
    ref = cases["order_shipped_unpaid"][0]
    rows = odata.values("AccumulationRegister_РасчетыСКонтрагентами_RecordType",
                        _filter=f"Сделка eq cast(guid'{ref}','Document_ЗаказПокупателя')")
    assert [r["Recorder_Type"] for r in rows] == ["StandardODATA.Document_ЗаказПокупателя"]


def test_multiple_realizations(odata, cases):
    state = order_state(odata, cases["order_multiple_realizations"][0])
    assert state["shipments"] == 2
    lines = odata.values("Document_РеализацияТоваровУслуг_Товары",
                         _filter=f"ЗаказПокупателя_Key eq guid'{cases['order_multiple_realizations'][0]}'")
    assert len({line["Ref_Key"] for line in lines}) == 2


def test_special_lines(odata, cases):
    order = order_state(odata, cases["order_deleted_product_line"][0])["order"]
    products = [odata.get(f"Catalog_Номенклатура(guid'{line['Номенклатура_Key']}')") for line in order["Товары"]]
    assert any(p["DeletionMark"] for p in products)
    zero = order_state(odata, cases["order_zero_quantity_line"][0])["order"]
    assert any(line["Количество"] == 0 for line in zero["Товары"])
    foreign = order_state(odata, cases["order_foreign_currency"][0])["order"]
    currency = odata.get(f"Catalog_Валюты(guid'{foreign['ВалютаДокумента_Key']}')")
    assert currency["Code"] == "840" and foreign["КурсВзаиморасчетов"] > 1


def test_bulk_orders_all_derive_consistently(odata):
    """Every generated order: posted & paid => payment rows exist; shipped => a realization exists."""
    orders = odata.values(ORDER, _select="Ref_Key,Posted,DeletionMark")
    for order in orders:
        state = order_state(odata, order["Ref_Key"])
        if not order["Posted"]:
            assert state["movements"] == 0
        if state["paid"]:
            assert state["payment_types"] <= PAYMENT_TYPES


# ---------------------------------------------------------------- requisites


def counterparty(odata, ref):
    return odata.get(f"Catalog_Контрагенты(guid'{ref}')")


def test_generated_requisites_have_valid_check_digits(odata, cases):
    bad = {r for name in ("bad_inn", "bad_kpp") for r in cases[name]}
    dup_or_missing = {r["ref"] for r in odata.control("GET", "bad-records")}
    items = odata.values("Catalog_Контрагенты", _filter="IsFolder eq false")
    checked = 0
    for item in items:
        if item["Ref_Key"] in bad or item["Ref_Key"] in dup_or_missing or not item["ИНН"]:
            continue
        assert checkdigits.inn_is_valid(item["ИНН"]), item["ИНН"]
        assert len(item["ИНН"]) == (10 if item["ЮрФизЛицо"] == "ЮрЛицо" else 12)
        if item["ЮрФизЛицо"] == "ЮрЛицо":
            assert checkdigits.kpp_is_valid(item["КПП"]), item["КПП"]
        checked += 1
    assert checked > 20
    banks = {b["Ref_Key"]: b for b in odata.values("Catalog_Банки")}
    bad_banks = set(cases["bad_bik"])
    for bank in banks.values():
        if bank["Ref_Key"] not in bad_banks:
            assert checkdigits.bik_is_valid(bank["Code"])
            assert checkdigits.corr_account_is_valid(bank["Code"], bank["КоррСчет"])
            assert bank["КоррСчет"].startswith("30101810")
    bad_accounts = set(cases["bad_account"]) | set(cases["dangling_reference"])
    for account in odata.values("Catalog_БанковскиеСчета"):
        if account["Ref_Key"] not in bad_accounts and account["Банк_Key"] in banks:
            bik = banks[account["Банк_Key"]]["Code"]
            if account["Банк_Key"] not in bad_banks:
                assert checkdigits.account_is_valid(bik, account["НомерСчета"]), account["НомерСчета"]


def test_bad_cases_are_really_bad(odata, cases):
    for ref in cases["bad_inn"]:
        assert not checkdigits.inn_is_valid(counterparty(odata, ref)["ИНН"])
    for ref in cases["bad_kpp"]:
        assert not checkdigits.kpp_is_valid(counterparty(odata, ref)["КПП"])
    banks = [odata.get(f"Catalog_Банки(guid'{ref}')") for ref in cases["bad_bik"]]
    assert any(not checkdigits.bik_is_valid(b["Code"]) for b in banks)
    assert any(not checkdigits.corr_account_is_valid(b["Code"], b["КоррСчет"]) for b in banks
               if checkdigits.bik_is_valid(b["Code"]))
    for ref in cases["bad_account"]:
        account = odata.get(f"Catalog_БанковскиеСчета(guid'{ref}')", _expand="Банк")
        assert not checkdigits.account_is_valid(account["Банк"]["Code"], account["НомерСчета"])
    email = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    for ref in cases["bad_email"]:
        rows = odata.values("InformationRegister_КонтактнаяИнформация", _filter=f"Объект eq cast(guid'{ref}',"
                            "'Catalog_Контрагенты') and Тип eq 'АдресЭлектроннойПочты'")
        assert any(not email.match(r["Представление"]) for r in rows)
    for ref in cases["bad_phone"]:
        rows = odata.values("InformationRegister_КонтактнаяИнформация",
                            _filter=f"Объект eq cast(guid'{ref}','Catalog_Контрагенты') and Тип eq 'Телефон'")
        assert any(len(re.sub(r"\D", "", r["Представление"])) != 11 for r in rows)


def test_name_edge_cases(odata, cases):
    long = counterparty(odata, cases["long_name"][0])
    assert len(long["НаименованиеПолное"]) > 255 and len(long["Description"]) == 100
    empties = [counterparty(odata, ref) for ref in cases["empty_name"]]
    assert any(e["Description"] == "" for e in empties)
    assert any(e["Description"] != e["Description"].strip() for e in empties)


def test_counterparty_kinds(odata, cases):
    ip = counterparty(odata, cases["counterparty_ip"][0])
    assert ip["ЮрФизЛицо"] == "ФизЛицо" and ip["Description"].startswith("ИП ") and len(ip["ИНН"]) == 12
    person = counterparty(odata, cases["counterparty_person"][0])
    assert person["ЮрФизЛицо"] == "ФизЛицо" and len(person["Description"].split()) == 3
    assert counterparty(odata, cases["counterparty_deleted"][0])["DeletionMark"] is True
    bare = cases["counterparty_no_contacts"][0]
    assert odata.values("InformationRegister_КонтактнаяИнформация",
                        _filter=f"Объект eq cast(guid'{bare}','Catalog_Контрагенты')") == []
    full = counterparty(odata, cases["counterparty_legal_full"][0])
    for name in ("ИНН", "КПП", "КодПоОКПО", "НаименованиеПолное"):
        assert full[name]
    persons = odata.values("Catalog_КонтактныеЛицаКонтрагентов", _filter=f"Owner_Key eq guid'{full['Ref_Key']}'")
    info = odata.values("InformationRegister_КонтактнаяИнформация",
                        _filter=f"Объект eq cast(guid'{persons[0]['Ref_Key']}','Catalog_КонтактныеЛицаКонтрагентов')")
    assert {"Телефон", "АдресЭлектроннойПочты"} <= {r["Тип"] for r in info}


def test_product_cases(odata, cases, emu):
    def product(name):
        return odata.get(f"Catalog_Номенклатура(guid'{cases[name][0]}')")

    assert product("product_service")["Услуга"] is True
    assert product("product_deleted")["DeletionMark"] is True
    assert odata.values("InformationRegister_ЦеныНоменклатуры_RecordType",
                        _filter=f"Номенклатура_Key eq guid'{cases['product_no_price'][0]}'") == []
    types = {t["Ref_Key"]: t for t in odata.values("Catalog_ТипыЦенНоменклатуры")}
    rows = odata.values("InformationRegister_ЦеныНоменклатуры_RecordType",
                        _filter=f"Номенклатура_Key eq guid'{cases['product_calculated_price'][0]}'")
    assert {types[r["ТипЦен_Key"]]["Description"] for r in rows} == {"Оптовая", "Мелкооптовая"}
    bad_prices = [r["Цена"] for ref in cases["product_bad_price"] for r in odata.values(
        "InformationRegister_ЦеныНоменклатуры_RecordType", _filter=f"Номенклатура_Key eq guid'{ref}'")]
    assert 0 in bad_prices and any(p < 0 for p in bad_prices)


def test_bad_records_catalogue(odata):
    records = odata.control("GET", "bad-records")
    kinds = {r["defect"] for r in records}
    assert len(kinds) >= 15
    for record in records:
        assert set(record) == {"entity_set", "ref", "code", "name", "defect"}
        response = odata.raw(f"{record['entity_set']}(guid'{record['ref']}')")
        assert response.status_code == 200, record
