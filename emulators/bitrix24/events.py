"""Outgoing calls to the app: events (ONCRM*, ONAPPUNINSTALL) and robot invocations, queued and
delivered by one background thread, at most once, without retries (api-reference/events/index.md)."""

import logging
import queue
import secrets
import threading
import time
import urllib.request

from . import auth, phpform
from .state import now_iso

log = logging.getLogger(__name__)
DELIVERY_TIMEOUT = 5


def record_offline(portal, event, data, user_id):
    """The offline queue keeps only the latest record per (event, object) (api-reference/events/offline-events.md)."""
    queue_ = portal.setdefault("offline_events", [])
    object_id = str((data.get("FIELDS") or {}).get("ID", ""))
    queue_[:] = [
        e for e in queue_ if not (e["EVENT_NAME"] == event and e["_object"] == object_id and not e["PROCESS_ID"])
    ]
    portal["seq"]["offline"] = portal["seq"].get("offline", 0) + 1
    queue_.append(
        {
            "ID": portal["seq"]["offline"],
            "TIMESTAMP_X": now_iso(),
            "EVENT_NAME": event,
            "EVENT_DATA": data,
            "EVENT_ADDITIONAL": {"user_id": user_id},
            "MESSAGE_ID": secrets.token_hex(16),
            "PROCESS_ID": "",
            "ERROR": 0,
            "_object": object_id,
        }
    )


class EventBus:
    """Builds payloads under the store lock and posts them from a daemon thread."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="b24-events", daemon=True)
        self._thread.start()

    # ---- payloads ---------------------------------------------------------------------------
    def _auth_block(self, portal, user_id, with_token=True):
        base = self.emulator.base_url
        block = {
            "domain": portal["domain"],
            "client_endpoint": f"{base}/rest/",
            "server_endpoint": f"{base}/rest/",
            "member_id": portal["member_id"],
            "application_token": portal["application_token"],
        }
        if with_token and user_id:
            ttl = self.emulator.config.token_ttl
            block.update(
                {
                    "access_token": auth.issue_access(self.emulator.store, portal["member_id"], user_id, ttl),
                    "expires": int(time.time() + ttl),
                    "expires_in": int(ttl),
                    "scope": auth.SCOPE,
                    "status": "F",
                    "user_id": int(user_id),
                }
            )
        return block

    def fire(self, portal, event, data, user_id, auth_connector=None):
        """Queue ``event`` for every online handler bound to it and record it for offline bindings."""
        if not portal.get("installed", True):
            return
        for binding in list(portal["events"].values()):
            if binding["event"] != event:
                continue
            if binding["offline"]:
                if not auth_connector or auth_connector != binding.get("auth_connector"):
                    record_offline(portal, event, data, user_id)
                continue
            auth_user = binding.get("auth_type") or user_id
            payload = {
                "event": event,
                "event_handler_id": binding["id"],
                "data": data,
                "ts": str(int(time.time())),
                "auth": self._auth_block(portal, auth_user),
            }
            self._enqueue(portal, binding["handler"], payload, event)

    def uninstall(self, portal, clean):
        """ONAPPUNINSTALL: no access token; app_token is the only proof (on-app-uninstall.md)."""
        for binding in list(portal["events"].values()):
            if binding["event"] == "ONAPPUNINSTALL":
                payload = {
                    "event": "ONAPPUNINSTALL",
                    "event_handler_id": binding["id"],
                    "data": {"LANGUAGE_ID": "ru", "CLEAN": int(clean)},
                    "ts": str(int(time.time())),
                    "auth": self._auth_block(portal, None, with_token=False),
                }
                self._enqueue(portal, binding["handler"], payload, "ONAPPUNINSTALL")

    def run_stage_robots(self, portal, deal, user_id):
        """Invoke every robot the control API placed on the deal's new stage (reference §5.2)."""
        for placed in portal["robot_placements"]:
            if placed["stageId"] != deal["stageId"]:
                continue
            robot = portal["robots"].get(placed["code"])
            if robot is not None:
                self._invoke_robot(portal, deal, robot, placed, user_id)

    def _invoke_robot(self, portal, deal, robot, placed, user_id):
        workflow_id = secrets.token_hex(8)
        event_token = f"{workflow_id}|A{secrets.token_hex(4)}_{robot['CODE']}|{secrets.token_hex(8)}"
        use_subscription = robot.get("USE_SUBSCRIPTION") or "Y"  # empty means "wait" (§5.1)
        portal["robot_calls"][event_token] = {
            "code": robot["CODE"],
            "deal_id": deal["id"],
            "workflow_id": workflow_id,
            "time": now_iso(),
            "waiting": use_subscription != "N",
            "answered": None,
        }
        auth_user = robot.get("AUTH_USER_ID") or user_id or portal["admin_user_id"]
        payload = {
            "workflow_id": workflow_id,
            "code": robot["CODE"],
            "document_id": ["crm", "CCrmDocumentDeal", f"DEAL_{deal['id']}"],
            "document_type": ["crm", "CCrmDocumentDeal", "DEAL"],
            "event_token": event_token,
            "properties": placed.get("properties") or {},
            "use_subscription": use_subscription,
            "timeout_duration": 0,
            "ts": str(int(time.time())),
            "auth": self._auth_block(portal, auth_user),
        }
        self._enqueue(portal, robot["HANDLER"], payload, f"robot:{robot['CODE']}")

    # ---- delivery ---------------------------------------------------------------------------
    def _enqueue(self, portal, url, payload, label):
        record = {"to": url, "what": label, "time": now_iso(), "status": "queued"}
        portal["deliveries"].append(record)
        del portal["deliveries"][:-200]
        self.queue.put((url, phpform.encode(payload).encode(), record))

    def _run(self):
        while True:
            url, body, record = self.queue.get()
            try:
                self._post(url, body, record)
            finally:
                self.queue.task_done()

    def _post(self, url, body, record):
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "Bitrix24 Emulator"},
        )
        try:
            with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT) as response:
                record["status"] = response.status
        except Exception as exc:  # at most once: a failed delivery is lost, like on a real portal
            record["status"] = f"failed: {exc}"
            log.info("event delivery to %s failed: %s", url, exc)

    def wait_idle(self, timeout=10.0):
        """Block until the queue is drained (tests); True if it was drained in time."""
        deadline = time.monotonic() + timeout
        while self.queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True
