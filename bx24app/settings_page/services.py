"""Write-side of the settings page: saving a section without touching the others, creating stages, starting
a sync, asking to retry a problem."""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

from bx24app import portal_schema
from bx24app.models import Portal, PortalSettings
from bx24app.services import portal_settings_update
from sync.locks import portal_sync_busy
from sync.mapping.users import match_onec_users
from sync.models import SyncProblem, SyncRun
from sync.services.runs import KINDS as SYNC_KINDS
from sync.services.runs import sync_run_request

from . import selectors

log = logging.getLogger(__name__)


def portal_settings_for(portal: Portal) -> PortalSettings:
    portal_settings, _ = PortalSettings.objects.get_or_create(portal=portal)
    return portal_settings


def settings_save(portal: Portal, **changes) -> PortalSettings:
    """Save only the given fields (``bx24app.services.portal_settings_update``: row lock, other fields untouched).
    Raises ``django.core.exceptions.ValidationError`` with Russian messages per field."""
    return portal_settings_update(portal, **changes)


def stages_save(portal: Portal, category_id: int, choices: dict[str, str]) -> dict[str, str]:
    """``choices``: logical code → STATUS_ID or ``CREATE``. Creates what is asked for (``crm.status.add``
    with the spec's name; the portal adds the ``C<n>:`` prefix) and saves pipeline + stage map."""
    pipelines = {p.id: p for p in selectors.portal_pipelines(portal)}
    existing = {s["STATUS_ID"] for s in pipelines[category_id].stages} if category_id in pipelines else set()
    stage_map = {}
    for stage in selectors.logical_stages():
        chosen = choices.get(stage.code)
        if chosen == selectors.CREATE:
            status_id = portal_schema.portal_stage_id(stage, category_id)
            if status_id not in existing:
                selectors.portal_call(portal, "crm.status.add", {"fields": {
                    "ENTITY_ID": portal_schema.stage_entity_id(category_id),
                    "STATUS_ID": status_id,
                    "NAME": stage.name,
                    "SORT": stage.sort,
                    "COLOR": stage.color,
                    "SEMANTICS": "",
                }})
            chosen = status_id
        if chosen:
            stage_map[stage.code] = chosen
    settings_save(portal, category_id=category_id, stage_map=stage_map)
    return stage_map


def user_map_suggestion(portal: Portal, portal_settings: PortalSettings, onec_rows, portal_rows) -> dict:
    """The saved map, completed with automatic name/e-mail matches for 1С users not mapped yet."""
    saved = {str(k): v for k, v in (portal_settings.user_map or {}).items()}
    auto = match_onec_users(onec_rows, portal_rows)
    return {row["ref"]: saved.get(row["ref"], auto.get(row["ref"])) for row in onec_rows}


# ---- sync ---------------------------------------------------------------------------------------------------
def sync_start(portal: Portal, kinds: list[str] | None = None, trigger: str = "manual") -> None:
    """Queue a sync run (``sync.services.runs.sync_run_request``: sent to a worker after commit)."""
    sync_run_request(portal, trigger=trigger, kinds=kinds)


# SyncProblem.kind (an entity kind) → the sync kind that (re)processes it
_PROBLEM_KIND_TO_SYNC = (
    (("counterpart", "company", "contact", "requisite", "bank", "address"), "counterparties"),
    (("product", "price", "nomenclature"), "products"),
    (("order", "deal", "invoice", "payment", "realization", "shipment"), "orders"),
)


def sync_kind_for_problem(kind: str) -> list[str] | None:
    kind = (kind or "").lower()
    if kind in SYNC_KINDS:
        return [kind]
    for needles, sync_kind in _PROBLEM_KIND_TO_SYNC:
        if any(n in kind for n in needles):
            return [sync_kind]
    return None  # unknown: run everything


def sync_running(portal: Portal) -> bool:
    """A run counts as running only while its process holds the portal lock (a killed worker's row does not)."""
    return SyncRun.objects.filter(portal=portal, status=SyncRun.Status.RUNNING).exists() and portal_sync_busy(portal)


def problem_retry(portal: Portal, problem_id: int) -> SyncProblem:
    """Mark a problem for retry: re-queue a sync of its kind. The problem stays until the record syncs."""
    problem = SyncProblem.objects.get(portal=portal, pk=problem_id)
    cache.set(selectors.retry_cache_key(problem), time.time(), 24 * 3600)
    sync_start(portal, kinds=sync_kind_for_problem(problem.kind), trigger="retry")
    return problem
