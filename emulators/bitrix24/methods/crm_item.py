"""Universal CRM items (crm.item.*) for deals, contacts and companies, product rows, duplicates."""

import copy
import re

from .. import query
from ..errors import ApiError
from ..state import deal_stages, find_stage, next_id, now_iso
from . import method

ENTITY_NAMES = {2: "DEAL", 3: "CONTACT", 4: "COMPANY"}
COMMON_FIELDS = {
    "id": "integer",
    "assignedById": "user",
    "createdBy": "user",
    "updatedBy": "user",
    "createdTime": "datetime",
    "updatedTime": "datetime",
    "opened": "boolean",
    "comments": "text",
    "originatorId": "string",
    "originId": "string",
    "originVersion": "string",
    "sourceId": "crm_status",
    "sourceDescription": "text",
}
TYPE_FIELDS = {
    2: {
        "title": "string",
        "typeId": "crm_status",
        "categoryId": "crm_category",
        "stageId": "crm_status",
        "stageSemanticId": "string",
        "closed": "boolean",
        "opportunity": "double",
        "isManualOpportunity": "boolean",
        "currencyId": "crm_currency",
        "taxValue": "double",
        "companyId": "crm_company",
        "contactId": "crm_contact",
        "contactIds": "crm_contact",
        "begindate": "date",
        "closedate": "date",
        "probability": "integer",
        "movedTime": "datetime",
        "movedBy": "user",
        "observers": "user",
    },
    3: {
        "name": "string",
        "lastName": "string",
        "secondName": "string",
        "honorific": "crm_status",
        "post": "string",
        "birthdate": "date",
        "typeId": "crm_status",
        "companyId": "crm_company",
        "companyIds": "crm_company",
        "export": "boolean",
        "fm": "crm_multifield",
    },
    4: {
        "title": "string",
        "companyTypeId": "crm_status",
        "industry": "crm_status",
        "employees": "crm_status",
        "revenue": "double",
        "currencyId": "crm_currency",
        "isMyCompany": "boolean",
        "contactIds": "crm_contact",
        "fm": "crm_multifield",
    },
}
READ_ONLY = {
    "id",
    "createdBy",
    "updatedBy",
    "createdTime",
    "updatedTime",
    "stageSemanticId",
    "movedTime",
    "movedBy",
}
MULTIPLE = {"contactIds", "companyIds", "observers", "fm"}
FM_TYPES = {"PHONE", "EMAIL", "WEB", "IM", "LINK"}


# ---- names ------------------------------------------------------------------------------------
def snake_to_camel(name):
    head, *rest = name.lower().split("_")
    return head + "".join(part.capitalize() for part in rest)


def uf_original(name):
    """``ufCrmOnecDoc`` / ``ufCrm_1614`` / ``UF_CRM_X`` -> ``UF_CRM_...``."""
    if name.upper().startswith("UF_"):
        return name.upper()
    rest = name[len("ufCrm") :]
    if rest.startswith("_"):
        return "UF_CRM_" + rest[1:].upper()
    return "UF_CRM_" + re.sub(r"(?<!^)(?=[A-Z])", "_", rest).upper()


def uf_camel(original):
    """``UF_CRM_ONEC_DOC`` -> ``ufCrmOnecDoc``; a digit segment keeps its underscore."""
    parts = original.split("_")[2:]
    out = "ufCrm"
    for part in parts:
        out += "_" + part if part[:1].isdigit() else part.capitalize()
    return out


def is_uf(name):
    return name.upper().startswith("UF_CRM") or name.startswith("ufCrm")


def canonical_field(name):
    """Any accepted spelling -> the stored key (camelCase, or ``UF_CRM_*`` for user fields)."""
    if is_uf(name):
        return uf_original(name)
    if name.isupper() or "_" in name:
        return snake_to_camel(name)
    return name


# ---- helpers ----------------------------------------------------------------------------------
def entity_type(call):
    raw = call.param("entityTypeId", "ENTITY_TYPE_ID", "entityTypeID")
    try:
        type_id = int(raw)
    except (TypeError, ValueError):
        raise ApiError("INVALID_ARG_VALUE", "entityTypeId is required", 400) from None
    if type_id not in ENTITY_NAMES:
        raise ApiError("NOT_FOUND", "Смарт-процесс не найден", 400)
    return type_id


