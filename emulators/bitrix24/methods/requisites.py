"""Requisites, presets, addresses and bank details: crm.requisite.*, crm.address.* (reference §3.3-3.5)."""

from .. import query
from ..errors import ApiError
from ..state import next_id, now_iso
from . import method

ADDRESS_TYPES = {
    1: "Фактический адрес",
    4: "Адрес регистрации",
    6: "Юридический адрес",
    8: "Адрес для корреспонденции",
    9: "Адрес бенефициара",
    11: "Адрес доставки",
}


def _fields(call):
    fields = call.param("fields", default={})
    if not isinstance(fields, dict) or not fields:
        raise ApiError("", "Parameter 'fields' must be array", 400)
    return {str(k).upper(): v for k, v in fields.items()}


def _upper_getter(record, name):
    return record.get(name.upper())


def _list(call, records, default_order="ID"):
    records = query.apply_filter(
        records, {k.upper(): v for k, v in (call.param("filter", default={}) or {}).items()}, _upper_getter
    )
    order = {k.upper(): v for k, v in (call.param("order", default={}) or {}).items()}
    records = query.apply_order(records, order, _upper_getter, default_order)
    select = call.param("select", default=[]) or []
    select = list(select.values()) if isinstance(select, dict) else select

    def wrap(page):
        if not select or "*" in select:
            return page
        wanted = {s.upper() for s in select} | {"ID"}
        return [{k: v for k, v in r.items() if k in wanted} for r in page]

    return query.paginate(records, call.param("start"), wrap)


def _as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---- presets --------------------------------------------------------------------------------
@method("crm.requisite.preset.list")
def preset_list(call):
    return _list(call, list(call.portal["presets"].values()))


@method("crm.requisite.preset.get")
def preset_get(call):
    row = call.portal["presets"].get(str(call.param("id", "ID", default="")))
    if row is None:
        raise ApiError("", "The Preset with ID is not found", 400)
    return row


# ---- requisites -----------------------------------------------------------------------------
def _check_owner(call, entity_type_id, entity_id):
    """Error texts as in crm-requisite-add.md (legacy CRM: empty error code)."""
    if entity_type_id not in (3, 4):
        raise ApiError("", "ENTITY_TYPE_ID is not defined or invalid.", 400)
    if not entity_id:
        raise ApiError("", "ENTITY_ID is not defined or invalid.", 400)
    if str(entity_id) not in call.portal["items"][str(entity_type_id)]:
        raise ApiError("", "Entity not found.", 400)


@method("crm.requisite.add", write=True)
def requisite_add(call):
    fields = _fields(call)
    entity_type_id, entity_id = _as_int(fields.get("ENTITY_TYPE_ID")), _as_int(fields.get("ENTITY_ID"))
    preset_id = _as_int(fields.get("PRESET_ID"))
    _check_owner(call, entity_type_id, entity_id)
    if not preset_id or str(preset_id) not in call.portal["presets"]:
        raise ApiError("", "PRESET_ID is not defined or invalid.", 400)
    if not str(fields.get("NAME", "")).strip():
        raise ApiError("", 'The field "NAME" is required.', 400)
    row_id = next_id(call.portal, "requisite")
    row = {
        "ID": str(row_id),
        "ENTITY_TYPE_ID": str(entity_type_id),
        "ENTITY_ID": str(entity_id),
        "PRESET_ID": str(preset_id),
        "ACTIVE": "Y",
        "SORT": "500",
        "XML_ID": None,
        "CODE": None,
        "ADDRESS_ONLY": "N",
        "DATE_CREATE": now_iso(),
        "CREATED_BY_ID": str(call.user_id),
    }
    row.update({k: v for k, v in fields.items() if k not in ("ID", "ENTITY_TYPE_ID", "ENTITY_ID", "PRESET_ID")})
    call.portal["requisites"][str(row_id)] = row
    return row_id


def _requisite(call, raw_id):
    row = call.portal["requisites"].get(str(raw_id))
    if row is None:
        raise ApiError("", "The Requisite with ID is not found", 400)
    return row


@method("crm.requisite.update", write=True)
def requisite_update(call):
    row = _requisite(call, call.param("id", "ID"))
    fields = _fields(call)
    if "PRESET_ID" in fields and str(_as_int(fields["PRESET_ID"])) not in call.portal["presets"]:
        raise ApiError("", "PRESET_ID is not defined or invalid.", 400)
    row.update({k: v for k, v in fields.items() if k not in ("ID", "ENTITY_TYPE_ID", "ENTITY_ID")})
    row["DATE_MODIFY"] = now_iso()
    return True


@method("crm.requisite.get")
def requisite_get(call):
    return _requisite(call, call.param("id", "ID"))


@method("crm.requisite.list")
def requisite_list(call):
    return _list(call, list(call.portal["requisites"].values()))


@method("crm.requisite.delete", write=True)
def requisite_delete(call):
    row = _requisite(call, call.param("id", "ID"))
    del call.portal["requisites"][row["ID"]]
    call.portal["addresses"] = [
        a for a in call.portal["addresses"] if not (a["ENTITY_TYPE_ID"] == "8" and a["ENTITY_ID"] == row["ID"])
    ]
    for key in [k for k, b in call.portal["bankdetails"].items() if b["ENTITY_ID"] == row["ID"]]:
        del call.portal["bankdetails"][key]
    return True


