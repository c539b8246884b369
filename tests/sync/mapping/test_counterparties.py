"""Counterparty → CRM bundle mapping rules, with plain records (no I/O)."""

from sync.mapping.counterparties import (
    PRESET_COMPANY,
    PRESET_INDIVIDUAL,
    PRESET_PERSON,
    counterparty_to_bundle,
    is_individual_entrepreneur,
    split_full_name,
)
from sync.onec.records import Address, BankAccount, ContactPerson, ContactValue, Counterparty

BIK, CORR = "044525225", "30101810400000000225"
ACCOUNT = "40702810400000000005"  # valid against BIK 044525225 (control key checked in test_validation)


def legal(**overrides) -> Counterparty:
    data = dict(
        ref="c1", version="v1", code="000000001", name='ООО "Ромашка"', full_name='Общество с ограниченной '
        'ответственностью "Ромашка"', inn="7707083893", kpp="773601001", okpo="12345678", legal_form="ЮрЛицо",
        contacts=(ContactValue("phone", "8 (495) 123-45-67"), ContactValue("email", "Info@Romashka.ru"),
                  ContactValue("fax", "+7 495 765-43-21")),
        addresses=(Address("legal", "119000, Москва г, Тверская ул, дом 1", "119000", "Москва г", "", "Москва", "",
                           "Тверская ул", "1"),
                   Address("actual", "Москва, Ленина 2", city="Москва", street="Ленина", house="2")),
        bank_accounts=(BankAccount("b1", ACCOUNT, "Основной", "bank1", 'ПАО "Сбербанк"', BIK, CORR, "Москва", "643"),
                       BankAccount("b2", "40702840400000000004", "Валютный", "bank1", 'ПАО "Сбербанк"', BIK, CORR,
                                   "Москва", "840")),
    )
    data.update(overrides)
    return Counterparty(**data)


def codes(bundle):
    return sorted(p.code for p in bundle.problems)


def test_legal_entity_becomes_company_with_requisite_addresses_and_bank_details():
    bundle = counterparty_to_bundle(legal(), assigned_by_id=7)
    assert bundle.kind == "company" and bundle.item.entity_type_id == 4
    assert bundle.item.fields == {"title": 'ООО "Ромашка"', "originatorId": "1C_UT103", "originId": "c1"}
    assert bundle.item.create_only_fields == {"assignedById": 7}
    assert [(m.type_id, m.value, m.value_type) for m in bundle.item.multifields] == [
        ("PHONE", "+74951234567", "WORK"), ("EMAIL", "info@romashka.ru", "WORK"), ("PHONE", "+74957654321", "FAX")]
    req = bundle.requisite
    assert req.preset_xml_id == PRESET_COMPANY
    assert req.fields["RQ_INN"] == "7707083893" and req.fields["RQ_KPP"] == "773601001"
    assert req.fields["RQ_COMPANY_NAME"] == 'ООО "Ромашка"'
    assert req.fields["RQ_COMPANY_FULL_NAME"].startswith("Общество")
    assert req.fields["RQ_OKPO"] == "12345678"
    legal_address, actual_address = bundle.addresses
    assert (legal_address.type_id, actual_address.type_id) == (6, 1)
    assert legal_address.fields["CITY"] == "Москва" and legal_address.fields["POSTAL_CODE"] == "119000"
    assert legal_address.fields["ADDRESS_1"] == "Тверская ул, д. 1"
    rub, usd = bundle.bank_details
    assert rub.fields["RQ_ACC_CURRENCY"] == "RUB" and usd.fields["RQ_ACC_CURRENCY"] == "USD"
    assert rub.fields["RQ_BIK"] == BIK and rub.fields["RQ_COR_ACC_NUM"] == CORR and rub.fields["XML_ID"] == "b1"
    assert bundle.match_inn == "7707083893" and bundle.match_kpp == "773601001"


def test_requisite_parts_only_where_1c_has_them():
    bare = counterparty_to_bundle(legal(inn="", kpp="", okpo="", full_name="", addresses=(), bank_accounts=(),
                                        contacts=()))
    assert bare.requisite is None and bare.addresses == () and bare.bank_details == ()
    assert bare.item.multifields == () and codes(bare) == ["missing_inn"]
    inn_only = counterparty_to_bundle(legal(kpp="", okpo="", full_name="", addresses=(), bank_accounts=()))
    assert set(inn_only.requisite.fields) == {"NAME", "RQ_COMPANY_NAME", "RQ_INN"}


def test_individual_entrepreneur_becomes_company_with_ip_preset():
    ip = legal(name="ИП Петров Петр Петрович", full_name="", legal_form="ФизЛицо", inn="500100732259", kpp="")
    assert is_individual_entrepreneur(ip)
    bundle = counterparty_to_bundle(ip)
    assert bundle.kind == "company" and bundle.requisite.preset_xml_id == PRESET_INDIVIDUAL
    assert (bundle.requisite.fields["RQ_LAST_NAME"], bundle.requisite.fields["RQ_FIRST_NAME"],
            bundle.requisite.fields["RQ_SECOND_NAME"]) == ("Петров", "Петр", "Петрович")
    assert "RQ_KPP" not in bundle.requisite.fields


