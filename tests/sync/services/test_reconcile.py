"""Reconciliation against both emulators: a clean sync reconciles; every kind of drift is found and named."""

import pytest
import requests
from django.core.management import call_command

from bx24app.bitrix.client import BitrixClient
from bx24app.services.install import portal_setup
from sync.services.reconcile import normalise, portal_reconcile
from sync.services.runs import sync_run_execute

pytestmark = pytest.mark.django_db(transaction=True)
KINDS = ["counterparties", "products", "orders"]


@pytest.fixture
def synced(portal):
    portal_setup(portal)  # stages and deal fields, as the installer leaves them
    portal.refresh_from_db()
    run = sync_run_execute(portal, kinds=KINDS)
    assert run.status in ("success", "partial"), run.error
    return portal


def test_values_compare_as_the_portal_stores_them():
    assert normalise(None) == normalise("") == ""
    assert normalise(10) == normalise("10") == normalise(10.0) == normalise("10.00") == "10"
    assert normalise(True) == "Y" and normalise(" a ") == "a"
    assert normalise("007") == "007"  # codes keep their zeros


def test_clean_sync_reconciles(synced):
    report = portal_reconcile(synced, kinds=KINDS)
    assert report.ok, report.render()
    assert report.kinds["counterparty"].expected == report.kinds["counterparty"].in_crm > 50
    assert report.kinds["product"].expected == report.kinds["product"].in_crm > 40
    assert report.kinds["contact_person"].expected > 0


def test_drift_is_found_per_kind(synced, crm, onec_emulator):
    client = BitrixClient(synced)
    state = crm.state()
    company = next(c for c in state["companies"] if c.get("originId"))
    client.call("crm.item.update", {"entityTypeId": 4, "id": company["id"], "fields": {"title": "Переименовали"}})
    twin = next(c for c in state["companies"] if c.get("originId") and c["id"] != company["id"])
    client.call("crm.item.add", {"entityTypeId": 4, "fields": {"title": twin["title"], "originatorId": "1C_UT103",
                                                               "originId": twin["originId"]}})
    product = next(p for p in state["products"] if p.get("type") != 7)
    client.call("catalog.product.delete", {"id": product["id"]})
    detail = state["bankdetails"][0]
    client.call("crm.requisite.bankdetail.delete", {"id": detail["ID"]})
    ref = onec_emulator.cases()["counterparty_no_contacts"][0]
    requests.put(f"{onec_emulator.base_url}/_emulator/counterparties/{ref}/contact-info",
                 json={"type": "Телефон", "kind_code": "000000005", "value": "+7 (812) 555-01-01"},
                 timeout=10).raise_for_status()

    deals = [d for d in state["deals"] if d.get("originId")]
    client.call("crm.item.update", {"entityTypeId": 2, "id": deals[0]["id"], "fields": {"opportunity": 1}})
    client.call("crm.item.productrow.set", {"ownerType": "D", "ownerId": deals[1]["id"], "productRows": []})
    client.call("crm.item.add", {"entityTypeId": 2, "fields": {"title": "дубль", "originatorId": "1C_UT103",
                                                               "originId": deals[2]["originId"]}})

    report = portal_reconcile(synced, kinds=KINDS)
    found = {(f.kind, f.problem, f.onec_ref) for f in report.findings}
    assert ("order", "stale", deals[0]["originId"]) in found
    assert ("order", "stale", deals[1]["originId"]) in found
    assert ("order", "duplicate", deals[2]["originId"]) in found
    assert ("counterparty", "stale", company["originId"]) in found
    assert ("counterparty", "duplicate", twin["originId"]) in found
    assert ("product", "missing", product["xmlId"]) in found
    assert ("counterparty", "stale", ref) in found  # the new phone is not in the CRM yet
    assert any(f.problem == "missing" and detail["XML_ID"] in f.detail for f in report.findings)
    stale_title = next(f for f in report.findings if f.onec_ref == company["originId"] and f.problem == "stale")
    assert "title" in stale_title.detail and "Переименовали" in stale_title.detail

    # the sync repairs what it owns (title, phone, the product); the duplicate stays for a person to merge
    sync_run_execute(synced, kinds=KINDS, full=True)
    after = {(f.kind, f.problem, f.onec_ref) for f in portal_reconcile(synced, kinds=KINDS).findings}
    assert ("counterparty", "duplicate", twin["originId"]) in after
    assert ("counterparty", "stale", ref) not in after


def test_command_prints_a_russian_report_and_exits_non_zero_on_drift(synced, crm, capsys):
    call_command("reconcile", synced.member_id, "--only", ",".join(KINDS))
    out = capsys.readouterr().out
    assert "Расхождений нет" in out and "Контрагенты" in out

    company = next(c for c in crm.state()["companies"] if c.get("originId"))
    BitrixClient(synced).call("crm.item.add", {"entityTypeId": 4, "fields": {
        "title": company["title"], "originatorId": "1C_UT103", "originId": company["originId"]}})
    with pytest.raises(SystemExit) as exit_info:
        call_command("reconcile", synced.member_id, "--only", ",".join(KINDS))
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert "дубли" in out and company["originId"] in out


def test_command_rejects_unknown_portal(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="не найден"):
        call_command("reconcile", "no-such-portal")
