"""Generic sync engine: command groups packed into batches of ≤50 with $result chaining, links and problems.

A *group* holds the commands of one 1С record (e.g. company → requisite → addresses → bank details). A group
never straddles two batch requests, so later commands can reference earlier results with
``$result[key][field]`` (reference bitrix24-rest.md §2.6). Each command carries a callback that records
what was created (an ``EntityLink``) as soon as its batch returns; links are flushed to the database after
every batch, so an interruption loses at most one batch of links — and the next run finds those records
again by their external keys (originId / XML_ID / xmlId) instead of creating duplicates.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from .mapping.payloads import Problem
from .models import EntityLink, SourceVersion, SyncProblem

logger = logging.getLogger(__name__)
BATCH_LIMIT = 50


@dataclass(frozen=True)
class ResultRef:
    """A reference to the result of an earlier command of the same group: ``$result[key][path…]``."""

    key: str
    path: tuple[str, ...] = ()


@dataclass
class Command:
    key: str
    method: str
    params: dict
    on_success: Callable[[Any, Callable[[ResultRef], Any]], None] | None = None
    on_error: Callable[[Any], bool] | None = None  # return True when the error is handled (e.g. retried)


@dataclass
class CommandGroup:
    """The commands of one 1С record; `on_done(ok)` runs after its batch with ok = no command failed."""

    kind: str
    onec_ref: str
    label: str
    commands: list[Command] = field(default_factory=list)
    on_done: Callable[[bool, list[str]], None] | None = None


def _resolve_placeholders(value, prefix: str):
    if isinstance(value, ResultRef):
        return f"$result[{prefix}{value.key}]" + "".join(f"[{p}]" for p in value.path)
    if isinstance(value, dict):
        return {k: _resolve_placeholders(v, prefix) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_resolve_placeholders(v, prefix) for v in value]
    return value


def _dig(result, path: tuple[str, ...]):
    for part in path:
        result = result[int(part)] if isinstance(result, list) else result[part]
    return result


class BatchExecutor:
    """Packs command groups into batch requests of ≤50 commands and dispatches results to callbacks."""

    def __init__(self, client, *, batch_size: int = BATCH_LIMIT, after_batch: Callable[[], None] | None = None):
        self.client = client
        self.batch_size = batch_size
        self.after_batch = after_batch
        self._pending: list[CommandGroup] = []
        self._pending_commands = 0
        self._dispatching = False

    def submit(self, group: CommandGroup) -> None:
        if not group.commands:
            if group.on_done:
                group.on_done(True, [])
            return
        if len(group.commands) > BATCH_LIMIT:
            raise ValueError(f"A group of {len(group.commands)} commands cannot fit one batch ({group.label}).")
        self._pending.append(group)
        self._pending_commands += len(group.commands)
        if not self._dispatching:  # groups submitted from callbacks wait for the current batch to finish
            while self._pending_commands >= self.batch_size:
                self._run_one_batch()

    def drain(self) -> None:
        while self._pending:
            self._run_one_batch()

    def _take_batch(self) -> list[CommandGroup]:
        taken, size = [], 0  # a group is never split (its commands chain): it may exceed a small batch_size alone
        while self._pending and (not taken or size + len(self._pending[0].commands) <= self.batch_size):
            group = self._pending.pop(0)
            taken.append(group)
            size += len(group.commands)
        self._pending_commands -= size
        return taken

    def _run_one_batch(self) -> None:
        groups = self._take_batch()
        commands = {}
        for index, group in enumerate(groups):
            prefix = f"g{index}_"
            for command in group.commands:
                commands[prefix + command.key] = (command.method, _resolve_placeholders(command.params, prefix))
        outcome = self.client.batch(commands)
        self._dispatching = True
        try:
            for index, group in enumerate(groups):
                self._dispatch(group, f"g{index}_", outcome)
        finally:
            self._dispatching = False
        if self.after_batch:
            self.after_batch()

    def _dispatch(self, group: CommandGroup, prefix: str, outcome) -> None:
        errors: list[str] = []

        def lookup(ref: ResultRef):
            return _dig(outcome.results[prefix + ref.key], ref.path)

        for command in group.commands:
            key = prefix + command.key
            if key in outcome.errors:
                error = outcome.errors[key]
                if not (command.on_error and command.on_error(error)):
                    errors.append(f"{command.method}: {error}")
            elif key in outcome.results and command.on_success:
                command.on_success(outcome.results[key], lookup)
        if group.on_done:
            group.on_done(not errors, errors)


class LinkStore:
    """EntityLinks of one portal, loaded per chunk and written back in bulk after each batch."""

    def __init__(self, portal):
        self.portal = portal
        self._links: dict[tuple[str, str], EntityLink] = {}
        self._dirty: dict[tuple[str, str], EntityLink] = {}

    def load(self, kind: str, refs: Iterable[str]) -> None:
        refs = [r for r in refs if (kind, r) not in self._links]
        for start in range(0, len(refs), 1000):
            for link in EntityLink.objects.filter(portal=self.portal, kind=kind, onec_ref__in=refs[start:start + 1000]):
                self._links[(kind, link.onec_ref)] = link

    def load_all(self, kind: str) -> dict[str, EntityLink]:
        for link in EntityLink.objects.filter(portal=self.portal, kind=kind):
            self._links.setdefault((kind, link.onec_ref), link)
        return {ref: link for (k, ref), link in self._links.items() if k == kind}

    def get(self, kind: str, ref: str) -> EntityLink | None:
        return self._links.get((kind, ref))

    def bitrix_id(self, kind: str, ref: str | None) -> str | None:
        link = self._links.get((kind, ref)) if ref else None
        return link.bitrix_id if link else None

    def put(self, kind: str, ref: str, bitrix_id, content_hash: str = "", state: dict | None = None) -> None:
        link = self._links.get((kind, ref)) or EntityLink(portal=self.portal, kind=kind, onec_ref=ref)
        link.bitrix_id, link.content_hash = str(bitrix_id), content_hash
        if state is not None:
            link.state = state
        self._links[(kind, ref)] = self._dirty[(kind, ref)] = link

    def flush(self) -> None:
        if not self._dirty:
            return
        now = timezone.now()
        for link in self._dirty.values():
            link.synced_at = now
        EntityLink.objects.bulk_create(
            list(self._dirty.values()), update_conflicts=True, unique_fields=["portal", "kind", "onec_ref"],
            update_fields=["bitrix_id", "content_hash", "state", "synced_at"],
        )
        self._dirty.clear()


class ProblemLog:
    """Collects SyncProblems per record; a record that synced cleanly resolves its earlier problems."""

    def __init__(self, portal):
        self.portal = portal
        self._reported: dict[tuple[str, str], tuple[str, list[Problem]]] = {}

    def report(self, kind: str, ref: str, label: str, problems: Iterable[Problem]) -> None:
        """Replace what is known about this record; several findings of one code become one problem."""
        merged: dict[str, list[str]] = {}
        for problem in problems:
            merged.setdefault(problem.code, []).append(problem.message)
        self._reported[(kind, ref)] = (label[:300], [Problem(c, " ".join(dict.fromkeys(m))) for c, m in merged.items()])

    def count(self) -> int:
        return sum(len(p) for _, p in self._reported.values())

    @transaction.atomic
    def flush(self) -> None:
        if not self._reported:
            return
        now = timezone.now()
        rows, keep = [], defaultdict(set)
        for (kind, ref), (label, problems) in self._reported.items():
            keep[(kind, ref)] = {p.code for p in problems}
            for p in problems:
                rows.append(SyncProblem(portal=self.portal, kind=kind, onec_ref=ref, label=label, code=p.code,
                                        reason=p.message, resolved_at=None, last_seen=now))
        SyncProblem.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["portal", "kind", "onec_ref", "code"],
            update_fields=["label", "reason", "resolved_at", "last_seen"],
        )
        self._resolve_others(keep, now)
        self._reported.clear()

    def _resolve_others(self, keep: dict, now) -> None:
        by_kind = defaultdict(list)
        for kind, ref in keep:
            by_kind[kind].append(ref)
        for kind, refs in by_kind.items():
            open_problems = SyncProblem.objects.filter(portal=self.portal, kind=kind, onec_ref__in=refs,
                                                       resolved_at__isnull=True)
            stale = [p.pk for p in open_problems if p.code not in keep[(kind, p.onec_ref)]]
            if stale:
                SyncProblem.objects.filter(pk__in=stale).update(resolved_at=now)


@dataclass
class KindCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    problems: int = 0
    onec_records: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    def count_record(self, problems: list, *, ok: bool, skipped=False, created=False, wrote=False) -> None:
        """One record's outcome: failed, skipped, created, updated (something written) or unchanged."""
        self.problems += len(problems)
        if not ok:
            self.failed += 1
        elif skipped:
            self.skipped += 1
        elif created:
            self.created += 1
        elif wrote:
            self.updated += 1
        else:
            self.unchanged += 1