def test_private_person_becomes_contact():
    person = legal(name="Сидорова Анна Викторовна", full_name="", legal_form="ФизЛицо", inn="", kpp="",
                   bank_accounts=(), addresses=(Address("actual", "Тула, Мира 5", city="Тула"),))
    bundle = counterparty_to_bundle(person)
    assert bundle.kind == "contact" and bundle.item.entity_type_id == 3
    assert (bundle.item.fields["lastName"], bundle.item.fields["name"], bundle.item.fields["secondName"]) == (
        "Сидорова", "Анна", "Викторовна")
    assert bundle.requisite.preset_xml_id == PRESET_PERSON and bundle.addresses[0].fields["CITY"] == "Тула"
    assert bundle.match_phones == ("+74951234567", "+74957654321") and bundle.match_emails == ("info@romashka.ru",)


def test_contact_persons_become_contacts_of_the_company():
    persons = (ContactPerson("p1", "c1", "pv", "Иванов Иван Иванович", position="Директор",
                             contacts=(ContactValue("phone", "+7 916 000-00-01"),)),
               ContactPerson("p2", "c1", "pv", "Смирнова О.", last_name="Смирнова", first_name="Ольга",
                             middle_name="Игоревна"),
               ContactPerson("p3", "c1", "pv", "Уволен", deletion_mark=True))
    bundle = counterparty_to_bundle(legal(contact_persons=persons))
    first, second = bundle.contact_persons
    assert first.item.fields["lastName"] == "Иванов" and first.item.fields["post"] == "Директор"
    assert first.item.multifields[0].value == "+79160000001"
    assert (second.item.fields["lastName"], second.item.fields["name"]) == ("Смирнова", "Ольга")


def test_bad_input_is_dropped_field_by_field_and_reported():
    bad = legal(inn="7707083894", kpp="77360100", contacts=(ContactValue("email", "ivanov@@mail.ru"),
                                                            ContactValue("phone", "12-34")),
                bank_accounts=(BankAccount("b1", "40702810400000000007", bik=BIK, corr_account=CORR),
                               BankAccount("b2", ACCOUNT, bik="12345", corr_account=CORR),
                               BankAccount("b3", ACCOUNT, bank_missing=True)))
    bundle = counterparty_to_bundle(bad)
    assert codes(bundle) == ["dangling_bank", "invalid_account", "invalid_bik", "invalid_email", "invalid_inn",
                             "invalid_kpp", "invalid_phone"]
    assert "RQ_INN" not in bundle.requisite.fields and "RQ_KPP" not in bundle.requisite.fields
    assert bundle.item.multifields == ()
    assert "RQ_ACC_NUM" not in bundle.bank_details[0].fields and "RQ_BIK" not in bundle.bank_details[1].fields


def test_deleted_and_nameless_counterparties_are_not_synced():
    assert codes(counterparty_to_bundle(legal(deletion_mark=True))) == ["deleted_in_1c"]
    nameless = counterparty_to_bundle(legal(name="  "))
    assert nameless.item is None and codes(nameless) == ["empty_name"]


def test_over_long_names_are_cut_and_reported():
    bundle = counterparty_to_bundle(legal(name="Ф" * 300, full_name="П" * 400))
    assert len(bundle.item.fields["title"]) == 255 and len(bundle.requisite.fields["RQ_COMPANY_FULL_NAME"]) == 255
    assert codes(bundle) == ["too_long", "too_long"]
    assert {p.message.split(" ")[0] for p in bundle.problems} == {"Наименование", "Полное"}


def test_federal_city_is_taken_from_the_region():
    spb = Address("legal", "193544, Санкт-Петербург г, Гагарина ул, дом 125", "193544", "Санкт-Петербург г",
                  street="Гагарина ул", house="125")
    assert counterparty_to_bundle(legal(addresses=(spb,))).addresses[0].fields["CITY"] == "Санкт-Петербург"


def test_a_main_manager_missing_in_1c_is_reported():
    bundle = counterparty_to_bundle(legal(main_manager_ref="u-gone"), assigned_by_id=1, manager_known=False)
    assert codes(bundle) == ["unknown_manager"] and bundle.item.create_only_fields == {"assignedById": 1}
    assert codes(counterparty_to_bundle(legal(main_manager_ref="u1"), manager_known=True)) == []


def test_split_full_name():
    assert split_full_name("Иванов Иван Иванович") == ("Иванов", "Иван", "Иванович")
    assert split_full_name("ИП Кузнецов Олег") == ("Кузнецов", "Олег", "")
    assert split_full_name("Мария") == ("", "Мария", "")
