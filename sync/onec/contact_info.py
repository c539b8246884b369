"""Contact information of 1С objects (РегистрСведений.КонтактнаяИнформация): reading, grouping and decoding."""

from __future__ import annotations

from . import decode
from .client import ODataClient, string_literal
from .records import Address, ContactValue

REGISTER = "InformationRegister_КонтактнаяИнформация"
KINDS = "Catalog_ВидыКонтактнойИнформации"
CONTENT_FIELDS = ("Тип", "Вид", "Вид_Type", "Представление", "Поле1", "Поле2", "Поле3", "Поле4", "Поле5",
                  "Поле6", "Поле7", "Поле8", "Поле9", "Поле10", "Комментарий", "ЗначениеПоУмолчанию")
SELECT = ("Объект", "Объект_Type") + CONTENT_FIELDS
ORDER = "Объект,Тип,Вид"
VALUE_TYPES = {"Телефон": "phone", "Факс": "fax", "АдресЭлектроннойПочты": "email"}
ADDRESS_TYPE = "Адрес"
SYNCED_TYPES = (ADDRESS_TYPE, *VALUE_TYPES)
# Predefined kinds of counterparty addresses, matched by Code (GUIDs differ between infobases).
ADDRESS_KIND_CODES = {"000000001": "legal", "000000002": "actual", "000000014": "delivery"}
ADDRESS_KIND_WORDS = (("юрид", "legal"), ("факт", "actual"), ("доставк", "delivery"))
KIND_TYPE = "StandardODATA.Catalog_ВидыКонтактнойИнформации"
# Cities of federal significance are stored as the region (Поле2) with empty Город/НаселенныйПункт.
FEDERAL_CITIES = ("москва", "санкт-петербург", "севастополь")


def synced_types_filter() -> str:
    return " or ".join(f"Тип eq {string_literal(t)}" for t in SYNCED_TYPES)


def object_key(row: dict) -> tuple[str, str]:
    """(entity set, ref) of the owner of a contact-info row."""
    return decode.type_name(row.get("Объект_Type")), decode.text(row.get("Объект"))


def read_all(client: ODataClient, page_size: int = 5000) -> dict[tuple[str, str], list[dict]]:
    """Rows of the synced types for every object, grouped by (entity set, ref)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in client.iter_rows(REGISTER, select=SELECT, filter=synced_types_filter(), orderby=ORDER,
                                page_size=page_size):
        groups.setdefault(object_key(row), []).append(row)
    return groups


def fingerprint(rows: list[dict]) -> list[list]:
    """Order-independent content of an object's rows, for version hashes."""
    return sorted([decode.text(row.get(f)) for f in CONTENT_FIELDS] for row in rows)


class KindBook:
    """Справочник.ВидыКонтактнойИнформации as a lookup: names and address labels."""

    def __init__(self, rows: list[dict]):
        self.by_ref = {decode.text(r.get("Ref_Key")): r for r in rows}

    @classmethod
    def read(cls, client: ODataClient) -> KindBook:
        return cls(list(client.iter_rows(KINDS, select="Ref_Key,Code,Description", page_size=5000)))

    def name(self, row: dict) -> str:
        if row.get("Вид_Type") and row.get("Вид_Type") != KIND_TYPE:
            return decode.text(row.get("Вид"))
        kind = self.by_ref.get(decode.text(row.get("Вид")))
        return decode.text(kind.get("Description")) if kind else ""

    def address_label(self, row: dict) -> str:
        kind = self.by_ref.get(decode.text(row.get("Вид")))
        if kind and decode.text(kind.get("Code")).strip() in ADDRESS_KIND_CODES:
            return ADDRESS_KIND_CODES[decode.text(kind.get("Code")).strip()]
        name = self.name(row).lower()
        return next((label for word, label in ADDRESS_KIND_WORDS if word in name), "other")


def contact_values(rows: list[dict], kinds: KindBook) -> tuple[ContactValue, ...]:
    values = [
        ContactValue(type=VALUE_TYPES[row["Тип"]], value=decode.text(row.get("Представление")),
                     kind_name=kinds.name(row), is_default=decode.flag(row.get("ЗначениеПоУмолчанию")))
        for row in rows if row.get("Тип") in VALUE_TYPES
    ]
    return tuple(sorted(values, key=lambda v: (v.type, not v.is_default, v.kind_name, v.value)))


def addresses(rows: list[dict], kinds: KindBook) -> tuple[Address, ...]:
    found = [address_of(row, kinds.address_label(row)) for row in rows if row.get("Тип") == ADDRESS_TYPE]
    order = {"legal": 0, "actual": 1, "delivery": 2}
    return tuple(sorted(found, key=lambda a: (order.get(a.kind, 3), a.presentation)))


def address_of(row: dict, kind: str) -> Address:
    field = [decode.text(row.get(f"Поле{i}")) for i in range(1, 11)]
    foreign = bool(field[0]) and not field[0].strip().isdigit()
    return Address(
        kind=kind,
        presentation=decode.text(row.get("Представление")),
        postal_code="" if foreign else field[0],
        region=field[1],
        district=field[2],
        city=field[3] or field[4] or federal_city(field[1]),
        settlement=field[4],
        street=field[5],
        house=field[6],
        building=field[7],
        apartment=field[8],
        country=field[0] if foreign else "",
    )


def federal_city(region: str) -> str:
    return region if region.strip().lower().startswith(FEDERAL_CITIES) else ""
