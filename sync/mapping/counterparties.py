"""1С «Контрагенты» → Bitrix24 companies, contacts, requisites, addresses and bank details (pure)."""

from __future__ import annotations

import re
from dataclasses import replace

from sync.onec.records import Address, BankAccount, ContactPerson, ContactValue, Counterparty

from .payloads import (
    ORIGINATOR_ID,
    AddressPayload,
    BankDetailPayload,
    ClientBundle,
    ContactBundle,
    CrmItemPayload,
    Multifield,
    Problem,
    RequisitePayload,
)
from .validation import (
    account_is_valid,
    bik_is_valid,
    corr_account_is_valid,
    email_is_valid,
    inn_is_valid,
    kpp_is_valid,
    normalize_phone,
)

PRESET_COMPANY = "#CRM_REQUISITE_PRESET_DEF_RU_COMPANY#"
PRESET_INDIVIDUAL = "#CRM_REQUISITE_PRESET_DEF_RU_INDIVIDUAL#"
PRESET_PERSON = "#CRM_REQUISITE_PRESET_DEF_RU_PERSON#"
ADDRESS_TYPE_IDS = {"legal": 6, "actual": 1, "delivery": 11}  # crm.enum.addresstype
TITLE_MAX = 255
NAME_PART_MAX = 50
_IP_PREFIX = re.compile(r"^\s*(ИП|И\.П\.|Индивидуальный\s+предприниматель)\s+", re.IGNORECASE)
_REQUISITE_DATA = ("RQ_INN", "RQ_KPP", "RQ_OKPO", "RQ_COMPANY_FULL_NAME")  # names alone do not make a requisite
_CURRENCY_BY_CODE = {"643": "RUB", "810": "RUB", "840": "USD", "978": "EUR", "156": "CNY", "398": "KZT", "933": "BYN"}


def counterparty_label(cp: Counterparty) -> str:
    return f"{cp.code} {cp.name}".strip() or cp.ref


def is_individual_entrepreneur(cp: Counterparty) -> bool:
    """ИП: a ФизЛицо with a 12-digit ИНН, or a name in the «ИП …» form (spec: ИП become companies)."""
    if cp.legal_form == "ЮрЛицо":
        return False
    return len(cp.inn.strip()) == 12 or bool(_IP_PREFIX.match(cp.name))


def split_full_name(full_name: str) -> tuple[str, str, str]:
    """«Фамилия Имя Отчество» → (last, first, middle); a single word is the first name."""
    parts = _IP_PREFIX.sub("", full_name).split()
    if len(parts) == 1:
        return "", parts[0], ""
    if not parts:
        return "", "", ""
    return parts[0], parts[1], " ".join(parts[2:])


def counterparty_to_bundle(cp: Counterparty, *, assigned_by_id: int | None = None,
                           manager_known: bool = True) -> ClientBundle:
    """The whole CRM picture of one counterparty; problems say what was dropped and why.

    `manager_known` is False when the counterparty's main manager is not among the 1С users (a dangling
    reference): the default responsible is used and the administrator is told.
    """
    label = counterparty_label(cp)
    if cp.deletion_mark:
        problem = Problem("deleted_in_1c", "Контрагент помечен на удаление в 1С: в CRM не создается и не меняется.")
        return ClientBundle(cp.ref, label, "company", None, problems=(problem,))
    if not cp.name.strip():
        problem = Problem("empty_name", "У контрагента пустое наименование: без названия его нельзя создать в CRM.")
        return ClientBundle(cp.ref, label, "company", None, problems=(problem,))
    if cp.legal_form == "ФизЛицо" and not is_individual_entrepreneur(cp):
        bundle = _person_bundle(cp, label, assigned_by_id)
    else:
        bundle = _company_bundle(cp, label, assigned_by_id)
    if cp.main_manager_ref and not manager_known:
        problem = Problem("unknown_manager", "Основной менеджер контрагента не найден среди пользователей 1С: "
                                             "ответственным назначен ответственный по умолчанию.")
        bundle = replace(bundle, problems=(*bundle.problems, problem))
    return bundle


