"""Deal funnels and stages: crm.category.*, crm.status.* (reference §3.8)."""

import re

from .. import query
from ..errors import ApiError
from ..state import add_category, add_status, next_id, stage_entity_id, stage_prefix
from . import method

_ENTITY_RE = re.compile(r"^DEAL_STAGE(?:_(\d+))?$")


def _deal_entity(call):
    type_id = call.param("entityTypeId", "entityTypeID", default=2)
    if str(type_id) != "2":
        raise ApiError("NOT_SUPPORTED", "Only deal funnels (entityTypeId 2) are emulated", 400)


# ---- crm.category.* (api-reference/crm/universal/category/*) -----------------------------------
@method("crm.category.list")
def category_list(call):
    _deal_entity(call)
    rows = sorted(call.portal["categories"].values(), key=lambda c: (int(c["sort"]), int(c["id"])))
    rows = query.apply_filter(rows, call.param("filter", default={}), lambda r, n: r.get(n))
    return query.paginate(rows, call.param("start"), lambda page: {"categories": page})


@method("crm.category.get")
def category_get(call):
    _deal_entity(call)
    row = call.portal["categories"].get(str(call.param("id", default="")))
    if row is None:
        raise ApiError("NOT_FOUND", "Направление не найдено", 400)
    return {"category": row}


@method("crm.category.add", admin=True, write=True)
def category_add(call):
    _deal_entity(call)
    fields = call.param("fields", default={}) or {}
    if not str(fields.get("name", "")).strip():
        raise ApiError("CRM_FIELD_ERROR_REQUIRED", 'Поле "Название" обязательно для заполнения', 400)
    category_id = next_id(call.portal, "category")
    row = add_category(
        call.portal,
        category_id,
        fields["name"],
        int(fields.get("sort", 500)),
        origin_id=fields.get("originId", ""),
        originator_id=fields.get("originatorId", ""),
    )
    return {"category": row}


@method("crm.category.update", admin=True, write=True)
def category_update(call):
    row = category_get(call)["category"]
    fields = call.param("fields", default={}) or {}
    for key in ("name", "sort", "originId", "originatorId"):
        if key in fields:
            row[key] = int(fields[key]) if key == "sort" else fields[key]
    return {"category": row}


@method("crm.category.delete", admin=True, write=True)
def category_delete(call):
    row = category_get(call)["category"]
    if row["isDefault"] == "Y":
        raise ApiError("ERROR_CORE", "Нельзя удалить направление по умолчанию", 400)
    if any(int(d.get("categoryId", 0)) == int(row["id"]) for d in call.portal["items"]["2"].values()):
        raise ApiError("ERROR_CORE", "В направлении есть сделки", 400)
    del call.portal["categories"][str(row["id"])]
    entity_id = stage_entity_id(row["id"])
    for key in [k for k, s in call.portal["statuses"].items() if s["ENTITY_ID"] == entity_id]:
        del call.portal["statuses"][key]
    return []


# ---- crm.status.* (api-reference/crm/status/*) --------------------------------------------------
def _upper_keys(raw):
    return {str(k).upper(): v for k, v in (raw or {}).items()}


@method("crm.status.list")
def status_list(call):
    rows = sorted(call.portal["statuses"].values(), key=lambda s: (s["ENTITY_ID"], int(s["SORT"])))
    flt = _upper_keys(call.param("filter", default={}))
    rows = query.apply_filter(rows, flt, lambda r, n: r.get(n.upper()))
    rows = query.apply_order(rows, _upper_keys(call.param("order", default={})), lambda r, n: r.get(n), "SORT")
    return list(rows)


@method("crm.status.entity.items")
def status_entity_items(call):
    entity_id = str(call.param("entityId", "ENTITY_ID", default=""))
    rows = [s for s in call.portal["statuses"].values() if s["ENTITY_ID"] == entity_id]
    return [
        {k: s[k] for k in ("NAME", "SORT", "STATUS_ID", "COLOR", "SEMANTICS")}
        for s in sorted(rows, key=lambda s: int(s["SORT"]))
    ]