def items_of(portal, type_id):
    return portal["items"][str(type_id)]


def get_item(portal, type_id, item_id):
    try:
        item = items_of(portal, type_id).get(str(int(item_id)))
    except (TypeError, ValueError):
        item = None
    if item is None:
        raise ApiError("NOT_FOUND", "Элемент не найден", 400)
    return item


def defined_ufs(portal, type_id):
    entity = "CRM_" + ENTITY_NAMES[type_id]
    return {uf["FIELD_NAME"]: uf for uf in portal["userfields"].values() if uf["ENTITY_ID"] == entity}


def output_item(portal, item, select=None, original_uf=False):
    """Render a stored item; user fields as ``ufCrm…`` unless ``useOriginalUfNames=Y``."""
    out = {}
    wanted = None if not select or "*" in select else {canonical_field(s) for s in select} | {"id"}
    for key, value in item.items():
        if wanted is not None and key not in wanted:
            continue
        out[uf_camel(key) if key.startswith("UF_CRM") and not original_uf else key] = value
    return out


def wants_original(call):
    return str(call.param("useOriginalUfNames", default="N")).upper() == "Y"


def as_int(value, default=0):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def yes_no(value):
    if isinstance(value, bool):
        return "Y" if value else "N"
    return "Y" if str(value).upper() in ("Y", "1", "TRUE") else "N"


# ---- multifields (reference §3.1) ---------------------------------------------------------------
def apply_multifields(portal, item, entries):
    """No id -> append; id + value -> update; id with empty value / DELETE=Y / nothing -> delete."""
    current = item.setdefault("fm", [])
    for entry in _as_list(entries):
        entry = {canonical_field(k): v for k, v in entry.items()}
        entry_id = entry.get("id")
        if entry_id in (None, ""):
            _append_multifield(portal, item, current, entry)
            continue
        existing = next((fm for fm in current if str(fm["id"]) == str(entry_id)), None)
        if existing is None:
            continue
        if yes_no(entry.get("delete", "N")) == "Y" or not str(entry.get("value", "")).strip():
            current.remove(existing)
        else:
            existing["value"] = str(entry["value"])
            existing["valueType"] = entry.get("valueType", existing["valueType"])


def _append_multifield(portal, item, current, entry):
    value = str(entry.get("value", "")).strip()
    type_id = str(entry.get("typeId", "")).upper()
    if not value:
        return
    if type_id not in FM_TYPES:
        raise ApiError("CRM_FIELD_ERROR_VALUE_NOT_VALID", f"Unknown multifield type '{type_id}'", 400)
    current.append(
        {
            "id": next_id(portal, "fm"),
            "typeId": type_id,
            "valueType": entry.get("valueType") or "WORK",
            "value": value,
            "entityId": item.get("id"),
        }
    )


def _as_list(value):
    if isinstance(value, dict):
        return list(value.values())
    return value or []


# ---- field application -------------------------------------------------------------------------
def apply_fields(call, type_id, item, fields):
    if not isinstance(fields, dict):
        raise ApiError("INVALID_ARG_VALUE", "Parameter 'fields' must be array", 400)
    known = TYPE_FIELDS[type_id].keys() | COMMON_FIELDS.keys()
    ufs = defined_ufs(call.portal, type_id)
    for raw_key, value in fields.items():
        key = canonical_field(raw_key)
        if key == "fm":
            apply_multifields(call.portal, item, value)
        elif key.startswith("UF_CRM"):
            if key in ufs:
                item[key] = value
        elif key in known and key not in READ_ONLY:
            item[key] = _coerce(key, value)


def _coerce(key, value):
    kind = {**COMMON_FIELDS, **TYPE_FIELDS[2], **TYPE_FIELDS[3], **TYPE_FIELDS[4]}.get(key)
    if key in MULTIPLE:
        return [as_int(v) for v in _as_list(value) if str(v) != ""]
    if kind in ("user", "crm_company", "crm_contact", "crm_category", "integer"):
        return as_int(value) if str(value) != "" else None
    if kind == "double":
        try:
            return float(value)
        except (TypeError, ValueError):
            return 0.0
    if kind == "boolean":
        return yes_no(value)
    return value