def _company_bundle(cp: Counterparty, label: str, assigned_by_id: int | None) -> ClientBundle:
    problems: list[Problem] = []
    title = _limited(cp.name.strip(), TITLE_MAX, "Наименование", problems)
    multifields = _multifields(cp.contacts, problems)
    item = CrmItemPayload(4, {"title": title, "originatorId": ORIGINATOR_ID, "originId": cp.ref},
                          multifields, _assigned(assigned_by_id))
    ip = is_individual_entrepreneur(cp)
    if not cp.inn.strip():
        problems.append(Problem("missing_inn", "В 1С не заполнен ИНН: компания передана без ИНН, "
                                               "найти ее среди существующих клиентов по ИНН нельзя."))
    inn = _valid_inn(cp.inn, problems)
    kpp = "" if ip else _valid_kpp(cp.kpp, problems)
    addresses = tuple(_address_payload(a) for a in _unique_addresses(cp.addresses))
    bank_details = tuple(_bank_detail(acc, problems) for acc in cp.bank_accounts if not acc.deletion_mark)
    requisite_fields = _ip_fields(cp, inn) if ip else _legal_fields(cp, inn, kpp, problems)
    requisite = None
    if any(requisite_fields.get(k) for k in _REQUISITE_DATA) or addresses or bank_details:
        preset = PRESET_INDIVIDUAL if ip else PRESET_COMPANY
        requisite = RequisitePayload(_requisite_xml_id(cp.ref), preset, requisite_fields)
    return ClientBundle(
        cp.ref, label, "company", item, requisite, addresses, bank_details,
        contact_persons=tuple(_contact_person_bundle(p, assigned_by_id) for p in cp.contact_persons
                              if not p.deletion_mark),
        match_inn=inn, match_kpp=kpp, problems=tuple(problems),
    )


def _person_bundle(cp: Counterparty, label: str, assigned_by_id: int | None) -> ClientBundle:
    problems: list[Problem] = []
    last, first, middle = (_limited(p, NAME_PART_MAX, "Часть ФИО", problems) for p in split_full_name(cp.name))
    multifields = _multifields(cp.contacts, problems)
    fields = {"lastName": last, "name": first, "secondName": middle,
              "originatorId": ORIGINATOR_ID, "originId": cp.ref}
    item = CrmItemPayload(3, fields, multifields, _assigned(assigned_by_id))
    addresses = tuple(_address_payload(a) for a in _unique_addresses(cp.addresses))
    requisite = None
    if addresses:
        requisite = RequisitePayload(_requisite_xml_id(cp.ref), PRESET_PERSON, {
            "NAME": _cut(cp.name.strip(), TITLE_MAX), "RQ_LAST_NAME": last, "RQ_FIRST_NAME": first,
            "RQ_SECOND_NAME": middle})
    return ClientBundle(
        cp.ref, label, "contact", item, requisite, addresses,
        match_phones=tuple(m.value for m in multifields if m.type_id == "PHONE"),
        match_emails=tuple(m.value for m in multifields if m.type_id == "EMAIL"),
        problems=tuple(problems),
    )


def _contact_person_bundle(person: ContactPerson, assigned_by_id: int | None) -> ContactBundle:
    problems: list[Problem] = []
    if person.last_name or person.first_name:
        last, first, middle = person.last_name, person.first_name, person.middle_name
    else:
        last, first, middle = split_full_name(person.full_name)
    last, first, middle = (_limited(p, NAME_PART_MAX, "Часть ФИО контактного лица", problems)
                           for p in (last, first, middle))
    fields = {"lastName": last, "name": first or person.full_name[:NAME_PART_MAX], "secondName": middle,
              "post": _cut(person.position, 255), "originatorId": ORIGINATOR_ID, "originId": person.ref}
    item = CrmItemPayload(3, fields, _multifields(person.contacts, problems), _assigned(assigned_by_id))
    return ContactBundle(person.ref, person.full_name, item, tuple(problems))


def _legal_fields(cp: Counterparty, inn: str, kpp: str, problems: list[Problem]) -> dict:
    full_name = _limited(cp.full_name.strip(), TITLE_MAX, "Полное наименование", problems)
    okpo = cp.okpo.strip() if cp.okpo.strip().isdigit() else ""
    fields = {"NAME": _cut(cp.name.strip(), TITLE_MAX), "RQ_COMPANY_NAME": _cut(cp.name.strip(), TITLE_MAX),
              "RQ_COMPANY_FULL_NAME": full_name, "RQ_INN": inn, "RQ_KPP": kpp, "RQ_OKPO": okpo}
    return {k: v for k, v in fields.items() if v or k == "NAME"}


def _ip_fields(cp: Counterparty, inn: str) -> dict:
    last, first, middle = split_full_name(cp.full_name or cp.name)
    fields = {"NAME": _cut(cp.name.strip(), TITLE_MAX), "RQ_LAST_NAME": last[:NAME_PART_MAX],
              "RQ_FIRST_NAME": first[:NAME_PART_MAX], "RQ_SECOND_NAME": middle[:NAME_PART_MAX], "RQ_INN": inn}
    if cp.okpo.strip().isdigit():
        fields["RQ_OKPO"] = cp.okpo.strip()
    return {k: v for k, v in fields.items() if v or k == "NAME"}


def _valid_inn(inn: str, problems: list[Problem]) -> str:
    inn = inn.strip()
    if inn and not inn_is_valid(inn):
        problems.append(Problem("invalid_inn", f"ИНН «{inn}» не проходит проверку контрольных цифр: не передан."))
        return ""
    return inn


