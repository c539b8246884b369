"""Everything one sync run shares: portal, settings, both clients, links, problems, counts, progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bx24app.bitrix.client import BitrixClient
from bx24app.bitrix.stats import RequestStats
from bx24app.models import Portal, PortalSettings
from sync.engine import BATCH_LIMIT, BatchExecutor, KindCounts, LinkStore, ProblemLog
from sync.mapping.users import match_onec_users
from sync.onec.client import ODataClient, OneCStats
from sync.onec.users import read_users


@dataclass
class SyncContext:
    portal: Portal
    settings: PortalSettings
    bitrix: BitrixClient
    onec: ODataClient
    bitrix_stats: RequestStats
    onec_stats: OneCStats
    full: bool = False
    batch_size: int = BATCH_LIMIT
    on_progress: Callable[[str, int, int], None] | None = None
    counts: dict[str, KindCounts] = field(default_factory=dict)
    links: LinkStore = None
    problems: ProblemLog = None
    _cache: dict = field(default_factory=dict)

    def __post_init__(self):
        self.links = self.links or LinkStore(self.portal)
        self.problems = self.problems or ProblemLog(self.portal)

    def counts_for(self, kind: str) -> KindCounts:
        return self.counts.setdefault(kind, KindCounts())

    def progress(self, kind: str, done: int, total: int) -> None:
        if self.on_progress:
            self.on_progress(kind, done, total)

    def executor(self) -> BatchExecutor:
        return BatchExecutor(self.bitrix, batch_size=self.batch_size, after_batch=self.flush)

    def flush(self) -> None:
        self.links.flush()
        self.problems.flush()

    def lookup(self, commands: dict[str, tuple[str, dict]]) -> dict:
        """Run read-only commands in batches of ≤50; returns {key: result} (failed lookups are left out)."""
        results: dict = {}
        keys = list(commands)
        for start in range(0, len(keys), self.batch_size):
            part = {k: commands[k] for k in keys[start:start + self.batch_size]}
            results.update(self.bitrix.batch(part).results)
        return results

    def preset_id(self, xml_id: str) -> int:
        """Requisite presets are portal data: resolved by XML_ID, never by number (reference §3.3)."""
        if "presets" not in self._cache:
            presets = self.bitrix.call("crm.requisite.preset.list", {"select": ["ID", "XML_ID", "NAME"]})
            self._cache["presets"] = {p.get("XML_ID"): int(p["ID"]) for p in presets}
        try:
            return self._cache["presets"][xml_id]
        except KeyError:
            raise LookupError(f"На портале нет шаблона реквизитов {xml_id}: восстановите стандартные шаблоны.") \
                from None

    def assigned_for(self, onec_user_ref: str | None) -> int | None:
        """The portal user responsible for a 1С manager: the administrator's mapping, else a match by e-mail
        or ФИО (computed once per run), else the default responsible."""
        mapped = self.settings.user_map.get(onec_user_ref or "")
        if not mapped and onec_user_ref:
            mapped = self._automatic_user_map().get(onec_user_ref)
        return int(mapped) if mapped else self.settings.default_responsible_id

    def _automatic_user_map(self) -> dict[str, int]:
        if "user_map" not in self._cache:
            onec_rows = [{"ref": u.ref, "name": u.name, "email": u.email}
                         for u in read_users(self.onec) if not u.deletion_mark]
            self._cache["user_map"] = match_onec_users(onec_rows, self._portal_users())
        return self._cache["user_map"]

    def _portal_users(self) -> list[dict]:
        """Active portal users; user.get pages with start/next (its filter is FILTER, not the CRM one)."""
        users, start = [], 0
        while True:
            answer = self.bitrix.call_raw("user.get", {"FILTER": {"ACTIVE": True}, "start": start})
            users += answer.get("result") or []
            if "next" not in answer:
                return users
            start = answer["next"]

    def stats_snapshot(self) -> dict:
        return {"rest_requests": self.bitrix_stats.requests, "rest_commands": self.bitrix_stats.commands,
                "onec_requests": self.onec_stats.requests}


def context_for_portal(portal: Portal, *, full: bool = False, batch_size: int = BATCH_LIMIT,
                       on_progress=None) -> SyncContext:
    settings = portal.settings
    bitrix_stats, onec_stats = RequestStats(), OneCStats()
    return SyncContext(
        portal=portal, settings=settings,
        bitrix=BitrixClient(portal, stats=bitrix_stats),
        onec=ODataClient(settings.onec_url, settings.onec_user, settings.onec_password, stats=onec_stats),
        bitrix_stats=bitrix_stats, onec_stats=onec_stats, full=full, batch_size=batch_size, on_progress=on_progress,
    )

