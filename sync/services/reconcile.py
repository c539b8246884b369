"""Reconciliation: 1С as it is now against the portal as it is now — what is missing, duplicated or stale.

Read-only on both sides. 1С is read through the same readers and mapped by the same pure mapping the sync uses,
so "stale" means exactly "the sync would write something different today". The portal is read with the fast
list walks (``BitrixClient.list_all``: ``>ID`` + ``start=-1``). Per kind:

- **missing** — a 1С record the mapping would put into the CRM, with no CRM record carrying its external key
  (``originId`` for companies/contacts/deals, ``XML_ID`` for requisites and bank details, ``xmlId`` for products);
- **duplicated** — one external key on more than one CRM record;
- **stale** — a field we own differs from what the mapping produces now (manager-owned fields are not compared;
  phones/e-mails: every value we send must be there, values a manager added are fine).

A finding is marked *known* when the record has an open ``SyncProblem`` (the administrator already sees why).
``manage.py reconcile`` prints the report; the reliability suite uses it as its oracle.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from bx24app.models import Portal
from sync.engine import chunked
from sync.mapping.payloads import ORIGINATOR_ID, ClientBundle, CrmItemPayload
from sync.models import SyncProblem

from .context import SyncContext, context_for_portal

logger = logging.getLogger(__name__)
READ_CHUNK = 250
ADDRESS_REQUISITES_PER_PAGE = 16  # ≤3 addresses each → one 50-row page per command
KIND_TITLES = {"counterparty": "Контрагенты", "contact_person": "Контактные лица", "product": "Номенклатура",
               "order": "Заказы покупателей"}
PROBLEM_TITLES = {"missing": "нет в CRM", "duplicate": "дубли", "stale": "устарели"}


# ---------------------------------------------------------------------------------------------- report
@dataclass(frozen=True)
class Finding:
    kind: str
    problem: str  # "missing" | "duplicate" | "stale"
    onec_ref: str
    label: str
    detail: str
    known: bool = False  # the record has an open SyncProblem

    def key(self) -> tuple[str, str, str, str]:
        """Stable identity of the finding (for comparing two reports)."""
        return self.kind, self.problem, self.onec_ref, self.detail


@dataclass
class KindReport:
    kind: str
    expected: int = 0  # 1С records the mapping puts into the CRM
    in_crm: int = 0  # CRM records carrying our external key
    findings: list[Finding] = field(default_factory=list)

    def of(self, problem: str) -> list[Finding]:
        return [f for f in self.findings if f.problem == problem]


@dataclass
class ReconcileReport:
    member_id: str
    kinds: dict[str, KindReport] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # kinds that could not be checked, and why

    @property
    def findings(self) -> list[Finding]:
        return [f for report in self.kinds.values() for f in report.findings]

    @property
    def ok(self) -> bool:
        return not self.findings and not self.errors

    def unexplained(self) -> list[Finding]:
        """Findings without an open SyncProblem: what nobody has been told about."""
        return [f for f in self.findings if not f.known]

    def counts(self) -> dict[str, dict[str, int]]:
        return {kind: {p: len(r.of(p)) for p in PROBLEM_TITLES} for kind, r in self.kinds.items()}

    def render(self, limit: int = 20) -> str:
        lines = [f"Сверка 1С ↔ Битрикс24, портал {self.member_id}", ""]
        lines.append(f"{'вид':22}{'в 1С':>8}{'в CRM':>8}{'нет в CRM':>11}{'дубли':>8}{'устарели':>10}")
        for kind, report in self.kinds.items():
            lines.append(f"{KIND_TITLES.get(kind, kind):22}{report.expected:>8}{report.in_crm:>8}"
                         f"{len(report.of('missing')):>11}{len(report.of('duplicate')):>8}"
                         f"{len(report.of('stale')):>10}")
        for kind, report in self.kinds.items():
            for problem, title in PROBLEM_TITLES.items():
                found = report.of(problem)
                if not found:
                    continue
                lines += ["", f"{KIND_TITLES.get(kind, kind)} — {title} ({len(found)}):"]
                for finding in found[:limit]:
                    known = " [известная проблема синхронизации]" if finding.known else ""
                    name = finding.label or finding.onec_ref
                    lines.append(f"  • {name} ({finding.onec_ref}): {finding.detail}{known}")
                if len(found) > limit:
                    lines.append(f"  … и еще {len(found) - limit}")
        for error in self.errors:
            lines += ["", f"Не удалось проверить: {error}"]
        lines += ["", "Расхождений нет: CRM совпадает с 1С." if self.ok else
                  f"Найдено расхождений: {len(self.findings)} (из них без известной причины: "
                  f"{len(self.unexplained())})."]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- values
def normalise(value) -> str:
    """Compare values the way the portal stores them: numbers as numbers, booleans as Y/N, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    text = str(value).strip()
    if text and (text[0].isdigit() or text[0] in "-.") and not (len(text) > 1 and text[0] == "0" and text[1] != "."):
        try:
            number = Decimal(text)
        except InvalidOperation:
            return text
        return format(number.normalize(), "f") if number.is_finite() else text
    return text