def rejected_by_bitrix(errors: list[str]) -> list[Problem]:
    """Per-command errors of a record's batch, as problems the administrator sees."""
    return [Problem("bitrix_error", f"Битрикс24 отклонил запись: {error}") for error in errors]


class VersionStore:
    """Last synced 1С versions of one entity set; a version is stored only once its record fully synced."""

    def __init__(self, portal, entity_set: str):
        self.portal = portal
        self.entity_set = entity_set
        self._dirty: dict[str, str] = {}

    def load(self) -> dict[str, str]:
        rows = SourceVersion.objects.filter(portal=self.portal, entity_set=self.entity_set)
        return dict(rows.values_list("onec_ref", "version"))

    def put(self, ref: str, version: str) -> None:
        self._dirty[ref] = version

    def forget(self, ref: str) -> None:
        SourceVersion.objects.filter(portal=self.portal, entity_set=self.entity_set, onec_ref=ref).delete()

    def flush(self) -> None:
        if not self._dirty:
            return
        SourceVersion.objects.bulk_create(
            [SourceVersion(portal=self.portal, entity_set=self.entity_set, onec_ref=ref, version=version)
             for ref, version in self._dirty.items()],
            update_conflicts=True, unique_fields=["portal", "entity_set", "onec_ref"], update_fields=["version"],
        )
        self._dirty.clear()


def read_changed(reader, changes, size: int) -> Iterable[list]:
    """Full records of the changed refs in chunks of `size`. When most records changed (the first sync), one
    bulk read lets the reader page through whole entity sets instead of sending OR-chains of refs."""
    refs = changes.changed_refs
    if len(refs) >= 200 and len(refs) >= 0.5 * len(changes.versions):
        records = reader.read(refs)
        yield from chunked(records, size)
        return
    for part in chunked(refs, size):
        yield reader.read(part)


def chunked(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
