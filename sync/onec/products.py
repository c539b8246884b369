"""Products (Справочник.Номенклатура) with unit, VAT rate and sale/purchase prices computed as УТ 10.3 does."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from . import decode
from .changes import Prefetch, diff_versions, unique, wants_full_read
from .client import ODataClient, guid
from .errors import OneCNotPublished
from .records import ChangeSet, Price, Product

PRODUCTS = "Catalog_Номенклатура"
PRICE_TYPES = "Catalog_ТипыЦенНоменклатуры"
PRICES = "InformationRegister_ЦеныНоменклатуры"
RATES = "InformationRegister_КурсыВалют"
CURRENCIES = "Catalog_Валюты"
UNITS = "Catalog_ЕдиницыИзмерения"
CLASSIFIER = "Catalog_КлассификаторЕдиницИзмерения"
RECEIPTS = "Document_ПоступлениеТоваровУслуг"
RECEIPT_LINES = "Document_ПоступлениеТоваровУслуг_Товары"
ENTITY_SETS = (PRODUCTS, PRICE_TYPES, PRICES, CURRENCIES, UNITS, CLASSIFIER, RECEIPTS, RECEIPT_LINES)
OPTIONAL_SETS = (RATES,)

SCAN_PAGE = 5000
FULL_READ_MINIMUM = 200
ITEMS_ONLY = "IsFolder eq false"
DEFAULT_SALE_TYPE = "Розничная"
DEFAULT_PURCHASE_TYPE = "Закупочная"
BY_PERCENT = "ПоПроцентнойНаценкеНаБазовыйТип"
ISO_CURRENCIES = {"643": "RUB", "840": "USD", "978": "EUR", "810": "RUB", "156": "CNY", "398": "KZT",
                  "933": "BYN", "980": "UAH", "826": "GBP", "756": "CHF", "392": "JPY"}
PRODUCT_FIELDS = ("Ref_Key", "DataVersion", "DeletionMark", "Code", "Description", "НаименованиеПолное", "Артикул",
                  "Услуга", "БазоваяЕдиницаИзмерения_Key", "ЕдиницаХраненияОстатков_Key", "СтавкаНДС")
PRICE_TYPE_FIELDS = ("Ref_Key", "Description", "ВалютаЦены_Key", "ЦенаВключаетНДС", "Рассчитывается",
                     "БазовыйТипЦен_Key", "ПроцентСкидкиНаценки", "СпособРасчетаЦены", "ПорядокОкругления",
                     "ОкруглятьВБольшуюСторону")
PRICE_FIELDS = ("Номенклатура_Key", "ХарактеристикаНоменклатуры_Key", "Цена", "Валюта_Key", "ЕдиницаИзмерения_Key",
                "ПроцентСкидкиНаценки", "СпособРасчетаЦены")
PRICE_ORDER = "Номенклатура_Key,ХарактеристикаНоменклатуры_Key"
RECEIPT_LINE_FIELDS = ("Ref_Key", "LineNumber", "Номенклатура_Key", "ХарактеристикаНоменклатуры_Key", "Цена",
                       "Коэффициент", "ЕдиницаИзмерения_Key")
RECEIPT_FIELDS = ("Ref_Key", "DataVersion", "Number", "Date", "Posted", "DeletionMark", "ВалютаДокумента_Key",
                  "КурсВзаиморасчетов", "КратностьВзаиморасчетов", "СуммаВключаетНДС", "УчитыватьНДС")
VAT_RATE = re.compile(r"^НДС(\d+)")
MAX_BASE_DEPTH = 5


@dataclass(frozen=True)
class PriceType:
    """Справочник.ТипыЦенНоменклатуры."""

    ref: str
    name: str
    currency_ref: str | None = None
    includes_vat: bool = True
    calculated: bool = False
    base_ref: str | None = None
    percent: Decimal = Decimal(0)
    method: str = ""
    rounding: str = ""
    round_up: bool = False

    @classmethod
    def of(cls, row: dict) -> PriceType:
        return cls(ref=row["Ref_Key"], name=decode.text(row.get("Description")),
                   currency_ref=decode.ref(row.get("ВалютаЦены_Key")),
                   includes_vat=decode.flag(row.get("ЦенаВключаетНДС")),
                   calculated=decode.flag(row.get("Рассчитывается")),
                   base_ref=decode.ref(row.get("БазовыйТипЦен_Key")),
                   percent=decode.number(row.get("ПроцентСкидкиНаценки")),
                   method=decode.text(row.get("СпособРасчетаЦены")),
                   rounding=decode.text(row.get("ПорядокОкругления")),
                   round_up=decode.flag(row.get("ОкруглятьВБольшуюСторону")))


def vat_rate(name: str) -> Decimal | None:
    """НДС20 → 20, НДС18_118 → 18 (the base rate), НДС0 → 0, БезНДС / empty → None."""
    match = VAT_RATE.match(name or "")
    return Decimal(match.group(1)) if match else None


def rounding_step(order: str) -> Decimal | None:
    """ПорядкиОкругления value name → step: Окр0_01 → 0.01, Окр1 → 1, Окр100 → 100."""
    match = re.match(r"^Окр(\d+(?:_\d+)?)$", order or "")
    return Decimal(match.group(1).replace("_", ".")) if match else None


def round_price(price: Decimal, order: str, round_up: bool) -> Decimal:
    """УТ 10.3 ОкруглитьЦену: up to the next step when round_up, else half-up to the step."""
    step = rounding_step(order) or Decimal("0.01")
    units = price / step
    if units == units.to_integral_value():
        return price.quantize(Decimal("0.01"))
    mode = ROUND_CEILING if round_up else ROUND_HALF_UP
    return (units.quantize(Decimal(1), rounding=mode) * step).quantize(Decimal("0.01"))


def currency_code(row: dict | None) -> str:
    """ISO letters for a Валюты row (Code 643 → RUB); unknown codes → the Description."""
    if not row:
        return ""
    code = decode.text(row.get("Code")).strip()
    return ISO_CURRENCIES.get(code) or decode.text(row.get("Description")).strip() or code


@dataclass
class PriceSnapshot:
    """Everything prices depend on, read once per scan and reused by read()."""

    types: dict[str, PriceType]
    slices: dict[str, dict[str, dict]]  # price type ref → product ref → SliceLast row (no characteristic)
    receipts: dict[str, dict] = field(default_factory=dict)  # product ref → {"line": …, "header": …}
    rates: dict[str, tuple[Decimal, Decimal]] | None = None  # currency ref → (Курс, Кратность); None = unknown


class ProductReader:
    """scan() detects changes from DataVersion + the two prices; read() builds Product records in bulk."""

    def __init__(self, client: ODataClient, *, sale_price_type: str = "", purchase_price_type: str = "",
                 scan_page: int = SCAN_PAGE):
        self.client = client
        self.sale_price_type = sale_price_type
        self.purchase_price_type = purchase_price_type
        self.scan_page = scan_page
        self.items: dict[str, str] | None = None
        self.prices: PriceSnapshot | None = None
        self._types: list[PriceType] | None = None
        self._currencies: dict[str, dict] | None = None
        self.prefetch = Prefetch(FULL_READ_MINIMUM)

    # ------------------------------------------------------------ price types

    def price_types(self) -> list[PriceType]:
        if self._types is None:
            rows = self.client.iter_rows(PRICE_TYPES, select=PRICE_TYPE_FIELDS, page_size=self.scan_page)
            self._types = [PriceType.of(r) for r in rows]
        return self._types

    def sale_type(self) -> PriceType | None:
        types = self.price_types()
        return (find_type(types, self.sale_price_type) if self.sale_price_type else
                find_type(types, DEFAULT_SALE_TYPE) or next((t for t in types if not t.calculated), None))

    def purchase_type(self) -> PriceType | None:
        return find_type(self.price_types(), self.purchase_price_type or DEFAULT_PURCHASE_TYPE)

    def configuration_problems(self) -> list[str]:
        """Configured price types that 1С does not have (reported on every product instead of a silent gap)."""
        problems = []
        for role, wanted, found in (("продажи", self.sale_price_type, self.sale_type()),
                                    ("закупки", self.purchase_price_type, self.purchase_type())):
            if wanted and found is None:
                problems.append(f"Тип цен {role} «{wanted}» не найден в 1С (Справочник.ТипыЦенНоменклатуры)")
        return problems

    # ------------------------------------------------------------ change detection

    def scan(self, known_versions: dict[str, str]) -> ChangeSet:
        self._types = None  # price type settings (markups, rounding) are part of the versions: re-read them
        self.items = {r["Ref_Key"]: decode.text(r.get("DataVersion"))
                      for r in self.client.iter_rows(PRODUCTS, select="Ref_Key,DataVersion", filter=ITEMS_ONLY,
                                                     page_size=self.scan_page)}
        self.prices = self.read_prices(self.items)
        current = {ref: self.version(ref, dv) for ref, dv in self.items.items()}
        changes = diff_versions(current, known_versions)
        self.prefetch.expect(changes.changed_refs, len(current))
        return changes

    def version(self, ref: str, data_version: str) -> str:
        return decode.version_hash(data_version, self.price_inputs(self.sale_type(), ref),
                                   self.price_inputs(self.purchase_type(), ref, with_receipt=True))

    def price_inputs(self, price_type: PriceType | None, ref: str, with_receipt: bool = False) -> list:
        """Raw values a price is computed from (type chain rows, or the receipt fallback)."""
        inputs, current = [], price_type
        for _ in range(MAX_BASE_DEPTH):
            if current is None:
                break
            inputs.append([current, self.prices.slices.get(current.ref, {}).get(ref)])
            current = self.prices.types.get(current.base_ref) if current.calculated else None
        if with_receipt and not (inputs and inputs[0][1]):
            inputs.append(self.prices.receipts.get(ref))
        return inputs

    def read_prices(self, items: dict[str, str]) -> PriceSnapshot:
        types = {t.ref: t for t in self.price_types()}
        needed = [t for t in (self.sale_type(), self.purchase_type()) if t]
        slices: dict[str, dict[str, dict]] = {}
        for price_type in needed:
            for chained in type_chain(price_type, types):
                if chained.ref not in slices:
                    slices[chained.ref] = self.slice_of(chained.ref)
        snapshot = PriceSnapshot(types=types, slices=slices)
        if any(t.calculated for t in needed) and self.needs_rates(needed, types):
            snapshot.rates = self.currency_rates()
        purchase = self.purchase_type()
        without = [ref for ref in items if not (purchase and slices.get(purchase.ref, {}).get(ref))]
        snapshot.receipts = self.last_receipts(without, len(items))
        return snapshot

    def slice_of(self, type_ref: str) -> dict[str, dict]:
        rows = self.client.slice_last(PRICES, condition=f"ТипЦен_Key eq {guid(type_ref)}", select=PRICE_FIELDS,
                                      orderby=PRICE_ORDER, page_size=self.scan_page)
        return {r["Номенклатура_Key"]: r for r in rows if not decode.ref(r.get("ХарактеристикаНоменклатуры_Key"))}

    @staticmethod
    def needs_rates(needed: list[PriceType], types: dict[str, PriceType]) -> bool:
        return any(t.calculated and types.get(t.base_ref) and types[t.base_ref].currency_ref != t.currency_ref
                   for p in needed for t in type_chain(p, types))

    def currency_rates(self) -> dict[str, tuple[Decimal, Decimal]] | None:
        """Current rates from РегистрСведений.КурсыВалют, or None when the register is not published."""
        try:
            rows = self.client.slice_last(RATES, select="Валюта_Key,Курс,Кратность")
        except OneCNotPublished:
            return None
        return {r["Валюта_Key"]: (decode.number(r.get("Курс")), decode.number(r.get("Кратность")) or Decimal(1))
                for r in rows}

    def last_receipts(self, product_refs: list[str], total: int) -> dict[str, dict]:
        """Latest posted ПоступлениеТоваровУслуг line per product: {"line": row, "header": row}."""
        if not product_refs:
            return {}
        if wants_full_read(len(product_refs), total):
            lines = self.client.iter_rows(RECEIPT_LINES, select=RECEIPT_LINE_FIELDS, orderby="Ref_Key,LineNumber",
                                          page_size=self.scan_page)
        else:
            lines = self.client.rows_by_refs(RECEIPT_LINES, product_refs, select=RECEIPT_LINE_FIELDS,
                                             key="Номенклатура_Key", orderby="Ref_Key,LineNumber")
        wanted = set(product_refs)
        lines = [r for r in lines if r.get("Номенклатура_Key") in wanted
                 and not decode.ref(r.get("ХарактеристикаНоменклатуры_Key"))]
        headers = self.receipt_headers(list(unique(r["Ref_Key"] for r in lines)))
        latest: dict[str, dict] = {}
        for line in lines:
            header = headers.get(line["Ref_Key"])
            if header is None:
                continue
            key = (decode.text(header.get("Date")), header["Ref_Key"], decode.line_number(line.get("LineNumber")))
            best = latest.get(line["Номенклатура_Key"])
            if best is None or key > best["key"]:
                latest[line["Номенклатура_Key"]] = {"key": key, "line": line, "header": header}
        return {ref: {"line": v["line"], "header": v["header"]} for ref, v in latest.items()}

    def receipt_headers(self, refs: list[str]) -> dict[str, dict]:
        posted = "Posted eq true"
        if len(refs) > 400:
            rows = self.client.iter_rows(RECEIPTS, select=RECEIPT_FIELDS, filter=posted, page_size=self.scan_page)
        else:
            rows = self.client.rows_by_refs(RECEIPTS, refs, select=RECEIPT_FIELDS, filter=posted)
        return {r["Ref_Key"]: r for r in rows if decode.flag(r.get("Posted"))}

    # ------------------------------------------------------------ full records

    def read(self, refs) -> list[Product]:
        """Full records of the given products (prices from the last scan; scans first if none)."""
        refs = list(unique(refs))
        if not refs:
            return []
        if self.items is None or self.prices is None:
            self.scan({})
        return self.prefetch.take(refs, self.read_now)

    def read_now(self, refs: list[str]) -> list[Product]:
        wanted = set(refs)
        if wants_full_read(len(refs), len(self.items), minimum=FULL_READ_MINIMUM):
            rows = self.client.iter_rows(PRODUCTS, select=PRODUCT_FIELDS, filter=ITEMS_ONLY, page_size=self.scan_page)
        else:
            rows = self.client.rows_by_refs(PRODUCTS, refs, select=PRODUCT_FIELDS)
        rows = [r for r in rows if r["Ref_Key"] in wanted]
        units = UnitBook.read(self.client, rows, self.price_unit_refs(rows), self.scan_page)
        builder = ProductBuilder(self, units, self.currencies())
        return [builder.product(row) for row in rows]

    def currencies(self) -> dict[str, dict]:
        if self._currencies is None:
            rows = self.client.iter_rows(CURRENCIES, select="Ref_Key,Code,Description", page_size=self.scan_page)
            self._currencies = {r["Ref_Key"]: r for r in rows}
        return self._currencies

    def price_unit_refs(self, rows: list[dict]) -> list[str]:
        refs = []
        for row in rows:
            ref = row["Ref_Key"]
            refs.append(decode.ref(row.get("ЕдиницаХраненияОстатков_Key")))
            refs.extend(decode.ref(s.get(ref, {}).get("ЕдиницаИзмерения_Key")) for s in self.prices.slices.values())
            receipt = self.prices.receipts.get(ref)
            if receipt:
                refs.append(decode.ref(receipt["line"].get("ЕдиницаИзмерения_Key")))
        return list(unique(refs))


def find_type(types: list[PriceType], wanted: str) -> PriceType | None:
    """A price type by ref or by name (case-insensitive)."""
    wanted = (wanted or "").strip()
    return next((t for t in types if t.ref == wanted or t.name.strip().lower() == wanted.lower()), None)


def type_chain(price_type: PriceType, types: dict[str, PriceType]) -> list[PriceType]:
    chain, current = [], price_type
    while current is not None and len(chain) < MAX_BASE_DEPTH and current not in chain:
        chain.append(current)
        current = types.get(current.base_ref) if current.calculated else None
    return chain


class UnitBook:
    """Units: Справочник.ЕдиницыИзмерения (coefficients) and the OKEI classifier (codes and names)."""

    def __init__(self, units: dict[str, dict], classifier: dict[str, dict]):
        self.units = units
        self.classifier = classifier

    @classmethod
    def read(cls, client: ODataClient, products: list[dict], unit_refs: list[str], page: int) -> UnitBook:
        classifier = {r["Ref_Key"]: r for r in client.iter_rows(CLASSIFIER, select="Ref_Key,Code,Description",
                                                                page_size=page)}
        select = "Ref_Key,Description,ЕдиницаПоКлассификатору_Key,Коэффициент"
        if len(unit_refs) >= FULL_READ_MINIMUM:
            rows = client.iter_rows(UNITS, select=select, page_size=page)
        else:
            rows = client.rows_by_refs(UNITS, unit_refs, select=select) if unit_refs else []
        wanted = set(unit_refs)
        return cls({r["Ref_Key"]: r for r in rows if r["Ref_Key"] in wanted}, classifier)

    def okei_of_product(self, row: dict) -> dict:
        base = self.classifier.get(decode.ref(row.get("БазоваяЕдиницаИзмерения_Key")) or "")
        if base:
            return base
        unit = self.units.get(decode.ref(row.get("ЕдиницаХраненияОстатков_Key")) or "", {})
        return self.classifier.get(decode.ref(unit.get("ЕдиницаПоКлассификатору_Key")) or "", {})

    def coefficient(self, unit_ref: str | None) -> Decimal:
        value = decode.number(self.units.get(unit_ref or "", {}).get("Коэффициент"))
        return value if value > 0 else Decimal(1)


class ProductBuilder:
    """Assembles Product records and their prices from rows fetched in bulk."""

    def __init__(self, reader: ProductReader, units: UnitBook, currencies: dict[str, dict]):
        self.reader = reader
        self.prices = reader.prices
        self.units = units
        self.currencies = currencies

    def product(self, row: dict) -> Product:
        ref = row["Ref_Key"]
        problems = self.reader.configuration_problems()
        rate = vat_rate(decode.text(row.get("СтавкаНДС")))
        sale = self.price(self.reader.sale_type(), ref, rate, problems)
        purchase = self.price(self.reader.purchase_type(), ref, rate, problems) or self.receipt_price(ref)
        okei = self.units.okei_of_product(row)
        return Product(
            ref=ref,
            version=self.reader.version(ref, decode.text(row.get("DataVersion"))),
            code=decode.text(row.get("Code")),
            name=decode.text(row.get("Description")),
            full_name=decode.text(row.get("НаименованиеПолное")),
            article=decode.text(row.get("Артикул")),
            is_service=decode.flag(row.get("Услуга")),
            deletion_mark=decode.flag(row.get("DeletionMark")),
            unit_okei_code=decode.text(okei.get("Code")),
            unit_name=decode.text(okei.get("Description")),
            vat_rate=rate,
            sale_price=sale,
            purchase_price=purchase,
            price_problems=tuple(problems),
        )

    # ------------------------------------------------------------ prices

    def price(self, price_type: PriceType | None, ref: str, rate, problems: list[str]) -> Price | None:
        if price_type is None:
            return None
        if price_type.calculated:
            return self.calculated_price(price_type, ref, problems)
        row = self.prices.slices.get(price_type.ref, {}).get(ref)
        if not row:
            return None
        if decode.number(row.get("Цена")) <= 0:
            problems.append(f"В типе цен «{price_type.name}» цена равна {decode.number(row.get('Цена')):f} — "
                            f"цена не передается")
            return None
        amount = decode.number(row.get("Цена")) / self.units.coefficient(decode.ref(row.get("ЕдиницаИзмерения_Key")))
        return Price(amount=amount.quantize(Decimal("0.01")), currency_code=self.currency(row.get("Валюта_Key")),
                     source=f"Тип цен «{price_type.name}»", includes_vat=price_type.includes_vat)

    def calculated_price(self, price_type: PriceType, ref: str, problems: list[str]) -> Price | None:
        """Reference §2.7: base price × currency coefficient × (1 + % / 100), rounded per the type."""
        base_type = self.prices.types.get(price_type.base_ref)
        reason = self.cannot_calculate(price_type, base_type)
        if reason:
            problems.append(reason)
            return None
        base = self.price(base_type, ref, None, problems)
        if base is None:
            return None
        coefficient = self.conversion(base_type, price_type)
        if coefficient is None:
            problems.append(f"Тип цен «{price_type.name}» рассчитывается от «{base_type.name}» в другой валюте, "
                            f"а курсы валют (InformationRegister_КурсыВалют) недоступны — цена не рассчитана")
            return None
        percent = self.markup(price_type, base_type, ref)
        raw = base.amount * coefficient * (1 + percent / 100)
        amount = round_price(raw, price_type.rounding, price_type.round_up)
        sign = "+" if percent >= 0 else ""
        return Price(amount=amount, currency_code=self.currency(price_type.currency_ref) or base.currency_code,
                     source=f"Расчет от «{base_type.name}» {sign}{percent.normalize():f}%",
                     includes_vat=price_type.includes_vat)

    def markup(self, price_type: PriceType, base_type: PriceType, ref: str) -> Decimal:
        """The item's own markup row for the calculated type (СпособРасчетаЦены = ПоПроцентнойНаценкеНаБазовыйТип,
        same currency and unit as the base price), else the type's ПроцентСкидкиНаценки (reference §2.7)."""
        override = self.prices.slices.get(price_type.ref, {}).get(ref)
        base_row = self.prices.slices.get(base_type.ref, {}).get(ref) or {}
        if not override or decode.text(override.get("СпособРасчетаЦены")) != BY_PERCENT:
            return price_type.percent
        for name in ("Валюта_Key", "ЕдиницаИзмерения_Key"):
            if decode.ref(base_row.get(name)) and decode.ref(override.get(name)) != decode.ref(base_row.get(name)):
                return price_type.percent
        return decode.number(override.get("ПроцентСкидкиНаценки"))

    @staticmethod
    def cannot_calculate(price_type: PriceType, base_type: PriceType | None) -> str:
        name = price_type.name
        if base_type is None:
            return f"Тип цен «{name}» рассчитывается, но базовый тип цен не задан или не найден — цена не рассчитана"
        if price_type.method and price_type.method != BY_PERCENT:
            return (f"Тип цен «{name}» рассчитывается способом «{price_type.method}» (по диапазонам), "
                    f"который не поддерживается — цена не рассчитана")
        if base_type.includes_vat != price_type.includes_vat:
            return (f"Тип цен «{name}» и базовый «{base_type.name}» по-разному учитывают НДС в цене — "
                    f"цена не рассчитана")
        return ""

    def conversion(self, base_type: PriceType, price_type: PriceType) -> Decimal | None:
        if base_type.currency_ref == price_type.currency_ref:
            return Decimal(1)
        rates = self.prices.rates
        if rates is None or base_type.currency_ref not in rates or price_type.currency_ref not in rates:
            return None
        rate_from, mult_from = rates[base_type.currency_ref]
        rate_to, mult_to = rates[price_type.currency_ref]
        if not rate_to:
            return None
        return (rate_from / mult_from) / (rate_to / mult_to)

    def receipt_price(self, ref: str) -> Price | None:
        """Fallback purchase price: the last posted receipt line, per base unit, in the purchase currency."""
        receipt = self.prices.receipts.get(ref)
        if not receipt:
            return None
        line, header = receipt["line"], receipt["header"]
        amount = decode.number(line.get("Цена")) / (decode.number(line.get("Коэффициент")) or Decimal(1))
        currency = self.currencies.get(decode.ref(header.get("ВалютаДокумента_Key")) or "")
        code = currency_code(currency)
        purchase = self.reader.purchase_type()
        target = self.currency(purchase.currency_ref) if purchase else "RUB"
        if code != target and target == "RUB":
            rate = decode.number(header.get("КурсВзаиморасчетов"))
            multiplier = decode.number(header.get("КратностьВзаиморасчетов")) or Decimal(1)
            if rate:
                amount, code = amount * rate / multiplier, "RUB"
        includes_vat = decode.flag(header.get("СуммаВключаетНДС")) or not decode.flag(header.get("УчитыватьНДС"))
        return Price(amount=amount.quantize(Decimal("0.01")), currency_code=code,
                     source=f"Поступление {decode.text(header.get('Number')).strip()} от {short_date(header)}",
                     includes_vat=includes_vat)

    def currency(self, currency_ref) -> str:
        return currency_code(self.currencies.get(decode.ref(currency_ref) or ""))


def short_date(header: dict) -> str:
    moment: datetime | None = decode.date(header.get("Date"))
    return f"{moment:%d.%m.%Y}" if moment else ""