def differences(expected: dict, actual: dict, *, skip: Iterable[str] = ()) -> list[str]:
    """Names of expected fields whose CRM value differs (``field: CRM «x» ≠ 1С «y»``)."""
    skip = set(skip)
    out = []
    for name, want in expected.items():
        if name in skip:
            continue
        have = actual.get(name)
        if normalise(have) != normalise(want):
            out.append(f"{name}: в CRM «{_short(have)}», по 1С «{_short(want)}»")
    return out


def _short(value, limit: int = 60) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[:limit] + "…"


# ---------------------------------------------------------------------------------------------- entry point
def portal_reconcile(portal: Portal, *, kinds: Iterable[str] | None = None, ctx: SyncContext | None = None
                     ) -> ReconcileReport:
    """Compare 1С with the portal per kind; reads only, writes nothing anywhere."""
    ctx = ctx or context_for_portal(portal)
    wanted = list(kinds or ("counterparties", "products", "orders"))
    report = ReconcileReport(portal.member_id)
    known = _known_problems(portal)
    checks: dict[str, Callable[[SyncContext, ReconcileReport, set], None]] = {
        "counterparties": _reconcile_counterparties, "products": _reconcile_products, "orders": _reconcile_orders}
    for kind in wanted:
        try:
            checks[kind](ctx, report, known)
        except Exception as exc:  # one kind failing to read must not hide the others
            logger.warning("Reconcile %s of portal %s failed: %s", kind, portal.member_id, exc)
            report.errors.append(f"{kind}: {exc.__class__.__name__}: {exc}")
    return report


def _known_problems(portal: Portal) -> set[tuple[str, str]]:
    rows = SyncProblem.objects.filter(portal=portal, resolved_at__isnull=True).values_list("kind", "onec_ref")
    return set(rows)


def _by_key(rows: Iterable[dict], key: str) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        value = row.get(key)
        if value not in (None, ""):
            grouped[str(value)].append(row)
    return grouped


def _duplicates(report: KindReport, grouped: dict[str, list[dict]], labels: dict[str, str], what: str,
                known: set, id_key: str, ref_of: Callable[[str], str] = lambda k: k) -> None:
    for key, rows in grouped.items():
        if len(rows) > 1:
            ref = ref_of(key)
            ids = ", ".join(str(r.get(id_key)) for r in rows)
            report.findings.append(Finding(report.kind, "duplicate", ref, labels.get(ref, ""),
                                           f"{what} {key} встречается {len(rows)} раза (ID {ids})",
                                           (report.kind, ref) in known))


