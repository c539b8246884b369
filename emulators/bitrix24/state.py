"""In-memory storage of portals and OAuth tokens, guarded by one lock, with JSON load/save."""

import json
import os
import secrets
import threading
from datetime import datetime, timedelta, timezone

from . import seed


def new_token():
    return secrets.token_hex(16)


class Store:
    """All emulator state. Every read or write of ``portals``/``tokens`` happens under ``lock``."""

    def __init__(self):
        self.lock = threading.RLock()
        self.portals = {}
        self.access_tokens = {}
        self.refresh_tokens = {}

    # ---- persistence -------------------------------------------------------------------------
    def to_json(self):
        with self.lock:
            return {
                "portals": self.portals,
                "access_tokens": self.access_tokens,
                "refresh_tokens": self.refresh_tokens,
            }

    def save(self, path):
        data = self.to_json()
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=1)
        os.replace(tmp, path)

    def load(self, path):
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        with self.lock:
            self.portals = data.get("portals", {})
            self.access_tokens = data.get("access_tokens", {})
            self.refresh_tokens = data.get("refresh_tokens", {})

    # ---- portals -----------------------------------------------------------------------------
    def portal(self, member_id):
        with self.lock:
            return self.portals.get(member_id)

    def first_portal(self):
        with self.lock:
            return next(iter(self.portals.values()), None)


def next_id(portal, kind):
    """Allocate the next integer id of ``kind`` in ``portal``."""
    seq = portal["seq"]
    seq[kind] = seq.get(kind, 0) + 1
    return seq[kind]


MOSCOW = timezone(timedelta(hours=3))


def now_iso():
    """Portal time (Europe/Moscow), ISO 8601 with offset as the REST API returns it."""
    return datetime.now(MOSCOW).isoformat(timespec="seconds")


def make_user(user_id, name, last_name, email, admin):
    return {
        "ID": str(user_id),
        "ACTIVE": True,
        "NAME": name,
        "LAST_NAME": last_name,
        "SECOND_NAME": "",
        "EMAIL": email,
        "USER_TYPE": "employee",
        "IS_ADMIN": bool(admin),
        "WORK_POSITION": "",
        "TIME_ZONE": "Europe/Moscow",
    }


def new_portal(domain, license_family="project", admin=None):
    """Create a fully seeded portal (users, stages, presets, catalog dictionaries)."""
    admin = admin or {}
    member_id = secrets.token_hex(16)
    portal = {
        "member_id": member_id,
        "domain": domain,
        "license_family": license_family,
        "application_token": secrets.token_hex(16),
        "installed": True,
        "seq": {"user": 0, "status": 0, "fm": 0, "productrow": 0, "event": 0},
        "users": {},
        "admin_user_id": 0,
        "items": {"2": {}, "3": {}, "4": {}},
        "product_rows": {},
        "stage_history": [],
        "categories": {},
        "statuses": {},
        "userfields": {},
        "presets": {},
        "requisites": {},
        "addresses": [],
        "bankdetails": {},
        "catalogs": [],
        "products": {},
        "prices": {},
        "price_types": {},
        "measures": {},
        "currencies": {},
        "events": {},
        "placements": [],
        "robots": {},
        "robot_placements": [],
        "robot_calls": {},
        "notifications": {},
        "deliveries": [],
        "offline_events": [],
    }
    user = add_user(
        portal,
        admin.get("NAME", "Админ"),
        admin.get("LAST_NAME", "Портала"),
        admin.get("EMAIL", "admin@example.com"),
        True,
    )
    portal["admin_user_id"] = int(user["ID"])
    _seed(portal)
    return portal


def add_user(portal, name, last_name, email, admin):
    user_id = next_id(portal, "user")
    user = make_user(user_id, name, last_name, email, admin)
    portal["users"][str(user_id)] = user
    return user


