"""`make demo` end to end: `python -m bx24app.demo` in the background (small data set, fast portal, free ports),
wait for the summary, check the pages, pay an order with `demo pay` and see the deal move, stop it with SIGINT.
The default run has no external services (temporary SQLite file, no Redis); the production-like run uses
PostgreSQL and Redis."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg2
import pytest
import requests
from django.conf import settings

# The demo runs in subprocesses on its own databases; the mark only makes the session's test database exist, which
# tests/conftest.py's session teardown expects even when this module runs alone.
pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
STAGES = ["Заявка получена, подготовка счета", "Счет отправлен, ожидание оплаты", "Счет оплачен",
          "Отгрузка, без оплаты"]
START_TIMEOUT = 75


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DemoProcess:
    def __init__(self, tmp_path: Path, *options, **env_overrides):
        self.ports = {"app": _free_port(), "b24": _free_port(), "onec": _free_port()}
        env = {key: value for key, value in os.environ.items()
               if key not in {"REDIS_URL", "DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"}}
        env.update({"APP_ENV": "demo", "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
                    "PYTHONUNBUFFERED": "1", **env_overrides})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bx24app.demo", "--size", "small", "--rate", "200",
             "--port", str(self.ports["app"]), "--b24-port", str(self.ports["b24"]),
             "--onec-port", str(self.ports["onec"]), "--log", str(tmp_path / "demo.log"), *options],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, marker: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.output:
            assert self.process.poll() is None, f"the demo exited early:\n{self.output}"
            assert time.monotonic() < deadline, f"no {marker!r} within {timeout} s:\n{self.output}"
            time.sleep(0.2)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self._reader.join(5)


@pytest.fixture
def demo(tmp_path):
    process = DemoProcess(tmp_path, "--schedule-seconds", "8")
    yield process
    process.stop()


@pytest.fixture
def demo_database():
    """A fresh PostgreSQL database for the production-like run, dropped afterwards."""
    name = f"bx24demo_test_{os.getpid()}"
    db = settings.DATABASES["default"]
    admin = psycopg2.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                             password=db.get("PASSWORD") or None, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        cursor.execute(f"CREATE DATABASE {name}")
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    yield f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()


def test_demo_reaches_sync_finished_serves_the_pages_and_stops_cleanly(demo):
    demo.wait_for("Демо работает", START_TIMEOUT)
    assert "Redis не используется" in demo.output
    assert "  Ошибка:" not in demo.output, demo.output
    assert "sync finished" in demo.output
    app = f"http://127.0.0.1:{demo.ports['app']}"
    crm = f"http://127.0.0.1:{demo.ports['b24']}"

    launcher = requests.get(f"{app}/demo/open-app/", timeout=30)
    assert launcher.status_code == 200
    action = re.search(r'action="([^"]+)"', launcher.text).group(1).replace("&amp;", "&")
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', launcher.text))
    assert {"AUTH_ID", "member_id", "DOMAIN"} <= set(fields) | set(re.findall(r"[?&](\w+)=", action))
    settings_page = requests.post(f"{app}{action}", data=fields, timeout=30)  # what the browser does next
    assert settings_page.status_code == 200
    assert "Подключение к 1С" in settings_page.text

    assert requests.get(f"{app}/healthz", timeout=10).json() == {"ok": True, "database": True, "redis": "not used"}
    deals = requests.get(f"{crm}/crm/deal/", timeout=30)
    assert deals.status_code == 200
    for page in ("/crm/company/", "/crm/contact/", "/crm/product/", "/notifications/"):
        assert requests.get(f"{crm}{page}", timeout=30).status_code == 200

    summary = re.search(r"Сделки по стадиям: (.*)", demo.output).group(1)
    for stage in STAGES:
        count = re.search(rf"«{stage}» (\d+)", summary)
        assert count and int(count.group(1)) > 0, f"no deals in «{stage}»: {summary}"
        assert stage in deals.text

    # An edit in 1С shows up on the next scheduled sync: a counterparty that shares its ИНН with another one (the
    # second sync of such a record reads the ИНН back from the links stored in the demo's SQLite database).
    onec = f"http://127.0.0.1:{demo.ports['onec']}/_emulator"
    twin = next(r for r in requests.get(f"{onec}/bad-records", timeout=10).json() if r["defect"] == "duplicate_inn")
    edited = requests.patch(f"{onec}/counterparties/{twin['ref']}", json={"Комментарий": "изменено в демо"}, timeout=10)
    assert edited.status_code == 200, edited.text

    paid = subprocess.run([sys.executable, "-m", "bx24app.demo", "pay", "--onec-port", str(demo.ports["onec"])],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert paid.returncode == 0, paid.stdout + paid.stderr
    order_number = re.search(r"по заказу (\S+)", paid.stdout).group(1)
    demo.wait_for("Синхронизация (schedule)", 60)
    scheduled = re.search(r"Синхронизация \(schedule\).*", demo.output.split("Демо работает", 1)[1]).group(0)
    assert "Ошибка" not in scheduled, scheduled
    demo.wait_for("→ «Счет оплачен»", 75)  # the scheduled sync moved the deal
    live = demo.output.split("Демо работает", 1)[1]
    demo.wait_for("Уведомление: уведомление для Олег Продажин", 30)
    assert order_number in live

    assert demo.stop() == 0
    assert "Демо остановлено." in demo.output
    assert "Traceback" not in demo.output


def test_demo_with_postgresql_and_redis(tmp_path, demo_database):
    demo = DemoProcess(tmp_path, "--no-wait", DATABASE_URL=demo_database, REDIS_URL="redis://127.0.0.1:6379/11")
    try:
        assert demo.process.wait(timeout=START_TIMEOUT) == 0, demo.output
    finally:
        demo.stop()
    assert "sync finished" in demo.output
    assert "postgresql" in demo.output and "Celery-воркер на Redis" in demo.output
    assert "Traceback" not in demo.output


def test_procfile_processes_serve_and_work_with_production_like_settings(tmp_path, demo_database):
    """README «Эксплуатация»: `manage.py migrate`, then every Procfile line; /healthz answers, a worker runs a task,
    beat starts."""
    port = _free_port()
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": "p" * 60, "DATABASE_URL": demo_database,
           "REDIS_URL": "redis://127.0.0.1:6379/11", "FIELD_ENCRYPTION_KEY": "procfile-test-key",
           "BITRIX24_CLIENT_ID": "app.procfile", "BITRIX24_CLIENT_SECRET": "secret",
           "APP_BASE_URL": f"http://127.0.0.1:{port}", "SECURE_SSL_REDIRECT": "false", "PORT": str(port),
           "WEB_CONCURRENCY": "1", "CELERY_CONCURRENCY": "1", "PYTHONPATH": str(ROOT),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    migrate = subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    processes = {}
    try:
        for line in (ROOT / "Procfile").read_text().splitlines():
            name, _, command = line.partition(":")
            processes[name] = subprocess.Popen(["bash", "-c", f"exec {command.strip()}"], cwd=tmp_path, env=env,
                                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                               start_new_session=True)
        assert set(processes) == {"web", "worker", "beat"}
        deadline = time.monotonic() + 60
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and processes["web"].poll() is None, "gunicorn did not start"
                time.sleep(0.3)
        assert health.status_code == 200 and health.json() == {"ok": True, "database": True, "redis": True}
        ping = subprocess.run(
            [sys.executable, "-c", "from bx24app.celery import app; print(app.send_task('bx24app.ping')"
                                   ".get(timeout=60))"], cwd=tmp_path, env=env, capture_output=True, text=True,
            timeout=90)
        assert ping.stdout.strip() == "pong", ping.stdout + ping.stderr
        assert processes["beat"].poll() is None
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