# ---------------------------------------------------------------------------------------------- counterparties
def _reconcile_counterparties(ctx: SyncContext, report: ReconcileReport, known: set) -> None:
    from sync.mapping.counterparties import counterparty_to_bundle
    from sync.onec.counterparties import CounterpartyReader

    reader = CounterpartyReader(ctx.onec)
    refs = list(reader.scan({}).versions)
    bundles: list[ClientBundle] = []
    for part in chunked(refs, READ_CHUNK):
        bundles += [counterparty_to_bundle(cp, assigned_by_id=ctx.assigned_for(cp.main_manager_ref))
                    for cp in reader.read(part)]
    bundles = [b for b in bundles if b.item is not None]

    bitrix = ctx.bitrix
    item_params = {"filter": {"originatorId": ORIGINATOR_ID}, "select": ["*", "fm"]}
    companies = list(bitrix.list_all("crm.item.list", params={"entityTypeId": 4, **item_params}, id_key="id",
                                     items_key="items"))
    contacts = list(bitrix.list_all("crm.item.list", params={"entityTypeId": 3, **item_params}, id_key="id",
                                    items_key="items"))
    requisites = list(bitrix.list_all("crm.requisite.list"))
    bank_details = list(bitrix.list_all("crm.requisite.bankdetail.list"))

    clients = KindReport("counterparty")
    persons = KindReport("contact_person")
    report.kinds["counterparty"], report.kinds["contact_person"] = clients, persons
    by_origin = {4: _by_key(companies, "originId"), 3: _by_key(contacts, "originId")}
    requisites_by_xml = _by_key(requisites, "XML_ID")
    details_by_xml = _by_key(bank_details, "XML_ID")
    labels = {b.onec_ref: b.label for b in bundles}
    person_labels = {p.onec_ref: p.label for b in bundles for p in b.contact_persons}
    person_refs = set(person_labels)
    clients.expected = len(bundles)
    persons.expected = len(person_refs)
    clients.in_crm = len(by_origin[4]) + len([k for k in by_origin[3] if k not in person_refs])
    persons.in_crm = len([k for k in by_origin[3] if k in person_refs])

    _duplicates(clients, by_origin[4], labels, "originId компании", known, "id")
    _duplicates(clients, {k: v for k, v in by_origin[3].items() if k not in person_refs}, labels,
                "originId контакта", known, "id")
    _duplicates(persons, {k: v for k, v in by_origin[3].items() if k in person_refs}, person_labels,
                "originId контакта", known, "id")
    _duplicates(clients, requisites_by_xml, labels, "XML_ID реквизита", known, "ID",
                lambda key: key.split(":", 1)[-1])
    _duplicates(clients, details_by_xml, labels, "XML_ID банковских реквизитов", known, "ID")

    checked_requisites: list[tuple[ClientBundle, dict]] = []
    for bundle in bundles:
        finding = _FindingMaker(clients, bundle.onec_ref, bundle.label, known)
        rows = by_origin[bundle.item.entity_type_id].get(bundle.onec_ref)
        if not rows:
            finding("missing", "компания не найдена в CRM" if bundle.kind == "company" else "контакт не найден в CRM")
            continue
        entity = rows[0]
        _item_stale(finding, bundle.item, entity)
        if bundle.requisite:
            requisite_rows = requisites_by_xml.get(bundle.requisite.xml_id)
            if not requisite_rows:
                finding("missing", f"реквизит {bundle.requisite.xml_id} не найден")
            else:
                requisite = requisite_rows[0]
                diff = differences({**bundle.requisite.fields, "ENTITY_ID": entity.get("id")}, requisite)
                if diff:
                    finding("stale", "реквизит: " + "; ".join(diff))
                checked_requisites.append((bundle, requisite))
        for detail in bundle.bank_details:
            detail_rows = details_by_xml.get(detail.fields["XML_ID"])
            if not detail_rows:
                finding("missing", f"банковские реквизиты {detail.fields['XML_ID']} не найдены")
                continue
            requisite_rows = requisites_by_xml.get(bundle.requisite.xml_id) if bundle.requisite else None
            expected = dict(detail.fields)
            if requisite_rows:
                expected["ENTITY_ID"] = requisite_rows[0].get("ID")
            diff = differences(expected, detail_rows[0])
            if diff:
                finding("stale", f"банковские реквизиты {detail.fields['XML_ID']}: " + "; ".join(diff))
        for person in bundle.contact_persons:
            person_finding = _FindingMaker(persons, person.onec_ref, person.label, known)
            person_rows = by_origin[3].get(person.onec_ref)
            if not person_rows:
                person_finding("missing", "контактное лицо не найдено в CRM")
                continue
            _item_stale(person_finding, person.item, person_rows[0])
            if normalise(person_rows[0].get("companyId")) != normalise(entity.get("id")):
                person_finding("stale", f"привязано к компании {person_rows[0].get('companyId')}, "
                                        f"а не к {entity.get('id')}")
    _check_addresses(ctx, clients, checked_requisites, known)


