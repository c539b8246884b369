"""Plain records the 1С readers produce and the pure mapping consumes (the contract between the two).

Values are already decoded from OData: empty references become ``None``, empty dates ``None``, amounts
``Decimal``. Strings are kept as 1С has them (no trimming or validation: the mapping validates and reports).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class Address:
    """One address from РегистрСведений.КонтактнаяИнформация (Тип = Адрес)."""

    kind: str  # "legal" | "actual" | "delivery" | "other" (from Вид: predefined code or name)
    presentation: str  # Представление, the full human-readable value
    postal_code: str = ""  # Поле1
    region: str = ""  # Поле2
    district: str = ""  # Поле3
    city: str = ""  # Поле4
    settlement: str = ""  # Поле5
    street: str = ""  # Поле6
    house: str = ""  # Поле7
    building: str = ""  # Поле8
    apartment: str = ""  # Поле9
    country: str = ""  # foreign addresses: Поле1 holds the country (reference §2.3)


@dataclass(frozen=True)
class ContactValue:
    """A phone, fax or e-mail (Тип = Телефон / Факс / АдресЭлектроннойПочты), as 1С presents it."""

    type: str  # "phone" | "fax" | "email"
    value: str  # Представление
    kind_name: str = ""  # Вид description, e.g. "Телефон контрагента"
    is_default: bool = False  # ЗначениеПоУмолчанию


@dataclass(frozen=True)
class BankAccount:
    """Справочник.БанковскиеСчета owned by a counterparty, with its bank and currency resolved."""

    ref: str
    number: str  # НомерСчета
    name: str = ""  # Description
    bank_ref: str | None = None
    bank_name: str = ""
    bik: str = ""  # Банки.Code
    corr_account: str = ""  # Банки.КоррСчет
    bank_city: str = ""
    currency_code: str = ""  # Валюты.Code, e.g. "643"
    currency_name: str = ""  # Валюты.Description, e.g. "руб."
    deletion_mark: bool = False
    bank_missing: bool = False  # the account points to a bank that 1С does not return (dangling reference)


@dataclass(frozen=True)
class ContactPerson:
    """Справочник.КонтактныеЛицаКонтрагентов (+ Фамилия/Имя/Отчество from КонтактныеЛица when linked)."""

    ref: str
    owner_ref: str
    version: str
    full_name: str  # Description
    last_name: str = ""
    first_name: str = ""
    middle_name: str = ""
    position: str = ""  # Должность
    contacts: tuple[ContactValue, ...] = ()
    deletion_mark: bool = False


@dataclass(frozen=True)
class Counterparty:
    """Справочник.Контрагенты item with everything the CRM needs, gathered in bulk."""

    ref: str
    version: str  # composite: DataVersion + contact info + bank accounts + contact persons
    code: str
    name: str  # Description (short name)
    full_name: str = ""  # НаименованиеПолное
    inn: str = ""
    kpp: str = ""
    okpo: str = ""
    legal_form: str = ""  # ЮрФизЛицо: "ЮрЛицо" | "ФизЛицо" | ""
    deletion_mark: bool = False
    is_buyer: bool = True
    is_supplier: bool = False
    comment: str = ""
    main_manager_ref: str | None = None  # ОсновнойМенеджерПокупателя_Key → Справочник.Пользователи
    contacts: tuple[ContactValue, ...] = ()
    addresses: tuple[Address, ...] = ()
    bank_accounts: tuple[BankAccount, ...] = ()
    contact_persons: tuple[ContactPerson, ...] = ()


@dataclass(frozen=True)
class Price:
    """A price of a product and where it came from (shown to the administrator in the sync status)."""

    amount: Decimal
    currency_code: str  # ISO 4217 letters, e.g. "RUB" (1С Валюты code 643 → RUB)
    source: str  # e.g. "Тип цен «Розничная»", "Расчет от «Закупочная» +25%", "Поступление ТД0000123 от 01.02.2026"
    includes_vat: bool = True


@dataclass(frozen=True)
class Product:
    """Справочник.Номенклатура item with unit, VAT rate and the two configured prices."""

    ref: str
    version: str  # composite: DataVersion + the prices read for it
    code: str
    name: str
    full_name: str = ""
    article: str = ""
    is_service: bool = False
    deletion_mark: bool = False
    unit_okei_code: str = ""  # КлассификаторЕдиницИзмерения.Code, e.g. "796"
    unit_name: str = ""  # e.g. "шт"
    vat_rate: Decimal | None = None  # 20, 10, 0; None = БезНДС
    sale_price: Price | None = None
    purchase_price: Price | None = None
    price_problems: tuple[str, ...] = ()  # reader-side findings, e.g. a calculated type that cannot be computed


@dataclass(frozen=True)
class DocumentLine:
    """A line of an order or invoice (Товары or Услуги)."""

    line_number: int
    product_ref: str | None
    product_name: str  # Номенклатура.Description, or Содержание for services; "" when the product is unknown
    quantity: Decimal
    price: Decimal  # Цена as in the document
    amount: Decimal  # Сумма (after discounts; with VAT when the document's СуммаВключаетНДС)
    discount_percent: Decimal = Decimal(0)  # ПроцентСкидкиНаценки + ПроцентАвтоматическихСкидок
    vat_rate: Decimal | None = None
    vat_amount: Decimal = Decimal(0)
    unit_okei_code: str = ""
    unit_name: str = ""
    is_service: bool = False
    product_deleted: bool = False  # the product is marked for deletion or missing in 1С


@dataclass(frozen=True)
class Invoice:
    """Документ.СчетНаОплатуПокупателю based on the order."""

    ref: str
    number: str
    date: datetime
    amount: Decimal
    currency_code: str
    lines: tuple[DocumentLine, ...] = ()
    amount_includes_vat: bool = True


@dataclass(frozen=True)
class Payment:
    """A payment movement (РасчетыСКонтрагентами Expense) attributed to the order, directly or via its invoice."""

    recorder_ref: str
    recorder_type: str  # "Document_ПлатежноеПоручениеВходящее" | "Document_ПриходныйКассовыйОрдер" | …
    number: str
    date: datetime
    amount: Decimal  # СуммаВзаиморасчетов (contract currency)


@dataclass(frozen=True)
class Realization:
    """Документ.РеализацияТоваровУслуг shipping (part of) the order."""

    ref: str
    number: str
    date: datetime
    amount: Decimal
    organization_name: str = ""  # Организация (our legal entity)


@dataclass(frozen=True)
class OrderFacts:
    """Everything 1С says about one customer order, with its state derived as УТ 10.3 does (reference §2.14)."""

    ref: str
    version: str  # hash of all facts below: any change in 1С changes it
    number: str
    date: datetime
    posted: bool
    deletion_mark: bool
    counterparty_ref: str | None
    amount: Decimal  # СуммаДокумента
    currency_code: str
    amount_includes_vat: bool = True
    contract_ref: str | None = None
    settlement_by_invoices: bool = False  # contract ВедениеВзаиморасчетов = ПоСчетам
    organization_name: str = ""
    responsible_ref: str | None = None
    responsible_name: str = ""
    comment: str = ""
    lines: tuple[DocumentLine, ...] = ()
    invoices: tuple[Invoice, ...] = ()
    payments: tuple[Payment, ...] = ()
    realizations: tuple[Realization, ...] = ()
    paid_amount: Decimal = Decimal(0)
    settlement_balance: Decimal | None = None  # РасчетыСКонтрагентами remainder for the order (≤ 0 = paid)
    shipment_balance: Decimal | None = None  # ЗаказыПокупателей remainder (≤ 0 = shipped)
    closed: bool = False  # closed by ЗакрытиеЗаказовПокупателей
    paid: bool = False  # УТ rule: posted, a payment movement exists and settlement_balance ≤ 0
    shipped: bool = False  # УТ rule: posted, a realization movement exists and shipment_balance ≤ 0

    @property
    def partially_paid(self) -> bool:
        return not self.paid and self.paid_amount > 0

    @property
    def partially_shipped(self) -> bool:
        return not self.shipped and bool(self.realizations)


@dataclass(frozen=True)
class OneCUser:
    """Справочник.Пользователи: a 1С user (managers are responsible for orders and clients)."""

    ref: str
    name: str  # Description, usually ФИО
    email: str = ""
    deletion_mark: bool = False


@dataclass
class ChangeSet:
    """Result of a change scan: which objects to (re)read, and the versions to store once they are synced."""

    changed_refs: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)  # ref → version, for every object seen
    removed_refs: list[str] = field(default_factory=list)  # known before, physically gone from 1С now


def as_date(value: datetime | date | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value
