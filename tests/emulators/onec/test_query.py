"""Query options: $filter (operators, literals, functions, cast), $select, $orderby, $top/$skip, $count, $expand."""

import time

import pytest

EMPTY = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
def counterparties(odata):
    return odata.values("Catalog_Контрагенты")


@pytest.fixture(scope="module")
def orders(odata):
    return odata.values("Document_ЗаказПокупателя")


def refs(rows):
    return {r["Ref_Key"] for r in rows}


def test_no_paging_without_top(odata, counterparties):
    body = odata.get("Catalog_Контрагенты")
    assert "odata.nextLink" not in body
    assert len(body["value"]) == int(odata.raw("Catalog_Контрагенты/$count").text)


@pytest.mark.parametrize("expr, check", [
    ("IsFolder eq true", lambda r: r["IsFolder"] is True),
    ("IsFolder ne true", lambda r: r["IsFolder"] is False),
    ("not IsFolder", lambda r: r["IsFolder"] is False),
    ("ЮрФизЛицо eq 'ФизЛицо'", lambda r: r["ЮрФизЛицо"] == "ФизЛицо"),
    ("ЮрФизЛицо eq 'ФизЛицо' and IsFolder eq false", lambda r: r["ЮрФизЛицо"] == "ФизЛицо" and not r["IsFolder"]),
    ("ЮрФизЛицо eq 'ФизЛицо' or DeletionMark eq true", lambda r: r["ЮрФизЛицо"] == "ФизЛицо" or r["DeletionMark"]),
    ("(IsFolder eq false) and not (ЮрФизЛицо eq 'ЮрЛицо')", lambda r: not r["IsFolder"] and r["ЮрФизЛицо"] != "ЮрЛицо"),
    ("Code gt '000000010' and Code le '000000020'", lambda r: "000000010" < r["Code"] <= "000000020"),
    ("Code lt '000000003' or Code ge '000000070'", lambda r: r["Code"] < "000000003" or r["Code"] >= "000000070"),
    ("substringof('ООО', Description)", lambda r: "ООО" in r["Description"]),
    ("startswith(Description, 'ИП ')", lambda r: r["Description"].startswith("ИП ")),
    ("endswith(Description, 'ич')", lambda r: r["Description"].endswith("ич")),
    ("tolower(Description) eq 'покупатели'", lambda r: r["Description"].lower() == "покупатели"),
    ("toupper(Description) eq 'ПОКУПАТЕЛИ'", lambda r: r["Description"].upper() == "ПОКУПАТЕЛИ"),
    ("length(ИНН) eq 12", lambda r: len(r["ИНН"]) == 12),
    ("ОсновнойДоговорКонтрагента_Key ne guid'00000000-0000-0000-0000-000000000000'",
     lambda r: r["ОсновнойДоговорКонтрагента_Key"] != EMPTY),
])
def test_filter_matches_python_semantics(odata, counterparties, expr, check):
    got = refs(odata.values("Catalog_Контрагенты", _filter=expr))
    expected = {r["Ref_Key"] for r in counterparties if check(r)}
    assert expected, expr
    assert got == expected, expr


def test_string_literal_with_doubled_quote(odata):
    ref = odata.control("POST", "counterparties", {"name": "ООО \"Д'Артаньян\"", "inn": "7701234564"})["ref"]
    rows = odata.values("Catalog_Контрагенты", _filter="Description eq 'ООО \"Д''Артаньян\"'")
    assert refs(rows) == {ref}