def _seed(portal):
    add_category(portal, 0, "Общая", 0, is_default=True)
    first_preset = seed.preset_start_id()
    portal["seq"]["preset"] = first_preset - 1
    for name, xml_id in seed.RU_PRESETS:
        preset_id = next_id(portal, "preset")
        portal["presets"][str(preset_id)] = {
            "ID": str(preset_id),
            "ENTITY_TYPE_ID": "8",
            "COUNTRY_ID": "1",
            "NAME": name,
            "XML_ID": xml_id,
            "ACTIVE": "Y",
            "SORT": str(500 + preset_id),
            "DATE_CREATE": now_iso(),
        }
    for measure_id, (code, title, symbol, intl, default) in zip(seed.measure_ids(), seed.MEASURES, strict=True):
        portal["measures"][str(measure_id)] = {
            "id": measure_id,
            "code": code,
            "measureTitle": title,
            "symbol": symbol,
            "symbolIntl": intl,
            "symbolLetterIntl": intl,
            "isDefault": default,
        }
    portal["seq"]["measure"] = max(seed.measure_ids())
    for code, name, base, rate, sort in seed.CURRENCIES:
        portal["currencies"][code] = {
            "CURRENCY": code,
            "AMOUNT_CNT": 1,
            "AMOUNT": rate,
            "SORT": sort,
            "BASE": base,
            "FULL_NAME": name,
            "LID": "ru",
            "FORMAT_STRING": f"# {code}",
        }
    portal["price_types"] = {
        "1": {"id": 1, "name": "BASE", "base": "Y", "sort": 100, "xmlId": "BASE"},
        "2": {"id": 2, "name": "Оптовая", "base": "N", "sort": 200, "xmlId": "WHOLESALE"},
    }
    portal["catalogs"] = [
        {
            "id": 25,
            "iblockId": 25,
            "iblockTypeId": "CRM_PRODUCT_CATALOG",
            "lid": "s1",
            "name": "Товарный каталог CRM",
            "productIblockId": None,
            "skuPropertyId": None,
            "subscription": "N",
            "vatId": 0,
            "yandexExport": "N",
        },
        {
            "id": 27,
            "iblockId": 27,
            "iblockTypeId": "CRM_PRODUCT_CATALOG",
            "lid": "s1",
            "name": "Товарный каталог CRM (предложения)",
            "productIblockId": 25,
            "skuPropertyId": 105,
            "subscription": "N",
            "vatId": 0,
            "yandexExport": "N",
        },
    ]
    portal["seq"]["product"] = 100
    portal["seq"]["price"] = 0


def stage_entity_id(category_id):
    return "DEAL_STAGE" if int(category_id) == 0 else f"DEAL_STAGE_{int(category_id)}"


def stage_prefix(category_id):
    return "" if int(category_id) == 0 else f"C{int(category_id)}:"


def add_category(portal, category_id, name, sort, is_default=False, origin_id="", originator_id=""):
    """Create a deal funnel and seed its default stages (``C<id>:`` prefixed outside funnel 0)."""
    portal["categories"][str(category_id)] = {
        "id": category_id,
        "name": name,
        "sort": sort,
        "entityTypeId": 2,
        "isDefault": "Y" if is_default else "N",
        "originId": origin_id,
        "originatorId": originator_id,
    }
    entity_id = stage_entity_id(category_id)
    for status_id, sort_, system, semantics, title, color in seed.DEFAULT_DEAL_STAGES:
        add_status(
            portal,
            entity_id,
            stage_prefix(category_id) + status_id,
            title,
            sort_,
            color,
            semantics,
            system=system,
            category_id=category_id,
        )
    return portal["categories"][str(category_id)]


def add_status(portal, entity_id, status_id, name, sort, color, semantics, system="N", category_id=None):
    row_id = next_id(portal, "status")
    semantic_word = {"S": "success", "F": "failure"}.get(semantics, "process")
    row = {
        "ID": str(row_id),
        "ENTITY_ID": entity_id,
        "STATUS_ID": status_id,
        "NAME": name,
        "NAME_INIT": name,
        "SORT": str(sort),
        "SYSTEM": system,
        "COLOR": color,
        "SEMANTICS": semantics or None,
        "CATEGORY_ID": None if category_id is None else str(category_id),
        "EXTRA": {"SEMANTICS": semantic_word, "COLOR": color},
    }
    portal["statuses"][str(row_id)] = row
    return row


def deal_stages(portal, category_id):
    entity_id = stage_entity_id(category_id)
    rows = [s for s in portal["statuses"].values() if s["ENTITY_ID"] == entity_id]
    return sorted(rows, key=lambda s: int(s["SORT"]))


def find_stage(portal, stage_id):
    for row in portal["statuses"].values():
        if row["ENTITY_ID"].startswith("DEAL_STAGE") and row["STATUS_ID"] == stage_id:
            return row
    return None