def base_item(portal, type_id, user_id):
    item_id = next_id(portal, f"item{type_id}")
    stamp = now_iso()
    item = {
        "id": item_id,
        "createdTime": stamp,
        "updatedTime": stamp,
        "createdBy": user_id,
        "updatedBy": user_id,
        "assignedById": user_id,
        "opened": "Y",
        "originatorId": None,
        "originId": None,
        "comments": "",
    }
    if type_id == 2:
        item.update(
            {
                "title": f"Сделка #{item_id}",
                "categoryId": 0,
                "opportunity": 0.0,
                "isManualOpportunity": "N",
                "currencyId": "RUB",
                "companyId": 0,
                "contactId": 0,
                "contactIds": [],
                "closed": "N",
                "typeId": "SALE",
            }
        )
    elif type_id == 3:
        item.update(
            {
                "name": "",
                "lastName": "",
                "secondName": "",
                "companyId": 0,
                "companyIds": [],
                "fm": [],
                "typeId": "CLIENT",
            }
        )
    else:
        item.update(
            {
                "title": f"Компания #{item_id}",
                "companyTypeId": "CUSTOMER",
                "currencyId": "RUB",
                "fm": [],
                "contactIds": [],
            }
        )
    return item


# ---- deals: stages and amounts ------------------------------------------------------------------
def stage_semantic(portal, stage_id):
    row = find_stage(portal, stage_id)
    return (row or {}).get("SEMANTICS") or "P"


def validate_deal_stage(portal, item):
    category_id = as_int(item.get("categoryId"), 0)
    if str(category_id) not in portal["categories"]:
        raise ApiError("CRM_FIELD_ERROR_VALUE_NOT_VALID", "Воронка не найдена", 400)
    stages = deal_stages(portal, category_id)
    if not item.get("stageId"):
        item["stageId"] = stages[0]["STATUS_ID"]
    if item["stageId"] not in {s["STATUS_ID"] for s in stages}:
        # the stage must belong to the deal's funnel: C<n>: prefix outside funnel 0 (reference §3.8)
        raise ApiError(
            "CRM_FIELD_ERROR_VALUE_NOT_VALID",
            f"Стадия '{item['stageId']}' не принадлежит воронке {category_id}",
            400,
        )
    semantic = stage_semantic(portal, item["stageId"])
    item["stageSemanticId"] = semantic
    item["closed"] = "Y" if semantic in ("S", "F") else "N"


def recompute_opportunity(portal, deal, rows_changed=False):
    """With isManualOpportunity=N a deal that has rows gets the rows' sum (universal/crm-item-update.md)."""
    if deal.get("isManualOpportunity") == "Y":
        return
    rows = portal["product_rows"].get(str(deal["id"]), [])
    if not rows and not rows_changed:
        return
    deal["opportunity"] = round(sum(float(r["price"]) * float(r["quantity"]) for r in rows), 2)


def record_stage_change(call_emulator, portal, deal, old_stage, user_id):
    """History + robots placed on the new stage (the event itself is fired by the caller)."""
    portal["stage_history"].append(
        {
            "ID": len(portal["stage_history"]) + 1,
            "OWNER_ID": deal["id"],
            "TYPE_ID": 2 if old_stage else 1,
            "CATEGORY_ID": deal["categoryId"],
            "STAGE_ID": deal["stageId"],
            "FROM_STAGE_ID": old_stage,
            "CREATED_TIME": now_iso(),
            "USER_ID": user_id,
        }
    )
    deal["movedTime"] = now_iso()
    deal["movedBy"] = user_id
    call_emulator.events.run_stage_robots(portal, deal, user_id)


def move_deal(emulator, portal, deal, stage_id, user_id):
    """A stage change from outside REST (manager in the UI): validate, history, event, robots."""
    old_stage = deal["stageId"]
    deal["stageId"] = stage_id
    try:
        validate_deal_stage(portal, deal)
    except ApiError:
        deal["stageId"] = old_stage
        raise
    deal["updatedTime"] = now_iso()
    deal["updatedBy"] = user_id
    if old_stage != stage_id:
        record_stage_change(emulator, portal, deal, old_stage, user_id)
    emulator.events.fire(portal, "ONCRMDEALUPDATE", {"FIELDS": {"ID": deal["id"]}}, user_id)


