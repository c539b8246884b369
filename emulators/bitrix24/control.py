"""The control/inspection API under ``/_emulator/``: create portals and users, mint install params,
expire tokens, uninstall, move deals, place robots, dump state, stats, faults, wait-idle, save."""

import json
import re
import time

from . import auth, state
from .errors import ApiError
from .methods.crm_item import get_item, move_deal


class ControlError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def _portal(emulator, member_id):
    portal = emulator.store.portal(member_id)
    if portal is None:
        raise ControlError(404, f"portal {member_id} not found")
    return portal


def create_portal(emulator, body):
    with emulator.store.lock:
        portal = state.new_portal(emulator.domain, body.get("license_family", "project"), body.get("admin"))
        emulator.store.portals[portal["member_id"]] = portal
        return portal_info(emulator, portal)


def portal_info(emulator, portal):
    return {
        "member_id": portal["member_id"],
        "domain": portal["domain"],
        "client_endpoint": f"{emulator.base_url}/rest/",
        "server_endpoint": f"{emulator.base_url}/rest/",
        "admin_user_id": portal["admin_user_id"],
        "application_token": portal["application_token"],
        "license_family": portal["license_family"],
    }


def add_user(emulator, member_id, body):
    with emulator.store.lock:
        portal = _portal(emulator, member_id)
        return state.add_user(
            portal,
            body.get("NAME", ""),
            body.get("LAST_NAME", ""),
            body.get("EMAIL", ""),
            bool(body.get("ADMIN", False)),
        )


def install_params(emulator, member_id, body):
    """What Bitrix24 POSTs to the installer/app page (reference §1.2), with fresh tokens."""
    with emulator.store.lock:
        portal = _portal(emulator, member_id)
        if not portal.get("installed", True):
            # a reinstall issues a new application_token (reference §1.9: never assume it is unchanged)
            portal["application_token"] = state.new_token()
            portal["installed"] = True
        user_id = int(body.get("user_id") or portal["admin_user_id"])
        if str(user_id) not in portal["users"]:
            raise ControlError(404, f"user {user_id} not found")
        ttl = emulator.config.token_ttl
        access, refresh = auth.issue_pair(emulator.store, member_id, user_id, ttl)
        options = body.get("placement_options") or {}
        return {
            "query": {
                "DOMAIN": portal["domain"],
                "PROTOCOL": "0",
                "LANG": "ru",
                "APP_SID": state.new_token(),
            },
            "form": {
                "AUTH_ID": access,
                "AUTH_EXPIRES": str(int(ttl)),
                "REFRESH_ID": refresh,
                "SERVER_ENDPOINT": f"{emulator.base_url}/rest/",
                "member_id": member_id,
                "status": "F",
                "PLACEMENT": body.get("placement", "DEFAULT"),
                "PLACEMENT_OPTIONS": json.dumps(options) if isinstance(options, dict) else str(options),
                "APPLICATION_TOKEN": portal["application_token"],
                "APPLICATION_SCOPE": auth.SCOPE,
            },
        }


def expire_tokens(emulator, member_id, body=None):
    _portal(emulator, member_id)
    auth.expire_all(emulator.store, member_id)
    return {"expired": True}


def uninstall(emulator, member_id, body):
    """Send ONAPPUNINSTALL, revoke tokens, drop handlers and placements (app-uninstallation.md)."""
    with emulator.store.lock:
        portal = _portal(emulator, member_id)
        emulator.events.uninstall(portal, body.get("clean", 0))
        portal["installed"] = False
        portal["events"] = {}
        portal["placements"] = []
        portal["robots"] = {}
        portal["robot_placements"] = []
        auth.revoke_portal(emulator.store, member_id)
        portal["application_token_revoked"] = portal["application_token"]
    return {"uninstalled": True}


def move(emulator, member_id, deal_id, body):
    with emulator.store.lock:
        portal = _portal(emulator, member_id)
        try:
            deal = get_item(portal, 2, deal_id)
            user_id = int(body.get("user_id") or portal["admin_user_id"])
            move_deal(emulator, portal, deal, body["stageId"], user_id)
        except ApiError as error:
            raise ControlError(400, error.description) from None
        return dict(deal)