class _FindingMaker:
    def __init__(self, report: KindReport, ref: str, label: str, known: set):
        self.report, self.ref, self.label, self.known = report, ref, label, (report.kind, ref) in known

    def __call__(self, problem: str, detail: str) -> None:
        self.report.findings.append(Finding(self.report.kind, problem, self.ref, self.label, detail, self.known))


def _item_stale(finding: _FindingMaker, item: CrmItemPayload, entity: dict) -> None:
    diff = differences(item.fields, entity)
    have = {(m.get("typeId"), normalise(m.get("value"))) for m in entity.get("fm") or []}
    lost = [m.value for m in item.multifields if (m.type_id, normalise(m.value)) not in have]
    if lost:
        diff.append("нет телефонов/e-mail: " + ", ".join(lost))
    if diff:
        finding("stale", "; ".join(diff))


def _check_addresses(ctx: SyncContext, report: KindReport, checked: list[tuple[ClientBundle, dict]],
                     known: set) -> None:
    with_addresses = [(b, r) for b, r in checked if b.addresses]
    commands = {}
    for n, part in enumerate(chunked(with_addresses, ADDRESS_REQUISITES_PER_PAGE)):
        commands[f"a{n}"] = ("crm.address.list", {"filter": {"ENTITY_TYPE_ID": 8,
                                                             "@ENTITY_ID": [int(r["ID"]) for _, r in part]}})
    rows = [row for result in ctx.lookup(commands).values() for row in (result or [])]
    addresses = defaultdict(list)
    for row in rows:
        addresses[(normalise(row.get("ENTITY_ID")), normalise(row.get("TYPE_ID")))].append(row)
    for bundle, requisite in with_addresses:
        finding = _FindingMaker(report, bundle.onec_ref, bundle.label, known)
        for address in bundle.addresses:
            found = addresses.get((normalise(requisite["ID"]), normalise(address.type_id)))
            if not found:
                finding("missing", f"адрес типа {address.type_id} не найден")
                continue
            diff = differences(address.fields, found[0])
            if diff:
                finding("stale", f"адрес типа {address.type_id}: " + "; ".join(diff))


# ---------------------------------------------------------------------------------------------- products
def _reconcile_products(ctx: SyncContext, report: ReconcileReport, known: set) -> None:
    from sync.mapping.products import product_to_payload
    from sync.onec.products import ProductReader

    from .products import catalog_setup

    settings = ctx.settings
    reader = ProductReader(ctx.onec, sale_price_type=settings.sale_price_type,
                           purchase_price_type=settings.purchase_price_type)
    refs = list(reader.scan({}).versions)
    setup = catalog_setup(ctx)
    payloads = []
    for part in chunked(refs, READ_CHUNK):
        payloads += [product_to_payload(p, setup) for p in reader.read(part)]
    expected = [p for p in payloads if p.fields is not None and not p.deleted]

    kind = KindReport("product")
    report.kinds["product"] = kind
    fields = sorted({name for p in expected for name in p.fields})
    rows = list(ctx.bitrix.list_all(
        "catalog.product.list", params={"filter": {"iblockId": setup.iblock_id},
                                        "select": sorted({"id", "iblockId", "xmlId", *fields})},
        id_key="id", items_key="products"))
    wanted_refs = {p.onec_ref for p in payloads}
    by_xml = {k: v for k, v in _by_key(rows, "xmlId").items() if k in wanted_refs}
    kind.expected, kind.in_crm = len(expected), len(by_xml)
    labels = {p.onec_ref: p.label for p in payloads}
    _duplicates(kind, by_xml, labels, "xmlId товара", known, "id")

    prices: dict[str, list[dict]] = defaultdict(list)
    if setup.base_price_type_id is not None:
        for row in ctx.bitrix.list_all("catalog.price.list", params={
                "filter": {"catalogGroupId": setup.base_price_type_id},
                "select": ["id", "productId", "catalogGroupId", "price", "currency"]}, id_key="id",
                items_key="prices"):
            prices[normalise(row.get("productId"))].append(row)
    for payload in expected:
        finding = _FindingMaker(kind, payload.onec_ref, payload.label, known)
        found = by_xml.get(payload.onec_ref)
        if not found:
            finding("missing", "услуга не найдена в каталоге" if payload.is_service else "товар не найден в каталоге")
            continue
        product = found[0]
        diff = differences(payload.fields, product)
        if diff:
            finding("stale", "; ".join(diff))
        if payload.price is not None:
            product_prices = prices.get(normalise(product.get("id")), [])
            if not product_prices:
                finding("missing", "нет базовой цены")
            else:
                if len(product_prices) > 1:
                    finding("duplicate", f"базовая цена задана {len(product_prices)} раза")
                diff = differences(payload.price.fields(product.get("id")), product_prices[0],
                                   skip=("productId", "catalogGroupId"))
                if diff:
                    finding("stale", "цена: " + "; ".join(diff))


