"""Protocol: service document, $metadata, auth, errors, JSON shapes and names per the УТ 10.3 metadata."""

import re
import xml.etree.ElementTree as ET

import pytest
import requests

from .conftest import METADATA

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
EMPTY = "00000000-0000-0000-0000-000000000000"
EDMX = "{http://schemas.microsoft.com/ado/2009/11/edm}"


def test_service_document_lists_every_metadata_set(odata):
    names = {item["name"] for item in odata.get("")["value"]}
    assert set(METADATA) <= names
    for extra in ("Document_ЗаказПокупателя_Товары", "AccumulationRegister_РасчетыСКонтрагентами_RecordType",
                  "InformationRegister_ЦеныНоменклатуры_RecordType", "Document_ЗакрытиеЗаказовПокупателей",
                  "Document_УстановкаЦенНоменклатуры"):
        assert extra in names


def test_metadata_is_csdl_with_standard_namespace(odata):
    response = odata.raw("$metadata")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    schema = root.find(f".//{EDMX}Schema")
    assert schema.get("Namespace") == "StandardODATA"
    types = {t.get("Name"): t for t in schema.findall(f"{EDMX}EntityType")}
    sets = {s.get("Name") for s in schema.iter(f"{EDMX}EntitySet")}
    assert set(METADATA) <= sets and set(METADATA) <= set(types)
    props = {p.get("Name"): p.get("Type") for p in types["Catalog_Контрагенты"].findall(f"{EDMX}Property")}
    assert props["Ref_Key"] == "Edm.Guid" and props["ОсновнойДоговорКонтрагента_Key"] == "Edm.Guid"
    assert props["IsFolder"] == "Edm.Boolean" and props["ЮрФизЛицо"] == "Edm.String"
    navs = {n.get("Name") for n in types["Catalog_БанковскиеСчета"].findall(f"{EDMX}NavigationProperty")}
    assert "Банк" in navs


def test_auth_required_with_1c_realm(emu):
    url = emu.odata_url + "Catalog_Валюты"
    response = requests.get(url, timeout=10)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="1C:Enterprise"'
    assert "odata.error" in response.json()
    assert requests.get(url, auth=("odata", "wrong"), timeout=10).status_code == 401
    assert requests.get(url, auth=("odata", "odata"), timeout=10).status_code == 200


@pytest.mark.parametrize("path", ["Catalog_НетТакого", "Document_ЗаказПокупателя/Foo"])
def test_unknown_resource_is_404(odata, path):
    response = odata.raw(path)
    assert response.status_code == 404
    error = response.json()["odata.error"]
    assert error["code"] == "-1" and error["message"]["lang"] == "ru"
    assert "Не найден" in error["message"]["value"]


def test_unknown_key_is_404_entity_not_found(odata):
    response = odata.raw("Catalog_Контрагенты(guid'11111111-2222-3333-4444-555555555555')")
    assert response.status_code == 404
    assert response.json()["odata.error"]["message"]["value"] == "Экземпляр сущности не найден"


@pytest.mark.parametrize("bad", ["ИНН eq", "ИНН eq 'x", "Нет eq 1", "(ИНН eq '1'", "ИНН eq guid'xyz'",
                                 "Date gt datetime'2020-13'", "foo(ИНН)", "ИНН eq '1' and", "ВидыДеятельности eq 1"])
def test_bad_filter_is_400_with_russian_message(odata, bad):
    response = odata.raw("Catalog_Контрагенты", _filter=bad)
    assert response.status_code == 400, response.text
    message = response.json()["odata.error"]["message"]["value"]
    assert "$filter" in message


def test_plus_is_not_decoded_as_space(odata, emu):
    response = odata.session.get(emu.odata_url + "Catalog_Валюты?$filter=Code+eq+'643'", timeout=10)
    assert response.status_code == 400
    ok = odata.session.get(emu.odata_url + "Catalog_Валюты?$filter=Code%20eq%20'643'&$format=json", timeout=10)
    assert [c["Description"] for c in ok.json()["value"]] == ["руб."]


def test_percent_encoded_cyrillic_path(odata, emu):
    response = odata.session.get(emu.odata_url + "Catalog_%D0%92%D0%B0%D0%BB%D1%8E%D1%82%D1%8B", timeout=10)
    assert response.status_code == 200
    codes = {c["Code"] for c in response.json()["value"]}
    assert {"643", "840", "978"} <= codes


def test_default_format_is_json(odata):
    response = odata.raw("Catalog_Валюты")
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["odata.metadata"].endswith("$metadata#Catalog_Валюты")


def test_nometadata_drops_annotations(odata):
    body = odata.get("Catalog_БанковскиеСчета", _format="json;odata=nometadata", _top=1)
    assert "odata.metadata" not in body
    assert not any("@navigationLinkUrl" in k for k in body["value"][0])


def expected_properties(entity_set):
    names = set()
    for attr in METADATA[entity_set]["attributes"].values():
        names.update(attr["odata"])
    return names


@pytest.mark.parametrize("entity_set", [n for n in METADATA if n.startswith(("Catalog_", "Document_"))])
def test_objects_carry_metadata_names_and_standard_fields(odata, entity_set):
    rows = odata.values(entity_set, _top=3)
    assert rows, entity_set
    row = rows[0]
    assert expected_properties(entity_set) <= set(row)
    assert set(METADATA[entity_set].get("tabular_parts") or {}) <= set(row)
    standard = {"Ref_Key", "DataVersion", "DeletionMark"}
    standard |= {"Code", "Description", "Predefined"} if entity_set.startswith("Catalog_") else {
        "Number", "Date", "Posted"}
    assert standard <= set(row)
    assert GUID.match(row["Ref_Key"])
    for name, value in row.items():
        if name.endswith("_Key"):
            assert GUID.match(value), (name, value)
        if name.endswith("_Key") and name != "Ref_Key":
            assert row[f"{name[:-4]}@navigationLinkUrl"] == f"{entity_set}(guid'{row['Ref_Key']}')/{name[:-4]}"
        if name.endswith("_Type"):
            assert value.startswith("StandardODATA."), (name, value)


