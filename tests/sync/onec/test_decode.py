"""decode: 1С OData values to Python."""

from datetime import datetime
from decimal import Decimal

from sync.onec import decode


def test_empty_values():
    assert decode.ref("00000000-0000-0000-0000-000000000000") is None and decode.ref("") is None
    assert decode.date("0001-01-01T00:00:00") is None and decode.date(None) is None


def test_values():
    assert decode.ref("a1b2") == "a1b2"
    assert decode.date("2026-11-27T10:11:12") == datetime(2026, 11, 27, 10, 11, 12)
    assert decode.number(0.1) == Decimal("0.1") and decode.number(8500) == Decimal(8500)
    assert decode.number(None) == 0
    assert decode.line_number("12") == 12
    assert decode.type_name("StandardODATA.Document_ЗаказПокупателя") == "Document_ЗаказПокупателя"


def test_version_hash_is_stable_and_order_sensitive():
    assert decode.version_hash("a", [1, 2]) == decode.version_hash("a", [1, 2])
    assert decode.version_hash("a", [1, 2]) != decode.version_hash("a", [2, 1])