# ---------------------------------------------------------------------------------------------- orders
def _reconcile_orders(ctx: SyncContext, report: ReconcileReport, known: set) -> None:
    """Deals by originId: orders in the sync window the mapping puts into the CRM, their owned fields and rows.

    Stages are not compared: they move forward only and a person may have moved or closed a deal on purpose.
    """
    from sync.mapping.deals import order_to_deal
    from sync.onec.orders import OrderReader

    from .orders import OrderPlanner

    kind = KindReport("order")
    report.kinds["order"] = kind
    reader = OrderReader(ctx.onec, window_days=ctx.settings.order_window_days)
    refs = list(reader.scan({}).changed_refs)
    planner = OrderPlanner(ctx, executor=None)
    payloads = []
    for part in chunked(refs, READ_CHUNK):
        records = reader.read(part)
        planner._load_links(records)  # the same id resolution the sync uses (links of clients and products)
        payloads += [order_to_deal(facts, planner._resolved(facts)) for facts in records]
    expected = [p for p in payloads if p.fields is not None]
    labels = {p.onec_ref: p.label for p in payloads}
    fields = sorted({name for p in expected for name in p.fields})
    deals = list(ctx.bitrix.list_all("crm.item.list", params={
        "entityTypeId": 2, "filter": {"originatorId": ORIGINATOR_ID}, "useOriginalUfNames": "Y",
        "select": sorted({"id", "originId", *fields})}, id_key="id", items_key="items"))
    by_origin = _by_key(deals, "originId")
    kind.expected, kind.in_crm = len(expected), len(by_origin)
    _duplicates(kind, by_origin, labels, "originId сделки", known, "id")
    rows_by_deal = _product_rows(ctx, [int(rows[0]["id"]) for ref, rows in by_origin.items()
                                       if ref in {p.onec_ref for p in expected}])
    for payload in expected:
        finding = _FindingMaker(kind, payload.onec_ref, payload.label, known)
        found = by_origin.get(payload.onec_ref)
        if not found:
            finding("missing", "сделка не найдена в CRM")
            continue
        deal = found[0]
        diff = differences(payload.fields, deal)
        if diff:
            finding("stale", "; ".join(diff))
        names = sorted({name for row in payload.product_rows for name in row})
        want = sorted(_row_key(r, names) for r in payload.product_rows)
        have = sorted(_row_key(r, names) for r in rows_by_deal.get(int(deal["id"]), []))
        if want != have:
            lost = [dict(zip(names, r, strict=True)) for r in want if r not in have]
            finding("stale", f"товарные строки: в CRM {len(have)}, по 1С {len(want)}"
                             + (f"; нет в CRM: {_short(lost, 120)}" if lost else "; в CRM лишние строки"))


def _row_key(row: dict, names: list[str]) -> tuple:
    return tuple(normalise(row.get(name)) for name in names)


def _product_rows(ctx: SyncContext, deal_ids: list[int]) -> dict[int, list[dict]]:
    """Product rows of the given deals, one crm.item.productrow.list page per command (≤50 rows)."""
    rows: dict[int, list[dict]] = defaultdict(list)
    pending = {f"r{d}": (d, 0) for d in deal_ids}
    while pending:
        commands = {key: ("crm.item.productrow.list", {"filter": {"=ownerType": "D", "=ownerId": deal_id},
                                                       "start": start})
                    for key, (deal_id, start) in pending.items()}
        results = ctx.lookup(commands)
        more = {}
        for key, (deal_id, start) in pending.items():
            page = (results.get(key) or {}).get("productRows", [])
            rows[deal_id] += page
            if len(page) == 50:
                more[key] = (deal_id, start + 50)
        pending = more
    return rows