def place_robot(emulator, member_id, body):
    with emulator.store.lock:
        portal = _portal(emulator, member_id)
        if body.get("code") not in portal["robots"]:
            raise ControlError(400, f"robot {body.get('code')} is not registered (bizproc.robot.add)")
        if state.find_stage(portal, body.get("stageId")) is None:
            raise ControlError(400, f"stage {body.get('stageId')} not found")
        placed = {
            "code": body["code"],
            "stageId": body["stageId"],
            "properties": body.get("properties") or {},
        }
        portal["robot_placements"].append(placed)
        return placed


def portal_state(emulator, member_id):
    with emulator.store.lock:
        portal = _portal(emulator, member_id)
        dump = json.loads(json.dumps(portal, ensure_ascii=False))
    items = dump.pop("items")
    dump["companies"] = list(items["4"].values())
    dump["contacts"] = list(items["3"].values())
    dump["deals"] = [dict(d, productRows=dump["product_rows"].get(str(d["id"]), [])) for d in items["2"].values()]
    dump["requisites"] = list(dump["requisites"].values())
    dump["bankdetails"] = list(dump["bankdetails"].values())
    dump["products"] = list(dump["products"].values())
    dump["prices"] = list(dump["prices"].values())
    dump["statuses"] = list(dump["statuses"].values())
    dump["categories"] = list(dump["categories"].values())
    dump["userfields"] = list(dump["userfields"].values())
    dump["events_bound"] = list(dump.pop("events").values())
    dump["users"] = list(dump["users"].values())
    return dump


def set_faults(emulator, body):
    emulator.limits.configure(body)
    return emulator.limits.snapshot()


def wait_idle(emulator, body):
    return {"idle": emulator.events.wait_idle(float(body.get("timeout", 10)))}


def save(emulator, body):
    path = body.get("path") or emulator.state_file
    if not path:
        raise ControlError(400, "no state file configured (--state)")
    emulator.store.save(path)
    return {"saved": path, "time": time.time()}


_ROUTES = [
    ("POST", r"/_emulator/portals", lambda e, m, b: create_portal(e, b)),
    (
        "GET",
        r"/_emulator/portals",
        lambda e, m, b: [portal_info(e, p) for p in list(e.store.portals.values())],
    ),
    ("POST", r"/_emulator/portals/(?P<member>\w+)/users", lambda e, m, b: add_user(e, m["member"], b)),
    (
        "POST",
        r"/_emulator/portals/(?P<member>\w+)/install-params",
        lambda e, m, b: install_params(e, m["member"], b),
    ),
    (
        "POST",
        r"/_emulator/portals/(?P<member>\w+)/expire-tokens",
        lambda e, m, b: expire_tokens(e, m["member"]),
    ),
    ("POST", r"/_emulator/portals/(?P<member>\w+)/uninstall", lambda e, m, b: uninstall(e, m["member"], b)),
    (
        "POST",
        r"/_emulator/portals/(?P<member>\w+)/deals/(?P<deal>\d+)/move",
        lambda e, m, b: move(e, m["member"], m["deal"], b),
    ),
    (
        "POST",
        r"/_emulator/portals/(?P<member>\w+)/robots/place",
        lambda e, m, b: place_robot(e, m["member"], b),
    ),
    ("GET", r"/_emulator/portals/(?P<member>\w+)/state", lambda e, m, b: portal_state(e, m["member"])),
    ("GET", r"/_emulator/stats", lambda e, m, b: e.stats.snapshot()),
    ("POST", r"/_emulator/stats/reset", lambda e, m, b: e.stats.reset() or {"reset": True}),
    ("GET", r"/_emulator/faults", lambda e, m, b: e.limits.snapshot()),
    ("POST", r"/_emulator/faults", lambda e, m, b: set_faults(e, b)),
    ("POST", r"/_emulator/wait-idle", lambda e, m, b: wait_idle(e, b)),
    ("POST", r"/_emulator/save", lambda e, m, b: save(e, b)),
]


def handle(emulator, verb, path, body):
    """Route a control request; returns ``(status, json_body)``."""
    path = path.rstrip("/")
    for route_verb, pattern, action in _ROUTES:
        match = re.fullmatch(pattern, path)
        if match and route_verb == verb:
            try:
                return 200, action(emulator, match.groupdict(), body or {})
            except ControlError as error:
                return error.status, {"error": error.message}
            except (KeyError, ValueError, TypeError) as error:
                return 400, {"error": f"bad request: {error}"}
    return 404, {"error": f"no control route {verb} {path}"}
