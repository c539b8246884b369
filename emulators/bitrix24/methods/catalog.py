"""Product catalog: catalog.catalog/product/price/priceType/measure/vat (reference §3.6)."""

from .. import query
from ..errors import ApiError
from ..state import next_id, now_iso
from . import method

VATS = [
    {"id": 1, "name": "Без НДС", "rate": None, "active": "Y", "sort": 100},
    {"id": 2, "name": "НДС 0%", "rate": 0.0, "active": "Y", "sort": 200},
    {"id": 3, "name": "НДС 10%", "rate": 10.0, "active": "Y", "sort": 300},
    {"id": 4, "name": "НДС 20%", "rate": 20.0, "active": "Y", "sort": 400},
]
PRODUCT_FIELDS = {
    "name",
    "xmlId",
    "code",
    "active",
    "measure",
    "vatId",
    "vatIncluded",
    "purchasingPrice",
    "purchasingCurrency",
    "quantity",
    "iblockSectionId",
    "previewText",
    "detailText",
    "sort",
    "type",
    "weight",
    "available",
    "canBuyZero",
    "barcodeMulti",
}
SINGLE_PRICE_ERROR = "Catalog product is allowed has only single price without ranges in price group"


def _getter(record, name):
    return record.get(name)


def _select(raw):
    raw = raw or []
    return list(raw.values()) if isinstance(raw, dict) else list(raw)


def _list(call, records, key, default_order="id", required_select=(), required_filter=()):
    select = _select(call.param("select"))
    flt = call.param("filter", default={}) or {}
    if not isinstance(flt, dict):
        raise ApiError(0, "Incorrect filter format", 400)
    # catalog-product-list.md: error code 0, the text lists the missing fields
    missing_select = [f for f in required_select if f not in select]
    if missing_select:
        raise ApiError(0, "Required select fields: " + ", ".join(missing_select), 400)
    missing_filter = [f for f in required_filter if not any(query.split_filter_key(k)[1] == f for k in flt)]
    if missing_filter:
        raise ApiError(0, "Required filter fields: " + ", ".join(missing_filter), 400)
    records = query.apply_filter(records, flt, _getter)
    records = query.apply_order(records, call.param("order", default={}), _getter, default_order)

    def wrap(page):
        if not select or "*" in select:
            return {key: page}
        return {key: [{k: v for k, v in r.items() if k in select} for r in page]}

    return query.paginate(records, call.param("start"), wrap)


def _fields(call):
    fields = call.param("fields", default={})
    if not isinstance(fields, dict) or not fields:
        raise ApiError(100, "Could not find value for parameter {fields}", 400)
    return fields


def _as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---- catalogs and dictionaries -------------------------------------------------------------
@method("catalog.catalog.list", admin=True)
def catalog_list(call):
    return _list(call, list(call.portal["catalogs"]), "catalogs")


@method("catalog.priceType.list")
def price_type_list(call):
    return _list(call, list(call.portal["price_types"].values()), "priceTypes")


@method("catalog.measure.list")
def measure_list(call):
    return _list(call, list(call.portal["measures"].values()), "measures")


@method("catalog.vat.list")
def vat_list(call):
    return _list(call, list(VATS), "vats")


# ---- products ------------------------------------------------------------------------------
def _check_catalog(call, iblock_id):
    if iblock_id not in {c["iblockId"] for c in call.portal["catalogs"]}:
        raise ApiError(200040300000, "Iblock Not Found", 400)


def _apply_product(call, product, fields):
    for key, value in fields.items():
        if key not in PRODUCT_FIELDS:
            continue
        if key == "measure" and str(_as_int(value)) not in call.portal["measures"]:
            raise ApiError(0, f"Measure with id {value} not found", 400)
        if key == "vatId" and _as_int(value) not in {v["id"] for v in VATS}:
            raise ApiError(0, f"VAT with id {value} not found", 400)
        product[key] = _as_int(value) if key in ("measure", "vatId", "type", "iblockSectionId") else value
    product["timestampX"] = now_iso()
    product["modifiedBy"] = call.user_id


@method("catalog.product.add", admin=True, write=True)
def product_add(call):
    fields = _fields(call)
    iblock_id = _as_int(fields.get("iblockId"))
    if not iblock_id:
        raise ApiError(0, "Required fields: iblockId", 400)
    if not str(fields.get("name", "")).strip():
        raise ApiError(0, "Required fields: name", 400)
    _check_catalog(call, iblock_id)
    product_id = next_id(call.portal, "product")
    default_measure = next(int(m["id"]) for m in call.portal["measures"].values() if m["isDefault"] == "Y")
    product = {
        "id": product_id,
        "iblockId": iblock_id,
        "name": "",
        "xmlId": str(product_id),
        "code": None,
        "active": "Y",
        "measure": default_measure,
        "vatId": None,
        "vatIncluded": "N",
        "type": 1,
        "purchasingPrice": None,
        "purchasingCurrency": None,
        "quantity": 0,
        "available": "Y",
        "dateCreate": now_iso(),
        "createdBy": call.user_id,
    }
    _apply_product(call, product, fields)
    call.portal["products"][str(product_id)] = product
    return {"element": product}


def _product(call, raw_id):
    product = call.portal["products"].get(str(_as_int(raw_id)))
    if product is None:
        raise ApiError(0, "Product is not exists", 400)
    return product


@method("catalog.product.update", admin=True, write=True)
def product_update(call):
    product = _product(call, call.param("id"))
    _apply_product(call, product, _fields(call))
    return {"element": product}


