"""Fixtures: a shared fast emulator, a fresh portal per test, a REST helper and a webhook receiver."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
import requests

from emulators.bitrix24 import Bitrix24Emulator


class Portal:
    """A portal of an emulator plus an admin token, with a tiny REST client."""

    def __init__(self, emulator, info):
        self.emulator = emulator
        self.info = info
        self.member_id = info["member_id"]
        self.access, self.refresh = emulator.tokens(self.member_id)
        self.session = requests.Session()

    def raw(self, method, token=None, **params):
        body = dict(params, auth=token or self.access)
        return self.session.post(f"{self.emulator.base_url}/rest/{method}", json=body, timeout=10)

    def call(self, method, **params):
        response = self.raw(method, **params)
        assert response.status_code == 200, response.text
        return response.json()["result"]

    def error(self, method, **params):
        response = self.raw(method, **params)
        assert response.status_code != 200, response.text
        return response.status_code, response.json()

    def control(self, path, **body):
        """POST to this portal's control route ``/_emulator/portals/<member_id>/<path>``."""
        return self.emulator_control(f"portals/{self.member_id}/{path}", **body)

    def emulator_control(self, path, **body):
        """POST to an emulator-wide control route ``/_emulator/<path>``."""
        response = requests.post(f"{self.emulator.base_url}/_emulator/{path}", json=body, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="session")
def emulator():
    emu = Bitrix24Emulator(port=0, rate=10000, burst=100000, token_ttl=3600)
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def portal(emulator):
    return Portal(emulator, emulator.create_portal())


class Receiver:
    """A local HTTP server that records form-encoded POSTs (events, robot calls)."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                received.append(
                    {
                        "path": self.path,
                        "content_type": self.headers.get("Content-Type"),
                        "form": dict(parse_qsl(body, keep_blank_values=True)),
                    }
                )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()
