"""A tiny local HTTP server answering canned responses, for client behaviour the emulator cannot show."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote


class Stub:
    """Serves `responses` in order (the last one repeats), or asks a single callable(path) for each answer;
    records raw request paths and headers."""

    def __init__(self, *responses):
        self.responses = list(responses)
        self.requests: list[tuple[str, dict]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler_class())
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/base/odata/standard.odata/"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def next_response(self, path: str):
        if callable(self.responses[0]):
            return self.responses[0](unquote(path))
        return self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]

    def handler_class(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                stub.requests.append((self.path, dict(self.headers)))
                status, content_type, body = stub.next_response(self.path)
                data = body if isinstance(body, bytes) else body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler


def json_response(payload, status=200):
    return status, "application/json;charset=utf-8", json.dumps(payload, ensure_ascii=False)


def odata_error(status, message):
    return json_response({"odata.error": {"code": "-1", "message": {"lang": "ru", "value": message}}}, status)


def html_response(status=200):
    return status, "text/html; charset=utf-8", "<html><body><h1>IIS Windows Server</h1></body></html>"
