"""Executing REST calls: auth, leaky bucket, operating budget, faults, admin checks, response shape."""

import logging
import threading
import time
from collections import Counter
from datetime import datetime

from . import auth
from .errors import ApiError
from .methods import REGISTRY, Call, ListResult
from .state import MOSCOW

log = logging.getLogger(__name__)


class Stats:
    """Thread-safe counters for ``GET /_emulator/stats``."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self.requests = Counter()
            self.commands = Counter()
            self.errors = Counter()

    def count(self, kind, key):
        """Add one to ``requests``, ``commands`` or ``errors`` under ``key``."""
        with self._lock:
            getattr(self, kind)[key] += 1

    def snapshot(self):
        with self._lock:
            return {
                "requests": dict(self.requests),
                "commands": dict(self.commands),
                "errors": dict(self.errors),
                "total_requests": sum(self.requests.values()),
                "total_commands": sum(self.commands.values()),
            }


def normalize_method(name):
    name = name.strip("/").lower()
    for suffix in (".json", ".xml"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def time_block(started, operating=0.0, reset_at=None):
    finished = time.time()
    return {
        "start": round(started, 6),
        "finish": round(finished, 6),
        "duration": round(finished - started, 6),
        "processing": round(finished - started, 6),
        "date_start": _iso(started),
        "date_finish": _iso(finished),
        "operating": operating,
        "operating_reset_at": int(reset_at or started + 600),
    }


def _iso(stamp):
    return datetime.fromtimestamp(stamp, MOSCOW).isoformat(timespec="seconds")


def run_command(emulator, portal, user, name, params):
    """Run one command (top level or inside a batch). Returns ``(ListResult, operating, reset_at)``."""
    entry = REGISTRY.get(name)
    if entry is None:
        raise ApiError("ERROR_METHOD_NOT_FOUND", "Method not found!", 404)
    if entry.admin and not (user or {}).get("IS_ADMIN"):
        raise ApiError("ACCESS_DENIED", "Access denied! Admin permissions required", 403)
    emulator.limits.check_method(portal["member_id"], name)
    emulator.stats.count("commands", name)
    with emulator.store.lock:
        try:
            outcome = entry.handler(Call(emulator, portal, user, params, name))
        except ApiError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
            # malformed parameters (wrong shapes/types): a 400 like the portal's argument errors
            log.warning("bad parameters for %s: %r", name, error)
            raise ApiError("INVALID_ARG_VALUE", f"Invalid parameters: {error}", 400) from None
    operating, reset_at = emulator.limits.spend(portal["member_id"], name)
    if not isinstance(outcome, ListResult):
        outcome = ListResult(outcome)
    return outcome, operating, reset_at


def handle_rest(emulator, method_name, params):
    """Serve ``/rest/<method>``: returns ``(status, body)``."""
    started = time.time()
    name = normalize_method(method_name)
    emulator.stats.count("requests", name)
    try:
        return 200, _authorised_call(emulator, name, params, started)
    except ApiError as error:
        emulator.stats.count("errors", error.code)
        return error.status, error.payload()


def _authorised_call(emulator, name, params, started):
    if emulator.limits.should_expire_tokens():
        auth.expire_all(emulator.store)
    portal, user = auth.resolve_access(emulator.store, params.pop("auth", None))
    emulator.limits.take_request(portal["member_id"])
    fault = emulator.limits.roll_fault()
    if fault == "before":
        raise _internal_error()
    if name == "batch":
        from .batch import run_batch

        body = run_batch(emulator, portal, user, params, started)
    else:
        outcome, operating, reset_at = run_command(emulator, portal, user, name, params)
        body = {"result": outcome.result}
        if outcome.next is not None:
            body["next"] = outcome.next
        if outcome.total is not None:
            body["total"] = outcome.total
        body["time"] = time_block(started, operating, reset_at)
    if fault == "after":  # the write was applied but the caller sees a 500: outcome unknown
        raise _internal_error()
    return body


def _internal_error():
    return ApiError("INTERNAL_SERVER_ERROR", "Internal server error", 500)