# ---- addresses (crm-address-add.md: returns true; identified by the triple) -----------------
def _address_key(call):
    """The (TYPE_ID, ENTITY_TYPE_ID, ENTITY_ID) triple; messages as in crm-address-add.md."""
    fields = _fields(call)
    key = []
    for name in ("TYPE_ID", "ENTITY_TYPE_ID", "ENTITY_ID"):
        value = _as_int(fields.get(name))
        if not value or (name == "TYPE_ID" and value not in ADDRESS_TYPES):
            raise ApiError("", f"{name} is not defined or invalid.", 400)
        key.append(str(value))
    return fields, tuple(key)


def _find_address(call, key):
    return next(
        (a for a in call.portal["addresses"] if (a["TYPE_ID"], a["ENTITY_TYPE_ID"], a["ENTITY_ID"]) == key),
        None,
    )


@method("crm.address.add", write=True)
def address_add(call):
    fields, key = _address_key(call)
    if key[1] not in ("8", "1", "3", "4"):
        raise ApiError("", "ENTITY_TYPE_ID is not defined or invalid.", 400)
    if key[1] == "8" and key[2] not in call.portal["requisites"]:
        raise ApiError("", "ENTITY_ID is not defined or invalid.", 400)
    if _find_address(call, key):
        raise ApiError("", "TypeAddress exists.", 400)
    row = {
        "TYPE_ID": key[0],
        "ENTITY_TYPE_ID": key[1],
        "ENTITY_ID": key[2],
        "ADDRESS_1": None,
        "ADDRESS_2": None,
        "CITY": None,
        "POSTAL_CODE": None,
        "REGION": None,
        "PROVINCE": None,
        "COUNTRY": None,
        "COUNTRY_CODE": None,
        "LOC_ADDR_ID": 0,
        "ANCHOR_TYPE_ID": key[1],
        "ANCHOR_ID": key[2],
    }
    row.update({k: v for k, v in fields.items() if k not in ("TYPE_ID", "ENTITY_TYPE_ID", "ENTITY_ID")})
    call.portal["addresses"].append(row)
    return True


@method("crm.address.update", write=True)
def address_update(call):
    fields, key = _address_key(call)
    row = _find_address(call, key)
    if row is None:
        raise ApiError("", "Address not found", 400)
    row.update({k: v for k, v in fields.items() if k not in ("TYPE_ID", "ENTITY_TYPE_ID", "ENTITY_ID")})
    return True


@method("crm.address.list")
def address_list(call):
    return _list(call, list(call.portal["addresses"]), default_order="TYPE_ID")


@method("crm.address.delete", write=True)
def address_delete(call):
    _, key = _address_key(call)
    row = _find_address(call, key)
    if row is None:
        raise ApiError("", "Address not found", 400)
    call.portal["addresses"].remove(row)
    return True


@method("crm.enum.addresstype")
def address_types(call):
    return [{"ID": type_id, "NAME": name} for type_id, name in ADDRESS_TYPES.items()]


# ---- bank details (crm-requisite-bank-detail-add.md) ------------------------------------------
@method("crm.requisite.bankdetail.add", write=True)
def bankdetail_add(call):
    fields = _fields(call)
    requisite_id = _as_int(fields.get("ENTITY_ID"))
    if not requisite_id or str(requisite_id) not in call.portal["requisites"]:
        raise ApiError("", "The Requisite with ID is not found", 400)
    if not str(fields.get("NAME", "")).strip():
        raise ApiError("", "The field NAME is required", 400)
    row_id = next_id(call.portal, "bankdetail")
    row = {
        "ID": str(row_id),
        "ENTITY_ID": str(requisite_id),
        "COUNTRY_ID": "1",
        "ACTIVE": "Y",
        "SORT": "500",
        "XML_ID": None,
        "DATE_CREATE": now_iso(),
    }
    row.update({k: v for k, v in fields.items() if k not in ("ID", "ENTITY_ID")})
    call.portal["bankdetails"][str(row_id)] = row
    return row_id


def _bankdetail(call, raw_id):
    row = call.portal["bankdetails"].get(str(raw_id))
    if row is None:
        raise ApiError("", "The BankDetail with ID is not found", 400)
    return row


@method("crm.requisite.bankdetail.update", write=True)
def bankdetail_update(call):
    row = _bankdetail(call, call.param("id", "ID"))
    row.update({k: v for k, v in _fields(call).items() if k not in ("ID", "ENTITY_ID")})
    return True


@method("crm.requisite.bankdetail.get")
def bankdetail_get(call):
    return _bankdetail(call, call.param("id", "ID"))


@method("crm.requisite.bankdetail.list")
def bankdetail_list(call):
    return _list(call, list(call.portal["bankdetails"].values()))


@method("crm.requisite.bankdetail.delete", write=True)
def bankdetail_delete(call):
    row = _bankdetail(call, call.param("id", "ID"))
    del call.portal["bankdetails"][row["ID"]]
    return True
