"""Customer orders (Документ.ЗаказПокупателя) with invoices, payments and shipments, read in bulk."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from . import decode, order_state
from .changes import Prefetch, group_by, unique, wants_full_read
from .client import ODataClient, datetime_literal
from .errors import OneCNotPublished
from .products import currency_code, vat_rate
from .records import ChangeSet, DocumentLine, Invoice, OrderFacts, Payment, Realization

ORDERS = "Document_ЗаказПокупателя"
INVOICES = "Document_СчетНаОплатуПокупателю"
REALIZATIONS = order_state.REALIZATION
BANK, CASH, CARD = order_state.PAYMENT_RECORDERS[:3]
CLOSINGS = order_state.CLOSING
SETTLEMENTS = "AccumulationRegister_РасчетыСКонтрагентами_RecordType"
ORDER_MOVEMENTS = "AccumulationRegister_ЗаказыПокупателей_RecordType"
CONTRACTS = "Catalog_ДоговорыКонтрагентов"
ORGANIZATIONS = "Catalog_Организации"
USERS = "Catalog_Пользователи"
PRODUCTS = "Catalog_Номенклатура"
UNITS = "Catalog_ЕдиницыИзмерения"
CLASSIFIER = "Catalog_КлассификаторЕдиницИзмерения"
CURRENCIES = "Catalog_Валюты"
ENTITY_SETS = (ORDERS, INVOICES, REALIZATIONS, BANK, CASH, CARD, SETTLEMENTS, ORDER_MOVEMENTS, CONTRACTS,
               ORGANIZATIONS, USERS, PRODUCTS, UNITS, CLASSIFIER, CURRENCIES)
OPTIONAL_SETS = (CLOSINGS,)
TRACKED_SETS = (ORDERS, INVOICES, REALIZATIONS, BANK, CASH, CARD, CLOSINGS)
PAYMENT_SETS = (BANK, CASH, CARD)

SCAN_PAGE = 5000
REGISTER_ORDER = "Recorder,LineNumber"
BY_INVOICES = "ПоСчетам"
LINE_FIELDS = ("LineNumber", "Номенклатура_Key", "Количество", "Цена", "Сумма", "СтавкаНДС", "СуммаНДС",
               "ПроцентСкидкиНаценки", "ПроцентАвтоматическихСкидок")
ORDER_FIELDS = ("Ref_Key", "DataVersion", "DeletionMark", "Number", "Date", "Posted", "Организация_Key",
                "Контрагент_Key", "ДоговорКонтрагента_Key", "ВалютаДокумента_Key", "СуммаДокумента",
                "СуммаВключаетНДС", "Ответственный_Key", "Комментарий", "Товары", "Услуги")
INVOICE_FIELDS = ("Ref_Key", "DataVersion", "DeletionMark", "Number", "Date", "ЗаказПокупателя_Key",
                  "ВалютаДокумента_Key", "СуммаДокумента", "СуммаВключаетНДС", "Товары", "Услуги")
REALIZATION_FIELDS = ("Ref_Key", "Number", "Date", "Posted", "DeletionMark", "СуммаДокумента", "Организация_Key",
                      "Сделка", "Сделка_Type")
SETTLEMENT_FIELDS = ("Period", "Recorder", "Recorder_Type", "LineNumber", "Active", "RecordType", "Сделка",
                     "Сделка_Type", "СуммаВзаиморасчетов")
MOVEMENT_FIELDS = ("Period", "Recorder", "Recorder_Type", "LineNumber", "Active", "RecordType",
                   "ЗаказПокупателя_Key", "СуммаВзаиморасчетов")
# Where each tracked document keeps the order(s) it refers to (read only for changed documents).
LINK_FIELDS = {
    ORDERS: ("Ref_Key",),
    INVOICES: ("Ref_Key", "ЗаказПокупателя_Key"),
    REALIZATIONS: ("Ref_Key", "Сделка", "Сделка_Type", "Товары", "Услуги"),
    BANK: ("Ref_Key", "РасшифровкаПлатежа"),
    CASH: ("Ref_Key", "РасшифровкаПлатежа"),
    CARD: ("Ref_Key", "РасшифровкаПлатежа"),
    CLOSINGS: ("Ref_Key", "Заказы"),
}
ORDER_TYPE = f"{decode.TYPE_PREFIX}{ORDERS}"
INVOICE_TYPE = f"{decode.TYPE_PREFIX}{INVOICES}"


def version_key(entity_set: str, ref: str) -> str:
    return f"{entity_set}:{ref}"


def split_version(value: str) -> tuple[str, list[str]]:
    data_version, _, links = (value or "").partition("|")
    return data_version, [r for r in links.split(",") if r]


def join_version(data_version: str, order_refs: Iterable[str]) -> str:
    return f"{data_version}|{','.join(sorted(set(order_refs)))}"


@dataclass
class ScanState:
    """Versions being built by one scan and the orders marked changed so far."""

    known: dict[str, str]
    versions: dict[str, str]
    changed: set[str]


class OrderReader:
    """scan() detects changed orders from document DataVersions; read() gathers OrderFacts in bulk."""

    def __init__(self, client: ODataClient, *, window_days: int = 90, lookback_days: int = 30,
                 scan_page: int = SCAN_PAGE, full_read_minimum: int = 200,
                 now: Callable[[], datetime] = datetime.now):
        self.client = client
        self.window_days = window_days
        self.lookback_days = lookback_days
        self.scan_page = scan_page
        self.now = now
        self.full_read_minimum = full_read_minimum
        self.unpublished: set[str] = set()
        self.lookups: dict[str, dict[str, dict]] = {}
        self.tracked_orders = 0
        self.prefetch = Prefetch(full_read_minimum)

    # ------------------------------------------------------------ change detection

    def scan(self, known_versions: dict[str, str], extra_refs: Iterable[str] = ()) -> ChangeSet:
        """Orders in the window (+ extra_refs) that are new or changed, from cheap DataVersion scans.

        Versions are keyed "<entity set>:<ref>" (e.g. "Document_ЗаказПокупателя:<ref>",
        "Document_ПлатежноеПоручениеВходящее:<ref>") and hold "<DataVersion>|<order ref>,<order ref>…": the
        document's DataVersion plus the orders it refers to, so that a changed, re-pointed or deleted
        invoice/payment/realization/closing marks its old and new orders as changed. Keys of other shapes in
        known_versions are ignored. changed_refs and removed_refs are plain order refs; OrderFacts.version (from
        read) is a hash of all facts of the order.
        """
        known = {k: v for k, v in known_versions.items() if ":" in k and k.startswith("Document_")}
        state = ScanState(known=known, versions={}, changed=set())
        orders = self.current_orders(list(unique(extra_refs)))
        for ref, dv in orders.items():
            self.note(state, ORDERS, ref, dv, [ref])
        for entity_set in TRACKED_SETS[1:]:
            self.scan_documents(state, entity_set)
        removed = self.removed_orders(state, orders)
        self.note_gone_documents(state)
        self.tracked_orders = len(orders)
        changed = sorted(ref for ref in state.changed if ref in orders)
        self.prefetch.expect(changed, len(orders))
        return ChangeSet(changed_refs=changed, versions=state.versions, removed_refs=sorted(removed))

    def window_start(self, extra_days: int = 0) -> datetime:
        start = self.now() - timedelta(days=self.window_days + extra_days)
        return start.replace(hour=0, minute=0, second=0, microsecond=0)

    def current_orders(self, extra_refs: list[str]) -> dict[str, str]:
        """Ref → DataVersion of orders in the window plus the extra (open-deal) orders."""
        window = f"Date ge {datetime_literal(self.window_start())}"
        rows = list(self.client.iter_rows(ORDERS, select="Ref_Key,DataVersion", filter=window,
                                          page_size=self.scan_page))
        found = {r["Ref_Key"]: decode.text(r.get("DataVersion")) for r in rows}
        missing = [r for r in extra_refs if r not in found]
        if missing:
            found.update({r["Ref_Key"]: decode.text(r.get("DataVersion"))
                          for r in self.client.rows_by_refs(ORDERS, missing, select="Ref_Key,DataVersion")})
        return found

    def scan_documents(self, state: ScanState, entity_set: str) -> None:
        window = f"Date ge {datetime_literal(self.window_start(self.lookback_days))}"
        rows = self.optional_rows(entity_set, lambda: self.client.iter_rows(
            entity_set, select="Ref_Key,DataVersion", filter=window, page_size=self.scan_page))
        if rows is None:
            self.keep_known(state, entity_set)
            return
        current = {r["Ref_Key"]: decode.text(r.get("DataVersion")) for r in rows}
        changed = {ref for ref, dv in current.items()
                   if split_version(state.known.get(version_key(entity_set, ref), ""))[0] != dv}
        whole = wants_full_read(len(changed), len(current), minimum=self.full_read_minimum)
        links = self.document_links(entity_set, changed, window if whole else None)
        for ref, dv in current.items():
            key = version_key(entity_set, ref)
            if ref in changed:
                self.note(state, entity_set, ref, dv, links.get(ref, []))
            else:
                state.versions[key] = state.known[key]

    def keep_known(self, state: ScanState, entity_set: str) -> None:
        for key, value in state.known.items():
            if key.startswith(entity_set + ":"):
                state.versions[key] = value

    def optional_rows(self, entity_set: str, fetch) -> list[dict] | None:
        """Rows of an optional set; None (remembered) when 1С does not publish it."""
        if entity_set in self.unpublished:
            return None
        try:
            return list(fetch())
        except OneCNotPublished:
            if entity_set not in OPTIONAL_SETS:
                raise
            self.unpublished.add(entity_set)
            return None

    def note(self, state: ScanState, entity_set: str, ref: str, data_version: str, orders: list[str]) -> None:
        """Record a document's version; if it is new or changed, mark its old and new orders changed."""
        key = version_key(entity_set, ref)
        value = join_version(data_version, orders)
        previous = state.known.get(key)
        if previous != value:
            state.changed.update(orders)
            state.changed.update(split_version(previous)[1] if previous else [])
        state.versions[key] = value

    def note_gone_documents(self, state: ScanState) -> None:
        """Documents known before but not seen now (deleted, or moved out of the window): mark their orders."""
        for key, value in state.known.items():
            if key not in state.versions and not key.startswith(ORDERS + ":"):
                state.changed.update(split_version(value)[1])

    def removed_orders(self, state: ScanState, orders: dict[str, str]) -> list[str]:
        """Known orders not seen now that 1С no longer has at all (the rest left the window: no longer tracked).

        Only orders in the window and extra_refs are tracked; the engine passes orders of open deals as
        extra_refs, so documents referring to other old orders are deliberately not followed.
        """
        prefix = ORDERS + ":"
        gone = [k[len(prefix):] for k in state.known if k.startswith(prefix) and k[len(prefix):] not in orders]
        if not gone:
            return []
        existing = {r["Ref_Key"] for r in self.client.rows_by_refs(ORDERS, gone, select="Ref_Key")}
        return [ref for ref in gone if ref not in existing]

    def document_links(self, entity_set: str, refs: set[str], window: str | None = None) -> dict[str, list[str]]:
        """Document ref → the order refs it refers to, for changed documents only (OR-chains, or the whole
        window paged when most documents changed, e.g. on the first scan)."""
        if not refs:
            return {}
        select = LINK_FIELDS[entity_set]
        if window:
            rows = [r for r in self.client.iter_rows(entity_set, select=select, filter=window,
                                                     page_size=self.scan_page) if r["Ref_Key"] in refs]
        else:
            rows = list(self.client.rows_by_refs(entity_set, refs, select=select))
        links = {row["Ref_Key"]: order_refs_of(entity_set, row) for row in rows}
        invoice_refs = [r for refs_ in links.values() for r in refs_ if r.startswith("invoice:")]
        if invoice_refs:
            orders_of = self.invoice_orders([r[len("invoice:"):] for r in invoice_refs])
            links = {doc: sorted({o for r in refs_ for o in resolve_invoice(r, orders_of)})
                     for doc, refs_ in links.items()}
        return links

    def invoice_orders(self, invoice_refs: list[str]) -> dict[str, str]:
        rows = self.client.rows_by_refs(INVOICES, invoice_refs, select="Ref_Key,ЗаказПокупателя_Key")
        return {r["Ref_Key"]: decode.ref(r.get("ЗаказПокупателя_Key")) for r in rows
                if decode.ref(r.get("ЗаказПокупателя_Key"))}

    # ------------------------------------------------------------ full facts

    def read(self, refs) -> list[OrderFacts]:
        """OrderFacts of the given orders, every related object fetched in bulk (OR-chains), never per order."""
        refs = list(unique(refs))
        return self.prefetch.take(refs, self.read_now) if refs else []

    def read_now(self, refs: list[str]) -> list[OrderFacts]:
        gathered = self.gather(refs)
        builder = OrderBuilder(gathered)
        return [builder.facts(row) for row in gathered.orders]

    def gather(self, refs: list[str]) -> Gathered:
        """All rows for the orders: OR-chains of refs, or — when most tracked orders are wanted (initial sync) —
        whole sets paged from the earliest order date (minus the look-back)."""
        wanted = set(refs)
        full = wants_full_read(len(refs), self.tracked_orders or len(refs), minimum=self.full_read_minimum)
        orders = self.order_rows(refs, full)
        since = self.earliest(orders) if full else None
        invoices = [r for r in self.rows(INVOICES, refs, INVOICE_FIELDS, "ЗаказПокупателя_Key", since=since)
                    if r.get("ЗаказПокупателя_Key") in wanted and not decode.flag(r.get("DeletionMark"))]
        deals = wanted | {i["Ref_Key"] for i in invoices}
        settlements = self.rows(SETTLEMENTS, refs, SETTLEMENT_FIELDS, "Сделка", ORDERS, since=since)
        if not full:
            settlements += self.rows(SETTLEMENTS, [i["Ref_Key"] for i in invoices], SETTLEMENT_FIELDS, "Сделка",
                                     INVOICES)
        settlements = [r for r in settlements if decode.text(r.get("Сделка")) in deals]
        movements = [r for r in self.rows(ORDER_MOVEMENTS, refs, MOVEMENT_FIELDS, "ЗаказПокупателя_Key", since=since)
                     if r.get("ЗаказПокупателя_Key") in wanted]
        gathered = Gathered(orders=orders, invoices=invoices, settlements=settlements, movements=movements)
        gathered.realizations = self.realizations(refs, movements, since)
        gathered.recorders = self.payment_recorders(settlements, since)
        gathered.contracts = self.by_refs(CONTRACTS, [o.get("ДоговорКонтрагента_Key") for o in orders],
                                          "Ref_Key,ВедениеВзаиморасчетов,ВалютаВзаиморасчетов_Key", full)
        lines = [line for doc in orders + invoices for part in ("Товары", "Услуги") for line in doc.get(part) or []]
        gathered.products = self.by_refs(PRODUCTS, [line.get("Номенклатура_Key") for line in lines],
                                         "Ref_Key,Description,DeletionMark,Услуга,БазоваяЕдиницаИзмерения_Key", full)
        gathered.units = self.by_refs(UNITS, [line.get("ЕдиницаИзмерения_Key") for line in lines],
                                      "Ref_Key,Description,ЕдиницаПоКлассификатору_Key", full)
        for name, select in ((CLASSIFIER, "Ref_Key,Code,Description"), (ORGANIZATIONS, "Ref_Key,Description"),
                             (USERS, "Ref_Key,Description"), (CURRENCIES, "Ref_Key,Code,Description")):
            setattr(gathered, LOOKUP_ATTRS[name], self.lookup(name, select))
        return gathered

    def order_rows(self, refs: list[str], full: bool) -> list[dict]:
        wanted = set(refs)
        rows = []
        if full:
            window = f"Date ge {datetime_literal(self.window_start())}"
            rows = [r for r in self.client.iter_rows(ORDERS, select=ORDER_FIELDS, filter=window,
                                                     page_size=self.scan_page) if r["Ref_Key"] in wanted]
        found = {r["Ref_Key"] for r in rows}
        missing = [r for r in refs if r not in found]
        return rows + (list(self.client.rows_by_refs(ORDERS, missing, select=ORDER_FIELDS)) if missing else [])

    def earliest(self, orders: list[dict]) -> datetime:
        dates = [decode.date(o.get("Date")) for o in orders]
        first = min((d for d in dates if d), default=self.window_start())
        return (first - timedelta(days=self.lookback_days)).replace(hour=0, minute=0, second=0)

    def rows(self, entity_set: str, refs: list[str], select, key: str, key_type: str | None = None, *,
             since: datetime | None = None) -> list[dict]:
        """Rows whose key is one of refs (OR-chains), or every row dated since `since` (whole-set paging)."""
        register = entity_set.endswith("_RecordType")
        order = REGISTER_ORDER if register else "Ref_Key"
        active = "Active eq true" if register else None
        if since is not None:
            moment = f"{'Period' if register else 'Date'} ge {datetime_literal(since)}"
            condition = f"{moment} and {active}" if active else moment
            return list(self.client.iter_rows(entity_set, select=select, filter=condition, orderby=order,
                                              page_size=self.scan_page))
        if not refs:
            return []
        return list(self.client.rows_by_refs(entity_set, refs, select=select, key=key, key_type=key_type,
                                             filter=active, orderby=order))

    def realizations(self, order_refs: list[str], movements: list[dict], since: datetime | None) -> list[dict]:
        """Posted realizations with Сделка = order, plus those that wrote shipment movements (per-line orders)."""
        wanted = set(order_refs)
        recorders = set(order_state.shipment_recorders_of(movements))
        if since is not None:
            rows = self.client.iter_rows(REALIZATIONS, select=REALIZATION_FIELDS, page_size=self.scan_page,
                                         filter=f"Date ge {datetime_literal(since)} and Posted eq true")
            return [r for r in rows if r["Ref_Key"] in recorders
                    or (r.get("Сделка_Type") == ORDER_TYPE and r.get("Сделка") in wanted)]
        by_deal = list(self.client.rows_by_refs(REALIZATIONS, order_refs, select=REALIZATION_FIELDS, key="Сделка",
                                                key_type=ORDERS, filter="Posted eq true"))
        more = [r for r in recorders if r not in {d["Ref_Key"] for d in by_deal}]
        extra = list(self.client.rows_by_refs(REALIZATIONS, more, select=REALIZATION_FIELDS)) if more else []
        return [r for r in by_deal + extra if decode.flag(r.get("Posted"))]

    def payment_recorders(self, settlements: list[dict], since: datetime | None) -> dict[str, dict]:
        """Number/Date of the payment documents that wrote payment movements, one query chain per type."""
        found: dict[str, dict] = {}
        payments = order_state.payment_movements(settlements)
        for entity_set, rows in group_by(payments, order_state.recorder_type).items():
            refs = [decode.text(r.get("Recorder")) for r in rows]
            try:
                found.update(self.by_refs(entity_set, refs, "Ref_Key,Number,Date", since=since))
            except OneCNotPublished:
                if entity_set in ENTITY_SETS:
                    raise  # e.g. АккредитивПолученный need not be published: its number/date stay empty
        return found

    def by_refs(self, entity_set: str, refs: Iterable, select: str, full: bool = False, *,
                since: datetime | None = None) -> dict[str, dict]:
        """Rows by Ref_Key: OR-chains, the whole set (full) or every document dated since `since`."""
        refs = list(unique(decode.ref(r) for r in refs))
        if not refs:
            return {}
        wanted = set(refs)
        if full or since is not None:
            condition = f"Date ge {datetime_literal(since)}" if since is not None else None
            rows = self.client.iter_rows(entity_set, select=select, filter=condition, page_size=self.scan_page)
        else:
            rows = self.client.rows_by_refs(entity_set, refs, select=select)
        return {r["Ref_Key"]: r for r in rows if r["Ref_Key"] in wanted}

    def lookup(self, entity_set: str, select: str) -> dict[str, dict]:
        """Small catalogs read whole once per reader."""
        if entity_set not in self.lookups:
            rows = self.client.iter_rows(entity_set, select=select, page_size=self.scan_page)
            self.lookups[entity_set] = {r["Ref_Key"]: r for r in rows}
        return self.lookups[entity_set]


