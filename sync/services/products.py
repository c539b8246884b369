"""Sync 1С «Номенклатура» → Bitrix24 catalog products (services as services) with the sale and purchase price.

Per run: the CRM catalog (catalog.catalog.list entry without productIblockId), measures, VAT rates, currencies and
the base price type are read once, in one batch, and only when something changed. Per product: the catalog
fields and the sale price (a ``catalog.price`` row of the base type) have separate links and hashes, so a
price-only change is one ``catalog.price.update`` and nothing changed means no Bitrix24 request at all.
``catalog.price.modify`` is never used: it deletes every price of the product that is not listed
(reference bitrix24-rest.md §3.6).
"""

from __future__ import annotations

import logging

from sync.engine import Command, CommandGroup, ResultRef, VersionStore, chunked, rejected_by_bitrix
from sync.mapping.payloads import Problem
from sync.mapping.products import CatalogSetup, ProductPayload, okei_key, product_to_payload, vat_key
from sync.onec.products import PRODUCTS, ProductReader

from .context import SyncContext

logger = logging.getLogger(__name__)
KIND = "product"
PRICE_KIND = "price"
CHUNK = 1000  # records planned together: their look-ups share batches (fewer partly filled requests)
REMOVED = Problem("removed_in_1c", "Номенклатура удалена из 1С: товар в каталоге Битрикс24 деактивирован.")
# Services have their own method family (catalog.product.service.*); products use catalog.product.*.
METHODS = {False: ("catalog.product.add", "catalog.product.update", "element"),
           True: ("catalog.product.service.add", "catalog.product.service.update", "service")}


def products_sync(ctx: SyncContext) -> None:
    """Read what changed in 1С (DataVersion + prices), map it, and upsert it into the catalog in batches."""
    settings = ctx.settings
    reader = ProductReader(ctx.onec, sale_price_type=settings.sale_price_type,
                           purchase_price_type=settings.purchase_price_type)
    versions = VersionStore(ctx.portal, PRODUCTS)
    changes = reader.scan({} if ctx.full else versions.load())
    counts = ctx.counts_for(KIND)
    counts.onec_records += len(changes.versions)
    counts.unchanged += len(changes.versions) - len(changes.changed_refs)
    if not changes.changed_refs and not changes.removed_refs:
        return
    setup = catalog_setup(ctx)
    executor = ctx.executor()
    planner = ProductPlanner(ctx, setup, versions, changes.versions, executor)
    done = 0
    for refs in chunked(changes.changed_refs, CHUNK):
        planner.plan(reader.read(refs))
        done += len(refs)
        ctx.progress(KIND, done, len(changes.changed_refs))
    planner.deactivate_removed(changes.removed_refs)
    executor.drain()
    ctx.flush()
    versions.flush()


def catalog_setup(ctx: SyncContext) -> CatalogSetup:
    """The portal's catalog, read once per run in one batch request."""
    results = ctx.lookup({
        "catalogs": ("catalog.catalog.list", {"select": ["id", "iblockId", "iblockTypeId", "productIblockId"]}),
        "price_types": ("catalog.priceType.list", {"select": ["id", "name", "base"]}),
        "measures": ("catalog.measure.list", {"select": ["id", "code"]}),
        "vats": ("catalog.vat.list", {"select": ["id", "rate", "active", "excludeVat"]}),
        "currencies": ("crm.currency.list", {}),
        "inventory": ("catalog.document.mode.status", {}),
    })
    catalogs = (results.get("catalogs") or {}).get("catalogs", [])
    product_catalogs = [c for c in catalogs if not c.get("productIblockId")]  # the other entry is SKU offers
    crm_catalog = next((c for c in product_catalogs if c.get("iblockTypeId") == "CRM_PRODUCT_CATALOG"),
                       product_catalogs[0] if product_catalogs else None)
    if crm_catalog is None:
        raise LookupError("На портале не найден товарный каталог CRM (catalog.catalog.list): товары не переданы.")
    price_types = (results.get("price_types") or {}).get("priceTypes", [])
    base = next((t for t in price_types if t.get("base") == "Y"), None)
    measures = {}
    for measure in (results.get("measures") or {}).get("measures", []):
        measures.setdefault(okei_key(str(measure.get("code") or "")), int(measure["id"]))
    vats = {}
    for vat in (results.get("vats") or {}).get("vats", []):
        if vat.get("active", "Y") == "Y":  # «Без НДС» has no rate (or excludeVat = Y), never "0"
            key = "" if vat.get("excludeVat") == "Y" else vat_key(vat.get("rate"))
            vats.setdefault(key, int(vat["id"]))
    currencies = results.get("currencies")
    inventory = results.get("inventory")
    if inventory in (True, "Y"):
        logger.info("Portal %s has inventory accounting on: purchase prices are not sent", ctx.portal.member_id)
    return CatalogSetup(
        iblock_id=int(crm_catalog["iblockId"]),
        base_price_type_id=int(base["id"]) if base else None,
        measures=measures, vats=vats,
        currencies=frozenset(c["CURRENCY"] for c in currencies) if isinstance(currencies, list) else None,
        inventory_accounting=inventory in (True, "Y"),
    )


