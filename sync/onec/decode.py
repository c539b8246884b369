"""Decoding of OData values of 1С (empty references and dates, numbers, line numbers) and version hashing."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal

EMPTY_REF = "00000000-0000-0000-0000-000000000000"
EMPTY_DATE = "0001-01-01T00:00:00"
TYPE_PREFIX = "StandardODATA."


def ref(value) -> str | None:
    """A reference GUID, or None for the empty reference / missing value."""
    if not value or value == EMPTY_REF:
        return None
    return str(value)


def date(value) -> datetime | None:
    """A 1С date-time (local time, no zone), or None for the empty date."""
    if not value or str(value).startswith("0001-01-01"):
        return None
    return datetime.fromisoformat(str(value)[:19])


def number(value) -> Decimal:
    """A number as Decimal (1С sends Edm.Double; str() keeps the shortest exact repr)."""
    if value is None or value == "":
        return Decimal(0)
    return Decimal(str(value))


def line_number(value) -> int:
    """LineNumber travels as a string."""
    return int(value or 0)


def text(value) -> str:
    return "" if value is None else str(value)


def flag(value) -> bool:
    return bool(value) and value != "false"


def type_name(value) -> str:
    """'StandardODATA.Document_ЗаказПокупателя' → 'Document_ЗаказПокупателя'."""
    value = text(value)
    return value[len(TYPE_PREFIX):] if value.startswith(TYPE_PREFIX) else value


def version_hash(*parts) -> str:
    """A short stable hash of JSON-serialisable parts (used as a composite version)."""
    payload = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()