def test_document_shapes(odata, cases):
    order = odata.get(f"Document_ЗаказПокупателя(guid'{cases['order_new'][0]}')")
    assert order["odata.metadata"].endswith("#Document_ЗаказПокупателя/@Element")
    assert re.match(r"^ТД\d{9}$", order["Number"])
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$", order["Date"])
    assert order["ДатаВходящегоДокументаЭлектронногоОбмена"] == "0001-01-01T00:00:00"
    line = order["Товары"][0]
    assert line["Ref_Key"] == order["Ref_Key"] and line["LineNumber"] == "1"
    assert order["СкладГруппа"] == "" and order["СкладГруппа_Type"] == "StandardODATA.Undefined"
    assert order["Услуги"] and "ЕдиницаИзмерения_Key" not in order["Услуги"][0]


def test_catalog_shapes(odata, cases):
    folder = odata.get(f"Catalog_Контрагенты(guid'{cases['counterparty_folder'][0]}')")
    assert folder["IsFolder"] is True and folder["Parent_Key"] == EMPTY
    child = odata.get(f"Catalog_Контрагенты(guid'{cases['counterparty_folder'][1]}')")
    assert child["Parent_Key"] == folder["Ref_Key"]
    legal = odata.get(f"Catalog_Контрагенты(guid'{cases['counterparty_legal_full'][0]}')")
    assert legal["ЮрФизЛицо"] == "ЮрЛицо" and legal["IsFolder"] is False
    accounts = odata.values("Catalog_БанковскиеСчета",
                            _filter=f"Owner eq cast(guid'{legal['Ref_Key']}','Catalog_Контрагенты')")
    assert len(accounts) >= 3
    assert all(a["Owner_Type"] == "StandardODATA.Catalog_Контрагенты" for a in accounts)
    units = odata.values("Catalog_ЕдиницыИзмерения", _top=1)
    assert units[0]["Owner_Type"] == "StandardODATA.Catalog_Номенклатура"
    persons = odata.values("Catalog_КонтактныеЛицаКонтрагентов", _top=1)
    assert "Owner_Key" in persons[0]


def test_currencies_organizations_price_types(odata):
    currencies = {c["Code"]: c for c in odata.values("Catalog_Валюты")}
    assert {"643", "840", "978"} <= set(currencies)
    assert len(odata.values("Catalog_Организации")) == 2
    types = {t["Description"]: t for t in odata.values("Catalog_ТипыЦенНоменклатуры")}
    assert {"Закупочная", "Оптовая", "Розничная"} <= set(types)
    calculated = [t for t in types.values() if t["Рассчитывается"]]
    assert len(calculated) == 1
    assert calculated[0]["БазовыйТипЦен_Key"] == types["Оптовая"]["Ref_Key"]
    assert calculated[0]["ПроцентСкидкиНаценки"] == 10


def test_contact_kinds_predefined_codes(odata):
    kinds = {k["Code"]: k for k in odata.values("Catalog_ВидыКонтактнойИнформации")}
    for code in ("000000001", "000000002", "000000005", "000000013", "000000014", "000000016", "000000018",
                 "000000021", "000000023"):
        assert kinds[code]["Predefined"] is True
    assert kinds["000000005"]["Тип"] == "Телефон"


def test_data_version_is_opaque_base64(odata):
    rows = odata.values("Catalog_Номенклатура", _select="Ref_Key,DataVersion")
    versions = [r["DataVersion"] for r in rows]
    assert all(re.match(r"^[A-Za-z0-9+/]{11}=$", v) for v in versions)
    assert len(set(versions)) == len(versions)


def test_faults_and_latency(odata):
    odata.control("POST", "faults", {"fault_rate": 1.0, "latency_ms": 0})
    try:
        response = odata.raw("Catalog_Валюты")
        assert response.status_code == 500
        assert response.json()["odata.error"]["message"]["value"]
    finally:
        odata.control("POST", "faults", {"fault_rate": 0.0, "latency_ms": 0})
    assert odata.raw("Catalog_Валюты").status_code == 200


def test_stats_count_requests_by_set(odata):
    odata.control("POST", "stats/reset")
    odata.get("Catalog_Валюты")
    odata.raw("Catalog_Валюты/$count")
    odata.get("Document_ЗаказПокупателя", _top=1)
    stats = odata.control("GET", "stats")
    assert stats["requests"] == 3
    assert stats["by_entity_set"] == {"Catalog_Валюты": 2, "Document_ЗаказПокупателя": 1}


def test_write_methods_are_refused(odata, emu):
    response = odata.session.post(emu.odata_url + "Catalog_Валюты", json={}, timeout=10)
    assert response.status_code == 405
    assert "odata.error" in response.json()


def test_metadata_covers_every_served_set(odata):
    root = ET.fromstring(odata.raw("$metadata").content)
    in_metadata = {s.get("Name") for s in root.iter(f"{EDMX}EntitySet")}
    served = {item["name"] for item in odata.get("")["value"]}
    assert served == in_metadata
