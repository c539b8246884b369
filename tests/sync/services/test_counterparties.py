"""Counterparties sync against both emulators over HTTP: hard cases, idempotence, crash safety, matching."""

import pytest
import requests
from django.core.management import call_command

from sync.engine import LinkStore
from sync.models import EntityLink, SyncProblem
from sync.services.runs import sync_run_execute

pytestmark = pytest.mark.django_db(transaction=True)


def by_origin(items):
    result = {}
    for item in items:
        result.setdefault(item.get("originId"), []).append(item)
    return result


def run_counterparties(portal):
    run = sync_run_execute(portal, kinds=["counterparties"])
    assert run.status in ("success", "partial"), run.error
    return run


def preset_ids(state):
    presets = state["presets"].values() if isinstance(state["presets"], dict) else state["presets"]
    return {p["XML_ID"]: p["ID"] for p in presets}


def test_first_sync_covers_every_hard_case(portal, crm, onec_emulator):
    run = run_counterparties(portal)
    cases, state = onec_emulator.cases(), crm.state()
    companies, contacts = by_origin(state["companies"]), by_origin(state["contacts"])
    presets = preset_ids(state)
    requisites = {r["XML_ID"]: r for r in state["requisites"]}

    full = cases["counterparty_legal_full"][0]
    company = companies[full][0]
    requisite = requisites[f"1C:{full}"]
    assert requisite["ENTITY_ID"] in (company["id"], str(company["id"]))
    assert str(requisite["PRESET_ID"]) == str(presets["#CRM_REQUISITE_PRESET_DEF_RU_COMPANY#"])
    assert requisite["RQ_INN"] and requisite["RQ_KPP"] and requisite["RQ_COMPANY_FULL_NAME"]
    details = [d for d in state["bankdetails"] if str(d["ENTITY_ID"]) == str(requisite["ID"])]
    assert len(details) >= 2 and {"RUB", "USD"} <= {d.get("RQ_ACC_CURRENCY") for d in details}
    assert all(d["RQ_BIK"] and d["RQ_ACC_NUM"] and d["RQ_COR_ACC_NUM"] for d in details)
    addresses = [a for a in state["addresses"] if str(a["ENTITY_ID"]) == str(requisite["ID"])]
    assert {int(a["TYPE_ID"]) for a in addresses} >= {6, 1} and all(a.get("CITY") for a in addresses)
    assert any(f["typeId"] == "PHONE" for f in company["fm"]) and any(f["typeId"] == "EMAIL" for f in company["fm"])

    ip = cases["counterparty_ip"][0]
    assert ip in companies and ip not in contacts
    assert str(requisites[f"1C:{ip}"]["PRESET_ID"]) == str(presets["#CRM_REQUISITE_PRESET_DEF_RU_INDIVIDUAL#"])
    person = cases["counterparty_person"][0]
    assert person in contacts and person not in companies and contacts[person][0]["lastName"]
    for ref in cases["counterparty_folder"] + cases["counterparty_deleted"]:
        assert ref not in companies and ref not in contacts
    no_contacts = cases["counterparty_no_contacts"][0]
    assert companies[no_contacts][0]["fm"] == []

    owner = cases["counterparty_with_contact_persons"][0]
    owner_id = companies[owner][0]["id"]
    people = [c for c in state["contacts"] if str(c.get("companyId")) == str(owner_id)]
    assert len(people) >= 2 and all(p["originatorId"] == "1C_UT103" for p in people)
    assert all(len(items) == 1 for items in {**companies, **contacts}.values())  # no duplicates
    bad_records = requests.get(f"{onec_emulator.base_url}/_emulator/bad-records", timeout=10).json()
    duplicate_inn = [r["ref"] for r in bad_records if r["defect"] == "duplicate_inn"]
    assert duplicate_inn and all(ref in companies for ref in duplicate_inn)  # same ИНН in 1С: never merged
    assert len({c["id"] for c in state["companies"]}) == len(state["companies"])
    assert run.counts["counterparty"]["created"] > 0 and run.rest_commands / run.rest_requests > 20


