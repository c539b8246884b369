"""The HTTP server: Basic auth, URL decoding, routing to OData or control routes, faults, stats, errors."""

import base64
import json
import random
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

from . import control
from .errors import ODataError
from .generator.dataset import DatasetBuilder
from .service import ODataService
from .store import Store


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.requests = 0
            self.by_entity_set = Counter()

    def count(self, entity_set):
        with self.lock:
            self.requests += 1
            if entity_set:
                self.by_entity_set[entity_set] += 1

    def snapshot(self):
        with self.lock:
            return {"requests": self.requests, "by_entity_set": dict(self.by_entity_set)}


def parse_query(query):
    """Query options, percent-decoded; '+' is kept as '+' as 1С does."""
    options = {}
    for part in query.split("&"):
        if part:
            name, _, value = part.partition("=")
            options[unquote(name)] = unquote(value)
    return options


class OneCEmulator:
    """A 1С:УТ 10.3 standard OData publication with a generated infobase."""

    def __init__(self, host="127.0.0.1", port=0, size="small", seed=1, user="odata", password="odata",
                 infobase="ut103", latency_ms=0, fault_rate=0.0):
        self.host, self.port = host, port
        self.user, self.password = user, password
        self.infobase = infobase
        self.latency_ms, self.fault_rate = latency_ms, fault_rate
        self.fault_rng = random.Random(f"faults-{seed}")
        self.store = Store(seed)
        builder = DatasetBuilder(self.store, seed, size).build()
        self.ops = builder.ops
        self._cases = builder.cases
        self._bad_records = builder.bad_records
        self.stats = Stats()
        self.httpd = None
        self.thread = None
        self.service = None

    # ------------------------------------------------------------ lifecycle

    def start(self):
        self.httpd = ThreadingHTTPServer((self.host, self.port), make_handler(self))
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.service = ODataService(self.store, self.odata_url)
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="onec-emulator", daemon=True)
        self.thread.start()
        return self

    def serve_forever(self):
        self.httpd = ThreadingHTTPServer((self.host, self.port), make_handler(self))
        self.port = self.httpd.server_address[1]
        self.service = ODataService(self.store, self.odata_url)
        self.httpd.serve_forever()

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    @property
    def base_url(self):
        return f"http://{self.host}:{self.port}"

    @property
    def odata_url(self):
        return f"{self.base_url}/{self.infobase}/odata/standard.odata/"

    @property
    def odata_prefix(self):
        return f"/{self.infobase}/odata/standard.odata"

    def cases(self):
        return {name: list(refs) for name, refs in self._cases.items()}

    def bad_records(self):
        return [dict(r) for r in self._bad_records]

    # ------------------------------------------------------------ request checks

    def authorized(self, header):
        if self.user is None:
            return True
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return user == self.user and password == self.password

    def inject_fault(self):
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        return self.fault_rate > 0 and self.fault_rng.random() < self.fault_rate


def make_handler(emulator):
    class Handler(OneCHandler):
        emu = emulator
    return Handler


class OneCHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in separate writes: avoid 40 ms delayed-ACK stalls
    server_version = "Apache/2.4 1C:Enterprise/8.3"
    emu = None

    def log_message(self, format, *args):  # noqa: A002 - quiet server
        pass

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def handle_any(self, method):
        raw_path, _, query = self.path.partition("?")
        path = unquote(raw_path)
        body = self.read_body()
        try:
            if path.startswith("/_emulator/"):
                status, payload = control.dispatch(self.emu, method, path.rstrip("/"), self.parse_json(body))
                self.send_json(status, payload)
            elif path.startswith(self.emu.odata_prefix):
                self.handle_odata(method, path[len(self.emu.odata_prefix):], query)
            else:
                raise ODataError(404, f"Не найден ресурс \"{path}\"")
        except ODataError as exc:
            self.send_json(exc.status, exc.payload(), exc.status == 401)
        except Exception as exc:  # a 1С-style answer instead of a dropped connection
            self.send_json(500, ODataError(500, f"Внутренняя ошибка: {type(exc).__name__}: {exc}").payload())

    def handle_odata(self, method, resource, query):
        if not self.emu.authorized(self.headers.get("Authorization")):
            self.emu.stats.count("")
            raise ODataError(401, "Ошибка аутентификации: неверное имя пользователя или пароль")
        if method != "GET":
            raise ODataError(405, f"Метод {method} не поддерживается эмулятором (только чтение)")
        options = parse_query(query)
        response = None
        try:
            if self.emu.inject_fault():
                raise ODataError(500, "Внутренняя ошибка сервера 1С:Предприятия (эмуляция сбоя)")
            response = self.emu.service.handle(resource.lstrip("/"), options)
        finally:
            self.emu.stats.count(entity_set_of(resource))
        if isinstance(response.body, str):
            self.send_bytes(response.status, response.body.encode("utf-8"), response.content_type)
        else:
            self.send_json(response.status, response.body)

    # ------------------------------------------------------------ plumbing

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def parse_json(self, body):
        if not body:
            return {}
        try:
            return json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise ODataError(400, "Неверный JSON в теле запроса") from None

    def send_json(self, status, payload, challenge=False):
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.send_bytes(status, data, "application/json;charset=utf-8", challenge)

    def send_bytes(self, status, data, content_type, challenge=False):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("DataServiceVersion", "3.0")
        if challenge:
            self.send_header("WWW-Authenticate", 'Basic realm="1C:Enterprise"')
        self.end_headers()
        self.wfile.write(data)


def entity_set_of(resource):
    head = resource.strip("/").split("/", 1)[0]
    return head.split("(", 1)[0]