class ProductPlanner:
    """Turns product payloads into command groups: create what is new, write only what changed."""

    def __init__(self, ctx: SyncContext, setup: CatalogSetup, versions: VersionStore, current_versions: dict,
                 executor):
        self.ctx, self.setup, self.versions, self.current_versions = ctx, setup, versions, current_versions
        self.executor = executor
        self.links = ctx.links
        self.counts = ctx.counts_for(KIND)
        self.unverified: dict[str, str] = {}  # ref → why its lookup failed: not written this run

    def plan(self, records) -> None:
        payloads = [product_to_payload(product, self.setup) for product in records]
        refs = [p.onec_ref for p in payloads]
        self.links.load(KIND, refs)
        self.links.load(PRICE_KIND, refs)
        self._recover([p for p in payloads if p.fields is not None])
        for payload in payloads:
            self._submit(payload)

    # ------------------------------------------------------------------ crash safety
    def _recover(self, payloads: list[ProductPayload]) -> None:
        """Products (by xmlId) and their base prices that exist in Bitrix24 but have no saved link.

        A record whose lookup failed is not written this run (creating it could make a duplicate)."""
        missing = [p.onec_ref for p in payloads if not self._link(KIND, p.onec_ref)]
        wanted = set(missing)
        commands, parts = {}, {}
        for n, part in enumerate(chunked(missing, 50)):
            commands[f"xml_{n}"] = ("catalog.product.list", {
                "select": ["id", "iblockId", "xmlId"], "filter": {"iblockId": self.setup.iblock_id, "@xmlId": part}})
            parts[f"xml_{n}"] = part
        results = self._lookup(commands, parts)
        for result in results.values():
            for row in (result or {}).get("products", []):
                if row.get("xmlId") in wanted and not self._link(KIND, row["xmlId"]):
                    self.links.put(KIND, row["xmlId"], row["id"])
        if self.setup.base_price_type_id is None:
            return
        by_product = {}
        for payload in payloads:
            link = self._link(KIND, payload.onec_ref)
            if link and payload.price and not self._price_link(payload.onec_ref):
                by_product[str(link.bitrix_id)] = payload.onec_ref
        commands, parts = {}, {}
        for n, part in enumerate(chunked(list(by_product), 50)):
            commands[f"price_{n}"] = ("catalog.price.list", {
                "select": ["id", "productId", "catalogGroupId"],
                "filter": {"@productId": [int(i) for i in part], "catalogGroupId": self.setup.base_price_type_id}})
            parts[f"price_{n}"] = [by_product[i] for i in part]
        for result in self._lookup(commands, parts).values():
            for row in (result or {}).get("prices", []):
                ref = by_product.get(str(row.get("productId")))
                if ref and not self._price_link(ref):
                    self.links.put(PRICE_KIND, ref, row["id"])

    def _lookup(self, commands: dict, parts: dict[str, list[str]]) -> dict:
        results = {}
        keys = list(commands)
        for start in range(0, len(keys), self.ctx.batch_size):
            outcome = self.ctx.bitrix.batch({k: commands[k] for k in keys[start:start + self.ctx.batch_size]})
            results.update(outcome.results)
            for key, error in outcome.errors.items():
                for ref in parts[key]:
                    self.unverified[ref] = (f"Поиск в каталоге Битрикс24 не удался ({error}): "
                                          "товар не передан, чтобы не создать дубль")
        return results

    # ------------------------------------------------------------------ groups
    def _submit(self, payload: ProductPayload) -> None:
        link = self._link(KIND, payload.onec_ref)
        if payload.fields is None or (link is None and payload.deleted):
            self._finish(payload, True, [], skipped=True)
            return
        if payload.onec_ref in self.unverified:  # retried next run: no version is stored
            problems = [*payload.problems, Problem("lookup_failed", self.unverified[payload.onec_ref] + ".")]
            self.ctx.problems.report(KIND, payload.onec_ref, payload.label, problems)
            self.counts.count_record(problems, ok=False)
            return
        group = CommandGroup(KIND, payload.onec_ref, payload.label)
        product_id = self._product_command(group, payload, link)
        self._price_command(group, payload, product_id)
        wrote = bool(group.commands)
        created = link is None
        if link is not None and not any(c.key == "p" for c in group.commands) and link.state != payload.state:
            self.links.put(KIND, payload.onec_ref, link.bitrix_id, link.content_hash, payload.state)  # no REST
        vanished: set[str] = set()
        for command in group.commands:
            if not isinstance(product_id, ResultRef):
                command.on_error = self._vanished_handler(command, vanished)

        def on_done(ok: bool, errors: list[str]) -> None:
            if vanished:  # deleted in Bitrix24 by someone: forget it and write it again (never a duplicate)
                if "product" in vanished:
                    self.links.put(KIND, payload.onec_ref, "", "")
                self.links.put(PRICE_KIND, payload.onec_ref, "", "")
                self._submit(payload)
                return
            self._finish(payload, ok, errors, wrote=wrote, created=created)

        group.on_done = on_done
        self.executor.submit(group)

    @staticmethod
    def _vanished_handler(command: Command, vanished: set[str]):
        """A linked product or price someone deleted in Bitrix24: its write fails with «… is not exists»."""
        def handle(error) -> bool:
            text = str(error).lower()
            if "not exist" not in text:
                return False
            if command.key == "p" or (command.method == "catalog.price.add" and "product" in text):
                vanished.add("product")
            elif "product" not in vanished:
                vanished.add("price")
            return True
        return handle

    def _product_command(self, group: CommandGroup, payload: ProductPayload, link):
        add, update, result_key = METHODS[payload.is_service]
        ref, fields_hash, state = payload.onec_ref, payload.fields_hash, payload.state
        if link is None:
            fields = {"iblockId": self.setup.iblock_id, **payload.fields}
            group.commands.append(Command("p", add, {"fields": fields}, on_success=lambda r, _: self.links.put(
                KIND, ref, r[result_key]["id"], fields_hash, state)))
            return ResultRef("p", (result_key, "id"))
        if link.content_hash != fields_hash:
            bitrix_id = link.bitrix_id
            group.commands.append(Command("p", update, {"id": int(bitrix_id), "fields": payload.fields},
                                          on_success=lambda r, _: self.links.put(KIND, ref, bitrix_id, fields_hash,
                                                                                 state)))
        return int(link.bitrix_id)

    def _link(self, kind: str, ref: str):
        """A link with no id is a record that is gone (a price we deleted, a product deleted in Bitrix24)."""
        link = self.links.get(kind, ref)
        return link if link and link.bitrix_id else None

    def _price_link(self, ref: str):
        return self._link(PRICE_KIND, ref)

    def _price_command(self, group: CommandGroup, payload: ProductPayload, product_id) -> None:
        """The base price by its own id: catalog.price.add once, then catalog.price.update — never modify."""
        ref, price_hash = payload.onec_ref, payload.price_hash
        link = self._price_link(ref)
        if payload.price is None:
            if link is not None and not isinstance(product_id, ResultRef):  # 1С has no valid price any more
                group.commands.append(Command("c", "catalog.price.delete", {"id": int(link.bitrix_id)},
                                              on_success=lambda r, _: self.links.put(PRICE_KIND, ref, "", "")))
            return
        fields = payload.price.fields(product_id)
        if link is None or isinstance(product_id, ResultRef):
            group.commands.append(Command("c", "catalog.price.add", {"fields": fields}, on_success=lambda r, _: (
                self.links.put(PRICE_KIND, ref, r["price"]["id"], price_hash))))
        elif link.content_hash != price_hash:
            price_id = link.bitrix_id
            group.commands.append(Command("c", "catalog.price.update", {"id": int(price_id), "fields": fields},
                                          on_success=lambda r, _: self.links.put(PRICE_KIND, ref, price_id,
                                                                                 price_hash)))

    def deactivate_removed(self, refs: list[str]) -> None:
        """Products physically deleted in 1С: deactivated (never deleted), then forgotten by change detection."""
        self.links.load(KIND, refs)
        for ref in refs:
            link = self._link(KIND, ref)
            label = link.state.get("label", ref) if link else ref
            if link is None:
                self.versions.forget(ref)
                continue
            _, update, _ = METHODS[bool(link.state.get("service"))]
            group = CommandGroup(KIND, ref, label, [Command("p", update, {"id": int(link.bitrix_id),
                                                                          "fields": {"active": "N"}})])

            def on_done(ok: bool, errors: list[str], ref=ref, label=label) -> None:
                problems = [REMOVED, *rejected_by_bitrix(errors)]
                self.ctx.problems.report(KIND, ref, label, problems)
                self.counts.count_record(problems, ok=ok, wrote=True)
                if ok:
                    self.versions.forget(ref)

            group.on_done = on_done
            self.executor.submit(group)

    # ------------------------------------------------------------------ outcome
    def _finish(self, payload: ProductPayload, ok: bool, errors: list[str], *, skipped=False, wrote=False,
                created=False) -> None:
        problems = [*payload.problems, *rejected_by_bitrix(errors)]
        self.ctx.problems.report(KIND, payload.onec_ref, payload.label, problems)
        self.counts.count_record(problems, ok=ok, skipped=skipped, created=created, wrote=wrote)
        if ok:
            self.versions.put(payload.onec_ref, self.current_versions[payload.onec_ref])
