"""Counterparties (Справочник.Контрагенты) with contacts, addresses, bank accounts and contact persons, in bulk."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import contact_info, decode, users
from .changes import Prefetch, diff_versions, group_by, unique, wants_full_read
from .client import ODataClient
from .records import BankAccount, ChangeSet, ContactPerson, Counterparty

COUNTERPARTIES = "Catalog_Контрагенты"
BANK_ACCOUNTS = "Catalog_БанковскиеСчета"
BANKS = "Catalog_Банки"
CURRENCIES = "Catalog_Валюты"
CONTACT_PERSONS = "Catalog_КонтактныеЛицаКонтрагентов"
PERSON_CARDS = "Catalog_КонтактныеЛица"
ENTITY_SETS = (COUNTERPARTIES, BANK_ACCOUNTS, BANKS, CURRENCIES, CONTACT_PERSONS, PERSON_CARDS,
               contact_info.REGISTER, contact_info.KINDS)

SCAN_PAGE = 5000
ITEMS_ONLY = "IsFolder eq false"
COUNTERPARTY_TYPE = f"{decode.TYPE_PREFIX}{COUNTERPARTIES}"
COUNTERPARTY_FIELDS = ("Ref_Key", "DataVersion", "DeletionMark", "Code", "Description", "НаименованиеПолное", "ИНН",
                       "КПП", "КодПоОКПО", "ЮрФизЛицо", "Покупатель", "Поставщик", "Комментарий",
                       "ОсновнойМенеджерПокупателя_Key")
ACCOUNT_SCAN_FIELDS = ("Ref_Key", "DataVersion", "Owner", "Owner_Type", "Банк_Key")
ACCOUNT_FIELDS = ACCOUNT_SCAN_FIELDS + ("DeletionMark", "Description", "НомерСчета", "ВалютаДенежныхСредств_Key")
BANK_FIELDS = ("Ref_Key", "DataVersion", "Code", "Description", "КоррСчет", "Город")
CURRENCY_FIELDS = ("Ref_Key", "Code", "Description")
PERSON_SCAN_FIELDS = ("Ref_Key", "DataVersion", "Owner_Key", "КонтактноеЛицо_Key")
PERSON_FIELDS = PERSON_SCAN_FIELDS + ("DeletionMark", "Description", "Должность")
CARD_SCAN_FIELDS = ("Ref_Key", "DataVersion")
CARD_FIELDS = CARD_SCAN_FIELDS + ("Фамилия", "Имя", "Отчество")


@dataclass
class Snapshot:
    """Cheap columns of everything a counterparty's version depends on (one scan)."""

    items: dict[str, str]  # counterparty ref → DataVersion
    contacts: dict[tuple[str, str], list[dict]]  # (entity set, ref) → contact-info rows
    accounts: dict[str, list[dict]]  # counterparty ref → its bank accounts (scan columns)
    persons: dict[str, list[dict]]  # counterparty ref → its contact persons (scan columns)
    cards: dict[str, str]  # КонтактныеЛица ref → DataVersion
    banks: dict[str, dict]  # Банки ref → row (lookup table)
    currencies: dict[str, dict]  # Валюты ref → row (lookup table)
    kinds: contact_info.KindBook = field(default_factory=lambda: contact_info.KindBook([]))

    def version(self, ref: str) -> str:
        return counterparty_version(self.items[ref], self.contacts_of(COUNTERPARTIES, ref),
                                    self.accounts.get(ref, []), self.persons.get(ref, []), self)

    def contacts_of(self, entity_set: str, ref: str) -> list[dict]:
        return self.contacts.get((entity_set, ref), [])

    def bank_version(self, bank_ref) -> str:
        return decode.text(self.banks.get(bank_ref, {}).get("DataVersion"))


def counterparty_version(data_version: str, contacts: list[dict], accounts: list[dict], persons: list[dict],
                         snapshot: Snapshot) -> str:
    """Hash of the counterparty's DataVersion, contact rows, bank accounts and contact persons."""
    account_parts = sorted([a["Ref_Key"], decode.text(a.get("DataVersion")), snapshot.bank_version(a.get("Банк_Key"))]
                           for a in accounts)
    person_parts = sorted(
        [p["Ref_Key"], decode.text(p.get("DataVersion")),
         snapshot.cards.get(decode.ref(p.get("КонтактноеЛицо_Key")) or "", ""),
         contact_info.fingerprint(snapshot.contacts_of(CONTACT_PERSONS, p["Ref_Key"]))]
        for p in persons
    )
    return decode.version_hash(data_version, contact_info.fingerprint(contacts), account_parts, person_parts)


