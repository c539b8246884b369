"""What the reliability suite compares: the portal's CRM reduced to what must not depend on how the sync got there.

Records are keyed by our external keys (``originId`` for companies/contacts/deals, ``XML_ID`` for requisites and bank
details, ``xmlId`` for products); ids, timestamps and authors are dropped and every reference to another record is
replaced by that record's external key, so two portals synced from the same 1С compare equal — whatever the ids,
retries, crashes and runs it took. A key held by two records is a duplicate; ``normalised_crm`` keeps both (as a
list), so a duplicate also makes the comparison fail.
"""

from __future__ import annotations

import os
from collections import Counter

VOLATILE = {
    "id", "ID", "createdTime", "updatedTime", "createdBy", "updatedBy", "movedBy", "movedTime", "modifiedBy",
    "DATE_CREATE", "DATE_MODIFY", "CREATED_BY_ID", "MODIFY_BY_ID", "dateCreate", "timestampX", "lastActivityTime",
    "lastActivityBy", "entityId", "LOC_ADDR_ID", "ANCHOR_ID", "priceScale", "iblockId", "assignedById",
    "closedTime", "beginDate", "closeDate", "stageSemanticId",
}
SIZE = os.environ.get("RELIABILITY_SIZE", "small")
ALL_KINDS = ("counterparties", "products", "orders")
KINDS = tuple(k for k in os.environ.get("RELIABILITY_KINDS", ",".join(ALL_KINDS)).split(",") if k)


def _values(collection):
    return list(collection.values()) if isinstance(collection, dict) else list(collection or [])


def _clean(record: dict, drop=()) -> dict:
    return {k: v for k, v in record.items() if k not in VOLATILE and k not in drop}


def _group(records, key, transform) -> dict:
    grouped: dict = {}
    for record in records:
        grouped.setdefault(key(record), []).append(transform(record))
    return {k: (v[0] if len(v) == 1 else sorted(v, key=repr)) for k, v in grouped.items()}


def duplicates(state: dict) -> dict[str, list]:
    """External keys held by more than one record, per collection."""
    found = {}
    checks = {
        "companies": ("originId", state["companies"]), "contacts": ("originId", state["contacts"]),
        "deals": ("originId", state.get("deals")), "requisites": ("XML_ID", state["requisites"]),
        "bankdetails": ("XML_ID", state["bankdetails"]), "products": ("xmlId", state["products"]),
    }
    for name, (key, records) in checks.items():
        counts = Counter(r.get(key) for r in _values(records) if r.get(key))
        dupes = sorted(k for k, n in counts.items() if n > 1)
        if dupes:
            found[name] = dupes
    return found


def normalised_crm(state: dict) -> dict:
    """The portal state as external keys → fields (see the module docstring)."""
    companies, contacts = _values(state["companies"]), _values(state["contacts"])
    requisites, products = _values(state["requisites"]), _values(state["products"])
    deals = _values(state.get("deals"))
    origin = {("4", str(c["id"])): c.get("originId") or f"manual:{c['id']}" for c in companies}
    origin |= {("3", str(c["id"])): c.get("originId") or f"manual:{c['id']}" for c in contacts}
    presets = {str(p["ID"]): p.get("XML_ID") for p in _values(state.get("presets"))}
    requisite_xml = {str(r["ID"]): r.get("XML_ID") for r in requisites}
    product_xml = {str(p["id"]): p.get("xmlId") for p in products}
    measures = {str(k): m.get("code") for k, m in (state.get("measures") or {}).items()} \
        if isinstance(state.get("measures"), dict) else {}
    stages = {s.get("STATUS_ID"): s.get("NAME") for s in _values(state.get("statuses"))}
    categories = {str(c.get("id")): c.get("name") for c in _values(state.get("categories"))}

    def item(record, type_id):
        cleaned = _clean(record, drop=("contactIds", "companyIds", "companyId", "contactId", "fm", "productRows"))
        cleaned["fm"] = sorted((f.get("typeId"), f.get("valueType"), f.get("value")) for f in record.get("fm") or [])
        if record.get("companyId"):
            cleaned["company"] = origin.get(("4", str(record["companyId"])))
        if record.get("contactId"):
            cleaned["contact"] = origin.get(("3", str(record["contactId"])))
        return cleaned

    def requisite(record):
        cleaned = _clean(record, drop=("ENTITY_ID", "PRESET_ID"))
        cleaned["owner"] = origin.get((str(record.get("ENTITY_TYPE_ID")), str(record.get("ENTITY_ID"))))
        cleaned["preset"] = presets.get(str(record.get("PRESET_ID")))
        return cleaned

    def product(record):
        cleaned = _clean(record, drop=("measure",))
        cleaned["measure"] = measures.get(str(record.get("measure")), record.get("measure"))
        return cleaned

    def deal(record):
        cleaned = item(record, "2")
        cleaned.pop("stageId", None), cleaned.pop("categoryId", None)
        cleaned["stage"] = stages.get(record.get("stageId"), record.get("stageId"))
        cleaned["category"] = categories.get(str(record.get("categoryId")), record.get("categoryId"))
        rows = [r for rows in _values(state.get("product_rows")) for r in (rows if isinstance(rows, list) else [rows])
                if str(r.get("ownerId")) == str(record["id"]) and r.get("ownerType", "D") == "D"]
        cleaned["rows"] = sorted((repr(sorted(_clean(r, drop=("ownerId", "productId")).items())),
                                  product_xml.get(str(r.get("productId")))) for r in rows)
        return cleaned

    return {
        "companies": _group(companies, lambda r: r.get("originId"), lambda r: item(r, "4")),
        "contacts": _group(contacts, lambda r: r.get("originId"), lambda r: item(r, "3")),
        "requisites": _group(requisites, lambda r: r.get("XML_ID"), requisite),
        "addresses": _group(_values(state["addresses"]),
                            lambda r: (requisite_xml.get(str(r.get("ENTITY_ID"))), str(r.get("TYPE_ID"))),
                            lambda r: _clean(r, drop=("ENTITY_ID",))),
        "bankdetails": _group(_values(state["bankdetails"]), lambda r: r.get("XML_ID"),
                              lambda r: {**_clean(r, drop=("ENTITY_ID",)),
                                         "requisite": requisite_xml.get(str(r.get("ENTITY_ID")))}),
        "products": _group(products, lambda r: r.get("xmlId"), product),
        "prices": _group(_values(state.get("prices")),
                         lambda r: (product_xml.get(str(r.get("productId"))), str(r.get("catalogGroupId"))),
                         lambda r: _clean(r, drop=("productId",))),
        "deals": _group(deals, lambda r: r.get("originId"), deal),
    }


def state_diff(expected: dict, actual: dict, limit: int = 10) -> list[str]:
    """Readable differences between two normalised states (empty when equal)."""
    out = []
    for collection in sorted(set(expected) | set(actual)):
        want, have = expected.get(collection, {}), actual.get(collection, {})
        for key in sorted(set(want) | set(have), key=repr):
            if want.get(key) != have.get(key):
                out.append(f"{collection}[{key}]: expected {want.get(key)!r}, got {have.get(key)!r}")
                if len(out) >= limit:
                    return out
    return out
