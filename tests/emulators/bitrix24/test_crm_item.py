"""crm.item.*: multifields, product rows, opportunity, stages, pagination, fast mode, duplicates, UF."""


def _add(portal, type_id, **fields):
    return portal.call("crm.item.add", entityTypeId=type_id, fields=fields)["item"]


def test_multifield_append_update_by_id_and_delete(portal):
    contact = _add(
        portal,
        3,
        name="Иван",
        lastName="Петров",
        fm=[{"typeId": "PHONE", "valueType": "WORK", "value": "+7 (900) 111-22-33"}],
    )
    phone_id = contact["fm"][0]["id"]
    updated = portal.call(
        "crm.item.update",
        entityTypeId=3,
        id=contact["id"],
        fields={"fm": [{"typeId": "PHONE", "valueType": "WORK", "value": "+7 (900) 111-22-33"}]},
    )["item"]
    assert len(updated["fm"]) == 2, "an entry without id is appended, even with the same value"
    second_id = updated["fm"][1]["id"]
    updated = portal.call(
        "crm.item.update",
        entityTypeId=3,
        id=contact["id"],
        fields={
            "fm": [
                {"id": phone_id, "typeId": "PHONE", "valueType": "MOBILE", "value": "+79001112234"},
                {"id": second_id, "value": ""},
                {"typeId": "EMAIL", "valueType": "WORK", "value": "ivan@example.com"},
            ]
        },
    )["item"]
    assert [(f["id"], f["value"], f["valueType"]) for f in updated["fm"] if f["typeId"] == "PHONE"] == [
        (phone_id, "+79001112234", "MOBILE")
    ]
    email = next(f for f in updated["fm"] if f["typeId"] == "EMAIL")
    updated = portal.call(
        "crm.item.update", entityTypeId=3, id=contact["id"], fields={"fm": [{"id": email["id"], "DELETE": "Y"}]}
    )["item"]
    assert [f["typeId"] for f in updated["fm"]] == ["PHONE"]


def test_productrow_set_replaces_all_and_recomputes_opportunity(portal):
    deal = _add(portal, 2, title="Заказ", opportunity=777)
    assert deal["opportunity"] == 777, "without rows the given amount is kept"
    rows = [{"productName": "A", "price": 100, "quantity": 2}, {"productName": "B", "price": 50, "quantity": 1}]
    set_rows = portal.call("crm.item.productrow.set", ownerType="D", ownerId=deal["id"], productRows=rows)
    assert len(set_rows["productRows"]) == 2
    assert portal.call("crm.item.get", entityTypeId=2, id=deal["id"])["item"]["opportunity"] == 250
    portal.call(
        "crm.item.productrow.set",
        ownerType="D",
        ownerId=deal["id"],
        productRows=[{"productName": "C", "price": 10, "quantity": 3}],
    )
    listed = portal.call("crm.item.productrow.list", filter={"=ownerType": "D", "=ownerId": deal["id"]})
    assert [r["productName"] for r in listed["productRows"]] == ["C"]
    assert portal.call("crm.item.get", entityTypeId=2, id=deal["id"])["item"]["opportunity"] == 30
    portal.call(
        "crm.item.update", entityTypeId=2, id=deal["id"], fields={"isManualOpportunity": "Y", "opportunity": 999}
    )
    portal.call("crm.item.productrow.set", ownerType="D", ownerId=deal["id"], productRows=[])
    assert portal.call("crm.item.get", entityTypeId=2, id=deal["id"])["item"]["opportunity"] == 999


def test_pagination_next_total_and_fast_mode(portal):
    portal.call("batch", cmd={str(i): f"crm.item.add?entityTypeId=4&fields[title]=C{i}" for i in range(50)})
    portal.call("batch", cmd={str(i): f"crm.item.add?entityTypeId=4&fields[title]=D{i}" for i in range(20)})
    first = portal.raw("crm.item.list", entityTypeId=4, select=["id", "title"]).json()
    assert first["total"] == 70 and first["next"] == 50 and len(first["result"]["items"]) == 50
    assert set(first["result"]["items"][0]) == {"id", "title"}
    last = portal.raw("crm.item.list", entityTypeId=4, start=50).json()
    assert "next" not in last and len(last["result"]["items"]) == 20
    seen, last_id = [], 0
    while True:
        page = portal.raw(
            "crm.item.list", entityTypeId=4, start=-1, order={"id": "ASC"}, filter={">id": last_id}
        ).json()
        assert "total" not in page and "next" not in page
        items = page["result"]["items"]
        seen += [i["id"] for i in items]
        if len(items) < 50:
            break
        last_id = items[-1]["id"]
    assert len(seen) == 70 and seen == sorted(seen)


def test_list_filters_with_prefixes(portal):
    for amount in (10, 20, 30):
        _add(
            portal,
            2,
            title=f"D{amount}",
            opportunity=amount,
            isManualOpportunity="Y",
            originatorId="1C",
            originId=f"guid-{amount}",
        )

    def titles(flt):
        return [i["title"] for i in portal.call("crm.item.list", entityTypeId=2, filter=flt)["items"]]

    assert titles({">opportunity": 10}) == ["D20", "D30"]
    assert titles({"<=opportunity": 20}) == ["D10", "D20"]
    assert titles({"@originId": ["guid-10", "guid-30"]}) == ["D10", "D30"]
    assert titles({"!originId": "guid-10", "=originatorId": "1C"}) == ["D20", "D30"]
    assert titles({"%title": "3"}) == ["D30"]
    assert titles({"ORIGIN_ID": "guid-20"}) == ["D20"]


