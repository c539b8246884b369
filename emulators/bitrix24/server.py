"""HTTP front end: routing of /oauth/token/, /rest/<method>, /_emulator/* and the web view,
and the :class:`Bitrix24Emulator` object that owns the state, limits and event delivery."""

import json
import logging
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from . import auth, control, phpform, webview
from .events import EventBus
from .limits import Limits
from .methods import load_all
from .rest import Stats, handle_rest
from .state import Store

log = logging.getLogger(__name__)


@dataclass
class Config:
    client_id: str
    client_secret: str
    token_ttl: float


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Bitrix24Emulator:
    """One process = the OAuth server + every portal. ``start()`` serves in a daemon thread."""

    def __init__(
        self,
        host="127.0.0.1",
        port=0,
        rate=2.0,
        burst=50,
        token_ttl=3600,
        fault_rate=0.0,
        client_id="app.test",
        client_secret="secret",
        op_budget=480.0,
        op_cost=0.005,
        state_file=None,
    ):
        load_all()
        self.config = Config(client_id, client_secret, float(token_ttl))
        self.limits = Limits(rate, burst, op_budget, op_cost, fault_rate)
        self.store = Store()
        self.stats = Stats()
        self.state_file = state_file
        self.host, self.port = host, port
        self._httpd = None
        self._thread = None
        self.events = None

    # ---- lifecycle --------------------------------------------------------------------------
    def bind(self):
        """Open the listening socket (resolves port 0) and load the state file if any."""
        self._httpd = _Server((self.host, self.port), _handler_for(self))
        self.port = self._httpd.server_address[1]
        self.events = EventBus(self)
        if self.state_file:
            self._load_state()
        return self

    def _load_state(self):
        import os

        if os.path.exists(self.state_file):
            self.store.load(self.state_file)
            for portal in self.store.portals.values():
                portal["domain"] = self.domain  # the port may differ between runs

    def start(self):
        if self._httpd is None:
            self.bind()
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="b24-http", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        if self._httpd is None:
            self.bind()
        try:
            self._httpd.serve_forever()
        finally:
            self.shutdown_save()

    def stop(self):
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self.shutdown_save()
            self._httpd = None

    def shutdown_save(self):
        if self.state_file:
            self.store.save(self.state_file)

    @property
    def domain(self):
        return f"{self.host}:{self.port}"

    @property
    def base_url(self):
        return f"http://{self.domain}"

    # ---- Python helpers mirroring the control API --------------------------------------------
    def create_portal(self, license_family="project", admin=None):
        return control.create_portal(self, {"license_family": license_family, "admin": admin})

    def add_user(self, member_id, name, last_name="", email="", admin=False):
        return control.add_user(self, member_id, {"NAME": name, "LAST_NAME": last_name, "EMAIL": email, "ADMIN": admin})

    def install_params(self, member_id, user_id=None, placement="DEFAULT", placement_options=None):
        return control.install_params(
            self,
            member_id,
            {"user_id": user_id, "placement": placement, "placement_options": placement_options},
        )

    def tokens(self, member_id, user_id=None):
        """Shortcut: ``(access_token, refresh_token)`` for a user (default: the admin)."""
        form = self.install_params(member_id, user_id)["form"]
        return form["AUTH_ID"], form["REFRESH_ID"]

    def expire_tokens(self, member_id):
        return control.expire_tokens(self, member_id)

    def uninstall(self, member_id, clean=1):
        return control.uninstall(self, member_id, {"clean": clean})

    def move_deal(self, member_id, deal_id, stage_id, user_id=None):
        return control.move(self, member_id, deal_id, {"stageId": stage_id, "user_id": user_id})

    def place_robot(self, member_id, code, stage_id, properties=None):
        return control.place_robot(self, member_id, {"code": code, "stageId": stage_id, "properties": properties})

    def portal_state(self, member_id):
        return control.portal_state(self, member_id)

    def set_faults(self, **options):
        return control.set_faults(self, options)

    def wait_idle(self, timeout=10.0):
        return self.events.wait_idle(timeout)

    def save(self, path=None):
        return control.save(self, {"path": path})


def _handler_for(emulator):
    class Handler(_RequestHandler):
        pass

    Handler.emulator = emulator
    return Handler


class _RequestHandler(BaseHTTPRequestHandler):
    emulator = None
    protocol_version = "HTTP/1.1"
    server_version = "Bitrix24Emulator/1.0"

    def setup(self):
        super().setup()
        # headers and body go out in two writes; without NODELAY keep-alive clients see 40 ms stalls
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        log.debug("%s " + fmt, self.address_string(), *args)

    def do_GET(self):  # noqa: N802
        self._route("GET")

    def do_POST(self):  # noqa: N802
        self._route("POST")

    # ---- request parsing --------------------------------------------------------------------
    def _raw_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _params(self, query, raw):
        """Query string + body (JSON or PHP-style form); the body wins on conflicts."""
        params = phpform.parse_query(query)
        if raw:
            content_type = self.headers.get("Content-Type", "")
            text = raw.decode("utf-8")
            if "json" in content_type or text.lstrip().startswith("{"):
                body = json.loads(text)
                if not isinstance(body, dict):
                    raise ValueError("JSON body must be an object")
            else:
                body = phpform.parse_query(text)
            params.update(body)
        return params

    # ---- routing ----------------------------------------------------------------------------
    def _route(self, verb):
        url = urlsplit(self.path)
        raw = self._raw_body()
        try:
            if url.path.startswith("/oauth/token"):
                status, body = self._oauth(self._params(url.query, raw))
            elif url.path.startswith("/rest/"):
                status, body = handle_rest(self.emulator, url.path[len("/rest/") :], self._params(url.query, raw))
            elif url.path.startswith("/_emulator/"):
                payload = json.loads(raw.decode("utf-8")) if raw.strip() else {}
                status, body = control.handle(self.emulator, verb, url.path, payload)
            else:
                self._send_html(*webview.render(self.emulator, url.path, phpform.parse_query(url.query)))
                return
        except (ValueError, UnicodeDecodeError) as error:
            status, body = 400, {"error": "INVALID_REQUEST", "error_description": f"Bad request: {error}"}
        except Exception:  # never leave a client hanging on an emulator bug
            log.exception("emulator failure on %s %s", verb, self.path)
            status, body = 500, {"error": "INTERNAL_SERVER_ERROR", "error_description": "Emulator failure"}
        self._send_json(status, body)

    def _oauth(self, params):
        try:
            return 200, auth.refresh_grant(self.emulator.store, params, self.emulator.config, self.emulator.base_url)
        except auth.OAuthError as error:
            self.emulator.stats.count("errors", error.code)
            return error.status, error.payload()

    def _send_json(self, status, body):
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_html(self, status, html):
        data = html.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
