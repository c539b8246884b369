"""System methods: app.info, users, event.*, placement.*, bizproc.robot.*, im.notify.*."""

import re
import secrets
import time

from .. import query
from ..errors import ApiError
from ..state import next_id, now_iso
from . import method


# ---- app and users ------------------------------------------------------------------------------
@method("app.info")
def app_info(call):
    family = call.portal.get("license_family", "project")
    return {
        "ID": 7,
        "CODE": call.emulator.config.client_id,
        "VERSION": 1,
        "STATUS": "F",
        "INSTALLED": bool(call.portal.get("installed", True)),
        "PAYMENT_EXPIRED": "N",
        "DAYS": None,
        "LANGUAGE_ID": "ru",
        "LICENSE": f"ru_{family}",
        "LICENSE_TYPE": family,
        "LICENSE_FAMILY": family,
        # what the OAuth server's app.info adds (b24pysdk validates placement/event data with these)
        "client_id": call.emulator.config.client_id,
        "user_id": call.user_id,
        "install": {
            "member_id": call.portal["member_id"],
            "domain": call.portal["domain"],
            "installed": bool(call.portal.get("installed", True)),
            "status": "F",
            "version": 1,
        },
    }


@method("user.current")
def user_current(call):
    return call.user


@method("profile")
def profile(call):
    user = call.user
    return {
        "ID": user["ID"],
        "ADMIN": user["IS_ADMIN"],
        "NAME": user["NAME"],
        "LAST_NAME": user["LAST_NAME"],
        "PERSONAL_GENDER": "",
        "TIME_ZONE": user["TIME_ZONE"],
    }


@method("user.admin")
def user_admin(call):
    return bool(call.user.get("IS_ADMIN"))


@method("user.get")
def user_get(call):
    flt = call.param("FILTER", "filter", default={}) or {}
    users = list(call.portal["users"].values())
    user_id = call.param("ID", "id")
    if user_id is not None:
        flt = {**flt, "ID": user_id}
    users = query.apply_filter(users, {k.upper(): v for k, v in flt.items()}, lambda u, n: u.get(n.upper()))
    users = query.apply_order(
        users,
        {call.param("sort", default="ID"): call.param("order", default="ASC")},
        lambda u, n: u.get(str(n).upper()),
        "ID",
    )
    return query.paginate(users, call.param("start"), lambda page: page)


# ---- events (api-reference/events/event-bind.md) ------------------------------------------------
def _event_params(call):
    event = str(call.param("event", "EVENT", default="")).upper()
    handler = call.param("handler", "HANDLER", default="") or ""
    offline = str(call.param("event_type", "EVENT_TYPE", default="online")).lower() == "offline"
    auth_type = int(call.param("auth_type", "AUTH_TYPE", default=0) or 0)
    return event, handler, offline, auth_type


@method("event.bind", write=True)
def event_bind(call):
    event, handler, offline, auth_type = _event_params(call)
    if not event.startswith("ON"):
        raise ApiError("ERROR_EVENT_NOT_FOUND", "Event not found", 400)
    if (offline or auth_type) and not call.user.get("IS_ADMIN"):
        raise ApiError("ACCESS_DENIED", "Access denied! Admin permissions required", 403)
    if not offline:
        _check_url(handler, "ERROR_HANDLER_URL_MISMATCH")
    for binding in call.portal["events"].values():
        if (binding["event"], binding["handler"], binding["auth_type"]) == (
            event,
            handler,
            auth_type,
        ) and binding["offline"] == offline:
            raise ApiError("ERROR_HANDLER_ALREADY_EXIST", "Handler already exists!", 400)
    binding_id = next_id(call.portal, "event")
    call.portal["events"][str(binding_id)] = {
        "id": binding_id,
        "event": event,
        "handler": handler,
        "auth_type": auth_type,
        "offline": 1 if offline else 0,
        "auth_connector": call.param("auth_connector", default=""),
    }
    return True


@method("event.get")
def event_get(call):
    return [
        {
            "event": b["event"],
            "handler": b["handler"],
            "auth_type": str(b["auth_type"]),
            "offline": b["offline"],
        }
        for b in call.portal["events"].values()
    ]


@method("event.unbind", write=True)
def event_unbind(call):
    event, handler, offline, auth_type = _event_params(call)
    removed = [
        key
        for key, b in call.portal["events"].items()
        if b["event"] == event and (not handler or b["handler"] == handler) and b["offline"] == offline
    ]
    for key in removed:
        del call.portal["events"][key]
    return {"count": len(removed)}


