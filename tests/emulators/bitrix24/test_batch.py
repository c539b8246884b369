"""batch: references, partial errors, halt, limits on length and nesting."""


def test_batch_references_and_partial_errors(portal):
    result = portal.call(
        "batch",
        halt=0,
        cmd={
            "co": "crm.item.add?entityTypeId=4&fields[title]=" + "ООО%20Ромашка",
            "deal": "crm.item.add?entityTypeId=2&fields[title]=D&fields[companyId]=$result[co][item][id]",
            "bad": "crm.item.get?entityTypeId=2&id=99999",
            "list": "crm.item.list?entityTypeId=4&filter[title]=ООО%20Ромашка",
            "again": "crm.item.get?entityTypeId=4&id=$result[list][items][0][id]",
        },
    )
    company_id = result["result"]["co"]["item"]["id"]
    assert result["result"]["co"]["item"]["title"] == "ООО Ромашка"
    assert result["result"]["deal"]["item"]["companyId"] == company_id
    assert result["result_error"]["bad"]["error"] == "NOT_FOUND"
    assert result["result_total"]["list"] == 1
    assert result["result"]["again"]["item"]["id"] == company_id
    assert set(result["result_time"]) == {"co", "deal", "list", "again"}


def test_batch_halt_stops_at_first_error(portal):
    result = portal.call(
        "batch",
        halt=1,
        cmd={
            "a": "crm.item.add?entityTypeId=4&fields[title]=A",
            "b": "crm.item.get?entityTypeId=4&id=0",
            "c": "crm.item.add?entityTypeId=4&fields[title]=C",
        },
    )
    assert list(result["result"]) == ["a"] and list(result["result_error"]) == ["b"]
    assert portal.call("crm.item.list", entityTypeId=4)["items"][-1]["title"] == "A"


def test_batch_limits(portal):
    status, body = portal.error("batch", cmd={str(i): "app.info" for i in range(51)})
    assert (status, body["error"]) == (400, "ERROR_BATCH_LENGTH_EXCEEDED")
    result = portal.call("batch", cmd={"n": "batch?cmd[x]=app.info", "ok": "app.info"})
    assert result["result_error"]["n"]["error"] == "ERROR_BATCH_METHOD_NOT_ALLOWED"
    assert result["result"]["ok"]["LICENSE_FAMILY"] == "project"


def test_batch_counts_as_one_request_but_many_commands(emulator, portal):
    requests_before = emulator.stats.snapshot()
    portal.call("batch", cmd={str(i): "user.current" for i in range(5)})
    after = emulator.stats.snapshot()
    assert after["total_requests"] - requests_before["total_requests"] == 1
    assert after["commands"]["user.current"] - requests_before["commands"].get("user.current", 0) == 5
