"""Sync 1С «Контрагенты» → Bitrix24 companies/contacts with requisites, addresses, bank details, contact persons."""

from __future__ import annotations

from dataclasses import asdict, replace

from sync.engine import Command, CommandGroup, ResultRef, VersionStore, chunked, read_changed, rejected_by_bitrix
from sync.mapping.counterparties import counterparty_to_bundle
from sync.mapping.payloads import ORIGINATOR_ID, ClientBundle, CrmItemPayload, Problem, content_hash
from sync.models import EntityLink
from sync.onec.counterparties import COUNTERPARTIES, CounterpartyReader
from sync.onec.users import user_refs

from .context import SyncContext
from .multifields import multifield_changes

KIND = "counterparty"
CHUNK = 1000  # records planned together: their look-ups share batches (fewer partly filled requests)
ENTITY_TYPES = {"company": 4, "contact": 3}
REMOVED = Problem("removed_in_1c", "Контрагент удален из 1С; запись в CRM оставлена.")


def counterparties_sync(ctx: SyncContext) -> None:
    """Read what changed in 1С, map it, and upsert it into the CRM in batches; one bad record stops nothing."""
    reader = CounterpartyReader(ctx.onec)
    versions = VersionStore(ctx.portal, COUNTERPARTIES)
    changes = reader.scan({} if ctx.full else versions.load())
    counts = ctx.counts_for(KIND)
    counts.onec_records += len(changes.versions)
    counts.unchanged += len(changes.versions) - len(changes.changed_refs)
    executor = ctx.executor()
    planner = CounterpartyPlanner(ctx, versions, changes.versions, executor)
    done = 0
    for records in read_changed(reader, changes, CHUNK):
        planner.plan(records)
        done += len(records)
        ctx.progress(KIND, done, len(changes.changed_refs))
    executor.drain()
    ctx.flush()
    versions.flush()
    for ref in changes.removed_refs:
        ctx.problems.report(KIND, ref, ref, [REMOVED])
    ctx.flush()