def _valid_kpp(kpp: str, problems: list[Problem]) -> str:
    kpp = kpp.strip()
    if kpp and not kpp_is_valid(kpp):
        problems.append(Problem("invalid_kpp", f"КПП «{kpp}» имеет неверный формат (9 знаков): не передан."))
        return ""
    return kpp


def _multifields(contacts: tuple[ContactValue, ...], problems: list[Problem]) -> tuple[Multifield, ...]:
    result: list[Multifield] = []
    for contact in contacts:
        mf = _multifield(contact, problems)
        if mf and mf not in result:
            result.append(mf)
    return tuple(result)


def _multifield(contact: ContactValue, problems: list[Problem]) -> Multifield | None:
    value = contact.value.strip()
    if not value:
        return None
    if contact.type == "email":
        if email_is_valid(value):
            return Multifield("EMAIL", value.lower())
        problems.append(Problem("invalid_email", f"E-mail «{value}» некорректен: не передан."))
        return None
    phone = normalize_phone(value)
    if phone is None:
        problems.append(Problem("invalid_phone", f"Телефон «{value}» не похож на номер телефона: не передан."))
        return None
    return Multifield("PHONE", phone, "FAX" if contact.type == "fax" else "WORK")


def _unique_addresses(addresses: tuple[Address, ...]) -> list[Address]:
    """One address per CRM type (legal, actual, delivery): Bitrix24 allows one of each per requisite."""
    by_kind: dict[str, Address] = {}
    for address in addresses:
        if address.kind in ADDRESS_TYPE_IDS and address.presentation.strip():
            by_kind.setdefault(address.kind, address)
    return [by_kind[k] for k in ADDRESS_TYPE_IDS if k in by_kind]


def _address_payload(address: Address) -> AddressPayload:
    street = ", ".join(p for p in (address.street, _house(address)) if p)
    fields = {
        "ADDRESS_1": street or address.presentation.strip(),
        "ADDRESS_2": f"кв./оф. {address.apartment}" if address.apartment else "",
        "CITY": address_city(address),
        "POSTAL_CODE": address.postal_code,
        "REGION": address.district,
        "PROVINCE": address.region,
        "COUNTRY": address.country or ("Россия" if address.postal_code.isdigit() else ""),
    }
    return AddressPayload(ADDRESS_TYPE_IDS[address.kind], {k: _cut(v, 255) for k, v in fields.items() if v})


def address_city(address: Address) -> str:
    """City of an address; in КЛАДР federal cities (Москва г, Санкт-Петербург г) are the region, not Поле4."""
    if address.city or address.settlement:
        return address.city or address.settlement
    region = address.region.strip()
    return region[:-2].strip() if region.endswith(" г") else ""


def _house(address: Address) -> str:
    house = f"д. {address.house}" if address.house else ""
    return f"{house}, корп. {address.building}" if address.building else house


def _bank_detail(account: BankAccount, problems: list[Problem]) -> BankDetailPayload:
    bik = account.bik.strip()
    number = account.number.strip()
    corr = account.corr_account.strip()
    if account.bank_missing:
        problems.append(Problem("dangling_bank", f"Счет {number}: банк не найден в 1С, реквизиты банка не переданы."))
    if bik and not bik_is_valid(bik):
        problems.append(Problem("invalid_bik", f"БИК «{bik}» (счет {number}) некорректен: не передан."))
        bik = ""
    if bik and number and not account_is_valid(number, bik):
        problems.append(Problem("invalid_account", f"Расчетный счет «{number}» не сходится с БИК {bik}: не передан."))
        number = ""
    if bik and corr and not corr_account_is_valid(corr, bik):
        problems.append(Problem("invalid_corr_account", f"Корр. счет «{corr}» не сходится с БИК {bik}: не передан."))
        corr = ""
    fields = {
        "NAME": _cut(account.name or f"Счет {account.number}", 255), "XML_ID": account.ref,
        "RQ_BANK_NAME": _cut(account.bank_name, 255), "RQ_BIK": bik, "RQ_ACC_NUM": number,
        "RQ_COR_ACC_NUM": corr, "RQ_ACC_CURRENCY": currency_iso(account.currency_code, account.currency_name),
    }
    return BankDetailPayload(account.ref, {k: v for k, v in fields.items() if v})


def currency_iso(code: str, name: str = "") -> str:
    """1С Валюты.Code (ОКВ digits) → ISO letters; unknown codes keep 1С's own name."""
    return _CURRENCY_BY_CODE.get(code.strip(), name.strip())


def _requisite_xml_id(ref: str) -> str:
    return f"1C:{ref}"


def _assigned(assigned_by_id: int | None) -> dict:
    return {"assignedById": assigned_by_id} if assigned_by_id else {}


def _cut(value: str, limit: int) -> str:
    return value[:limit]


def _limited(value: str, limit: int, what: str, problems: list[Problem]) -> str:
    if len(value) > limit:
        problems.append(Problem("too_long", f"{what} длиннее {limit} символов: обрезано при передаче."))
        return value[:limit]
    return value