def _check_url(url, code):
    if not re.match(r"^https?://[^/\s]+", str(url or "")):
        raise ApiError(code, "Wrong handler URL", 400)


# ---- placements ---------------------------------------------------------------------------------
@method("placement.bind", admin=True, write=True)
def placement_bind(call):
    placement = str(call.param("PLACEMENT", "placement", default="")).upper()
    handler = call.param("HANDLER", "handler")
    if not placement:
        raise ApiError("ERROR_ARGUMENT", "Argument 'PLACEMENT' is null or empty", 400, argument="PLACEMENT")
    _check_url(handler, "ERROR_ARGUMENT")
    if any(p["placement"] == placement and p["handler"] == handler for p in call.portal["placements"]):
        raise ApiError("ERROR_PLACEMENT_HANDLER_ALREADY_EXIST", "Handler already binded", 400)
    call.portal["placements"].append(
        {
            "placement": placement,
            "handler": handler,
            "title": call.param("TITLE", "title", default=""),
            "description": call.param("DESCRIPTION", default=""),
            "options": call.param("OPTIONS", default={}),
        }
    )
    return True


@method("placement.get")
def placement_get(call):
    return list(call.portal["placements"])


@method("placement.unbind", admin=True, write=True)
def placement_unbind(call):
    placement = str(call.param("PLACEMENT", "placement", default="")).upper()
    handler = call.param("HANDLER", "handler")
    before = len(call.portal["placements"])
    call.portal["placements"] = [
        p
        for p in call.portal["placements"]
        if not (p["placement"] == placement and (not handler or p["handler"] == handler))
    ]
    return {"count": before - len(call.portal["placements"])}


# ---- robots (api-reference/bizproc/bizproc-robot/*) ---------------------------------------------
def _robot_fields(raw):
    return {key.upper(): value for key, value in (raw or {}).items()}


@method("bizproc.robot.add", admin=True, write=True)
def robot_add(call):
    fields = _robot_fields(call.params)
    code = str(fields.get("CODE", ""))
    if not re.fullmatch(r"[A-Za-z0-9._-]+", code):
        raise ApiError("ERROR_ACTIVITY_VALIDATION_FAILURE", "Wrong activity code!", 400)
    if code in call.portal["robots"]:
        raise ApiError("ERROR_ACTIVITY_ALREADY_INSTALLED", "Activity or Robot already installed!", 400)
    handler = str(fields.get("HANDLER", ""))
    if not handler.startswith(("http://", "https://")):
        raise ApiError("ERROR_UNSUPPORTED_PROTOCOL", "Unsupported handler protocol", 400)
    if not fields.get("NAME"):
        raise ApiError("ERROR_ACTIVITY_VALIDATION_FAILURE", "Empty activity name!", 400)
    call.portal["robots"][code] = _robot_record(fields, code, handler)
    return True


def _robot_record(fields, code, handler):
    return {
        "CODE": code,
        "HANDLER": handler,
        "NAME": fields.get("NAME"),
        "DESCRIPTION": fields.get("DESCRIPTION", ""),
        "AUTH_USER_ID": int(fields.get("AUTH_USER_ID") or 0),
        "USE_SUBSCRIPTION": fields.get("USE_SUBSCRIPTION", ""),
        "PROPERTIES": fields.get("PROPERTIES") or {},
        "RETURN_PROPERTIES": fields.get("RETURN_PROPERTIES") or {},
        "DOCUMENT_TYPE": fields.get("DOCUMENT_TYPE") or [],
        "FILTER": fields.get("FILTER") or {},
        "USE_PLACEMENT": fields.get("USE_PLACEMENT", "N"),
    }


@method("bizproc.robot.list")
def robot_list(call):
    return list(call.portal["robots"])


@method("bizproc.robot.update", admin=True, write=True)
def robot_update(call):
    code = str(call.param("CODE", "code", default=""))
    robot = call.portal["robots"].get(code)
    if robot is None:
        raise ApiError("ERROR_ACTIVITY_NOT_FOUND", "Activity or Robot not found!", 400)
    fields = _robot_fields(call.param("FIELDS", "fields", default={}))
    if "HANDLER" in fields and not str(fields["HANDLER"]).startswith(("http://", "https://")):
        raise ApiError("ERROR_UNSUPPORTED_PROTOCOL", "Unsupported handler protocol", 400)
    robot.update({key: value for key, value in fields.items() if key != "CODE"})
    return True


