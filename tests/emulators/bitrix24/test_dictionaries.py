"""Requisites, presets, addresses, bank details, funnels/stages, catalog and prices."""

import pytest

RU_COMPANY = "#CRM_REQUISITE_PRESET_DEF_RU_COMPANY#"


def _preset_id(portal, xml_id):
    presets = portal.call("crm.requisite.preset.list", filter={"XML_ID": xml_id})
    assert len(presets) == 1
    return int(presets[0]["ID"])


def _company_requisite(portal):
    company = portal.call("crm.item.add", entityTypeId=4, fields={"title": "ООО Ромашка"})["item"]
    requisite_id = portal.call(
        "crm.requisite.add",
        fields={
            "ENTITY_TYPE_ID": 4,
            "ENTITY_ID": company["id"],
            "PRESET_ID": _preset_id(portal, RU_COMPANY),
            "NAME": "Организация",
            "RQ_INN": "7701234567",
            "RQ_KPP": "770101001",
            "XML_ID": "guid-1",
        },
    )
    return company, requisite_id


def test_presets_by_xml_id_are_not_1_2_3(portal):
    ids = {_preset_id(portal, f"#CRM_REQUISITE_PRESET_DEF_RU_{kind}#") for kind in ("COMPANY", "INDIVIDUAL", "PERSON")}
    assert len(ids) == 3 and not ids & {1, 2, 3}


def test_requisite_validation_and_filter(portal):
    company, requisite_id = _company_requisite(portal)
    for bad in ({"PRESET_ID": 99999}, {"PRESET_ID": None}, {"NAME": ""}, {"ENTITY_ID": 99999}, {"ENTITY_TYPE_ID": 2}):
        fields = {
            "ENTITY_TYPE_ID": 4,
            "ENTITY_ID": company["id"],
            "PRESET_ID": _preset_id(portal, RU_COMPANY),
            "NAME": "R",
            **bad,
        }
        assert portal.error("crm.requisite.add", fields=fields)[0] == 400, bad
    found = portal.call("crm.requisite.list", filter={"RQ_INN": "7701234567", "ENTITY_TYPE_ID": 4})
    assert [int(r["ID"]) for r in found] == [requisite_id]
    portal.call("crm.requisite.update", id=requisite_id, fields={"RQ_KPP": "770102002"})
    assert portal.call("crm.requisite.get", id=requisite_id)["RQ_KPP"] == "770102002"
    assert portal.call("crm.requisite.list", filter={"XML_ID": "guid-1"}, select=["ID"]) == [{"ID": str(requisite_id)}]


def test_address_is_unique_per_type_and_updated_by_triple(portal):
    _, requisite_id = _company_requisite(portal)
    key = {"TYPE_ID": 6, "ENTITY_TYPE_ID": 8, "ENTITY_ID": requisite_id}
    assert portal.call("crm.address.add", fields={**key, "CITY": "Москва", "ADDRESS_1": "Тверская, 1"}) is True
    status, body = portal.error("crm.address.add", fields={**key, "CITY": "Казань"})
    assert status == 400 and body["error_description"].startswith("TypeAddress exists")
    assert portal.call("crm.address.add", fields={**key, "TYPE_ID": 1, "CITY": "Тула"}) is True
    portal.call("crm.address.update", fields={**key, "CITY": "Санкт-Петербург"})
    rows = portal.call("crm.address.list", filter={"ENTITY_TYPE_ID": 8, "ENTITY_ID": requisite_id, "TYPE_ID": 6})
    assert [r["CITY"] for r in rows] == ["Санкт-Петербург"]
    portal.call("crm.address.delete", fields=key)
    assert len(portal.call("crm.address.list", filter={"ENTITY_ID": requisite_id})) == 1


def test_bank_details(portal):
    _, requisite_id = _company_requisite(portal)
    assert portal.error("crm.requisite.bankdetail.add", fields={"ENTITY_ID": 99999, "NAME": "x"})[0] == 400
    assert portal.error("crm.requisite.bankdetail.add", fields={"ENTITY_ID": requisite_id})[0] == 400
    bank_id = portal.call(
        "crm.requisite.bankdetail.add",
        fields={
            "ENTITY_ID": requisite_id,
            "NAME": "Основной счёт",
            "RQ_BIK": "044525225",
            "RQ_ACC_NUM": "40702810",
            "XML_ID": "acc-1",
        },
    )
    portal.call("crm.requisite.bankdetail.update", id=bank_id, fields={"RQ_BANK_NAME": "Сбербанк"})
    rows = portal.call("crm.requisite.bankdetail.list", filter={"XML_ID": "acc-1"})
    assert rows[0]["RQ_BANK_NAME"] == "Сбербанк" and rows[0]["ENTITY_ID"] == str(requisite_id)
    assert portal.call("crm.requisite.bankdetail.delete", id=bank_id) is True