# ---- crm.item.* ---------------------------------------------------------------------------------
def _event_name(type_id, action):
    return f"ONCRM{ENTITY_NAMES[type_id]}{action}"


def _fire(call, event, item_id):
    """Queue the event; ``auth_connector`` keeps the change out of that offline queue (offline-events.md)."""
    call.emulator.events.fire(
        call.portal,
        event,
        {"FIELDS": {"ID": item_id}},
        call.user_id,
        auth_connector=call.param("auth_connector", "AUTH_CONNECTOR"),
    )


@method("crm.item.add", write=True)
def item_add(call):
    type_id = entity_type(call)
    item = base_item(call.portal, type_id, call.user_id)
    apply_fields(call, type_id, item, call.param("fields", default={}))
    _normalize_links(item, type_id)
    if type_id == 2:
        validate_deal_stage(call.portal, item)
        recompute_opportunity(call.portal, item)
    items_of(call.portal, type_id)[str(item["id"])] = item
    if type_id == 2:
        record_stage_change(call.emulator, call.portal, item, None, call.user_id)
    _fire(call, _event_name(type_id, "ADD"), item["id"])
    return {"item": output_item(call.portal, item, original_uf=wants_original(call))}


def _normalize_links(item, type_id):
    if type_id == 2:
        if item.get("contactIds") and not item.get("contactId"):
            item["contactId"] = item["contactIds"][0]
        elif item.get("contactId") and item["contactId"] not in item.get("contactIds", []):
            item["contactIds"] = [item["contactId"], *item.get("contactIds", [])]
    if type_id == 3:
        if item.get("companyIds") and not item.get("companyId"):
            item["companyId"] = item["companyIds"][0]
        elif item.get("companyId") and item["companyId"] not in item.get("companyIds", []):
            item["companyIds"] = [item["companyId"], *item.get("companyIds", [])]


@method("crm.item.update", write=True)
def item_update(call):
    type_id = entity_type(call)
    item = get_item(call.portal, type_id, call.param("id", "ID"))
    before = copy.deepcopy(item)
    fields = call.param("fields", default={})
    try:
        apply_fields(call, type_id, item, fields)
        _normalize_links(item, type_id)
        if type_id == 2:
            _update_deal_stage(call, item, before, fields)
    except Exception:  # an invalid update changes nothing
        item.clear()
        item.update(before)
        raise
    item["updatedTime"] = now_iso()
    item["updatedBy"] = call.user_id
    _fire(call, _event_name(type_id, "UPDATE"), item["id"])
    return {"item": output_item(call.portal, item, original_uf=wants_original(call))}


def _update_deal_stage(call, item, before, fields):
    keys = {canonical_field(k) for k in fields}
    if "categoryId" in keys and item["categoryId"] != before["categoryId"] and "stageId" not in keys:
        item["stageId"] = ""  # moving to another funnel without a stage: its first stage
    validate_deal_stage(call.portal, item)
    recompute_opportunity(call.portal, item)
    if item["stageId"] != before["stageId"]:
        record_stage_change(call.emulator, call.portal, item, before["stageId"], call.user_id)


@method("crm.item.get")
def item_get(call):
    type_id = entity_type(call)
    item = get_item(call.portal, type_id, call.param("id", "ID"))
    return {"item": output_item(call.portal, item, original_uf=wants_original(call))}


def _item_value(item, name):
    return item.get(canonical_field(name))


@method("crm.item.list")
def item_list(call):
    type_id = entity_type(call)
    records = list(items_of(call.portal, type_id).values())
    records = query.apply_filter(records, call.param("filter", default={}), _item_value)
    records = query.apply_order(records, call.param("order", default={}), _item_value, "id")
    select = call.param("select", default=["*"])
    select = list(select.values()) if isinstance(select, dict) else select
    original = wants_original(call)
    return query.paginate(
        records,
        call.param("start"),
        lambda page: {"items": [output_item(call.portal, i, select, original) for i in page]},
    )


