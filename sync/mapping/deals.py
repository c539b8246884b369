"""1С «Заказ покупателя» (with its invoices, payments and realizations) → a Bitrix24 deal payload (pure).

The caller resolves ids (company/contact from the counterparty links, products from the product links, the
responsible user, the deal user fields in ``field_map``, the pipeline); this module only decides what the
deal must say. Fields are owned by 1С and sent on every update that changes them; ``assignedById``, the
pipeline and the external key are set once on create (then they are the managers').
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sync.onec.records import DocumentLine, OrderFacts, as_date

from .deal_stage import target_stage
from .payloads import ORIGINATOR_ID, Problem, content_hash

DEAL_TYPE_ID = 2
TITLE_MAX = 255
_CURRENCY_BY_CODE = {"643": "RUB", "810": "RUB", "840": "USD", "978": "EUR", "156": "CNY", "398": "KZT", "933": "BYN",
                     "РУБ": "RUB", "РУБ.": "RUB", "RUR": "RUB"}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class DealResolved:
    """Ids the mapping needs, looked up by the caller (links and portal settings)."""

    company_id: int | None = None
    contact_id: int | None = None
    product_ids: Mapping[str, int] = field(default_factory=dict)  # 1С product ref → catalog product id
    field_map: Mapping[str, str] = field(default_factory=dict)  # logical field → UF_CRM_… name
    category_id: int = 0
    assigned_by_id: int | None = None


@dataclass(frozen=True)
class DealPayload:
    """What one order becomes; ``fields`` is None when the order must not be in the CRM (unposted/deleted)."""

    onec_ref: str
    label: str
    fields: dict | None
    create_only_fields: dict = field(default_factory=dict)
    product_rows: tuple[dict, ...] = ()
    stage: str | None = None  # logical stage the facts call for (deal_stage.target_stage)
    problems: tuple[Problem, ...] = ()

    @property
    def fields_hash(self) -> str:
        return content_hash(self.fields or {})

    @property
    def rows_hash(self) -> str:
        return content_hash(list(self.product_rows))


def order_label(facts: OrderFacts) -> str:
    when = as_date(facts.date)
    return f"Заказ покупателя № {facts.number.strip()} от {when:%d.%m.%Y}" if when else \
        f"Заказ покупателя № {facts.number.strip()}"


def order_to_deal(facts: OrderFacts, resolved: DealResolved) -> DealPayload:
    """The deal fields, product rows, target stage and problems of one order."""
    label = order_label(facts)
    if facts.deletion_mark:
        return DealPayload(facts.ref, label, None, problems=(Problem(
            "order_deleted", "Заказ помечен на удаление в 1С: сделка не создается, существующая сделка не меняется."),))
    if not facts.posted:
        return DealPayload(facts.ref, label, None, problems=(Problem(
            "order_unposted", "Заказ не проведен в 1С: сделка не создается, существующая сделка не меняется."),))
    problems: list[Problem] = []
    currency = currency_iso(facts.currency_code)
    invoice = latest_invoice(facts)
    fields: dict = {
        "title": label[:TITLE_MAX],
        "currencyId": currency,
        "opportunity": _number(invoice.amount if invoice else facts.amount),
        "isManualOpportunity": "Y",
    }
    fields.update(_client_fields(facts, resolved, problems))
    fields.update(_user_fields(facts, resolved.field_map, currency, problems))
    if invoice and invoice.lines:
        rows = tuple(_rows(invoice.lines, resolved.product_ids, problems, invoice.amount_includes_vat))
    else:
        rows = tuple(_rows(facts.lines, resolved.product_ids, problems, facts.amount_includes_vat))
    if currency != "RUB":
        problems.append(Problem("foreign_currency", f"Заказ в валюте {currency}: сумма сделки и строки — в валюте "
                                                    "заказа, оплаченная сумма — в валюте взаиморасчетов."))
    if facts.closed and not facts.paid and not facts.shipped:
        problems.append(Problem("order_closed", "Заказ закрыт в 1С документом «Закрытие заказов покупателей»: "
                                                "стадия сделки не меняется, закройте сделку вручную, если заказ "
                                                "отменен."))
    create_only = {"categoryId": int(resolved.category_id or 0), "originatorId": ORIGINATOR_ID,
                   "originId": facts.ref, "typeId": "SALE"}
    if resolved.assigned_by_id:
        create_only["assignedById"] = int(resolved.assigned_by_id)
    return DealPayload(facts.ref, label, fields, create_only, rows, target_stage(facts), tuple(problems))


# ---------------------------------------------------------------- pieces
def latest_invoice(facts: OrderFacts):
    return max(facts.invoices, key=lambda i: (i.date or datetime.min, i.number)) if facts.invoices else None


def currency_iso(code: str) -> str:
    raw = (code or "").strip()
    if not raw:
        return "RUB"
    return _CURRENCY_BY_CODE.get(raw.upper(), raw.upper() if len(raw) == 3 and raw.isalpha() else raw)


def _client_fields(facts: OrderFacts, resolved: DealResolved, problems: list[Problem]) -> dict:
    """The client we own: the company (contacts a manager adds to the deal stay), or the private person."""
    if resolved.company_id:
        return {"companyId": int(resolved.company_id)}
    if resolved.contact_id:
        return {"contactIds": [int(resolved.contact_id)]}
    if facts.counterparty_ref:
        problems.append(Problem("client_not_synced", "Контрагент заказа не синхронизирован с CRM: сделка без клиента "
                                                     "(клиент появится после синхронизации контрагента)."))
    else:
        problems.append(Problem("no_client", "В заказе не указан контрагент: сделка без клиента."))
    return {}


def _user_fields(facts: OrderFacts, field_map: Mapping[str, str], currency: str, problems: list[Problem]) -> dict:
    invoice = latest_invoice(facts)
    values: dict[str, str] = {
        "order_number": facts.number.strip(),
        "order_date": _date(facts.date),
        "invoice_number": invoice.number.strip() if invoice else "",
        "invoice_date": _date(invoice.date) if invoice else "",
        "invoice_amount": _money(invoice.amount, currency_iso(invoice.currency_code) or currency) if invoice else "",
    }
    values.update(_payment_values(facts, currency))
    values.update(_realization_values(facts, currency))
    fields, missing = {}, []
    for key, value in values.items():
        name = field_map.get(key)
        if name:
            fields[name] = value
        elif value:
            missing.append(key)
    if missing:
        problems.append(Problem("field_not_mapped", "Не настроены поля сделки для: " + ", ".join(missing)
                                + " — значения не переданы (настройки приложения → поля сделки)."))
    return fields


def _payment_values(facts: OrderFacts, currency: str) -> dict:
    """Payment date and paid amount only when a payment exists (spec: «заполняются только когда оплата…»)."""
    if not facts.payments:
        return {"payment_date": "", "paid_amount": ""}
    latest = max(facts.payments, key=lambda p: (p.date or datetime.min, p.number))
    paid = facts.paid_amount if facts.paid_amount else sum((p.amount for p in facts.payments), Decimal(0))
    return {"payment_date": _date(latest.date), "paid_amount": _money(paid, currency)}


def _realization_values(facts: OrderFacts, currency: str) -> dict:
    """Latest date and number, total amount, every number listed; legal entity = Организация."""
    if not facts.realizations:
        return {"realization_date": "", "realization_number": "", "realization_amount": "", "legal_entity": ""}
    ordered = sorted(facts.realizations, key=lambda r: (r.date or datetime.min, r.number))
    latest = ordered[-1]
    number = latest.number.strip()
    if len(ordered) > 1:
        number = f"{number} (все: {', '.join(r.number.strip() for r in ordered)})"
    total = sum((r.amount for r in ordered), Decimal(0))
    entity = latest.organization_name.strip() or facts.organization_name.strip()
    return {"realization_date": _date(latest.date), "realization_number": number,
            "realization_amount": _money(total, currency), "legal_entity": entity}


def _rows(lines, product_ids: Mapping[str, int], problems: list[Problem], includes_vat: bool = True):
    unknown, deleted, unsynced, zero = [], [], [], []
    for index, line in enumerate(sorted(lines, key=lambda x: (x.is_service, x.line_number))):
        if line.quantity <= 0:
            zero.append(_line_name(line))
            continue
        product_id = product_ids.get(line.product_ref or "") or 0
        if not line.product_ref or not line.product_name:  # the reference is empty or 1С has no such product
            unknown.append(_line_name(line))
            product_id = 0
        elif line.product_deleted:
            deleted.append(_line_name(line))
            product_id = 0
        elif not product_id:
            unsynced.append(_line_name(line))
        yield _row(line, int(product_id), index, includes_vat)
    if unknown:
        problems.append(Problem("unknown_product", "Номенклатура строк не найдена в 1С: " + "; ".join(unknown)
                                + " — переданы строкой без товара каталога."))
    if deleted:
        problems.append(Problem("deleted_product", "Номенклатура помечена на удаление в 1С: " + "; ".join(deleted)
                                + " — переданы строкой без товара каталога."))
    if unsynced:
        problems.append(Problem("product_not_synced", "Товар не синхронизирован с каталогом CRM: " + "; ".join(unsynced)
                                + " — передан строкой без товара каталога."))
    if zero:
        problems.append(Problem("zero_quantity", "Строки с нулевым количеством не переданы в сделку: "
                                + "; ".join(zero) + "."))


def _row(line: DocumentLine, product_id: int, index: int, includes_vat: bool) -> dict:
    """Price = the final unit price incl. discount and VAT (Bitrix24 PRICE), from the line's Сумма."""
    quantity = line.quantity
    total = line.amount if includes_vat else line.amount + line.vat_amount
    price = (total / quantity).quantize(CENT, rounding=ROUND_HALF_UP)
    row = {
        "productId": product_id,
        "productName": (line.product_name or f"Строка {line.line_number}").strip()[:255],
        "price": _number(price),
        "quantity": _number(quantity),
        "taxRate": _number(line.vat_rate) if line.vat_rate is not None else None,
        "taxIncluded": "Y",
        "sort": 10 * (index + 1),
    }
    if line.discount_percent:
        row.update(discountTypeId=2, discountRate=_number(line.discount_percent))
        full = line.price if includes_vat else line.price * (1 + (line.vat_rate or 0) / 100)
        row["discountSum"] = _number(max(full - price, Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP))
    if line.unit_okei_code.strip().isdigit():
        row["measureCode"] = int(line.unit_okei_code.strip())
    if line.unit_name.strip():
        row["measureName"] = line.unit_name.strip()
    return row


def _line_name(line: DocumentLine) -> str:
    return f"строка {line.line_number} «{line.product_name.strip() or 'без наименования'}»"


def _date(value: datetime | date | None) -> str:
    day = as_date(value)
    return day.isoformat() if day else ""


def _money(amount: Decimal, currency: str) -> str:
    return f"{Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)}|{currency or 'RUB'}"


def _number(value: Decimal | int | float):
    """JSON-friendly, stable: integers as int, the rest as float with at most 4 decimals."""
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return int(number)
    return float(number.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP).normalize())