LOOKUP_ATTRS = {CLASSIFIER: "classifier", ORGANIZATIONS: "organizations", USERS: "users", CURRENCIES: "currencies"}


def order_refs_of(entity_set: str, row: dict) -> list[str]:
    """Orders a document refers to; invoices as 'invoice:<ref>' (resolved through ЗаказПокупателя later)."""
    if entity_set == ORDERS:
        return [row["Ref_Key"]]
    if entity_set == INVOICES:
        return [r for r in [decode.ref(row.get("ЗаказПокупателя_Key"))] if r]
    if entity_set == REALIZATIONS:
        lines = (row.get("Товары") or []) + (row.get("Услуги") or [])
        refs = [deal_ref(row)] + [decode.ref(line.get("ЗаказПокупателя_Key")) for line in lines]
        return list(unique(refs))
    if entity_set == CLOSINGS:
        return list(unique(decode.ref(line.get("ЗаказПокупателя")) for line in row.get("Заказы") or []
                           if decode.type_name(line.get("ЗаказПокупателя_Type")) == ORDERS))
    return list(unique(deal_ref(line) for line in row.get("РасшифровкаПлатежа") or []))


def deal_ref(row: dict) -> str | None:
    """Сделка as an order ref, or 'invoice:<ref>' for an invoice, else None."""
    ref = decode.ref(row.get("Сделка"))
    kind = row.get("Сделка_Type")
    if ref and kind == ORDER_TYPE:
        return ref
    if ref and kind == INVOICE_TYPE:
        return f"invoice:{ref}"
    return None