def test_default_stages_and_new_category_prefixes(portal):
    stages = portal.call("crm.status.list", filter={"ENTITY_ID": "DEAL_STAGE"})
    assert [(s["STATUS_ID"], s["SORT"], s["NAME"]) for s in stages][:2] == [
        ("NEW", "10", "Новая"),
        ("PREPARATION", "20", "Подготовка документов"),
    ]
    assert [s["STATUS_ID"] for s in stages if s["SEMANTICS"] == "F"] == ["LOSE", "APOLOGY"]
    category = portal.call("crm.category.add", entityTypeId=2, fields={"name": "Опт"})["category"]
    cid = category["id"]
    assert cid != 0
    listed = portal.call("crm.category.list", entityTypeId=2)["categories"]
    assert {c["id"] for c in listed} == {0, cid}
    entity = f"DEAL_STAGE_{cid}"
    assert [s["STATUS_ID"] for s in portal.call("crm.status.entity.items", entityId=entity)][0] == f"C{cid}:NEW"
    new_id = portal.call(
        "crm.status.add", fields={"ENTITY_ID": entity, "STATUS_ID": "PAID", "NAME": "Оплачен", "SORT": 45}
    )
    assert portal.call("crm.status.get", id=new_id)["STATUS_ID"] == f"C{cid}:PAID"
    status, _ = portal.error("crm.status.add", fields={"ENTITY_ID": entity, "STATUS_ID": f"C{cid}:PAID", "NAME": "x"})
    assert status == 400
    assert portal.error("crm.status.add", fields={"ENTITY_ID": entity, "STATUS_ID": "X" * 23, "NAME": "x"})[0] == 400
    types = {t["ID"]: t for t in portal.call("crm.status.entity.types")}
    assert types[entity]["PREFIX"] == f"C{cid}" and types[entity]["SEMANTIC_INFO"]["START_FIELD"] == f"C{cid}:NEW"
    portal.call("crm.status.update", id=new_id, fields={"NAME": "Счёт оплачен"})
    assert portal.call("crm.status.delete", id=new_id) is True
    assert portal.error("crm.status.delete", id=stages[0]["ID"])[0] == 400


def test_catalog_dictionaries(portal):
    catalogs = portal.call("catalog.catalog.list")["catalogs"]
    assert [c["productIblockId"] is None for c in catalogs] == [True, False]
    types = portal.call("catalog.priceType.list")["priceTypes"]
    assert [t["name"] for t in types if t["base"] == "Y"] == ["BASE"] and len(types) == 2
    measures = portal.call("catalog.measure.list")["measures"]
    codes = {m["code"]: m for m in measures}
    assert {"796", "166", "163", "112", "006", "055", "113", "778", "356"} <= set(codes)
    assert all(str(m["id"]) != m["code"] for m in measures)
    currencies = portal.call("crm.currency.list")
    assert [c["CURRENCY"] for c in currencies if c["BASE"] == "Y"] == ["RUB"]


@pytest.fixture
def product(portal):
    iblock = next(
        c["iblockId"] for c in portal.call("catalog.catalog.list")["catalogs"] if c["productIblockId"] is None
    )
    kg = next(m["id"] for m in portal.call("catalog.measure.list")["measures"] if m["code"] == "166")
    element = portal.call(
        "catalog.product.add",
        fields={
            "iblockId": iblock,
            "name": "Цемент",
            "xmlId": "nom-1",
            "measure": kg,
            "purchasingPrice": 300,
            "purchasingCurrency": "RUB",
            "vatId": 4,
        },
    )["element"]
    return element


def test_catalog_products(portal, product):
    assert portal.error("catalog.product.add", fields={"name": "x"})[0] == 400
    iblock = product["iblockId"]
    assert portal.error("catalog.product.list", filter={"xmlId": "nom-1"}, select=["id", "iblockId"])[0] == 400
    assert portal.error("catalog.product.list", filter={"iblockId": iblock}, select=["name"])[0] == 400
    found = portal.call(
        "catalog.product.list", filter={"iblockId": iblock, "xmlId": "nom-1"}, select=["id", "iblockId", "name"]
    )["products"]
    assert found == [{"id": product["id"], "iblockId": iblock, "name": "Цемент"}]
    portal.call("catalog.product.update", id=product["id"], fields={"name": "Цемент М500", "active": "N"})
    assert portal.call("catalog.product.get", id=product["id"])["product"]["name"] == "Цемент М500"


def test_services_have_their_own_methods(portal, product):
    iblock = product["iblockId"]
    service = portal.call("catalog.product.service.add", fields={"iblockId": iblock, "name": "Монтаж"})["service"]
    assert service["type"] == 7
    portal.call("catalog.product.service.update", id=service["id"], fields={"name": "Монтаж под ключ"})
    assert portal.call("catalog.product.service.get", id=service["id"])["service"]["name"] == "Монтаж под ключ"
    services = portal.call("catalog.product.service.list", filter={"iblockId": iblock}, select=["id", "iblockId"])
    assert [s["id"] for s in services["services"]] == [service["id"]]
    assert portal.error("catalog.product.service.get", id=product["id"])[0] == 400  # a product is not a service


def test_prices_single_per_group_and_modify_deletes_unlisted(portal, product):
    base = portal.call(
        "catalog.price.add", fields={"productId": product["id"], "catalogGroupId": 1, "price": 500, "currency": "RUB"}
    )["price"]
    status, body = portal.error(
        "catalog.price.add", fields={"productId": product["id"], "catalogGroupId": 1, "price": 510, "currency": "RUB"}
    )
    assert "only single price" in body["error_description"]
    portal.call(
        "catalog.price.add", fields={"productId": product["id"], "catalogGroupId": 2, "price": 450, "currency": "RUB"}
    )
    portal.call("catalog.price.update", id=base["id"], fields={"price": 520})
    portal.call(
        "catalog.price.modify",
        fields={
            "product": {
                "id": product["id"],
                "prices": [{"id": base["id"], "catalogGroupId": 1, "price": 530, "currency": "RUB"}],
            }
        },
    )
    prices = portal.call("catalog.price.list", filter={"productId": product["id"]})["prices"]
    assert [(p["id"], p["catalogGroupId"], p["price"]) for p in prices] == [(base["id"], 1, 530.0)]
