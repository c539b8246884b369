"""PHP-style query strings (``fields[PHONE][0][VALUE]=…``) for the commands inside a ``batch``."""

from urllib.parse import quote

BATCH_REFERENCE = "$result["


def _pairs(value, prefix: str):
    if isinstance(value, dict):
        if not value:
            yield prefix, ""
        for key, item in value.items():
            yield from _pairs(item, f"{prefix}[{key}]")
    elif isinstance(value, list | tuple):
        if not value:
            yield prefix, ""
        for index, item in enumerate(value):
            yield from _pairs(item, f"{prefix}[{index}]")
    elif isinstance(value, bool):
        yield prefix, "1" if value else "0"
    elif value is None:
        yield prefix, ""
    else:
        yield prefix, str(value)


def _encode_value(value: str) -> str:
    # `$result[key][ID]` references must reach Bitrix24 as written to be resolved
    safe = "$[]" if BATCH_REFERENCE in value else ""
    return quote(value, safe=safe)


def php_query(params: dict) -> str:
    """Encode nested params like PHP's http_build_query (empty containers kept as empty values)."""
    pairs = []
    for key, value in params.items():
        for name, text in _pairs(value, str(key)):
            pairs.append(f"{quote(name, safe='[]')}={_encode_value(text)}")
    return "&".join(pairs)


def batch_command(method: str, params: dict | None) -> str:
    """``method?query`` as a batch ``cmd`` entry."""
    return f"{method}?{php_query(params)}" if params else method
