"""Sync 1С «Заказ покупателя» → Bitrix24 deals: fields, product rows and the stage driven by 1С's facts.

Mirrors the counterparty sync: scan → read what changed in chunks → pure mapping → links → recovery by the
external key (originatorId + originId) → one command group per order → on_done: problems, counts, and the
1С version stored only once the order fully synced.

Before deciding anything about an existing deal, its current stage/closed/pipeline is read in bulk
(``crm.item.list`` with ``@id``, 50 ids per command, packed into batches): stages move forward only, a deal a
manager closed is never moved, a deal a person moved beyond our target is left there (sync/mapping/deal_stage).
Deals we moved into the PAID stage get the «клиент оплатил» notification (exactly once; DESIGN §8); at the end,
paid-stage deals of ours that were never notified (a lost ONCRMDEALUPDATE) are caught up.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from bx24app.bitrix.errors import BitrixError
from bx24app.portal_schema import stage_entity_id
from sync.engine import Command, CommandGroup, ResultRef, VersionStore, chunked, rejected_by_bitrix
from sync.mapping.deal_stage import PAID, next_stage
from sync.mapping.deals import DEAL_TYPE_ID, DealPayload, DealResolved, order_to_deal
from sync.mapping.payloads import ORIGINATOR_ID, Problem
from sync.models import EntityLink, SourceVersion
from sync.onec.orders import ORDERS, OrderReader, split_version
from sync.onec.records import OrderFacts

from .context import SyncContext

logger = logging.getLogger(__name__)
VERSION_SET = "orders"  # SourceVersion.entity_set of the reader's snapshot (keys carry their own entity set)
KIND = "order"  # problems and counts
LINK = "deal"  # EntityLink kind: 1С order ref → deal id
CHUNK = 500  # orders planned together: their deal reads and look-ups share batches
LIST_IDS = 50  # ids per crm.item.list command (one page)
REMOVED = Problem("removed_in_1c", "Заказ удален из 1С; сделка в CRM оставлена без изменений.")
DEAL_DELETED = Problem("deal_deleted_in_crm", "Сделка этого заказа удалена в CRM: заново не создается, "
                                              "изменения заказа в CRM не передаются.")
OWNED_SELECT = ["id", "stageId", "closed", "categoryId"]


def orders_sync(ctx: SyncContext) -> None:
    """Read what changed in 1С, map it, and create/update the deals in batches; one bad order stops nothing."""
    if not ctx.settings.stage_map:
        raise LookupError("Стадии сделок не настроены: откройте приложение на портале, чтобы завершить установку, "
                          "или выберите стадии в настройках.")
    reader = OrderReader(ctx.onec, window_days=ctx.settings.order_window_days)
    versions = OrderVersions(ctx.portal)
    open_refs = [ref for ref, link in ctx.links.load_all(LINK).items() if not (link.state or {}).get("closed")]
    changes = reader.scan({} if ctx.full else versions.known, extra_refs=open_refs)
    changes.changed_refs += orders_now_resolvable(ctx, changes)
    orders_seen = [key for key in changes.versions if key.startswith(ORDERS + ":")]
    counts = ctx.counts_for(KIND)
    counts.onec_records += len(orders_seen)
    counts.unchanged += len(orders_seen) - len(changes.changed_refs)
    executor = ctx.executor()
    planner = OrderPlanner(ctx, executor, initial=not versions.known)
    done = 0
    for refs in chunked(changes.changed_refs, CHUNK):
        planner.plan(reader.read(refs))
        done += len(refs)
        ctx.progress(KIND, done, len(changes.changed_refs))
    executor.drain()
    ctx.flush()
    versions.store(changes.versions, planner.failed)
    for ref in changes.removed_refs:
        if ctx.links.get(LINK, ref):
            ctx.problems.report(KIND, ref, ref, [REMOVED])
    ctx.flush()
    planner.notify_paid()
    paid_notifications_catch_up(ctx)


def orders_now_resolvable(ctx: SyncContext, changes) -> list[str]:
    """Unchanged orders whose deal lacked its client or a product that has been synced since: read them again
    so the deal gets the company/contact and catalog rows (1С did not change, so the scan cannot tell)."""
    waiting = {ref: link.state["waiting"] for ref, link in ctx.links.load_all(LINK).items()
               if (link.state or {}).get("waiting")}
    if not waiting:
        return []
    wanted = sorted({r for refs in waiting.values() for r in refs})
    found = set()
    for part in chunked(wanted, 1000):
        found.update(EntityLink.objects.filter(portal=ctx.portal, kind__in=("company", "contact", "product"),
                                               onec_ref__in=part).values_list("onec_ref", flat=True))
    changed = set(changes.changed_refs)
    return sorted(ref for ref, refs in waiting.items()
                  if set(refs) & found and ref not in changed and f"{ORDERS}:{ref}" in changes.versions)


class OrderVersions:
    """The reader's scan snapshot ("<entity set>:<ref>" → "<DataVersion>|<order refs>") kept per portal.

    A document's entry is stored only when every order it refers to fully synced, and entries of documents gone
    from the scan are dropped on the same condition — so a failed order is found changed again next run.
    """

    def __init__(self, portal):
        self.store_ = VersionStore(portal, VERSION_SET)
        self.portal = portal
        self.known = self.store_.load()

    def store(self, current: dict[str, str], failed: set[str]) -> None:
        def synced(value: str) -> bool:
            return not (set(split_version(value)[1]) & failed)

        for key, value in current.items():
            if self.known.get(key) != value and synced(value):
                self.store_.put(key, value)
        self.store_.flush()
        gone = [key for key, value in self.known.items() if key not in current and synced(value)]
        for part in chunked(gone, 1000):
            SourceVersion.objects.filter(portal=self.portal, entity_set=VERSION_SET, onec_ref__in=part).delete()


class OrderPlanner:
    """Turns mapped orders into command groups: create what is new, update only what changed."""

    def __init__(self, ctx: SyncContext, executor, *, initial: bool = False):
        self.ctx, self.executor = ctx, executor
        self.initial = initial  # the portal's first import: orders paid long ago are history, not news
        self.paid_at_import: list[tuple[int, dict]] = []
        self.failed: set[str] = set()  # orders not fully synced: their scan versions are not stored
        self.links = ctx.links
        self.counts = ctx.counts_for(KIND)
        self.settings = ctx.settings
        self.stage_map = dict(ctx.settings.stage_map or {})
        self.category_id = int(ctx.settings.category_id or 0)
        self.stages: dict[str, dict] | None = None  # STATUS_ID → {SEMANTICS, SORT} of our pipeline
        self.moved_to_paid: list[tuple[int, dict]] = []
        self.waiting: dict[str, list[str]] = {}  # order → client/product refs it lacked (re-read once synced)

    # ------------------------------------------------------------------ plan
    def plan(self, records: list[OrderFacts]) -> None:
        self._load_links(records)
        payloads = [order_to_deal(facts, self._resolved(facts)) for facts in records]
        wanted = [p for p in payloads if p.fields is not None]
        current, unknown = self._read_deals(wanted)
        for payload in payloads:
            self._submit(payload, current, unknown)

    def _load_links(self, records: list[OrderFacts]) -> None:
        client_refs = [f.counterparty_ref for f in records if f.counterparty_ref]
        self.links.load("company", client_refs)
        self.links.load("contact", client_refs)
        product_refs = {line.product_ref for f in records for doc_lines in _all_lines(f) for line in doc_lines
                        if line.product_ref}
        self.links.load("product", sorted(product_refs))
        self.links.load(LINK, [f.ref for f in records])

    def _resolved(self, facts: OrderFacts) -> DealResolved:
        product_ids, waiting = {}, set()
        for doc_lines in _all_lines(facts):
            for line in doc_lines:
                bitrix_id = self.links.bitrix_id("product", line.product_ref)
                if bitrix_id:
                    product_ids[line.product_ref] = int(bitrix_id)
                elif line.product_ref and line.product_name and not line.product_deleted:
                    waiting.add(line.product_ref)
        company = self.links.bitrix_id("company", facts.counterparty_ref)
        contact = None if company else self.links.bitrix_id("contact", facts.counterparty_ref)
        if facts.counterparty_ref and not (company or contact):
            waiting.add(facts.counterparty_ref)
        self.waiting[facts.ref] = sorted(waiting)
        return DealResolved(company_id=int(company) if company else None,
                            contact_id=int(contact) if contact else None, product_ids=product_ids,
                            field_map=self.settings.field_map or {}, category_id=self.category_id,
                            assigned_by_id=None if self.links.get(LINK, facts.ref)  # create-only field
                            else self.ctx.assigned_for(facts.responsible_ref))

    # ------------------------------------------------------------------ current state, recovery
    def _read_deals(self, payloads: list[DealPayload]) -> tuple[dict[int, dict], set[str]]:
        """Current stage/closed/pipeline of linked deals, and deals of unlinked orders found by originId.

        Returns ({deal id: deal}, refs whose state could not be read); recovered deals get their link here.
        """
        linked = [p for p in payloads if self.links.get(LINK, p.onec_ref)]
        missing = [p.onec_ref for p in payloads if not self.links.get(LINK, p.onec_ref)]
        commands, parts = {}, {}
        ids = sorted({int(self.links.get(LINK, p.onec_ref).bitrix_id) for p in linked})
        for n, part in enumerate(chunked(ids, LIST_IDS)):
            commands[f"deals_{n}"] = ("crm.item.list", {"entityTypeId": DEAL_TYPE_ID, "filter": {"@id": part},
                                                        "select": OWNED_SELECT, "start": -1})
            parts[f"deals_{n}"] = part
        for n, part in enumerate(chunked(missing, LIST_IDS)):
            parts[f"origin_{n}"] = part
            commands[f"origin_{n}"] = ("crm.item.list", {
                "entityTypeId": DEAL_TYPE_ID, "filter": {"originatorId": ORIGINATOR_ID, "@originId": part},
                "select": [*OWNED_SELECT, "originId"], "order": {"id": "ASC"}, "start": -1})
        if commands and self.stages is None:
            commands["stages"] = ("crm.status.list", {"filter": {"ENTITY_ID": stage_entity_id(self.category_id)}})
        results = self.ctx.lookup(commands) if commands else {}
        if "stages" in results:
            self.stages = {row["STATUS_ID"]: row for row in results["stages"] or []}
        current: dict[int, dict] = {}
        unread_ids: set[int] = set()
        unknown: set[str] = set()  # refs we cannot decide about: the lookup failed (retried next run)
        for key, part in parts.items():
            if key not in results:
                (unknown if key.startswith("origin_") else unread_ids).update(part)
                continue
            for item in (results[key] or {}).get("items", []):
                if key.startswith("deals_"):
                    current[int(item["id"])] = item
                    continue
                ref = item.get("originId")
                if ref and not self.links.get(LINK, ref):  # the oldest deal wins (ordered by id)
                    self.links.put(LINK, ref, item["id"], "", {"rows": "", "closed": _closed(item)})
                    current[int(item["id"])] = item
        unknown |= {p.onec_ref for p in linked if int(self.links.get(LINK, p.onec_ref).bitrix_id) in unread_ids}
        return current, unknown

    # ------------------------------------------------------------------ groups
    def _submit(self, payload: DealPayload, current: dict[int, dict], unknown: set[str]) -> None:
        if payload.fields is None:  # unposted / deleted: never created, an existing deal is left alone
            self._finish(payload, True, [], skipped=True)
            return
        if payload.onec_ref in unknown:
            self._finish(payload, False, ["не удалось прочитать текущую стадию сделки; повтор при следующей "
                                          "синхронизации"])
            return
        link = self.links.get(LINK, payload.onec_ref)
        if link is None:
            self._submit_new(payload)
            return
        deal = current.get(int(link.bitrix_id))
        if deal is None:  # deleted in the CRM by a person: not re-created, not retried every run
            self.links.put(LINK, payload.onec_ref, link.bitrix_id, link.content_hash,
                           {**(link.state or {}), "closed": True, "deleted": True})
            self._finish(payload, True, [], skipped=True, extra=[DEAL_DELETED])
            return
        self._submit_update(payload, link, deal)

    def _submit_new(self, payload: DealPayload) -> None:
        extra: list[Problem] = []
        stage_id = next_stage(None, payload.stage, self.stage_map, {})
        fields = {**payload.fields, **payload.create_only_fields}
        if stage_id:
            fields["stageId"] = stage_id
        else:
            extra.append(_stage_not_mapped(payload.stage))
        ref, fields_hash, rows_hash = payload.onec_ref, payload.fields_hash, payload.rows_hash
        group = CommandGroup(KIND, ref, payload.label)

        def created(result, _lookup):
            item = result["item"]
            self.links.put(LINK, ref, item["id"], fields_hash, {"rows": "", "stage": item.get("stageId"),
                                                                "closed": _closed(item)})
            if stage_id and stage_id == self.stage_map.get(PAID):
                (self.paid_at_import if self.initial else self.moved_to_paid).append((int(item["id"]), item))

        def rows_saved(_result, lookup):
            deal_id = lookup(ResultRef("d", ("item", "id")))
            link = self.links.get(LINK, ref)
            self.links.put(LINK, ref, deal_id, link.content_hash, {**link.state, "rows": rows_hash})

        group.commands.append(Command("d", "crm.item.add", {"entityTypeId": DEAL_TYPE_ID, "fields": fields,
                                                            "useOriginalUfNames": "Y"}, on_success=created))
        group.commands.append(Command("r", "crm.item.productrow.set", {
            "ownerType": "D", "ownerId": ResultRef("d", ("item", "id")), "productRows": list(payload.product_rows)},
            on_success=rows_saved))
        group.on_done = lambda ok, errors: self._finish(payload, ok, errors, created=True, extra=extra)
        self.executor.submit(group)

    def _submit_update(self, payload: DealPayload, link, deal: dict) -> None:
        extra: list[Problem] = []
        state = dict(link.state or {})
        stage_id = None
        if int(deal.get("categoryId") or 0) == self.category_id:
            stages = self.stages or {}
            stage_id = next_stage(deal.get("stageId"), payload.stage, self.stage_map,
                                  {k: _semantics(v) for k, v in stages.items()}, closed=_closed(deal),
                                  stage_sort={k: int(v.get("SORT") or 0) for k, v in stages.items()})
            if payload.stage and not self.stage_map.get(payload.stage):
                extra.append(_stage_not_mapped(payload.stage))
        fields = dict(payload.fields) if link.content_hash != payload.fields_hash else {}
        if stage_id:
            fields["stageId"] = stage_id
        ref, bitrix_id = payload.onec_ref, int(link.bitrix_id)
        fields_hash, rows_hash = payload.fields_hash, payload.rows_hash
        state.update(closed=_closed(deal), stage=deal.get("stageId"))
        group = CommandGroup(KIND, ref, payload.label)

        def updated(result, _lookup):
            item = result["item"]
            current = self.links.get(LINK, ref)
            self.links.put(LINK, ref, bitrix_id, fields_hash, {**current.state, "stage": item.get("stageId"),
                                                               "closed": _closed(item)})
            if stage_id and stage_id == self.stage_map.get(PAID):
                self.moved_to_paid.append((bitrix_id, item))

        def rows_saved(_result, _lookup):
            current = self.links.get(LINK, ref)
            self.links.put(LINK, ref, bitrix_id, current.content_hash, {**current.state, "rows": rows_hash})

        if fields:
            group.commands.append(Command("u", "crm.item.update", {
                "entityTypeId": DEAL_TYPE_ID, "id": bitrix_id, "fields": fields, "useOriginalUfNames": "Y"},
                on_success=updated))
        if state.get("rows") != rows_hash:
            group.commands.append(Command("r", "crm.item.productrow.set", {
                "ownerType": "D", "ownerId": bitrix_id, "productRows": list(payload.product_rows)},
                on_success=rows_saved))
        if state != (link.state or {}):
            self.links.put(LINK, ref, bitrix_id, link.content_hash, state)
        wrote = bool(group.commands)
        group.on_done = lambda ok, errors: self._finish(payload, ok, errors, wrote=wrote, extra=extra)
        self.executor.submit(group)

    # ------------------------------------------------------------------ outcome
    def _finish(self, payload: DealPayload, ok: bool, errors: list[str], *, skipped=False, wrote=False,
                created=False, extra=()) -> None:
        problems = [*payload.problems, *extra, *rejected_by_bitrix(errors)]
        self.ctx.problems.report(KIND, payload.onec_ref, payload.label, problems)
        self.counts.count_record(problems, ok=ok, skipped=skipped, created=created, wrote=wrote)
        if not ok:
            self.failed.add(payload.onec_ref)
            return
        link = self.links.get(LINK, payload.onec_ref)
        waiting = self.waiting.get(payload.onec_ref, [])
        if link and payload.fields is not None and (link.state or {}).get("waiting", []) != waiting:
            self.links.put(LINK, payload.onec_ref, link.bitrix_id, link.content_hash,
                           {**(link.state or {}), "waiting": waiting})

    # ------------------------------------------------------------------ «клиент оплатил»
    def notify_paid(self) -> None:
        """Deals this run moved into PAID: notify the responsible user (the service makes it exactly once)."""
        from bx24app.services.payment_notify import deal_payment_notify

        for deal_id, item in self.moved_to_paid:
            try:
                deal_payment_notify(self.ctx.portal, deal_id, source="sync", client=self.ctx.bitrix, deal=item)
            except BitrixError as exc:  # the catch-up below (and the next run) retries
                logger.warning("portal %s: payment notification for deal %s failed: %s",
                               self.ctx.portal.member_id, deal_id, exc)
        self.moved_to_paid.clear()
        self._record_paid_at_import()

    def _record_paid_at_import(self) -> None:
        """The first import creates deals of orders paid before the app was watching: nobody is notified of
        history (spec: the notification is about the stage *changing*). Their payment state is recorded as
        handled, so the lost-event catch-up does not send them either; a later new payment state still is."""
        from bx24app.models import PaymentNotification
        from bx24app.services.payment_notify import payment_state_key

        field_map = self.settings.field_map or {}
        PaymentNotification.objects.bulk_create(
            [PaymentNotification(portal=self.ctx.portal, deal_id=deal_id, source=PaymentNotification.Source.SYNC,
                                 state_key=payment_state_key(item, field_map)[:200])
             for deal_id, item in self.paid_at_import], ignore_conflicts=True)
        self.paid_at_import.clear()


CATCH_UP_MARGIN = timedelta(minutes=15)


def catch_up_since(ctx: SyncContext):
    """From when to look for un-notified paid deals, or None when the catch-up is not due yet.

    It runs at most every SYNC_PAID_CATCH_UP_SECONDS (events normally notify at once; this is the safety net for
    lost ones) and looks back to its previous run minus a margin for clock skew (a move into PAID updates the
    deal); the first time, and once a day, it looks back over the whole order window / a whole day, so a
    notification that failed earlier is retried too.
    """
    now = timezone.now()
    last_key, day_key = f"sync:paid-catch-up:{ctx.portal.pk}", f"sync:paid-catch-up-day:{ctx.portal.pk}"
    last = cache.get(last_key)
    if last and (now - last).total_seconds() < settings.SYNC_PAID_CATCH_UP_SECONDS:
        return None
    cache.set(last_key, now, 7 * 24 * 3600)
    window_start = now - timedelta(days=int(ctx.settings.order_window_days or 90))
    if last is None:
        return window_start
    margin = CATCH_UP_MARGIN if cache.get(day_key) else timedelta(days=1)
    cache.set(day_key, True, 24 * 3600)
    return max(window_start, last - margin)


def paid_notifications_catch_up(ctx: SyncContext) -> int:
    """Our deals in the PAID stage (updated within the order window, since the last run) never notified — a lost
    event or a failed notification — are notified now. Returns how many were sent."""
    from bx24app.services.payment_notify import deals_paid_unnotified, deals_payment_notify

    paid_stage = (ctx.settings.stage_map or {}).get(PAID)
    if not paid_stage:
        return 0
    since = catch_up_since(ctx)
    if since is None:
        return 0
    since = timezone.localtime(since).isoformat(timespec="seconds")
    params = {"entityTypeId": DEAL_TYPE_ID, "select": ["id"],
              "filter": {"stageId": paid_stage, "originatorId": ORIGINATOR_ID, ">=updatedTime": since}}
    try:
        ids = [int(item["id"]) for item in ctx.bitrix.list_all("crm.item.list", params=params, id_key="id",
                                                                items_key="items")]
    except BitrixError as exc:
        logger.warning("portal %s: paid deals not listed: %s", ctx.portal.member_id, exc)
        return 0
    try:  # one crm.item.list per 50 deals, not a crm.item.get each
        return deals_payment_notify(ctx.portal, deals_paid_unnotified(ctx.portal, ids), source="sync",
                                    client=ctx.bitrix)
    except BitrixError as exc:
        logger.warning("portal %s: payment notifications not sent: %s", ctx.portal.member_id, exc)
        return 0


def _all_lines(facts: OrderFacts):
    yield facts.lines
    for invoice in facts.invoices:
        yield invoice.lines


def _closed(item: dict) -> bool:
    return str(item.get("closed") or "N").upper() in ("Y", "TRUE", "1")


def _semantics(status: dict) -> str:
    """S/F for won/lost stages (crm.status.list SEMANTICS, or EXTRA.SEMANTICS success/failure)."""
    return str(status.get("SEMANTICS") or (status.get("EXTRA") or {}).get("SEMANTICS") or "")


def _stage_not_mapped(logical: str | None) -> Problem:
    return Problem("stage_not_mapped", f"Для этапа «{logical}» не выбрана стадия сделки в настройках: "
                                       "стадия сделки не меняется.")