class CounterpartyPlanner:
    """Turns mapped bundles into command groups: create what is new, update only what changed."""

    def __init__(self, ctx: SyncContext, versions: VersionStore, current_versions: dict, executor):
        self.ctx, self.versions, self.current_versions, self.executor = ctx, versions, current_versions, executor
        self.links = ctx.links
        self.counts = ctx.counts_for(KIND)

    def plan(self, records) -> None:
        users = self._onec_user_refs()
        for kind in ("company", "contact"):  # links first: the responsible is looked up for new records only
            self.links.load(kind, [cp.ref for cp in records])
        bundles = [counterparty_to_bundle(cp, assigned_by_id=self._responsible_if_new(cp),
                                          manager_known=cp.main_manager_ref in users) for cp in records]
        bundles = self._flag_duplicate_inns(bundles)
        self._load_links(bundles)
        LinkRecovery(self.ctx).recover([b for b in bundles if b.item])
        existing_fm = self._read_multifields(bundles)
        for bundle in bundles:
            self._submit(bundle, existing_fm)

    def _responsible_if_new(self, cp) -> int | None:
        """assignedById is set only when the record is created (then it is the manager's): no user lookups
        for records that already exist in the CRM."""
        if self.links.get("company", cp.ref) or self.links.get("contact", cp.ref):
            return None
        return self.ctx.assigned_for(cp.main_manager_ref)

    def _onec_user_refs(self) -> set[str]:
        """1С users, read once per run (one request), to tell a dangling main-manager reference."""
        if not hasattr(self, "_users"):
            self._users = user_refs(self.ctx.onec)
        return self._users

    def _flag_duplicate_inns(self, bundles: list[ClientBundle]) -> list[ClientBundle]:
        """Several 1С counterparties with one ИНН stay separate companies, and the administrator is told."""
        by_inn: dict[str, set[str]] = {}
        for bundle in bundles:
            if bundle.match_inn:
                by_inn.setdefault(bundle.match_inn, set()).add(bundle.onec_ref)
        synced = EntityLink.objects.filter(portal=self.ctx.portal, kind="company", state__inn__in=list(by_inn))
        for state, ref in synced.values_list("state", "onec_ref"):  # whole JSON: SQLite would cast a key to int
            by_inn.setdefault(str((state or {}).get("inn", "")), set()).add(ref)
        return [self._with_duplicate_problem(b, len(by_inn.get(b.match_inn, ())) - 1) for b in bundles]

    @staticmethod
    def _with_duplicate_problem(bundle: ClientBundle, others: int) -> ClientBundle:
        if others < 1:
            return bundle
        problem = Problem("duplicate_inn", f"ИНН {bundle.match_inn} указан еще у {others} контрагент(ов) 1С: "
                                           f"в CRM это отдельные компании — проверьте, не дубли ли это в 1С.")
        return replace(bundle, problems=(*bundle.problems, problem))

    # ------------------------------------------------------------------ links
    def _load_links(self, bundles: list[ClientBundle]) -> None:
        refs = [b.onec_ref for b in bundles]
        for kind in ("company", "contact", "requisite"):
            self.links.load(kind, refs)
        self.links.load("address", [f"{b.onec_ref}:{a.type_id}" for b in bundles for a in b.addresses])
        self.links.load("bankdetail", [d.onec_ref for b in bundles for d in b.bank_details])
        self.links.load("contact_person", [p.onec_ref for b in bundles for p in b.contact_persons])

    def _read_multifields(self, bundles: list[ClientBundle]) -> dict[tuple[int, str], list]:
        """Current phones/e-mails with their ids, only for entities we are about to update."""
        commands = {}
        for kind, ref, item, state in _items(bundles):
            link = self.links.get(kind, ref)
            if link and link.content_hash != _entity_hash(item, state):
                commands[f"{item.entity_type_id}_{link.bitrix_id}"] = (
                    "crm.item.get", {"entityTypeId": item.entity_type_id, "id": int(link.bitrix_id)})
        results = self.ctx.lookup(commands)
        return {(int(k.split("_")[0]), k.split("_")[1]): (v.get("item") or {}).get("fm", [])
                for k, v in results.items()}

    # ------------------------------------------------------------------ groups
    def _submit(self, bundle: ClientBundle, existing_fm) -> None:
        if bundle.item is None:
            self._finish(bundle, True, [], skipped=True)
            return
        group = CommandGroup(KIND, bundle.onec_ref, bundle.label)
        is_new = self.links.get(bundle.kind, bundle.onec_ref) is None
        entity_id = self._entity_command(group, "e", bundle.kind, bundle.onec_ref, bundle.item, existing_fm,
                                         state=_entity_state(bundle))
        if bundle.requisite:
            requisite_id = self._requisite_commands(group, bundle, entity_id)
            self._address_commands(group, bundle, requisite_id)
            self._bank_detail_commands(group, bundle, requisite_id)
        persons_inline = len(group.commands) + len(bundle.contact_persons) <= self.ctx.batch_size
        if persons_inline:
            for index, person in enumerate(bundle.contact_persons):
                self._entity_command(group, f"p{index}", "contact_person", person.onec_ref, person.item, existing_fm,
                                     {"companyId": entity_id})
        wrote = bool(group.commands)

        def on_done(ok: bool, errors: list[str]) -> None:
            if ok and not persons_inline:
                self._submit_persons(bundle, existing_fm)
            self._finish(bundle, ok, errors, wrote=wrote, created=is_new)

        group.on_done = on_done
        self.executor.submit(group)

    def _entity_command(self, group, key, kind, ref, item: CrmItemPayload, existing_fm, extra=None, state=None):
        """Create the crm.item, or update the fields we own when they changed; returns its id (or a $result)."""
        link = self.links.get(kind, ref)
        item_hash = _entity_hash(item, state)
        sent = {"fm": [asdict(m) for m in item.multifields], **(state or {})}
        if link is None:
            fm = [{"typeId": m.type_id, "valueType": m.value_type, "value": m.value} for m in item.multifields]
            fields = {**item.fields, **item.create_only_fields, **(extra or {}), "fm": fm}
            group.commands.append(Command(key, "crm.item.add", {"entityTypeId": item.entity_type_id, "fields": fields},
                                          on_success=lambda r, _: self.links.put(kind, ref, r["item"]["id"],
                                                                                 item_hash, sent)))
            return ResultRef(key, ("item", "id"))
        if link.content_hash != item_hash:
            current = existing_fm.get((item.entity_type_id, link.bitrix_id), [])
            fields = {**item.fields, **(extra or {}),
                      "fm": multifield_changes(current, item.multifields, link.state.get("fm"))}
            bitrix_id = link.bitrix_id
            group.commands.append(Command(key, "crm.item.update", {
                "entityTypeId": item.entity_type_id, "id": int(bitrix_id), "fields": fields},
                on_success=lambda r, _: self.links.put(kind, ref, bitrix_id, item_hash, sent)))
        return int(link.bitrix_id)

    def _requisite_commands(self, group, bundle: ClientBundle, entity_id):
        requisite = bundle.requisite
        link = self.links.get("requisite", bundle.onec_ref)
        req_hash = content_hash(requisite)
        ref = bundle.onec_ref
        fields = {**requisite.fields, "XML_ID": requisite.xml_id, "ORIGINATOR_ID": ORIGINATOR_ID}
        if link is None:
            fields.update(ENTITY_TYPE_ID=ENTITY_TYPES[bundle.kind], ENTITY_ID=entity_id,
                          PRESET_ID=self.ctx.preset_id(requisite.preset_xml_id))
            group.commands.append(Command("r", "crm.requisite.add", {"fields": fields},
                                          on_success=lambda r, _: self.links.put("requisite", ref, r, req_hash)))
            return ResultRef("r")
        if link.content_hash != req_hash:
            group.commands.append(Command("r", "crm.requisite.update", {"id": int(link.bitrix_id), "fields": fields},
                                          on_success=lambda r, _: self.links.put("requisite", ref, link.bitrix_id,
                                                                                 req_hash)))
        return int(link.bitrix_id)

    def _address_commands(self, group, bundle: ClientBundle, requisite_id) -> None:
        for address in bundle.addresses:
            key = f"{bundle.onec_ref}:{address.type_id}"
            link = self.links.get("address", key)
            address_hash = content_hash(address)
            if link and link.content_hash == address_hash and not isinstance(requisite_id, ResultRef):
                continue
            fields = {**address.fields, "TYPE_ID": address.type_id, "ENTITY_TYPE_ID": 8, "ENTITY_ID": requisite_id}
            method = "crm.address.update" if link and not isinstance(requisite_id, ResultRef) else "crm.address.add"
            group.commands.append(Command(
                f"a{address.type_id}", method, {"fields": fields},
                on_success=self._address_saver(key, requisite_id, address_hash),
                on_error=self._address_conflict(bundle, key, fields, address_hash, method)))

    def _address_saver(self, key, requisite_id, address_hash):
        def save(_result, lookup):
            req = lookup(requisite_id) if isinstance(requisite_id, ResultRef) else requisite_id
            self.links.put("address", key, req, address_hash)
        return save

    def _address_conflict(self, bundle, key, fields, address_hash, method):
        """An address of that type already exists on the requisite (a crash, or a manager): update it instead."""
        def retry(error) -> bool:
            if method != "crm.address.add" or "exist" not in str(error).lower() or \
                    isinstance(fields["ENTITY_ID"], ResultRef):
                return False
            group = CommandGroup(KIND, bundle.onec_ref, bundle.label, [Command(
                "u", "crm.address.update", {"fields": fields},
                on_success=lambda r, _: self.links.put("address", key, fields["ENTITY_ID"], address_hash))])
            self.executor.submit(group)
            return True
        return retry

    def _bank_detail_commands(self, group, bundle: ClientBundle, requisite_id) -> None:
        for index, detail in enumerate(bundle.bank_details):
            link = self.links.get("bankdetail", detail.onec_ref)
            detail_hash = content_hash(detail)
            ref = detail.onec_ref
            if link is None or isinstance(requisite_id, ResultRef):
                fields = {**detail.fields, "ENTITY_ID": requisite_id}
                group.commands.append(Command(f"b{index}", "crm.requisite.bankdetail.add", {"fields": fields},
                                              on_success=lambda r, _, ref=ref, h=detail_hash:
                                              self.links.put("bankdetail", ref, r, h)))
            elif link.content_hash != detail_hash:
                group.commands.append(Command(f"b{index}", "crm.requisite.bankdetail.update",
                                              {"id": int(link.bitrix_id), "fields": detail.fields},
                                              on_success=lambda r, _, ref=ref, h=detail_hash, i=link.bitrix_id:
                                              self.links.put("bankdetail", ref, i, h)))

    def _submit_persons(self, bundle: ClientBundle, existing_fm) -> None:
        company_id = int(self.links.get(bundle.kind, bundle.onec_ref).bitrix_id)
        for person in bundle.contact_persons:
            group = CommandGroup("contact_person", person.onec_ref, person.label)
            self._entity_command(group, "p", "contact_person", person.onec_ref, person.item, existing_fm,
                                 {"companyId": company_id})
            self.executor.submit(group)

    # ------------------------------------------------------------------ outcome
    def _finish(self, bundle: ClientBundle, ok: bool, errors: list[str], *, skipped=False, wrote=False,
                created=False) -> None:
        problems = [*bundle.problems, *rejected_by_bitrix(errors)]
        self.ctx.problems.report(KIND, bundle.onec_ref, bundle.label, problems)
        for person in bundle.contact_persons:
            self.ctx.problems.report("contact_person", person.onec_ref, person.label, person.problems)
        self.counts.count_record(problems, ok=ok, skipped=skipped, created=created, wrote=wrote)
        if ok:
            self.versions.put(bundle.onec_ref, self.current_versions[bundle.onec_ref])