@method("crm.item.delete", write=True)
def item_delete(call):
    type_id = entity_type(call)
    item = get_item(call.portal, type_id, call.param("id", "ID"))
    del items_of(call.portal, type_id)[str(item["id"])]
    if type_id == 2:
        call.portal["product_rows"].pop(str(item["id"]), None)
    _fire(call, _event_name(type_id, "DELETE"), item["id"])
    return []


@method("crm.item.fields")
def item_fields(call):
    type_id = entity_type(call)
    fields = {}
    for name, kind in {**COMMON_FIELDS, **TYPE_FIELDS[type_id]}.items():
        fields[name] = {
            "type": kind,
            "isRequired": False,
            "isReadOnly": name in READ_ONLY,
            "isImmutable": False,
            "isMultiple": name in MULTIPLE,
            "isDynamic": False,
            "title": name,
            "upperName": _upper(name),
        }
    for uf_name, uf in defined_ufs(call.portal, type_id).items():
        key = uf_name if wants_original(call) else uf_camel(uf_name)
        fields[key] = {
            "type": uf["USER_TYPE_ID"],
            "isRequired": uf["MANDATORY"] == "Y",
            "isReadOnly": False,
            "isImmutable": False,
            "isMultiple": uf["MULTIPLE"] == "Y",
            "isDynamic": True,
            "title": uf.get("EDIT_FORM_LABEL") or uf_name,
            "upperName": uf_name,
        }
    return {"fields": fields}


