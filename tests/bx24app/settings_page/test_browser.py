"""End to end in headless Debian Chromium (Playwright's Python package drives /usr/bin/chromium; no browser is
downloaded). The page is opened the way the portal opens it — an auto-submitting form POST with the frame
parameters minted by the Bitrix24 emulator — then the administrator connects 1С (the 1С emulator), checks the
connection, picks price types, maps the stages, clicks «Синхронизировать сейчас» and watches the run finish
(a real Celery worker thread executes it) and the problem list appear. Screenshots of every section go to
docs/screenshots/ (they are shown in the README)."""

import html
import json
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.db import connection

from bx24app.celery import app as celery_app
from bx24app.models import PortalSettings
from bx24app.services.install import portal_setup
from sync.models import SyncRun

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# The committed screenshots are refreshed with UPDATE_SCREENSHOTS=1; ordinary runs write to a temporary directory
# so a test run never dirties the working tree.
DOC_SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian chromium is not installed ({CHROMIUM} "
                       "is absent): install it with `apt-get install chromium` to run the browser test"),
]


def _close_db_connection(**kwargs):
    connection.close()


@pytest.fixture
def celery_worker_thread(monkeypatch):
    """A real Celery worker in a thread, on an in-memory broker so no other process can take our task."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    saved = {key: celery_app.conf.get(key) for key in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")}
    celery_app.conf.update(CELERY_BROKER_URL="memory://", CELERY_RESULT_BACKEND="cache+memory://")
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    task_postrun.connect(_close_db_connection)  # the worker thread's connection must not outlive the test DB
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as worker:
            yield worker
    finally:
        task_postrun.disconnect(_close_db_connection)
        celery_app.conf.update(saved)
        celery_app._pool = None
        celery_app.amqp._producer_pool = None


@pytest.fixture
def browser_page():
    playwright_sync = pytest.importorskip("playwright.sync_api")
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="ru-RU")
        page = context.new_page()
        page.set_default_timeout(30000)
        # BX24.js is optional: the page must work when it does not load
        page.route("**://api.bitrix24.com/**", lambda route: route.abort())
        yield page
        context.close()
        browser.close()


def portal_post_page(action: str, form: dict) -> str:
    """What a portal renders to open an app page: a form POSTing the frame parameters, submitted on load."""
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in form.items())
    return (f'<!doctype html><html><body><form id="f" method="post" action="{html.escape(action)}">{inputs}</form>'
            '<script>document.getElementById("f").submit()</script></body></html>')


@pytest.fixture
def screenshots(tmp_path):
    return DOC_SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path


def shot(page, directory: Path, name: str):
    directory.mkdir(parents=True, exist_ok=True)
    if page.locator("#notice.alert-success .btn-close").count():
        page.click("#notice .btn-close")  # the «Настройки сохранены.» of the previous step
    page.wait_for_timeout(350)  # tab fade
    page.screenshot(path=str(directory / name), full_page=True)


def open_section(page, code):
    page.click(f"#tab-{code}")
    page.wait_for_selector(f"#section-{code}.active.show")


@pytest.mark.django_db(transaction=True)
def test_admin_configures_and_syncs_in_chromium(live_server, emulator_settings, bitrix_emulator, onec_emulator,
                                                 portal, celery_worker_thread, browser_page, screenshots):
    emulator_settings.APP_BASE_URL = live_server.url
    portal_setup(portal)
    PortalSettings.objects.filter(portal=portal).update(onec_url="", onec_user="", onec_password="")
    for name, last_name in (("Елена", "Кравцова"), ("Павел", "Шестаков"), ("Марина", "Гусева")):
        bitrix_emulator.add_user(portal.member_id, name, last_name, "", admin=False)
    page = browser_page

    # 0. the portal opens the app: POST with the frame parameters, from a page on the portal's origin
    params = bitrix_emulator.install_params(portal.member_id)
    action = f"{live_server.url}/bitrix/app/?{urlencode(params['query'])}"
    portal_page = f"http://{portal.domain}/marketplace/app/1/"
    page.route(portal_page, lambda route: route.fulfill(
        status=200, content_type="text/html; charset=utf-8", body=portal_post_page(action, params["form"])))
    page.goto(portal_page)
    page.wait_for_selector("#section-onec.active")
    assert page.locator("#read-only-notice").count() == 0

    # 1. Подключение к 1С: fill, check, save
    page.fill("#id_onec_url", onec_emulator.odata_url)
    page.fill("#id_onec_user", "odata")
    page.fill("#id_onec_password", "odata")
    page.click("#onec-check")
    page.wait_for_selector("#check-report")
    report = page.inner_text("#check-report")
    assert "Подключение работает." in report and "Розничная" in report
    assert re.search(r"Контрагентов: \d+", report) and re.search(r"Номенклатуры: \d+", report)
    assert page.input_value("#id_onec_password") == ""  # never rendered back
    shot(page, screenshots, "01-onec-connection.png")
    page.fill("#id_onec_password", "odata")
    page.click("#onec-save")
    page.wait_for_selector("#notice.alert-success")
    assert PortalSettings.objects.get(portal=portal).onec_password == "odata"

    # 2. Цены
    open_section(page, "prices")
    page.select_option("#id_sale_price_type", "Розничная")
    page.select_option("#id_purchase_price_type", "Закупочная")
    page.click("#prices-save")
    page.wait_for_selector("#notice.alert-success")
    open_section(page, "prices")
    shot(page, screenshots, "02-prices.png")

    # 3. Воронка и стадии: keep ours for three stages, map «Отгрузка, без оплаты» to an existing stage
    open_section(page, "stages")
    page.select_option("#id_category_id", "0")
    page.select_option("#id_stage_SHIPPED_UNPAID", "EXECUTING")
    page.click("#stages-save")
    page.wait_for_selector("#notice.alert-success")
    open_section(page, "stages")
    assert "В работе" in page.inner_text("#stage-mapping")
    shot(page, screenshots, "03-pipeline-and-stages.png")
    assert PortalSettings.objects.get(portal=portal).stage_map["SHIPPED_UNPAID"] == "EXECUTING"

    # 4.–6. the other forms, as they are
    open_section(page, "fields")
    shot(page, screenshots, "04-deal-fields.png")
    open_section(page, "responsible")
    assert page.locator("#form-responsible select option:checked", has_text="Кравцова Елена").count() == 1
    shot(page, screenshots, "05-responsible.png")
    open_section(page, "schedule")
    shot(page, screenshots, "06-schedule.png")

    # 7. Синхронизация: start, watch the progress finish, see the problems
    open_section(page, "sync")
    page.click("#sync-now")
    page.wait_for_function(
        "() => { const s = document.getElementById('sync-state').dataset.status;"
        " return s && s !== 'running'; }", timeout=180000)
    page.wait_for_selector("#problems-body tr[data-problem]", timeout=30000)
    run = SyncRun.objects.filter(portal=portal).latest("started_at")
    assert run.finished_at is not None and run.trigger == "manual"
    assert page.locator("#sync-progress .progress").count() >= 1
    assert page.locator("#problems-body button.retry").count() >= 1
    shot(page, screenshots, "07-sync.png")

    # 8. Уведомление об оплате
    open_section(page, "notify")
    assert "Уведомить ответственного об оплате" in page.inner_text("#section-notify")
    shot(page, screenshots, "08-payment-notification.png")
    print(json.dumps({"run": run.pk, "status": run.status, "counts": run.counts}, ensure_ascii=False))


def portal_frame_page(action: str, form: dict) -> str:
    """A portal page framing the app the way Bitrix24 does: a form POSTed into a named iframe."""
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in form.items())
    return ('<!doctype html><html><body><iframe name="app" style="width:100%;height:1400px;border:0"></iframe>'
            f'<form id="f" method="post" target="app" action="{html.escape(action)}">{inputs}</form>'
            '<script>document.getElementById("f").submit()</script></body></html>')


@pytest.fixture
def host_pages():
    """Real local HTTP servers playing the portal's pages (a page served by Playwright's router counts as a public
    address and Chromium's local-network checks would block it from framing localhost)."""
    servers = []

    def serve(body: str) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server API
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.django_db(transaction=True)
def test_page_works_in_the_portal_iframe_without_cookies_and_nowhere_else(
        live_server, emulator_settings, bitrix_emulator, portal, browser_page, host_pages, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    emulator_settings.APP_BASE_URL = live_server.url
    portal_setup(portal)
    page = browser_page

    def host_page():
        params = bitrix_emulator.install_params(portal.member_id)
        action = f"{live_server.url}/bitrix/app/?{urlencode(params['query'])}"
        return host_pages(portal_frame_page(action, params["form"]))

    # a Bitrix24 origin (FRAME_ANCESTORS) frames the app; 127.0.0.1 (portal) vs localhost (app) is cross-site
    trusted = host_page()
    emulator_settings.FRAME_ANCESTORS = [trusted]
    page.goto(trusted + "/marketplace/app/1/")
    frame = page.frame_locator("iframe[name=app]")
    frame.locator("#section-onec.active").wait_for()
    frame.locator("#tab-schedule").click()
    frame.locator("#id_interval_minutes").fill("9")
    frame.locator("#schedule-save").click()
    frame.locator("#notice.alert-success").wait_for()
    assert PortalSettings.objects.get(portal=portal).interval_minutes == 9
    assert page.context.cookies() == []  # nothing relied on cookies

    # any other site is refused by frame-ancestors: the server answers, the browser does not show it
    evil = host_page()
    with page.expect_response(lambda r: r.url.startswith(live_server.url + "/bitrix/app/")) as launched:
        page.goto(evil + "/steal/")
    assert launched.value.status == 200
    page.wait_for_timeout(1500)
    assert page.frame_locator("iframe[name=app]").locator("#app-root").count() == 0
    assert not [f.url for f in page.frames if f.url.startswith(live_server.url)]