@method("catalog.product.get")
def product_get(call):
    return {"product": _product(call, call.param("id"))}


@method("catalog.product.list")
def product_list(call):
    return _list(
        call,
        list(call.portal["products"].values()),
        "products",
        required_select=("id", "iblockId"),
        required_filter=("iblockId",),
    )


@method("catalog.product.delete", admin=True, write=True)
def product_delete(call):
    product = _product(call, call.param("id"))
    del call.portal["products"][str(product["id"])]
    for key in [k for k, p in call.portal["prices"].items() if p["productId"] == product["id"]]:
        del call.portal["prices"][key]
    return None


# ---- services (catalog.product.service.*: products of type 7, answered under "service") --------
# Docs: RU rest_help/catalog/product/service/ — services are created and read with their own methods.
SERVICE_TYPE = 7


@method("catalog.product.service.add", admin=True, write=True)
def service_add(call):
    call.params["fields"] = {**_fields(call), "type": SERVICE_TYPE}
    return {"service": product_add(call)["element"]}


def _service(call, raw_id):
    product = _product(call, raw_id)
    if product.get("type") != SERVICE_TYPE:
        raise ApiError(0, "Service is not exists", 400)
    return product


@method("catalog.product.service.update", admin=True, write=True)
def service_update(call):
    service = _service(call, call.param("id"))
    _apply_product(call, service, {k: v for k, v in _fields(call).items() if k != "type"})
    return {"service": service}


@method("catalog.product.service.get")
def service_get(call):
    return {"service": _service(call, call.param("id"))}


@method("catalog.product.service.list")
def service_list(call):
    services = [p for p in call.portal["products"].values() if p.get("type") == SERVICE_TYPE]
    return _list(call, services, "services", required_select=("id", "iblockId"), required_filter=("iblockId",))


# ---- prices --------------------------------------------------------------------------------
def _price_values(call, fields):
    product_id, group_id = _as_int(fields.get("productId")), _as_int(fields.get("catalogGroupId"))
    if product_id is None or group_id is None or fields.get("price") in (None, "") or not fields.get("currency"):
        raise ApiError(0, "Required fields: productId, catalogGroupId, price, currency", 400)
    _product(call, product_id)
    if str(group_id) not in call.portal["price_types"]:
        raise ApiError(0, "Validate price error. Catalog price group is wrong", 400)
    if fields["currency"] not in call.portal["currencies"]:
        raise ApiError(0, f"Currency {fields['currency']} not found", 400)
    return product_id, group_id, float(fields["price"]), fields["currency"]


def _create_price(call, product_id, group_id, price, currency):
    if any(p["productId"] == product_id and p["catalogGroupId"] == group_id for p in call.portal["prices"].values()):
        raise ApiError(0, SINGLE_PRICE_ERROR, 400)
    price_id = next_id(call.portal, "price")
    row = {
        "id": price_id,
        "productId": product_id,
        "catalogGroupId": group_id,
        "price": price,
        "currency": currency,
        "priceScale": price,
        "quantityFrom": None,
        "quantityTo": None,
        "extraId": None,
        "timestampX": now_iso(),
    }
    call.portal["prices"][str(price_id)] = row
    return row


@method("catalog.price.add", write=True)
def price_add(call):
    return {"price": _create_price(call, *_price_values(call, _fields(call)))}


def _price(call, raw_id):
    row = call.portal["prices"].get(str(_as_int(raw_id)))
    if row is None:
        raise ApiError(0, "Price is not exists", 400)
    return row


@method("catalog.price.update", write=True)
def price_update(call):
    row = _price(call, call.param("id"))
    fields = {**row, **_fields(call)}
    product_id, group_id, price, currency = _price_values(call, fields)
    if any(
        p["id"] != row["id"] and p["productId"] == product_id and p["catalogGroupId"] == group_id
        for p in call.portal["prices"].values()
    ):
        raise ApiError(0, SINGLE_PRICE_ERROR, 400)
    row.update(
        productId=product_id,
        catalogGroupId=group_id,
        price=price,
        priceScale=price,
        currency=currency,
        timestampX=now_iso(),
    )
    return {"price": row}


@method("catalog.price.get")
def price_get(call):
    return {"price": _price(call, call.param("id"))}


@method("catalog.price.list")
def price_list(call):
    return _list(call, list(call.portal["prices"].values()), "prices")


@method("catalog.price.delete", write=True)
def price_delete(call):
    row = _price(call, call.param("id"))
    del call.portal["prices"][str(row["id"])]
    return None


@method("catalog.price.modify", write=True)
def price_modify(call):
    """catalog-price-modify.md: with id -> update, without -> create; unlisted prices are DELETED."""
    product_block = _fields(call).get("product") or {}
    product = _product(call, product_block.get("id"))
    wanted = product_block.get("prices") or []
    wanted = list(wanted.values()) if isinstance(wanted, dict) else wanted
    keep_ids = {_as_int(p.get("id")) for p in wanted if p.get("id") not in (None, "")}
    for key in [
        k for k, p in call.portal["prices"].items() if p["productId"] == product["id"] and p["id"] not in keep_ids
    ]:
        del call.portal["prices"][key]
    result = []
    for entry in wanted:
        values = _price_values(call, {**entry, "productId": product["id"]})
        if entry.get("id") not in (None, ""):
            row = _price(call, entry["id"])
            row.update(catalogGroupId=values[1], price=values[2], priceScale=values[2], currency=values[3])
        else:
            row = _create_price(call, *values)
        result.append(row)
    return {"prices": result}
