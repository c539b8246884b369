"""PHP-style nested form parsing (``a[b][0][c]=v``) and encoding, as Bitrix24 reads and sends it."""

import re
from urllib.parse import parse_qsl, urlencode

_KEY_PART = re.compile(r"\[([^\]]*)\]")


def split_key(key):
    """``fields[PHONE][0][VALUE]`` -> ``["fields", "PHONE", "0", "VALUE"]``."""
    head, bracket, rest = key.partition("[")
    if not bracket:
        return [key]
    return [head] + _KEY_PART.findall("[" + rest)


def _assign(node, parts, value):
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "":
            part = str(len(node))
        if last:
            node[part] = value
        else:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child


def _listify(node):
    """Turn dicts keyed 0..n-1 into lists, as PHP arrays become JSON lists."""
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value) for key, value in node.items()}
    keys = list(converted)
    if keys and all(k.isdigit() for k in keys) and sorted(int(k) for k in keys) == list(range(len(keys))):
        return [converted[str(i)] for i in range(len(keys))]
    return converted


def parse_pairs(pairs):
    """Build a nested structure from ``(key, value)`` pairs."""
    root = {}
    for key, value in pairs:
        _assign(root, split_key(key), value)
    return {key: _listify(value) for key, value in root.items()}


def parse_query(query):
    """Parse a PHP-style query string into nested dicts/lists."""
    return parse_pairs(parse_qsl(query, keep_blank_values=True))


def flatten(data, prefix=""):
    """Inverse of :func:`parse_pairs`: nested data -> list of ``(key, value)`` pairs."""
    pairs = []
    items = enumerate(data) if isinstance(data, list) else data.items()
    for key, value in items:
        full = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, dict | list):
            pairs.extend(flatten(value, full))
        elif value is None:
            pairs.append((full, ""))
        elif isinstance(value, bool):
            pairs.append((full, "Y" if value else "N"))
        else:
            pairs.append((full, str(value)))
    return pairs


def encode(data):
    """Encode nested data as an ``application/x-www-form-urlencoded`` body."""
    return urlencode(flatten(data))