def _items(bundles: list[ClientBundle]):
    for bundle in bundles:
        if bundle.item:
            yield bundle.kind, bundle.onec_ref, bundle.item, _entity_state(bundle)
            for person in bundle.contact_persons:
                yield "contact_person", person.onec_ref, person.item, None


def _entity_state(bundle: ClientBundle) -> dict | None:
    """What the company link remembers besides multifields: its ИНН, to tell duplicates in 1С."""
    return {"inn": bundle.match_inn} if bundle.match_inn else None


def _entity_hash(item: CrmItemPayload, state: dict | None) -> str:
    return content_hash([item, state]) if state else content_hash(item)


class LinkRecovery:
    """Finds CRM records we created before without a saved link (crash) or that managers created (first sync)."""

    def __init__(self, ctx: SyncContext):
        self.ctx = ctx
        self.links = ctx.links

    def recover(self, bundles: list[ClientBundle]) -> None:
        wanted = self._missing(bundles)
        if not any(wanted.values()):
            return
        results = self.ctx.lookup(self._commands(wanted))
        self._apply_origin_matches(results, {p.onec_ref for p in wanted["contact_person"]})
        self._apply_xml_matches(results, wanted)
        self._apply_inn_matches(results, wanted["company"])
        self._apply_comm_matches(results, wanted["contact"])

    def _missing(self, bundles: list[ClientBundle]) -> dict[str, list]:
        wanted = {kind: [] for kind in ("company", "contact", "contact_person", "requisite", "bankdetail")}
        for bundle in bundles:
            if not self.links.get(bundle.kind, bundle.onec_ref):
                wanted[bundle.kind].append(bundle)
            if bundle.requisite and not self.links.get("requisite", bundle.onec_ref):
                wanted["requisite"].append(bundle)
            wanted["bankdetail"] += [d for d in bundle.bank_details if not self.links.get("bankdetail", d.onec_ref)]
            wanted["contact_person"] += [p for p in bundle.contact_persons
                                         if not self.links.get("contact_person", p.onec_ref)]
        return wanted

    def _commands(self, wanted) -> dict:
        commands = {}
        by_origin = {"company": (4, [b.onec_ref for b in wanted["company"]]),
                     "contact": (3, [b.onec_ref for b in wanted["contact"]]
                                 + [p.onec_ref for p in wanted["contact_person"]])}
        for kind, (type_id, refs) in by_origin.items():
            for n, part in enumerate(chunked(refs, 50)):
                commands[f"origin_{kind}_{n}"] = ("crm.item.list", {
                    "entityTypeId": type_id, "filter": {"originatorId": ORIGINATOR_ID, "@originId": part},
                    "select": ["id", "originId"], "start": -1})
        for n, part in enumerate(chunked([b.requisite.xml_id for b in wanted["requisite"]], 50)):
            commands[f"xmlreq_{n}"] = ("crm.requisite.list", {"filter": {"@XML_ID": part},
                                                              "select": ["ID", "XML_ID", "ENTITY_ID"]})
        for n, part in enumerate(chunked([d.fields["XML_ID"] for d in wanted["bankdetail"]], 50)):
            commands[f"xmlbank_{n}"] = ("crm.requisite.bankdetail.list", {"filter": {"@XML_ID": part},
                                                                          "select": ["ID", "XML_ID"]})
        inns = sorted({b.match_inn for b in wanted["company"] if b.match_inn})
        for n, part in enumerate(chunked(inns, 50)):
            commands[f"inn_{n}"] = ("crm.requisite.list", {"filter": {"ENTITY_TYPE_ID": 4, "@RQ_INN": part},
                                                           "select": ["ID", "ENTITY_ID", "RQ_INN", "RQ_KPP"]})
        values = sorted({(t, v) for b in wanted["contact"]
                         for t, vs in (("PHONE", b.match_phones), ("EMAIL", b.match_emails)) for v in vs})
        for n, (comm_type, value) in enumerate(values):  # one value per command: the answer is per request
            commands[f"comm_{n}"] = ("crm.duplicate.findbycomm",
                                     {"type": comm_type, "values": [value], "entity_type": "CONTACT"})
        self._comm_values = {f"comm_{n}": value for n, (_, value) in enumerate(values)}
        return commands

    def _apply_origin_matches(self, results: dict, person_refs: set[str]) -> None:
        for key, result in results.items():
            if not key.startswith("origin_"):
                continue
            kind = key.split("_")[1]
            for item in result.get("items", []):
                target = "contact_person" if kind == "contact" and item["originId"] in person_refs else kind
                self.links.put(target, item["originId"], item["id"])

    def _apply_xml_matches(self, results: dict, wanted) -> None:
        requisite_refs = {b.requisite.xml_id: b.onec_ref for b in wanted["requisite"]}
        for key, result in results.items():
            if key.startswith("xmlreq_"):
                for row in result:
                    if row.get("XML_ID") in requisite_refs:
                        self.links.put("requisite", requisite_refs[row["XML_ID"]], row["ID"])
            elif key.startswith("xmlbank_"):
                for row in result:
                    self.links.put("bankdetail", row["XML_ID"], row["ID"])

    def _apply_inn_matches(self, results: dict, companies: list[ClientBundle]) -> None:
        """First sync on a portal with existing clients: a company with the same ИНН (+КПП) is ours to update."""
        rows = [row for key, result in results.items() if key.startswith("inn_") for row in result]
        taken = self._linked_ids(("company",), {str(r["ENTITY_ID"]) for r in rows})
        rows = [r for r in rows if str(r["ENTITY_ID"]) not in taken]  # another 1С counterparty owns it already
        for bundle in companies:
            if self.links.get("company", bundle.onec_ref) or not bundle.match_inn:
                continue
            candidates = [r for r in rows if r.get("RQ_INN") == bundle.match_inn]
            exact = [r for r in candidates if (r.get("RQ_KPP") or "") == bundle.match_kpp] or candidates
            if exact:
                self.links.put("company", bundle.onec_ref, exact[0]["ENTITY_ID"])
                if bundle.requisite and not self.links.get("requisite", bundle.onec_ref):
                    self.links.put("requisite", bundle.onec_ref, exact[0]["ID"])

    def _linked_ids(self, kinds: tuple[str, ...], bitrix_ids: set[str]) -> set[str]:
        """CRM records already linked to a 1С object are never matched to a second one (duplicates in 1С).
        Links are flushed after every batch, so the database knows every record created so far."""
        linked = EntityLink.objects.filter(portal=self.ctx.portal, kind__in=kinds, bitrix_id__in=bitrix_ids)
        return set(linked.values_list("bitrix_id", flat=True))

    def _apply_comm_matches(self, results: dict, contacts: list[ClientBundle]) -> None:
        """Private persons match existing contacts by phone or e-mail when exactly one contact has it."""
        by_value = {}
        for key, value in self._comm_values.items():
            ids = (results.get(key) or {}).get("CONTACT") if isinstance(results.get(key), dict) else None
            if ids and len(ids) == 1:
                by_value[value] = int(ids[0])
        taken = self._linked_ids(("contact", "contact_person"), {str(i) for i in by_value.values()})
        by_value = {value: id_ for value, id_ in by_value.items() if str(id_) not in taken}
        for bundle in contacts:
            if self.links.get("contact", bundle.onec_ref):
                continue
            ids = {by_value[v] for v in (*bundle.match_phones, *bundle.match_emails) if v in by_value}
            if len(ids) == 1:
                self.links.put("contact", bundle.onec_ref, ids.pop())