@method("bizproc.robot.delete", admin=True, write=True)
def robot_delete(call):
    code = str(call.param("CODE", "code", default=""))
    if call.portal["robots"].pop(code, None) is None:
        raise ApiError("ERROR_ACTIVITY_NOT_FOUND", "Activity or Robot not found!", 400)
    call.portal["robot_placements"] = [p for p in call.portal["robot_placements"] if p["code"] != code]
    return True


@method("bizproc.event.send", write=True)
def bizproc_event_send(call):
    token = call.param("EVENT_TOKEN", "event_token", default="")
    record = call.portal["robot_calls"].get(token)
    if record is None or not record["waiting"] or record["answered"]:
        raise ApiError("ACCESS_DENIED", "Access denied!", 403)
    record["answered"] = {
        "RETURN_VALUES": call.param("RETURN_VALUES", default={}),
        "LOG_MESSAGE": call.param("LOG_MESSAGE", default=""),
        "time": now_iso(),
    }
    return True


# ---- notifications (api-reference/chats/notifications/im-notify-system-add.md) ------------------
def _notify(call, kind):
    user_id = str(call.param("USER_ID", "user_id", default="") or "")
    message = str(call.param("MESSAGE", "message", default="") or "").strip()
    if not user_id:
        raise ApiError("USER_ID_EMPTY", "Recipient ID can't be empty", 400)
    if not message:
        raise ApiError("MESSAGE_EMPTY", "Message can't be empty", 400)
    if user_id not in call.portal["users"]:
        raise ApiError("USER_ID_EMPTY", "Recipient not found", 400)
    tag = call.param("TAG", "tag", default="") or ""
    store = call.portal["notifications"]
    if tag:  # a re-used TAG replaces the earlier notification(s) of that tag
        for key in list(store):
            store[key] = [n for n in store[key] if n["TAG"] != tag]
    notification_id = next_id(call.portal, "notification")
    store.setdefault(user_id, []).append(
        {
            "ID": notification_id,
            "TYPE": kind,
            "FROM_USER_ID": call.user_id if kind == "personal" else 0,
            "MESSAGE": message,
            "MESSAGE_OUT": call.param("MESSAGE_OUT", default=""),
            "TAG": tag,
            "SUB_TAG": call.param("SUB_TAG", default=""),
            "DATE": now_iso(),
            "TS": time.time(),
        }
    )
    return notification_id


@method("im.notify.system.add", write=True)
def notify_system(call):
    return _notify(call, "system")


@method("im.notify.personal.add", write=True)
def notify_personal(call):
    return _notify(call, "personal")


# ---- offline events (api-reference/events/event-offline-get.md) ---------------------------------
def _public_offline(record):
    return {k: v for k, v in record.items() if not k.startswith("_") and k not in ("PROCESS_ID", "ERROR")}


@method("event.offline.get", admin=True, write=True)
def event_offline_get(call):
    """Read up to ``limit`` records; ``clear=1`` deletes them, ``clear=0`` reserves them under a process_id."""
    queue_ = call.portal.setdefault("offline_events", [])
    limit = int(call.param("limit", default=50) or 50)
    clear = str(call.param("clear", default="1")) not in ("0", "N", "false")
    flt = call.param("filter", default={}) or {}
    free = [e for e in queue_ if not e["PROCESS_ID"] and (call.param("error") or not e["ERROR"])]
    picked = query.apply_filter(free, flt, lambda r, n: r.get(n.upper()))[:limit]
    process_id = "" if clear else secrets.token_hex(16)
    for record in picked:
        if clear:
            queue_.remove(record)
        else:
            record["PROCESS_ID"] = process_id
    return {"process_id": process_id or None, "events": [_public_offline(r) for r in picked]}


def _reserved(call):
    process_id = call.param("process_id", default="")
    message_ids = call.param("message_id", default=None)
    message_ids = list(message_ids.values()) if isinstance(message_ids, dict) else message_ids
    queue_ = call.portal.setdefault("offline_events", [])
    return queue_, [
        e for e in queue_ if e["PROCESS_ID"] == process_id and (not message_ids or e["MESSAGE_ID"] in message_ids)
    ]


@method("event.offline.clear", admin=True, write=True)
def event_offline_clear(call):
    queue_, records = _reserved(call)
    for record in records:
        queue_.remove(record)
    return True


@method("event.offline.error", admin=True, write=True)
def event_offline_error(call):
    _, records = _reserved(call)
    for record in records:
        record.update(PROCESS_ID="", ERROR=1)
    return True


@method("event.offline.list", admin=True)
def event_offline_list(call):
    records = call.portal.setdefault("offline_events", [])
    return query.paginate(records, call.param("start"), lambda page: [_public_offline(r) for r in page])