def test_deal_stage_validation_closed_and_category_move(portal):
    category = portal.call("crm.category.add", entityTypeId=2, fields={"name": "1С"})["category"]
    cid = category["id"]
    status, body = portal.error("crm.item.add", entityTypeId=2, fields={"categoryId": cid, "stageId": "NEW"})
    assert status == 400
    deal = _add(portal, 2, categoryId=cid)
    assert deal["stageId"] == f"C{cid}:NEW" and deal["closed"] == "N"
    won = portal.call("crm.item.update", entityTypeId=2, id=deal["id"], fields={"stageId": f"C{cid}:WON"})
    assert won["item"]["closed"] == "Y" and won["item"]["stageSemanticId"] == "S"
    moved = portal.call("crm.item.update", entityTypeId=2, id=deal["id"], fields={"categoryId": 0})["item"]
    assert moved["stageId"] == "NEW" and moved["closed"] == "N"
    history = portal.emulator.portal_state(portal.member_id)["stage_history"]
    assert [h["STAGE_ID"] for h in history] == [f"C{cid}:NEW", f"C{cid}:WON", "NEW"]


def test_delete_get_fields_and_errors(portal):
    company = _add(portal, 4, title="X")
    assert portal.call("crm.item.delete", entityTypeId=4, id=company["id"]) == []
    status, body = portal.error("crm.item.get", entityTypeId=4, id=company["id"])
    assert (status, body["error"]) == (400, "NOT_FOUND")
    fields = portal.call("crm.item.fields", entityTypeId=2)["fields"]
    assert fields["stageId"]["type"] == "crm_status" and fields["contactIds"]["isMultiple"] is True


def test_duplicate_findbycomm_ignores_phone_formatting(portal):
    contact = _add(
        portal,
        3,
        name="A",
        fm=[{"typeId": "PHONE", "value": "+7 (912) 345-67-89"}, {"typeId": "EMAIL", "value": "A@Example.com"}],
    )
    company = _add(portal, 4, title="B", fm=[{"typeId": "PHONE", "value": "89123456789"}])
    found = portal.call("crm.duplicate.findbycomm", type="PHONE", values=["79123456789"])
    assert found == {"CONTACT": [contact["id"]], "COMPANY": [company["id"]]}
    assert portal.call("crm.duplicate.findbycomm", type="EMAIL", values=["a@example.com"], entity_type="CONTACT") == {
        "CONTACT": [contact["id"]]
    }
    assert portal.call("crm.duplicate.findbycomm", type="PHONE", values=["0000"]) == []
    status, _ = portal.error("crm.duplicate.findbycomm", type="PHONE", values=[str(i) for i in range(21)])
    assert status == 400


def test_deal_userfield_prefix_duplicates_and_values(portal):
    uf_id = portal.call(
        "crm.deal.userfield.add", fields={"FIELD_NAME": "onec_doc", "USER_TYPE_ID": "string", "LABEL": "Документ 1С"}
    )
    assert portal.call("crm.deal.userfield.get", id=uf_id)["FIELD_NAME"] == "UF_CRM_ONEC_DOC"
    status, _ = portal.error("crm.deal.userfield.add", fields={"FIELD_NAME": "ONEC_DOC", "USER_TYPE_ID": "string"})
    assert status == 400
    listed = portal.call("crm.deal.userfield.list", filter={"FIELD_NAME": "UF_CRM_ONEC_DOC"})
    assert [u["ID"] for u in listed] == [str(uf_id)]
    deal = portal.call(
        "crm.item.add",
        entityTypeId=2,
        useOriginalUfNames="Y",
        fields={"UF_CRM_ONEC_DOC": "ЗП-001", "UF_CRM_UNKNOWN": "ignored"},
    )["item"]
    assert deal["UF_CRM_ONEC_DOC"] == "ЗП-001" and "UF_CRM_UNKNOWN" not in deal
    camel = portal.call("crm.item.get", entityTypeId=2, id=deal["id"])["item"]
    assert camel["ufCrmOnecDoc"] == "ЗП-001"
    portal.call("crm.item.update", entityTypeId=2, id=deal["id"], fields={"ufCrmOnecDoc": "ЗП-002"})
    found = portal.call(
        "crm.item.list",
        entityTypeId=2,
        useOriginalUfNames="Y",
        filter={"UF_CRM_ONEC_DOC": "ЗП-002"},
        select=["id", "UF_CRM_ONEC_DOC"],
    )["items"]
    assert found == [{"id": deal["id"], "UF_CRM_ONEC_DOC": "ЗП-002"}]


def test_concurrent_writes_get_unique_ids(portal):
    from concurrent.futures import ThreadPoolExecutor

    def add(n):
        return portal.raw("crm.item.add", entityTypeId=4, fields={"title": f"T{n}"}).json()["result"]["item"]["id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(add, range(80)))
    assert len(set(ids)) == 80
    assert portal.raw("crm.item.list", entityTypeId=4).json()["total"] == 80