def test_datetime_year_month_and_numbers(odata, orders):
    posted = [o for o in orders if o["Posted"]]
    sample = posted[len(posted) // 2]
    since = sample["Date"]
    got = refs(odata.values("Document_ЗаказПокупателя", _filter=f"Date ge datetime'{since}'"))
    assert got == {o["Ref_Key"] for o in orders if o["Date"] >= since}
    year, month = int(since[:4]), int(since[5:7])
    got = refs(odata.values("Document_ЗаказПокупателя", _filter=f"year(Date) eq {year} and month(Date) eq {month}"))
    assert got == {o["Ref_Key"] for o in orders if o["Date"].startswith(since[:7])}
    got = refs(odata.values("Document_ЗаказПокупателя", _filter="СуммаДокумента gt 10000.5 and Posted eq true"))
    assert got == {o["Ref_Key"] for o in orders if o["СуммаДокумента"] > 10000.5 and o["Posted"]}
    got = refs(odata.values("Document_ЗаказПокупателя", _filter="СуммаДокумента ge 1000 and СуммаДокумента lt 5000"))
    assert got == {o["Ref_Key"] for o in orders if 1000 <= o["СуммаДокумента"] < 5000}


def test_guid_filter_and_owner_key(odata, cases):
    owner = cases["counterparty_with_contact_persons"][0]
    persons = odata.values("Catalog_КонтактныеЛицаКонтрагентов", _filter=f"Owner_Key eq guid'{owner}'")
    assert len(persons) == 3
    assert sum(1 for p in persons if p["КонтактноеЛицо_Key"] != EMPTY) == 1


def test_cast_on_composite_and_recorder(odata, cases):
    order = cases["order_shipped_paid"][0]
    sales = odata.values("Document_РеализацияТоваровУслуг",
                         _filter=f"Сделка eq cast(guid'{order}','Document_ЗаказПокупателя') and Posted eq true")
    assert len(sales) == 1 and sales[0]["Сделка_Type"] == "StandardODATA.Document_ЗаказПокупателя"
    rows = odata.values("AccumulationRegister_ЗаказыПокупателей_RecordType",
                        _filter=f"Recorder eq cast(guid'{sales[0]['Ref_Key']}','Document_РеализацияТоваровУслуг')")
    assert rows and all(r["RecordType"] == "Expense" for r in rows)
    wrong_type = odata.values("Document_РеализацияТоваровУслуг",
                              _filter=f"Сделка eq cast(guid'{order}','Document_СчетНаОплатуПокупателю')")
    assert wrong_type == []
    isof = odata.values("Document_РеализацияТоваровУслуг", _filter="isof(Сделка, 'Document_ЗаказПокупателя')")
    assert sales[0]["Ref_Key"] in refs(isof)


def test_long_or_chain_is_fast(odata, orders):
    chosen = [o["Ref_Key"] for o in orders][:80]
    expr = " or ".join(f"Ref_Key eq guid'{r}'" for r in chosen)
    started = time.monotonic()
    got = odata.values("Document_ЗаказПокупателя", _filter=expr, _select="Ref_Key")
    assert time.monotonic() - started < 1.0
    assert refs(got) == set(chosen)


def test_deep_parentheses_do_not_crash(odata):
    expr = "(" * 400 + "IsFolder eq true" + ")" * 400
    response = odata.raw("Catalog_Контрагенты", _filter=expr)
    assert response.status_code in (200, 400)


def test_navigation_in_filter(odata, cases):
    legal = odata.get(f"Catalog_Контрагенты(guid'{cases['counterparty_legal_full'][0]}')")
    rows = odata.values("Document_ЗаказПокупателя", _filter=f"Контрагент/ИНН eq '{legal['ИНН']}'")
    assert all(r["Контрагент_Key"] == legal["Ref_Key"] for r in rows) and rows


def test_select_limits_properties_and_keeps_tabular_parts(odata):
    rows = odata.values("Document_ЗаказПокупателя", _select="Ref_Key,Number,Товары", _top=2)
    assert set(rows[0]) == {"Ref_Key", "Number", "Товары"}
    assert rows[0]["Товары"] == [] or rows[0]["Товары"][0]["Ref_Key"] == rows[0]["Ref_Key"]
    rows = odata.values("Document_РеализацияТоваровУслуг", _select="Сделка", _top=1)
    assert set(rows[0]) == {"Сделка", "Сделка_Type"}
    rows = odata.values("Catalog_Банки", _select="Code,КоррСчет", _top=1)
    assert set(rows[0]) == {"Code", "КоррСчет"}
    assert odata.raw("Catalog_Банки", _select="Нет").status_code == 400


def test_orderby_several_keys(odata, orders):
    rows = odata.values("Document_ЗаказПокупателя", _orderby="Posted desc,Date,Ref_Key", _select="Ref_Key,Posted,Date")
    assert rows == sorted(rows, key=lambda r: (not r["Posted"], r["Date"], r["Ref_Key"]))
    rows = odata.values("Document_ЗаказПокупателя", _orderby="СуммаДокумента desc", _select="СуммаДокумента")
    sums = [r["СуммаДокумента"] for r in rows]
    assert sums == sorted(sums, reverse=True)
    assert odata.raw("Document_ЗаказПокупателя", _orderby="Date sideways").status_code == 400


def test_top_skip_pages_cover_everything_once(odata):
    total = int(odata.raw("Catalog_Номенклатура/$count").text)
    seen = []
    for skip in range(0, total + 10, 7):
        seen += [r["Ref_Key"] for r in odata.values("Catalog_Номенклатура", _orderby="Ref_Key", _top=7, _skip=skip,
                                                    _select="Ref_Key")]
    assert len(seen) == total == len(set(seen))
    assert seen == sorted(seen)
    assert odata.raw("Catalog_Номенклатура", _top="-1").status_code == 400


def test_count_and_inlinecount(odata):
    response = odata.raw("Catalog_Контрагенты/$count", _filter="IsFolder eq true")
    assert response.headers["Content-Type"].startswith("text/plain")
    folders = int(response.text)
    assert folders == len(odata.values("Catalog_Контрагенты", _filter="IsFolder eq true"))
    body = odata.get("Catalog_Контрагенты", _inlinecount="allpages", _top=2, _filter="IsFolder eq false")
    assert len(body["value"]) == 2
    assert int(body["odata.count"]) == len(odata.values("Catalog_Контрагенты", _filter="IsFolder eq false"))


def test_expand_references(odata, cases):
    legal = cases["counterparty_legal_full"][0]
    accounts = odata.values("Catalog_БанковскиеСчета", _filter=f"Owner eq cast(guid'{legal}','Catalog_Контрагенты')",
                            _expand="Банк,ВалютаДенежныхСредств")
    for account in accounts:
        assert account["Банк"]["Ref_Key"] == account["Банк_Key"]
        assert len(account["Банк"]["Code"]) == 9
    assert {a["ВалютаДенежныхСредств"]["Code"] for a in accounts} >= {"643", "840"}
    order = odata.get(f"Document_ЗаказПокупателя(guid'{cases['order_new'][0]}')",
                      _expand="Контрагент/ОсновнойДоговорКонтрагента")
    assert order["Контрагент"]["Ref_Key"] == order["Контрагент_Key"]
    assert order["Контрагент"]["ОсновнойДоговорКонтрагента"]["Ref_Key"]
    dangling = cases["dangling_reference"][0]
    account = odata.get(f"Catalog_БанковскиеСчета(guid'{dangling}')", _expand="Банк")
    assert account["Банк"] is None


def test_single_entity_tabular_part_and_navigation(odata, cases):
    order = cases["order_new"][0]
    lines = odata.values(f"Document_ЗаказПокупателя(guid'{order}')/Товары")
    assert lines and lines[0]["Ref_Key"] == order and lines[0]["LineNumber"] == "1"
    same = odata.values("Document_ЗаказПокупателя_Товары", _filter=f"Ref_Key eq guid'{order}'")
    assert same == lines
    party = odata.get(f"Document_ЗаказПокупателя(guid'{order}')/Контрагент")
    assert party["odata.metadata"].endswith("#Catalog_Контрагенты/@Element")


def test_tabular_sets_filter_across_documents(odata, cases):
    order = cases["order_paid_cash"][0]
    rows = odata.values("Document_ПриходныйКассовыйОрдер_РасшифровкаПлатежа",
                        _filter=f"Сделка eq cast(guid'{order}','Document_ЗаказПокупателя')")
    assert len(rows) == 1 and rows[0]["СуммаПлатежа"] > 0 and rows[0]["ДоговорКонтрагента_Key"] != EMPTY


def test_contact_info_register(odata, cases):
    legal = cases["counterparty_legal_full"][0]
    rows = odata.values("InformationRegister_КонтактнаяИнформация",
                        _filter=f"Объект eq cast(guid'{legal}','Catalog_Контрагенты')")
    types = {r["Тип"] for r in rows}
    assert {"Адрес", "Телефон", "АдресЭлектроннойПочты", "Факс"} <= types
    address = next(r for r in rows if r["Тип"] == "Адрес")
    assert address["Поле1"].isdigit() and len(address["Поле1"]) == 6
    assert address["Поле2"] and address["Поле6"] and address["Поле7"]
    assert address["Представление"].startswith(address["Поле1"])
    assert address["Вид_Type"] == "StandardODATA.Catalog_ВидыКонтактнойИнформации"
    phones = odata.values("InformationRegister_КонтактнаяИнформация",
                          _filter=f"Объект eq cast(guid'{legal}','Catalog_Контрагенты') and Тип eq 'Телефон'")
    assert phones and all(p["Представление"].startswith("+7 (") for p in phones)


def test_expand_composite_owner(odata, cases):
    legal = cases["counterparty_legal_full"][0]
    accounts = odata.values("Catalog_БанковскиеСчета", _filter=f"Owner eq cast(guid'{legal}','Catalog_Контрагенты')",
                            _expand="Owner", _select="Ref_Key,Owner")
    assert accounts and all(a["Owner"]["Ref_Key"] == legal for a in accounts)
    assert all(a["Owner_Type"] == "StandardODATA.Catalog_Контрагенты" for a in accounts)