def test_bad_records_become_specific_problems_and_the_rest_syncs(portal, onec_emulator):
    run = run_counterparties(portal)
    cases = onec_emulator.cases()
    problems = {(p.onec_ref, p.code) for p in SyncProblem.objects.filter(portal=portal, resolved_at__isnull=True)}
    expected = {"bad_inn": "invalid_inn", "bad_kpp": "invalid_kpp", "bad_email": "invalid_email",
                "bad_phone": "invalid_phone", "counterparty_deleted": "deleted_in_1c", "empty_name": "empty_name"}
    for case, code in expected.items():
        assert any((ref, code) in problems for ref in cases[case]), (case, code)
    invalid_accounts = SyncProblem.objects.filter(portal=portal, code="invalid_account")
    reasons = " ".join(invalid_accounts.values_list("reason", flat=True))
    for account in bad_records_of(onec_emulator, "account_checksum", "account_length"):
        assert account.split(",")[0] in reasons
    dangling = SyncProblem.objects.filter(portal=portal, code="dangling_bank").values_list("reason", flat=True)
    assert dangling
    label = SyncProblem.objects.filter(portal=portal, code="invalid_inn").first().label
    assert label.split(" ")[0].isdigit()  # the 1С code comes first, then the name
    assert run.status == "partial" and run.counts["counterparty"]["failed"] == 0


def bad_records_of(onec_emulator, *defects) -> list[str]:
    rows = requests.get(f"{onec_emulator.base_url}/_emulator/bad-records", timeout=10).json()
    return [r["name"] for r in rows if r["defect"] in defects]


def email_kind_code(onec_emulator, ref) -> str:
    """The code of the contact-information kind under which 1С keeps this counterparty's e-mail."""
    get = lambda path: requests.get(f"{onec_emulator.odata_url}{path}", auth=("odata", "odata"), timeout=10).json()  # noqa: E731
    row = get("InformationRegister_КонтактнаяИнформация?$format=json&$filter=Объект eq cast(guid'"
              f"{ref}','Catalog_Контрагенты') and Тип eq 'АдресЭлектроннойПочты'")["value"][0]
    return get(f"Catalog_ВидыКонтактнойИнформации(guid'{row['Вид']}')?$format=json")["Code"]


def test_resync_without_changes_writes_nothing(portal, crm):
    run_counterparties(portal)
    again = run_counterparties(portal)
    assert again.rest_requests == 0 and again.rest_commands == 0
    counts = again.counts["counterparty"]
    assert counts["created"] == counts["updated"] == 0 and counts["unchanged"] == counts["onec_records"]


def test_changed_phone_is_exactly_one_update_by_id(portal, crm, onec_emulator):
    run_counterparties(portal)
    ref = onec_emulator.cases()["counterparty_no_contacts"][0]
    for phone in ("+7 (812) 555-01-01", "+7 (812) 555-02-02"):
        requests.put(f"{onec_emulator.base_url}/_emulator/counterparties/{ref}/contact-info",
                     json={"type": "Телефон", "kind_code": "000000005", "value": phone}, timeout=10).raise_for_status()
        run = run_counterparties(portal)
        assert run.counts["counterparty"]["updated"] == 1
        assert run.rest_commands <= 2  # read the multifield ids, then one crm.item.update
        company = by_origin(crm.state()["companies"])[ref][0]
        assert [f["value"] for f in company["fm"] if f["typeId"] == "PHONE"] == [
            "+7" + "".join(ch for ch in phone if ch.isdigit())[1:]]


def test_manager_added_phone_survives_a_1c_change(portal, crm, bitrix_emulator, onec_emulator):
    run_counterparties(portal)
    ref = onec_emulator.cases()["counterparty_legal_full"][0]
    link = EntityLink.objects.get(portal=portal, kind="company", onec_ref=ref)
    from bx24app.bitrix.client import BitrixClient

    BitrixClient(portal).call("crm.item.update", {"entityTypeId": 4, "id": int(link.bitrix_id), "fields": {
        "fm": [{"typeId": "PHONE", "valueType": "MOBILE", "value": "+79990000000"}]}})
    requests.put(f"{onec_emulator.base_url}/_emulator/counterparties/{ref}/contact-info",
                 json={"type": "Телефон", "kind_code": "000000005", "value": "+7 (812) 555-03-03"},
                 timeout=10).raise_for_status()
    run_counterparties(portal)
    phones = [f["value"] for f in by_origin(crm.state()["companies"])[ref][0]["fm"] if f["typeId"] == "PHONE"]
    assert "+79990000000" in phones and "+78125550303" in phones and len(phones) == len(set(phones))