def resolve_invoice(ref: str, orders_of: dict[str, str]) -> list[str]:
    if ref.startswith("invoice:"):
        order = orders_of.get(ref[len("invoice:"):])
        return [order] if order else []
    return [ref]


@dataclass
class Gathered:
    """All rows read for one batch of orders."""

    orders: list[dict]
    invoices: list[dict]
    settlements: list[dict]
    movements: list[dict]
    realizations: list[dict] | None = None
    recorders: dict[str, dict] | None = None
    contracts: dict[str, dict] | None = None
    products: dict[str, dict] | None = None
    units: dict[str, dict] | None = None
    classifier: dict[str, dict] | None = None
    organizations: dict[str, dict] | None = None
    users: dict[str, dict] | None = None
    currencies: dict[str, dict] | None = None


class OrderBuilder:
    """Turns gathered rows into OrderFacts with the state derived per reference §2.14."""

    def __init__(self, gathered: Gathered):
        self.g = gathered
        self.invoices_by_order = group_by(gathered.invoices, lambda i: i.get("ЗаказПокупателя_Key"))
        self.settlements_by_deal = group_by(gathered.settlements, lambda r: decode.text(r.get("Сделка")))
        self.movements_by_order = group_by(gathered.movements, lambda r: r.get("ЗаказПокупателя_Key"))
        self.realization_rows = {r["Ref_Key"]: r for r in gathered.realizations}
        self.realizations_by_deal = group_by(
            (r for r in gathered.realizations if r.get("Сделка_Type") == ORDER_TYPE), lambda r: r.get("Сделка"))

    def facts(self, row: dict) -> OrderFacts:
        ref = row["Ref_Key"]
        invoices = sorted(self.invoices_by_order.get(ref, []), key=lambda i: (decode.text(i.get("Date")), i["Ref_Key"]))
        deals = [ref] + [i["Ref_Key"] for i in invoices]
        settlements = [r for deal in deals for r in self.settlements_by_deal.get(deal, [])]
        movements = self.movements_by_order.get(ref, [])
        state = order_state.derive_state(decode.flag(row.get("Posted")), settlements, movements)
        contract = self.g.contracts.get(decode.ref(row.get("ДоговорКонтрагента_Key")) or "", {})
        responsible = decode.ref(row.get("Ответственный_Key"))
        facts = OrderFacts(
            ref=ref,
            version="",
            number=decode.text(row.get("Number")).strip(),
            date=decode.date(row.get("Date")),
            posted=decode.flag(row.get("Posted")),
            deletion_mark=decode.flag(row.get("DeletionMark")),
            counterparty_ref=decode.ref(row.get("Контрагент_Key")),
            amount=decode.number(row.get("СуммаДокумента")),
            currency_code=self.currency(row.get("ВалютаДокумента_Key")),
            amount_includes_vat=decode.flag(row.get("СуммаВключаетНДС")),
            contract_ref=decode.ref(row.get("ДоговорКонтрагента_Key")),
            settlement_by_invoices=contract.get("ВедениеВзаиморасчетов") == BY_INVOICES,
            organization_name=self.name_of(self.g.organizations, row.get("Организация_Key")),
            responsible_ref=responsible,
            responsible_name=self.name_of(self.g.users, responsible),
            comment=decode.text(row.get("Комментарий")),
            lines=self.lines(row),
            invoices=tuple(self.invoice(i) for i in invoices),
            payments=self.payments(settlements, state),
            realizations=self.realizations(ref, state),
            paid_amount=state.paid_amount,
            settlement_balance=state.settlement_balance,
            shipment_balance=state.shipment_balance,
            closed=state.closed,
            paid=state.paid,
            shipped=state.shipped,
        )
        return replace(facts, version=decode.version_hash(asdict(facts)))

    # ------------------------------------------------------------ parts

    def lines(self, doc: dict) -> tuple[DocumentLine, ...]:
        goods = [self.line(line, service_part=False) for line in doc.get("Товары") or []]
        services = [self.line(line, service_part=True) for line in doc.get("Услуги") or []]
        return tuple(goods + services)

    def line(self, line: dict, service_part: bool) -> DocumentLine:
        product_ref = decode.ref(line.get("Номенклатура_Key"))
        product = self.g.products.get(product_ref or "")
        unit = self.unit_of(line, product)
        content = decode.text(line.get("Содержание")) if service_part else ""
        return DocumentLine(
            line_number=decode.line_number(line.get("LineNumber")),
            product_ref=product_ref,
            product_name=content or decode.text((product or {}).get("Description")),
            quantity=decode.number(line.get("Количество")),
            price=decode.number(line.get("Цена")),
            amount=decode.number(line.get("Сумма")),
            discount_percent=decode.number(line.get("ПроцентСкидкиНаценки"))
            + decode.number(line.get("ПроцентАвтоматическихСкидок")),
            vat_rate=vat_rate(decode.text(line.get("СтавкаНДС"))),
            vat_amount=decode.number(line.get("СуммаНДС")),
            unit_okei_code=decode.text(unit.get("Code")),
            unit_name=decode.text(unit.get("Description")),
            is_service=service_part or decode.flag((product or {}).get("Услуга")),
            product_deleted=product is None or decode.flag(product.get("DeletionMark")),
        )

    def unit_of(self, line: dict, product: dict | None) -> dict:
        """OKEI row of the line's unit (ЕдиницыИзмерения → классификатор), else of the product's base unit."""
        unit = self.g.units.get(decode.ref(line.get("ЕдиницаИзмерения_Key")) or "")
        okei_ref = decode.ref((unit or {}).get("ЕдиницаПоКлассификатору_Key"))
        if not okei_ref and product:
            okei_ref = decode.ref(product.get("БазоваяЕдиницаИзмерения_Key"))
        okei = self.g.classifier.get(okei_ref or "")
        if okei:
            return okei
        return {"Description": (unit or {}).get("Description", "")}

    def invoice(self, row: dict) -> Invoice:
        return Invoice(
            ref=row["Ref_Key"],
            number=decode.text(row.get("Number")).strip(),
            date=decode.date(row.get("Date")),
            amount=decode.number(row.get("СуммаДокумента")),
            currency_code=self.currency(row.get("ВалютаДокумента_Key")),
            lines=self.lines(row),
            amount_includes_vat=decode.flag(row.get("СуммаВключаетНДС")),
        )

    def payments(self, settlements: list[dict], state: order_state.OrderState) -> tuple[Payment, ...]:
        amounts: dict[tuple[str, str], Decimal] = {}
        for row in order_state.payment_movements(order_state.active(settlements)):
            key = (order_state.recorder_type(row), decode.text(row.get("Recorder")))
            amounts[key] = amounts.get(key, Decimal(0)) + decode.number(row.get("СуммаВзаиморасчетов"))
        payments = []
        for kind, ref in state.payment_recorders:
            document = self.g.recorders.get(ref, {})
            payments.append(Payment(recorder_ref=ref, recorder_type=kind,
                                    number=decode.text(document.get("Number")).strip(),
                                    date=decode.date(document.get("Date")), amount=amounts[(kind, ref)]))
        return tuple(sorted(payments, key=lambda p: (p.date or datetime.min, p.recorder_ref)))

    def realizations(self, order_ref: str, state: order_state.OrderState) -> tuple[Realization, ...]:
        rows = [self.realization_rows[ref] for ref in state.shipment_recorders if ref in self.realization_rows]
        rows += self.realizations_by_deal.get(order_ref, [])
        found = {
            r["Ref_Key"]: Realization(ref=r["Ref_Key"], number=decode.text(r.get("Number")).strip(),
                                      date=decode.date(r.get("Date")), amount=decode.number(r.get("СуммаДокумента")),
                                      organization_name=self.name_of(self.g.organizations, r.get("Организация_Key")))
            for r in rows
        }
        return tuple(sorted(found.values(), key=lambda r: (r.date or datetime.min, r.ref)))

    def currency(self, ref) -> str:
        return currency_code(self.g.currencies.get(decode.ref(ref) or ""))

    @staticmethod
    def name_of(table: dict[str, dict], ref) -> str:
        return decode.text(table.get(decode.ref(ref) or "", {}).get("Description"))
