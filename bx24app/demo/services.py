"""What the demo runs in its one process: both emulators, the web app, the Celery worker and the schedule."""

from __future__ import annotations

import contextlib
import logging
import threading
import time

from django.conf import settings

from .options import DEFAULT_BURST, HOST

log = logging.getLogger(__name__)
SCHEDULE_SECONDS = 60.0  # celery beat's "sync-due-portals" entry (CELERY_BEAT_SCHEDULE): every minute


def _quiet_errors(server) -> None:
    """A client that went away (Ctrl-C in the middle of a sync) is not worth a traceback on the demo's console."""

    def handle_error(request, client_address):
        log.debug("request from %s failed", client_address, exc_info=True)

    server.handle_error = handle_error


def onec_emulator_start(size: str, port: int):
    from emulators.onec import OneCEmulator

    emulator = OneCEmulator(host=HOST, port=port, size=size, seed=1).start()
    _quiet_errors(emulator.httpd)
    return emulator


def bitrix_emulator_start(port: int, rate: float):
    """The OAuth server and the portal, with our application's id/secret and the chosen rate (burst 50)."""
    from emulators.bitrix24 import Bitrix24Emulator

    emulator = Bitrix24Emulator(host=HOST, port=port, rate=rate, burst=DEFAULT_BURST,
                                client_id=settings.BITRIX24_CLIENT_ID,
                                client_secret=settings.BITRIX24_CLIENT_SECRET).start()
    _quiet_errors(emulator._httpd)  # noqa: SLF001 - the demo owns this emulator; it has no public server handle
    return emulator


class WebServer:
    """The Django app on a threaded WSGI server (static files included), like gunicorn behind a proxy."""

    def __init__(self, port: int):
        from django.contrib.staticfiles.handlers import StaticFilesHandler
        from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
        from django.core.wsgi import get_wsgi_application

        class QuietHandler(WSGIRequestHandler):
            def log_message(self, format, *args):  # noqa: A002 - access log goes to the log file
                log.debug("%s " + format, self.address_string(), *args)

        self.httpd = ThreadedWSGIServer((HOST, port), QuietHandler, allow_reuse_address=True)
        self.httpd.daemon_threads = True
        _quiet_errors(self.httpd)
        self.httpd.set_app(StaticFilesHandler(get_wsgi_application()))
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="demo-web", daemon=True)

    def start(self) -> WebServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


class Schedule:
    """Celery beat's only entry, as a thread: ``sync_due_portals`` every minute (first tick after a minute)."""

    def __init__(self, interval: float = SCHEDULE_SECONDS):
        self.interval = interval
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="demo-schedule", daemon=True)

    def start(self) -> Schedule:
        self.thread.start()
        return self

    def _run(self) -> None:
        from django.db import close_old_connections

        from sync.tasks import sync_due_portals

        while not self._stop.wait(self.interval):
            try:
                sync_due_portals()
            except Exception:
                log.exception("scheduled sync_due_portals failed")
            finally:
                close_old_connections()

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(10)


WORKER_THREADS = 2  # one can run a long sync while the other sends payment notifications


@contextlib.contextmanager
def celery_workers():
    """Real Celery workers in threads of this process: the in-memory broker, or Redis when REDIS_URL is set.

    Each is a ``solo`` worker (one task at a time, like ``celery worker --pool solo``): the ``threads`` pool on
    the in-memory broker fetches messages only every few seconds.
    """
    from celery.contrib.testing.worker import start_worker

    from bx24app.celery import app

    app.conf.worker_hijack_root_logger = False  # keep the demo's console clean; the log goes to the file
    with contextlib.ExitStack() as stack:
        for _ in range(WORKER_THREADS):
            stack.enter_context(start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10,
                                             loglevel="INFO"))
        yield


class DemoServices:
    """Starts everything in order and stops it in reverse; ``stop`` is safe to call at any point."""

    def __init__(self, args):
        self.args = args
        self.onec = self.bitrix = self.web = self.schedule = None
        self._worker = contextlib.ExitStack()

    def start_emulators(self) -> None:
        started = time.monotonic()
        self.onec = onec_emulator_start(self.args.size, self.args.onec_port)
        self.onec_seconds = time.monotonic() - started
        self.bitrix = bitrix_emulator_start(self.args.b24_port, self.args.rate)

    def start_app(self) -> None:
        self.web = WebServer(self.args.port).start()
        self._worker.enter_context(celery_workers())

    def start_schedule(self) -> None:
        self.schedule = Schedule(self.args.schedule_seconds).start()

    def stop(self) -> None:
        for step in (self._stop_schedule, self._worker.close, self._stop_bitrix, self._stop_web, self._stop_onec):
            try:
                step()
            except Exception:
                log.exception("demo shutdown step %s failed", getattr(step, "__name__", step))

    def _stop_schedule(self) -> None:
        if self.schedule:
            self.schedule.stop()

    def _stop_web(self) -> None:
        if self.web:
            self.web.stop()

    def _stop_bitrix(self) -> None:
        if self.bitrix:  # first: no more event deliveries to the web app
            self.bitrix.stop()

    def _stop_onec(self) -> None:
        if self.onec:
            self.onec.stop()