def test_crash_before_links_are_saved_creates_no_duplicates(portal, crm, monkeypatch):
    original_flush = LinkStore.flush
    calls = {"n": 0}

    def crash_after_first_batch(self):
        calls["n"] += 1
        if calls["n"] >= 2:
            raise KeyboardInterrupt("worker killed")  # after Bitrix24 created records, before links were saved
        original_flush(self)

    monkeypatch.setattr(LinkStore, "flush", crash_after_first_batch)
    with pytest.raises(KeyboardInterrupt):
        sync_run_execute(portal, kinds=["counterparties"])
    monkeypatch.setattr(LinkStore, "flush", original_flush)
    created_before = len(crm.state()["companies"])
    assert created_before > 0
    run_counterparties(portal)
    state = crm.state()
    for items in (by_origin(state["companies"]), by_origin(state["contacts"])):
        assert all(len(v) == 1 for v in items.values())
    xml_ids = [r["XML_ID"] for r in state["requisites"]] + [d["XML_ID"] for d in state["bankdetails"]]
    assert len(xml_ids) == len(set(xml_ids))


def test_existing_crm_company_is_matched_by_inn_not_duplicated(portal, crm, onec_emulator):
    from bx24app.bitrix.client import BitrixClient

    client = BitrixClient(portal)
    ref = onec_emulator.cases()["counterparty_legal_full"][0]
    inn = requests.get(f"{onec_emulator.odata_url}Catalog_Контрагенты(guid'{ref}')?$format=json&$select=ИНН,КПП",
                       auth=("odata", "odata"), timeout=10).json()
    company_id = client.call("crm.item.add", {"entityTypeId": 4, "fields": {"title": "Ромашка (заведена вручную)"}})
    company_id = company_id["item"]["id"]
    preset = preset_ids(crm.state())["#CRM_REQUISITE_PRESET_DEF_RU_COMPANY#"]
    client.call("crm.requisite.add", {"fields": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": company_id, "PRESET_ID": preset,
                                                 "NAME": "Ручной", "RQ_INN": inn["ИНН"], "RQ_KPP": inn["КПП"]}})
    run_counterparties(portal)
    state = crm.state()
    matching = [c for c in state["companies"] if str(c["id"]) == str(company_id)]
    assert len(matching) == 1 and matching[0]["title"] != "Ромашка (заведена вручную)"  # 1С is the source of truth
    assert not [c for c in state["companies"] if c.get("originId") == ref and str(c["id"]) != str(company_id)]
    assert len([r for r in state["requisites"] if r.get("RQ_INN") == inn["ИНН"]]) == 1


def test_problem_resolves_itself_when_1c_is_fixed(portal, onec_emulator):
    run_counterparties(portal)
    ref = onec_emulator.cases()["bad_email"][0]
    assert SyncProblem.objects.filter(portal=portal, onec_ref=ref, code="invalid_email", resolved_at=None).exists()
    requests.put(f"{onec_emulator.base_url}/_emulator/counterparties/{ref}/contact-info",
                 json={"type": "АдресЭлектроннойПочты", "kind_code": email_kind_code(onec_emulator, ref),
                       "value": "ok@example.ru"},
                 timeout=10).raise_for_status()
    run_counterparties(portal)
    problem = SyncProblem.objects.filter(portal=portal, onec_ref=ref, code="invalid_email").first()
    assert problem is None or problem.resolved_at is not None


def test_sync_command_prints_a_summary(portal, capsys):
    call_command("sync", portal.member_id, "--only", "counterparties")
    out = capsys.readouterr().out
    assert "Контрагенты" in out and "Запросов к Битрикс24" in out and "запросов к 1С" in out


def test_responsible_is_matched_by_name_when_the_administrator_mapped_nobody(portal, crm, bitrix_emulator,
                                                                             onec_emulator):
    onec = requests.get(f"{onec_emulator.odata_url}Catalog_Пользователи?$format=json&$select=Ref_Key,Description",
                        auth=("odata", "odata"), timeout=10).json()["value"]
    manager = next(u for u in onec if len(u["Description"].split()) == 3)
    last, first, middle = manager["Description"].split()
    user = bitrix_emulator.add_user(portal.member_id, first, last_name=last, email="")
    requests.post(f"{onec_emulator.base_url}/_emulator/counterparties", timeout=10, json={
        "name": 'ООО "Ответственный"', "inn": "7707083893", "kind": "ЮрЛицо"}).raise_for_status()
    created = requests.get(f"{onec_emulator.odata_url}Catalog_Контрагенты?$format=json&$select=Ref_Key"
                           f"&$filter=Description eq 'ООО \"Ответственный\"'", auth=("odata", "odata"),
                           timeout=10).json()["value"][0]["Ref_Key"]
    requests.patch(f"{onec_emulator.base_url}/_emulator/counterparties/{created}", timeout=10,
                   json={"ОсновнойМенеджерПокупателя_Key": manager["Ref_Key"]}).raise_for_status()
    run_counterparties(portal)
    company = by_origin(crm.state()["companies"])[created][0]
    assert str(company["assignedById"]) == str(user["ID"] if isinstance(user, dict) else user)