def _upper(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


# ---- product rows (universal) -------------------------------------------------------------------
def _deal_for_owner(call):
    owner_type = str(call.param("ownerType", default="D")).upper()
    if owner_type != "D":
        raise ApiError("NOT_SUPPORTED", "Only deals (ownerType D) are emulated", 400)
    return get_item(call.portal, 2, call.param("ownerId"))


def make_row(portal, deal_id, raw, index):
    row = {canonical_field(k): v for k, v in raw.items()}
    price = float(row.get("price", 0) or 0)
    quantity = float(row.get("quantity", 1) or 1)
    return {
        "id": next_id(portal, "productrow"),
        "ownerId": deal_id,
        "ownerType": "D",
        "productId": as_int(row.get("productId"), 0),
        "productName": str(row.get("productName", "")),
        "price": price,
        "priceExclusive": float(row.get("priceExclusive", price) or price),
        "priceNetto": float(row.get("priceNetto", price) or price),
        "priceBrutto": float(row.get("priceBrutto", price) or price),
        "quantity": quantity,
        "discountTypeId": as_int(row.get("discountTypeId"), 2),
        "discountRate": float(row.get("discountRate", 0) or 0),
        "discountSum": float(row.get("discountSum", 0) or 0),
        "taxRate": row.get("taxRate"),
        "taxIncluded": yes_no(row.get("taxIncluded", "N")),
        "measureCode": as_int(row.get("measureCode"), 796),
        "measureName": str(row.get("measureName", "шт")),
        "sort": as_int(row.get("sort"), 10 * (index + 1)),
        "customized": "Y",
        "type": 1,
    }


@method("crm.item.productrow.set", write=True)
def productrow_set(call):
    deal = _deal_for_owner(call)
    rows = call.param("productRows", default=[])
    rows = list(rows.values()) if isinstance(rows, dict) else (rows or [])
    # crm-item-productrow-set.md: rows that are not passed are removed (replace-all)
    stored = [make_row(call.portal, deal["id"], raw, i) for i, raw in enumerate(rows)]
    call.portal["product_rows"][str(deal["id"])] = stored
    recompute_opportunity(call.portal, deal, rows_changed=True)
    _fire(call, "ONCRMDEALUPDATE", deal["id"])
    return {"productRows": stored}


@method("crm.item.productrow.list")
def productrow_list(call):
    """Rows filtered like ``{"=ownerType": "D", "=ownerId": 5}`` (or by productId etc.)."""
    rows = [row for rows in call.portal["product_rows"].values() for row in rows]
    rows = query.apply_filter(rows, call.param("filter", default={}) or {}, lambda r, n: r.get(n))
    rows = query.apply_order(rows, call.param("order", default={}), lambda r, n: r.get(n), "sort")
    return query.paginate(rows, call.param("start"), lambda page: {"productRows": page})


# ---- duplicates ---------------------------------------------------------------------------------
def digits(value):
    return re.sub(r"\D", "", str(value))


def _phone_key(value):
    number = digits(value)
    if len(number) == 11 and number[0] in "78":
        number = number[1:]
    return number


@method("crm.duplicate.findbycomm")
def duplicate_findbycomm(call):
    comm_type = str(call.param("type", default="")).upper()
    values = call.param("values", default=[])
    values = list(values.values()) if isinstance(values, dict) else values
    if comm_type not in ("EMAIL", "PHONE"):
        raise ApiError("", "Parameter 'type' is not defined or invalid", 400)
    if not values or len(values) > 20:
        raise ApiError("", "Too many values (maximum 20)" if values else "Parameter 'values' is empty", 400)
    key = _phone_key if comm_type == "PHONE" else (lambda v: str(v).strip().lower())
    wanted = {key(v) for v in values}
    entity = call.param("entity_type")
    result = {}
    for type_id, name in ((3, "CONTACT"), (4, "COMPANY")):
        if entity and str(entity).upper() != name:
            continue
        ids = [
            i["id"]
            for i in items_of(call.portal, type_id).values()
            if any(f["typeId"] == comm_type and key(f["value"]) in wanted for f in i.get("fm", []))
        ]
        if ids:
            result[name] = ids
    return result or []


# ---- deal user fields (reference §3.9) ----------------------------------------------------------
@method("crm.deal.userfield.add", admin=True, write=True)
def userfield_add(call):
    fields = call.param("fields", default={}) or {}
    name = str(fields.get("FIELD_NAME", "")).upper()
    if not name or not fields.get("USER_TYPE_ID"):
        raise ApiError("", "Field 'FIELD_NAME' and 'USER_TYPE_ID' are required", 400)
    if not name.startswith("UF_CRM_"):
        name = "UF_CRM_" + name  # the prefix is always added
    if not re.fullmatch(r"[A-Z0-9_]+", name) or len(name) > 50:
        raise ApiError("", "Invalid field name", 400)
    if any(uf["FIELD_NAME"] == name and uf["ENTITY_ID"] == "CRM_DEAL" for uf in call.portal["userfields"].values()):
        raise ApiError("", "Поле с таким кодом уже существует", 400)
    uf_id = next_id(call.portal, "userfield")
    label = fields.get("LABEL") or fields.get("EDIT_FORM_LABEL") or name
    call.portal["userfields"][str(uf_id)] = {
        "ID": str(uf_id),
        "ENTITY_ID": "CRM_DEAL",
        "FIELD_NAME": name,
        "USER_TYPE_ID": fields["USER_TYPE_ID"],
        "XML_ID": fields.get("XML_ID"),
        "SORT": str(fields.get("SORT", 100)),
        "MULTIPLE": yes_no(fields.get("MULTIPLE", "N")),
        "MANDATORY": yes_no(fields.get("MANDATORY", "N")),
        "SHOW_FILTER": fields.get("SHOW_FILTER", "N"),
        "SETTINGS": fields.get("SETTINGS") or {},
        "EDIT_FORM_LABEL": _label(fields.get("EDIT_FORM_LABEL") or label),
        "LIST_COLUMN_LABEL": _label(fields.get("LIST_COLUMN_LABEL") or label),
        "LIST": fields.get("LIST") or [],
    }
    return uf_id


def _label(value):
    if isinstance(value, dict):
        return value.get("ru") or next(iter(value.values()), "")
    return value


@method("crm.deal.userfield.list")
def userfield_list(call):
    rows = [uf for uf in call.portal["userfields"].values() if uf["ENTITY_ID"] == "CRM_DEAL"]
    rows = query.apply_filter(rows, call.param("filter", default={}), lambda r, n: r.get(n.upper()))
    return query.paginate(rows, call.param("start"), lambda page: page)


@method("crm.deal.userfield.get")
def userfield_get(call):
    row = call.portal["userfields"].get(str(call.param("id", "ID")))
    if row is None or row["ENTITY_ID"] != "CRM_DEAL":
        raise ApiError("", "The UserField with ID not found", 400)
    return row


@method("crm.deal.userfield.delete", admin=True, write=True)
def userfield_delete(call):
    row = userfield_get(call)
    del call.portal["userfields"][row["ID"]]
    return True
