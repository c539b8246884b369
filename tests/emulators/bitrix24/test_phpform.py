"""PHP-style form parsing and encoding."""

from emulators.bitrix24 import phpform


def test_parse_nested_lists_and_append():
    parsed = phpform.parse_query(
        "fields[fm][0][typeId]=PHONE&fields[fm][0][value]=%2B7+900&fields[contactIds][]=3&fields[contactIds][]=5"
        "&fields[title]=A%26B&filter[%3Eid]=10"
    )
    assert parsed == {
        "fields": {"fm": [{"typeId": "PHONE", "value": "+7 900"}], "contactIds": ["3", "5"], "title": "A&B"},
        "filter": {">id": "10"},
    }


def test_encode_round_trip():
    data = {
        "event": "ONCRMDEALUPDATE",
        "data": {"FIELDS": {"ID": 5}},
        "document_id": ["crm", "X", "DEAL_5"],
        "flag": True,
        "empty": None,
    }
    encoded = phpform.encode(data)
    assert "data%5BFIELDS%5D%5BID%5D=5" in encoded and "document_id%5B2%5D=DEAL_5" in encoded
    assert phpform.parse_query(encoded) == {
        "event": "ONCRMDEALUPDATE",
        "data": {"FIELDS": {"ID": "5"}},
        "document_id": ["crm", "X", "DEAL_5"],
        "flag": "Y",
        "empty": "",
    }
