"""Snapshot diff of versions: which refs are new or changed, which disappeared (reference §1.9)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .records import ChangeSet


def diff_versions(current: dict[str, str], known: dict[str, str], extra_changed: Iterable[str] = ()) -> ChangeSet:
    """ChangeSet of current versions against known ones; extra_changed are reported changed regardless."""
    changed = [ref for ref, version in current.items() if known.get(ref) != version]
    forced = [ref for ref in dict.fromkeys(extra_changed) if ref in current and known.get(ref) == current[ref]]
    removed = [ref for ref in known if ref not in current]
    return ChangeSet(changed_refs=changed + forced, versions=dict(current), removed_refs=removed)


def wants_full_read(wanted: int, total: int, ratio: float = 0.5, minimum: int = 200) -> bool:
    """Paging through the whole set is cheaper than OR-chains when most records are wanted."""
    return wanted >= minimum and wanted >= ratio * total


def group_by(rows: Iterable[dict], key) -> dict:
    groups: dict = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return groups


def unique(values: Iterable) -> Iterator:
    return iter(dict.fromkeys(v for v in values if v))


class Prefetch:
    """After a scan in which most records changed (an initial sync), the first read() of a part of them loads
    all of them with whole-set paging, and the following chunked read() calls are served from memory."""

    def __init__(self, minimum: int = 200):
        self.minimum = minimum
        self.pending: list[str] = []
        self.ready: dict = {}

    def expect(self, changed: list[str], total: int) -> None:
        self.pending = list(changed) if wants_full_read(len(changed), total, minimum=self.minimum) else []
        self.ready = {}

    def take(self, refs: list[str], load) -> list:
        """Records for refs: from the prefetched ones when possible, the rest through load(refs)."""
        if self.pending and set(refs) <= set(self.pending):
            self.ready = {record.ref: record for record in load(self.pending)}
            self.pending = []
        hits = [self.ready.pop(ref) for ref in refs if ref in self.ready]
        found = {record.ref for record in hits}
        rest = [ref for ref in refs if ref not in found]
        return hits + (load(rest) if rest else [])
