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
