"""CounterpartyReader against the emulator: every hard case, bulk reading, cheap idempotent scans."""

import pytest

from sync.onec.counterparties import CounterpartyReader
from sync.onec.users import read_users


@pytest.fixture(scope="module")
def synced(onec):
    """(reader, first ChangeSet, records by ref) after an initial sync of all counterparties."""
    reader = CounterpartyReader(onec.client())
    changes = reader.scan({})
    records = {r.ref: r for r in reader.read(changes.changed_refs)}
    return reader, changes, records


def test_initial_scan_reports_every_item_and_read_builds_them_all(synced):
    _, changes, records = synced
    assert changes.changed_refs and not changes.removed_refs
    assert set(records) == set(changes.changed_refs) == set(changes.versions)
    assert all(records[ref].version == version for ref, version in changes.versions.items())


def test_folders_are_excluded(onec, synced):
    reader, changes, _ = synced
    folders = onec.cases["counterparty_folder"]
    assert not set(folders) & set(changes.versions)
    assert reader.read(folders) == []


def test_legal_entity_with_everything(onec, synced):
    record = synced[2][onec.case("counterparty_legal_full")]
    assert record.legal_form == "ЮрЛицо" and record.inn and record.kpp and record.full_name
    assert {c.type for c in record.contacts} >= {"phone", "email"}
    kinds = {a.kind for a in record.addresses}
    assert {"legal", "actual"} <= kinds
    assert all(a.presentation and a.city for a in record.addresses)
    currencies = {a.currency_code for a in record.bank_accounts}
    assert {"643", "840"} <= currencies
    for account in record.bank_accounts:
        assert account.bik and account.corr_account and account.bank_name and not account.bank_missing
        assert len(account.number) == 20
    assert record.main_manager_ref


def test_individual_entrepreneur_and_person(onec, synced):
    entrepreneur = synced[2][onec.case("counterparty_ip")]
    assert entrepreneur.legal_form == "ФизЛицо" and len(entrepreneur.inn) == 12
    person = synced[2][onec.case("counterparty_person")]
    assert person.legal_form == "ФизЛицо" and not person.bank_accounts


def test_deleted_and_without_contacts(onec, synced):
    assert synced[2][onec.case("counterparty_deleted")].deletion_mark
    bare = synced[2][onec.case("counterparty_no_contacts")]
    assert bare.contacts == () and bare.addresses == () and not bare.deletion_mark


def test_contact_persons_with_names_from_person_cards(onec, synced):
    record = synced[2][onec.case("counterparty_with_contact_persons")]
    assert len(record.contact_persons) >= 2
    assert all(p.owner_ref == record.ref and p.full_name for p in record.contact_persons)
    assert all(p.contacts for p in record.contact_persons)
    linked = [p for p in record.contact_persons if p.last_name]
    assert linked, "a person linked to Справочник.КонтактныеЛица gets Фамилия/Имя/Отчество"
    assert all(p.full_name.startswith(p.last_name) and p.first_name for p in linked)


def test_dangling_bank_is_flagged(synced):
    accounts = [a for r in synced[2].values() for a in r.bank_accounts if a.bank_missing]
    assert accounts and all(a.bank_ref and not a.bik for a in accounts)


def test_bad_values_are_passed_through_unvalidated(onec, synced):
    emails = [c.value for ref in onec.cases["bad_email"] for c in synced[2][ref].contacts if c.type == "email"]
    assert "ivanov@@mail.ru" in emails or any("@" not in e or "@@" in e for e in emails)


def test_rescan_with_returned_versions_changes_nothing_and_costs_only_scans(onec, synced):
    reader, changes, _ = synced
    reader.client.stats.requests = 0
    again = reader.scan(changes.versions)
    assert again.changed_refs == [] and again.removed_refs == []
    assert again.versions == changes.versions
    assert reader.client.stats.requests == 8  # one page per scanned entity set, no full records
    assert reader.read([]) == []


def test_contact_info_change_marks_exactly_that_counterparty(fresh_onec):
    reader = CounterpartyReader(fresh_onec.client())
    first = reader.scan({})
    target = fresh_onec.case("counterparty_ip")
    fresh_onec.call("PUT", f"/counterparties/{target}/contact-info",
                    {"type": "Телефон", "kind_code": "000000005", "value": "+7 (999) 000-00-01"})
    second = reader.scan(first.versions)
    assert second.changed_refs == [target]
    [record] = reader.read(second.changed_refs)
    assert "+7 (999) 000-00-01" in [c.value for c in record.contacts if c.type == "phone"]
    assert record.version == second.versions[target]


def test_register_only_change_is_detected_without_data_version(fresh_onec):
    """КонтактнаяИнформация has no DataVersion: a register write alone must still change the version."""
    reader = CounterpartyReader(fresh_onec.client())
    first = reader.scan({})
    target = fresh_onec.case("counterparty_legal_full")
    store = fresh_onec.emu.store
    rows = [dict(r) for r in store.rows("InformationRegister_КонтактнаяИнформация")
            if r["Объект"] == target and r["Тип"] == "Телефон"]
    assert rows
    changed = [{**rows[0], "Представление": "+7 (812) 000-00-00"}]
    store.replace_info_rows("InformationRegister_КонтактнаяИнформация",
                            lambda r: r["Объект"] == target and r["Тип"] == "Телефон", changed)
    assert reader.scan(first.versions).changed_refs == [target]


def test_new_and_removed_counterparties(fresh_onec):
    reader = CounterpartyReader(fresh_onec.client())
    first = reader.scan({})
    created = fresh_onec.call("POST", "/counterparties", {"name": "ООО Новый клиент", "inn": "7707083893",
                                                          "phone": "+7 495 111-22-33"})["ref"]
    gone = "00000000-1111-2222-3333-444444444444"
    second = reader.scan({**first.versions, gone: "x"})
    assert second.changed_refs == [created] and second.removed_refs == [gone]
    [record] = reader.read([created])
    assert record.name == "ООО Новый клиент" and record.contacts


def test_initial_read_of_most_records_pages_through_whole_sets(onec):
    reader = CounterpartyReader(onec.client(), full_read_minimum=10)
    changes = reader.scan({})
    reader.client.stats.requests = 0
    records = reader.read(changes.changed_refs)
    assert {r.ref: r.version for r in records} == changes.versions
    assert reader.client.stats.requests == 4  # counterparties, accounts, contact persons, person cards


def test_users(onec, synced):
    users = read_users(onec.client())
    assert users and all(u.ref and u.name for u in users)
    assert {u.ref for u in users} == {u.ref for u in synced[0].read_users()}
    managers = {r.main_manager_ref for r in synced[2].values()} - {None}
    assert managers & {u.ref for u in users}


def test_chunked_reads_after_an_initial_scan_cost_one_whole_set_read(onec, synced):
    reader = CounterpartyReader(onec.client(), full_read_minimum=10)
    changes = reader.scan({})
    reader.client.stats.requests = 0
    refs = changes.changed_refs
    records = [r for i in range(0, len(refs), 10) for r in reader.read(refs[i:i + 10])]
    assert {r.ref: r for r in records} == synced[2]
    assert reader.client.stats.requests == 4
