"""Control API over HTTP, state persistence, the CLI, users and the HTML web view."""

import json
import signal
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[3]


def test_control_portal_user_install_params_and_state(emulator):
    base = f"{emulator.base_url}/_emulator"
    info = requests.post(
        f"{base}/portals",
        json={"license_family": "ent", "admin": {"NAME": "Анна", "LAST_NAME": "Админова", "EMAIL": "anna@example.com"}},
        timeout=5,
    ).json()
    assert info["client_endpoint"] == f"{emulator.base_url}/rest/" and info["domain"] == emulator.domain
    member = info["member_id"]
    user = requests.post(
        f"{base}/portals/{member}/users",
        json={"NAME": "Олег", "LAST_NAME": "Продажин", "EMAIL": "oleg@example.com", "ADMIN": False},
        timeout=5,
    ).json()
    params = requests.post(
        f"{base}/portals/{member}/install-params", json={"user_id": int(user["ID"])}, timeout=5
    ).json()
    token = params["form"]["AUTH_ID"]
    found = requests.post(
        f"{emulator.base_url}/rest/user.get", timeout=5, json={"auth": token, "FILTER": {"EMAIL": "anna@example.com"}}
    ).json()["result"]
    assert [u["NAME"] for u in found] == ["Анна"]
    assert (
        requests.post(f"{emulator.base_url}/rest/user.current", json={"auth": token}, timeout=5).json()["result"]["ID"]
        == user["ID"]
    )
    state = requests.get(f"{base}/portals/{member}/state", timeout=5).json()
    assert {
        "companies",
        "contacts",
        "deals",
        "requisites",
        "addresses",
        "bankdetails",
        "products",
        "prices",
        "statuses",
        "categories",
        "userfields",
        "events_bound",
        "robots",
        "placements",
        "notifications",
    } <= set(state)
    assert requests.post(f"{base}/portals/nope/users", json={}, timeout=5).status_code == 404


def test_stats_and_faults_routes(emulator, portal):
    base = f"{emulator.base_url}/_emulator"
    assert requests.post(f"{base}/stats/reset", timeout=5).status_code == 200
    portal.raw("app.info")
    portal.raw("nope.method")
    stats = requests.get(f"{base}/stats", timeout=5).json()
    assert stats["requests"]["app.info"] == 1 and stats["errors"]["ERROR_METHOD_NOT_FOUND"] == 1
    assert stats["total_requests"] == 2 and stats["total_commands"] == 1
    faults = requests.post(f"{base}/faults", json={"burst_503": 1}, timeout=5).json()
    assert faults["burst_503"] == 1 and faults["rate"] == 10000
    assert portal.raw("app.info").status_code == 503


def test_web_view_pages_are_escaped(emulator, portal):
    deal = portal.call("crm.item.add", entityTypeId=2, fields={"title": "<script>x</script>"})["item"]
    portal.call("crm.item.add", entityTypeId=4, fields={"title": "ООО «Ромашка»"})
    query = f"?member_id={portal.member_id}"
    kanban = requests.get(f"{emulator.base_url}/crm/deal/{query}", timeout=5).text
    assert "&lt;script&gt;" in kanban and "<script>x" not in kanban and "Новая" in kanban
    details = requests.get(f"{emulator.base_url}/crm/deal/details/{deal['id']}/{query}", timeout=5)
    assert details.status_code == 200 and "История стадий" in details.text
    for page in ("/", "/crm/company/", "/crm/contact/", "/crm/product/", "/notifications/"):
        assert requests.get(f"{emulator.base_url}{page}{query}", timeout=5).status_code == 200, page
    assert "ООО «Ромашка»" in requests.get(f"{emulator.base_url}/crm/company/{query}", timeout=5).text


def _start_cli(port, state_file):
    process = subprocess.Popen(
        [sys.executable, "-m", "emulators.bitrix24", "--port", str(port), "--state", str(state_file)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert "Bitrix24 emulator on" in process.stdout.readline()
    return process


def _free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cli_state_file_survives_restart(tmp_path):
    state_file, port = tmp_path / "b24.json", _free_port()
    base = f"http://127.0.0.1:{port}"
    process = _start_cli(port, state_file)
    try:
        info = requests.post(f"{base}/_emulator/portals", json={}, timeout=5).json()
        token = requests.post(
            f"{base}/_emulator/portals/{info['member_id']}/install-params", json={}, timeout=5
        ).json()["form"]["AUTH_ID"]
        requests.post(
            f"{base}/rest/crm.item.add",
            json={"auth": token, "entityTypeId": 4, "fields": {"title": "Сохранится"}},
            timeout=5,
        )
        assert requests.post(f"{base}/_emulator/save", json={}, timeout=5).json()["saved"] == str(state_file)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
    assert json.loads(state_file.read_text())["portals"][info["member_id"]]["items"]["4"]["1"]["title"] == "Сохранится"
    process = _start_cli(port, state_file)
    try:
        item = requests.post(
            f"{base}/rest/crm.item.get", timeout=5, json={"auth": token, "entityTypeId": 4, "id": 1}
        ).json()["result"]["item"]
        assert item["title"] == "Сохранится"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
