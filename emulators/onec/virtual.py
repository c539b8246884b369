"""Virtual tables of registers: SliceLast/SliceFirst, Balance and Turnovers."""

import re
from collections import defaultdict

from .errors import ODataError, bad_request
from .query import filter_rows, normalize_datetime, split_top_level
from .schema import COMPOSITE, COMPOSITE_TYPE, DATE, DECIMAL, EntitySet, Prop

FUNCTION_RE = re.compile(r"^(SliceLast|SliceFirst|Balance|Turnovers)(?:\((.*)\))?$", re.DOTALL)
VIRTUAL_FUNCTIONS = ("SliceLast", "SliceFirst", "Balance", "Turnovers")


def parse_params(text):
    """'Period=datetime'…', Condition='a eq ''x'''' -> {'Period': '…', 'Condition': "a eq 'x'"}."""
    params = {}
    for part in split_top_level(text or ""):
        if "=" not in part:
            raise bad_request(f"Неверный параметр виртуальной таблицы: '{part}'")
        name, raw = (s.strip() for s in part.split("=", 1))
        params[name] = _param_value(raw)
    return params


def _param_value(raw):
    if raw.startswith("datetime'") and raw.endswith("'"):
        try:
            return normalize_datetime(raw[9:-1])
        except ODataError:
            raise bad_request(f"Неверное значение даты в параметре виртуальной таблицы: {raw}") from None
    if raw.startswith("'") and raw.endswith("'") and len(raw) >= 2:
        return raw[1:-1].replace("''", "'")
    return raw


def run_virtual(store, register_set, function, args):
    """(result EntitySet, rows) of a virtual table of register_set (base name or _RecordType)."""
    base = register_set[: -len("_RecordType")] if register_set.endswith("_RecordType") else register_set
    rows_es = store.schema.get(base + "_RecordType")
    if rows_es is None:
        raise bad_request(f"Виртуальная таблица {function} не поддерживается для {register_set}")
    accumulation = base.startswith("AccumulationRegister_")
    if function in ("SliceLast", "SliceFirst") and accumulation:
        raise bad_request(f"Виртуальная таблица {function} не поддерживается для регистра накопления")
    if function in ("Balance", "Turnovers") and not accumulation:
        raise bad_request(f"Виртуальная таблица {function} не поддерживается для регистра сведений")
    params = parse_params(args)
    rows = store.rows(rows_es.name)
    if params.get("Condition"):
        rows = filter_rows(store, rows_es, rows, params["Condition"], row_source=rows_es.name)
    rows = [r for r in rows if r.get("Active", True)]
    if function in ("SliceLast", "SliceFirst"):
        return slice_table(rows_es, rows, params, last=function == "SliceLast")
    dims = chosen_dimensions(rows_es, params.get("Dimensions"))
    if function == "Balance":
        return balance_table(rows_es, rows, params, dims)
    return turnovers_table(rows_es, rows, params, dims)


def slice_table(rows_es, rows, params, last):
    period = params.get("Period")
    if period:
        rows = [r for r in rows if (r["Period"] <= period if last else r["Period"] >= period)]
    keys = [p.name for p in rows_es.dimensions]
    chosen = {}
    for row in rows:
        key = tuple(row.get(k) for k in keys)
        current = chosen.get(key)
        if current is None or (row["Period"] >= current["Period"] if last else row["Period"] < current["Period"]):
            chosen[key] = row
    props = [Prop("Period", DATE)] + rows_es.dimensions + rows_es.resources
    result = EntitySet(f"{rows_es.parent}_{'SliceLast' if last else 'SliceFirst'}", "virtual", props)
    return result, list(chosen.values())


def chosen_dimensions(rows_es, text):
    if not text:
        return list(rows_es.dimensions)
    dims = []
    for name in (n.strip() for n in text.split(",") if n.strip()):
        matched = [p for p in rows_es.dimensions if p.name in (name, name + "_Key", name + "_Type")]
        if not matched:
            raise bad_request(f"Неизвестное измерение '{name}' в параметре Dimensions")
        dims.extend(matched)
    return dims


def _group(rows, dims):
    groups = defaultdict(list)
    for row in rows:
        groups[tuple(row.get(p.name, p.default) for p in dims)].append(row)
    return groups


def _resources(rows_es):
    return [p for p in rows_es.resources if p.kind == DECIMAL]


def balance_table(rows_es, rows, params, dims):
    period = params.get("Period")
    if period:
        rows = [r for r in rows if r["Period"] < period]
    resources = _resources(rows_es)
    out = []
    for key, group in _group(rows, dims).items():
        sums = {f"{p.name}Balance": _signed_sum(group, p.name) for p in resources}
        if any(sums.values()):
            out.append({**dict(zip((p.name for p in dims), key, strict=True)), **sums})
    props = dims + [Prop(f"{p.name}Balance", DECIMAL) for p in resources]
    return EntitySet(f"{rows_es.parent}_Balance", "virtual", _with_types(props)), out


def turnovers_table(rows_es, rows, params, dims):
    start, end = params.get("StartPeriod"), params.get("EndPeriod")
    rows = [r for r in rows if (not start or r["Period"] >= start) and (not end or r["Period"] <= end)]
    resources = _resources(rows_es)
    out = []
    for key, group in _group(rows, dims).items():
        sums = {}
        for p in resources:
            receipt = _round(sum(r.get(p.name, 0) for r in group if r.get("RecordType") == "Receipt"))
            expense = _round(sum(r.get(p.name, 0) for r in group if r.get("RecordType") == "Expense"))
            sums.update({f"{p.name}Receipt": receipt, f"{p.name}Expense": expense,
                         f"{p.name}Turnover": _round(receipt - expense)})
        if any(sums.values()):
            out.append({**dict(zip((p.name for p in dims), key, strict=True)), **sums})
    props = list(dims)
    for p in resources:
        props += [Prop(f"{p.name}{s}", DECIMAL) for s in ("Receipt", "Expense", "Turnover")]
    return EntitySet(f"{rows_es.parent}_Turnovers", "virtual", _with_types(props)), out


def _with_types(props):
    """Make sure a composite dimension travels with its _Type companion."""
    names = {p.name for p in props}
    out = []
    for p in props:
        out.append(p)
        if p.kind == COMPOSITE and p.name + "_Type" not in names:
            out.append(Prop(p.name + "_Type", COMPOSITE_TYPE))
    return out


def _signed_sum(rows, name):
    total = 0
    for r in rows:
        value = r.get(name, 0)
        total += value if r.get("RecordType") == "Receipt" else -value
    return _round(total)


def _round(value):
    value = round(value, 3)
    return int(value) if value == int(value) else value