@method("crm.status.entity.types")
def status_entity_types(call):
    types = [{"ID": "SOURCE", "NAME": "Источники"}, {"ID": "DEAL_TYPE", "NAME": "Тип сделки"}]
    for category in sorted(call.portal["categories"].values(), key=lambda c: int(c["id"])):
        prefix = stage_prefix(category["id"])
        types.append(
            {
                "ID": stage_entity_id(category["id"]),
                "NAME": f"Стадии сделки ({category['name']})",
                "PARENT_ID": "DEAL_STAGE" if category["id"] else None,
                "SEMANTIC_INFO": {
                    "START_FIELD": f"{prefix}NEW",
                    "FINAL_SUCCESS_FIELD": f"{prefix}WON",
                    "FINAL_UNSUCCESS_FIELD": f"{prefix}LOSE",
                    "FINAL_SORT": 0,
                },
                "ENTITY_TYPE_ID": 2,
                "PREFIX": prefix.rstrip(":"),
                "FIELD_ATTRIBUTE_SCOPE": prefix.rstrip(":"),
                "IS_ENABLED": True,
                "CATEGORY_ID": category["id"],
            }
        )
    return types


@method("crm.status.get")
def status_get(call):
    row = call.portal["statuses"].get(str(call.param("id", "ID", default="")))
    if row is None:
        raise ApiError("", "Not found", 400)
    return row


@method("crm.status.add", admin=True, write=True)
def status_add(call):
    fields = _upper_keys(call.param("fields", default={}))
    entity_id, status_id, name = (str(fields.get(k, "")).strip() for k in ("ENTITY_ID", "STATUS_ID", "NAME"))
    if not entity_id or not status_id or not name:
        raise ApiError("", "Required fields: ENTITY_ID, STATUS_ID, NAME", 400)
    match = _ENTITY_RE.match(entity_id)
    category_id = None
    if match:
        category_id = int(match.group(1) or 0)
        if str(category_id) not in call.portal["categories"]:
            raise ApiError("", f"Entity {entity_id} not found", 400)
        status_id = _prefixed(status_id, category_id)
    if any(s["ENTITY_ID"] == entity_id and s["STATUS_ID"] == status_id for s in call.portal["statuses"].values()):
        raise ApiError("", "Элемент с таким STATUS_ID уже существует", 400)
    semantics = str(fields.get("SEMANTICS", "") or "").upper()
    row = add_status(
        call.portal,
        entity_id,
        status_id,
        name,
        int(fields.get("SORT", 10) or 10),
        fields.get("COLOR") or "#39A8EF",
        semantics if semantics in ("S", "F") else "",
        category_id=category_id,
    )
    return int(row["ID"])


def _prefixed(status_id, category_id):
    """``DEAL_STAGE_<n>``: the ``C<n>:`` prefix is added unless present (crm-status-add.md)."""
    prefix = stage_prefix(category_id)
    bare = status_id[len(prefix) :] if prefix and status_id.startswith(prefix) else status_id
    if len(bare) > 22 or not re.fullmatch(r"[A-Za-z0-9_-]+", bare):
        raise ApiError("", "STATUS_ID: up to 22 characters A-Z a-z 0-9 _ -", 400)
    return prefix + bare


@method("crm.status.update", admin=True, write=True)
def status_update(call):
    row = status_get(call)
    fields = _upper_keys(call.param("fields", default={}))
    for key in ("NAME", "SORT", "COLOR"):
        if key in fields:
            row[key] = str(fields[key])
    if "COLOR" in fields:
        row["EXTRA"]["COLOR"] = fields["COLOR"]
    return True


@method("crm.status.delete", admin=True, write=True)
def status_delete(call):
    row = status_get(call)
    params = _upper_keys(call.param("params", default={}))
    if row["SYSTEM"] == "Y" and str(params.get("FORCED", "N")).upper() != "Y":
        raise ApiError("", "Can't delete system status", 400)
    if any(d.get("stageId") == row["STATUS_ID"] for d in call.portal["items"]["2"].values()):
        raise ApiError("", "Стадия используется в сделках", 400)
    del call.portal["statuses"][row["ID"]]
    return True


@method("crm.currency.list")
def currency_list(call):
    return sorted(call.portal["currencies"].values(), key=lambda c: c["SORT"])
