"""List-method helpers: Bitrix filter prefixes, ordering, 50-per-page paging and ``start=-1``."""

from .errors import ApiError
from .methods import ListResult

PAGE_SIZE = 50
# settings/how-to-call-rest-api/list-methods-pecularities.md: prefixes, longest first
_PREFIXES = [">=", "<=", "!@", "!=", "!%", "=%", "%=", ">", "<", "@", "!", "=", "%"]


def split_filter_key(key):
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            return prefix, key[len(prefix) :]
    return "", key


def norm(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _compare(left, right):
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    a, b = norm(left), norm(right)
    return (a > b) - (a < b)


def _equal(left, right):
    if isinstance(left, list):
        return any(_equal(item, right) for item in left)
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return a == b
    return norm(left).lower() == norm(right).lower()


def _as_list(value):
    if isinstance(value, dict):
        return list(value.values())
    return value if isinstance(value, list) else [value]


def matches_condition(actual, prefix, expected):
    if prefix in ("", "="):
        if isinstance(expected, list | dict):
            return any(_equal(actual, item) for item in _as_list(expected))
        return _equal(actual, expected)
    if prefix == "@":
        return any(_equal(actual, item) for item in _as_list(expected))
    if prefix == "!@":
        return not any(_equal(actual, item) for item in _as_list(expected))
    if prefix in ("!", "!="):
        if isinstance(expected, list | dict):
            return not any(_equal(actual, item) for item in _as_list(expected))
        return not _equal(actual, expected)
    if prefix in ("%", "=%", "%="):
        return norm(expected).lower().strip("%") in norm(actual).lower()
    if prefix == "!%":
        return norm(expected).lower() not in norm(actual).lower()
    if norm(actual) == "":
        return False
    result = _compare(actual, expected)
    return {">": result > 0, ">=": result >= 0, "<": result < 0, "<=": result <= 0}[prefix]


def apply_filter(records, flt, getter):
    """Keep records where every condition holds; ``getter(record, field)`` reads a field."""
    if not flt:
        return list(records)
    if not isinstance(flt, dict):
        raise ApiError("INVALID_ARG_VALUE", "Parameter 'filter' must be array", 400)
    conditions = [(*split_filter_key(key), value) for key, value in flt.items() if key.upper() != "LOGIC"]
    return [
        r
        for r in records
        if all(matches_condition(getter(r, name), prefix, value) for prefix, name, value in conditions)
    ]


def apply_order(records, order, getter, default_field):
    keys = list(order.items()) if isinstance(order, dict) and order else [(default_field, "ASC")]
    result = list(records)
    for name, direction in reversed(keys):
        reverse = str(direction).upper() == "DESC"
        result.sort(key=lambda r, n=name: _sort_key(getter(r, n)), reverse=reverse)
    return result


def _sort_key(value):
    number = _number(value)
    return (0, number, "") if number is not None else (1, 0.0, norm(value))


def parse_start(raw):
    try:
        return int(raw or 0)
    except (TypeError, ValueError):
        return 0


def paginate(records, start, wrap):
    """Slice one page. ``start=-1`` is the fast mode: no ``total``, no ``next`` (huge-data.md)."""
    start = parse_start(start)
    if start < 0:
        return ListResult(wrap(records[:PAGE_SIZE]))
    page = records[start : start + PAGE_SIZE]
    nxt = start + PAGE_SIZE if start + PAGE_SIZE < len(records) else None
    return ListResult(wrap(page), total=len(records), next=nxt)