class CounterpartyReader:
    """scan() finds new/changed counterparties from cheap columns; read() builds full records in bulk."""

    def __init__(self, client: ODataClient, *, scan_page: int = SCAN_PAGE, full_read_minimum: int = 200):
        self.client = client
        self.scan_page = scan_page
        self.full_read_minimum = full_read_minimum
        self.snapshot: Snapshot | None = None
        self.prefetch = Prefetch(full_read_minimum)

    def read_users(self):
        """1С users (managers referenced by main_manager_ref), see users.read_users."""
        return users.read_users(self.client)

    # ------------------------------------------------------------ change detection

    def scan(self, known_versions: dict[str, str]) -> ChangeSet:
        self.snapshot = self.take_snapshot()
        current = {ref: self.snapshot.version(ref) for ref in self.snapshot.items}
        changes = diff_versions(current, known_versions)
        self.prefetch.expect(changes.changed_refs, len(current))
        return changes

    def take_snapshot(self) -> Snapshot:
        client, page = self.client, self.scan_page
        items = {r["Ref_Key"]: decode.text(r.get("DataVersion"))
                 for r in client.iter_rows(COUNTERPARTIES, select="Ref_Key,DataVersion", filter=ITEMS_ONLY,
                                           page_size=page)}
        accounts = [a for a in client.iter_rows(BANK_ACCOUNTS, select=ACCOUNT_SCAN_FIELDS, page_size=page)
                    if a.get("Owner_Type") == COUNTERPARTY_TYPE]
        persons = client.iter_rows(CONTACT_PERSONS, select=PERSON_SCAN_FIELDS, page_size=page)
        return Snapshot(
            items=items,
            contacts=contact_info.read_all(client, page),
            accounts=group_by(accounts, lambda a: a.get("Owner")),
            persons=group_by(persons, lambda p: p.get("Owner_Key")),
            cards={r["Ref_Key"]: decode.text(r.get("DataVersion"))
                   for r in client.iter_rows(PERSON_CARDS, select=CARD_SCAN_FIELDS, page_size=page)},
            banks={r["Ref_Key"]: r for r in client.iter_rows(BANKS, select=BANK_FIELDS, page_size=page)},
            currencies={r["Ref_Key"]: r for r in client.iter_rows(CURRENCIES, select=CURRENCY_FIELDS,
                                                                  page_size=page)},
            kinds=contact_info.KindBook.read(client),
        )

    # ------------------------------------------------------------ full records

    def read(self, refs) -> list[Counterparty]:
        """Full records of the given counterparties (uses the last scan's snapshot; scans first if none)."""
        refs = list(unique(refs))
        return self.prefetch.take(refs, self.read_now) if refs else []

    def read_now(self, refs: list[str]) -> list[Counterparty]:
        snapshot = self.snapshot or self.take_snapshot()
        self.snapshot = snapshot
        full = wants_full_read(len(refs), len(snapshot.items), minimum=self.full_read_minimum)
        wanted = set(refs)
        rows = self.fetch(COUNTERPARTIES, refs, COUNTERPARTY_FIELDS, full, ITEMS_ONLY)
        accounts = self.fetch(BANK_ACCOUNTS, [a["Ref_Key"] for r in refs for a in snapshot.accounts.get(r, [])],
                              ACCOUNT_FIELDS, full)
        accounts = [a for a in accounts if a.get("Owner_Type") == COUNTERPARTY_TYPE and a.get("Owner") in wanted]
        persons = self.fetch(CONTACT_PERSONS, [p["Ref_Key"] for r in refs for p in snapshot.persons.get(r, [])],
                             PERSON_FIELDS, full)
        persons = [p for p in persons if p.get("Owner_Key") in wanted]
        card_refs = list(unique(decode.ref(p.get("КонтактноеЛицо_Key")) for p in persons))
        cards = {c["Ref_Key"]: c for c in self.fetch(PERSON_CARDS, card_refs, CARD_FIELDS, full)}
        snapshot.cards.update({ref: decode.text(card.get("DataVersion")) for ref, card in cards.items()})
        builder = CounterpartyBuilder(snapshot, group_by(accounts, lambda a: a["Owner"]),
                                      group_by(persons, lambda p: p["Owner_Key"]), cards)
        return [builder.counterparty(row) for row in rows if row["Ref_Key"] in wanted]

    def fetch(self, entity_set: str, refs: list[str], select, full: bool, filter: str | None = None) -> list[dict]:
        if full:
            return list(self.client.iter_rows(entity_set, select=select, filter=filter, page_size=self.scan_page))
        if not refs:
            return []
        return list(self.client.rows_by_refs(entity_set, refs, select=select, filter=filter))


class CounterpartyBuilder:
    """Assembles Counterparty records from rows already fetched in bulk."""

    def __init__(self, snapshot: Snapshot, accounts: dict[str, list[dict]], persons: dict[str, list[dict]],
                 cards: dict[str, dict]):
        self.snapshot = snapshot
        self.accounts = accounts
        self.persons = persons
        self.cards = cards

    def counterparty(self, row: dict) -> Counterparty:
        ref = row["Ref_Key"]
        contacts = self.snapshot.contacts_of(COUNTERPARTIES, ref)
        accounts = self.accounts.get(ref, [])
        persons = self.persons.get(ref, [])
        kinds = self.snapshot.kinds
        return Counterparty(
            ref=ref,
            version=self.version(row, contacts, accounts, persons),
            code=decode.text(row.get("Code")),
            name=decode.text(row.get("Description")),
            full_name=decode.text(row.get("НаименованиеПолное")),
            inn=decode.text(row.get("ИНН")),
            kpp=decode.text(row.get("КПП")),
            okpo=decode.text(row.get("КодПоОКПО")),
            legal_form=decode.text(row.get("ЮрФизЛицо")),
            deletion_mark=decode.flag(row.get("DeletionMark")),
            is_buyer=decode.flag(row.get("Покупатель", True)),
            is_supplier=decode.flag(row.get("Поставщик")),
            comment=decode.text(row.get("Комментарий")),
            main_manager_ref=decode.ref(row.get("ОсновнойМенеджерПокупателя_Key")),
            contacts=contact_info.contact_values(contacts, kinds),
            addresses=contact_info.addresses(contacts, kinds),
            bank_accounts=tuple(sorted((self.bank_account(a) for a in accounts), key=lambda b: (b.number, b.ref))),
            contact_persons=tuple(sorted((self.contact_person(p) for p in persons),
                                         key=lambda p: (p.full_name, p.ref))),
        )

    def version(self, row, contacts, accounts, persons) -> str:
        return counterparty_version(decode.text(row.get("DataVersion")), contacts, accounts, persons,
                                    self.snapshot)

    def bank_account(self, row: dict) -> BankAccount:
        bank_ref = decode.ref(row.get("Банк_Key"))
        bank = self.snapshot.banks.get(bank_ref) if bank_ref else None
        currency = self.snapshot.currencies.get(decode.ref(row.get("ВалютаДенежныхСредств_Key")) or "", {})
        return BankAccount(
            ref=row["Ref_Key"],
            number=decode.text(row.get("НомерСчета")),
            name=decode.text(row.get("Description")),
            bank_ref=bank_ref,
            bank_name=decode.text((bank or {}).get("Description")),
            bik=decode.text((bank or {}).get("Code")),
            corr_account=decode.text((bank or {}).get("КоррСчет")),
            bank_city=decode.text((bank or {}).get("Город")),
            currency_code=decode.text(currency.get("Code")),
            currency_name=decode.text(currency.get("Description")),
            deletion_mark=decode.flag(row.get("DeletionMark")),
            bank_missing=bank_ref is not None and bank is None,
        )

    def contact_person(self, row: dict) -> ContactPerson:
        card = self.cards.get(decode.ref(row.get("КонтактноеЛицо_Key")) or "", {})
        contacts = self.snapshot.contacts_of(CONTACT_PERSONS, row["Ref_Key"])
        return ContactPerson(
            ref=row["Ref_Key"],
            owner_ref=row["Owner_Key"],
            version=decode.version_hash(decode.text(row.get("DataVersion")), decode.text(card.get("DataVersion")),
                                        contact_info.fingerprint(contacts)),
            full_name=decode.text(row.get("Description")),
            last_name=decode.text(card.get("Фамилия")),
            first_name=decode.text(card.get("Имя")),
            middle_name=decode.text(card.get("Отчество")),
            position=decode.text(row.get("Должность")),
            contacts=contact_info.contact_values(contacts, self.snapshot.kinds),
            deletion_mark=decode.flag(row.get("DeletionMark")),
        )
