"""Read-side of the settings page: what the portal and 1С offer (pipelines, stages, fields, users, price
types) and what our sync did (runs, problems). Everything the page shows comes through here."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.core.cache import cache
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from bx24app import portal_schema
from bx24app.bitrix.errors import BitrixError
from bx24app.models import Portal, PortalSettings
from sync.models import SyncProblem, SyncRun
from sync.onec.check import PRICE_TYPES
from sync.onec.client import ODataClient
from sync.onec.errors import OneCError
from sync.onec.users import read_users

log = logging.getLogger(__name__)

CREATE = "__create__"  # the «создать» choice of a stage select


class PortalDataUnavailable(Exception):
    """The portal could not be read; the message is shown to the administrator."""


# ---- the logical schema (bx24app.portal_schema) ------------------------------------------------------------
@dataclass(frozen=True)
class LogicalField:
    key: str
    label: str
    user_type: str  # string | date | money | ...
    field_name: str  # default UF name (created on install)


def logical_stages() -> list[portal_schema.LogicalStage]:
    return list(portal_schema.LOGICAL_STAGES)


def logical_fields() -> list[LogicalField]:
    english = (get_language() or "ru").startswith("en")
    return [
        LogicalField(key, spec.label_en if english else spec.label_ru, spec.user_type_id, spec.field_name)
        for key, spec in portal_schema.DEAL_FIELDS.items()
    ]


# compatible deal user field types for each logical type
COMPATIBLE_TYPES = {
    "string": {"string"},
    "date": {"date", "datetime"},
    "datetime": {"datetime", "date"},
    "double": {"double", "money"},
    "money": {"money", "double"},
    "integer": {"integer", "double"},
}


def compatible_types(user_type: str) -> set[str]:
    return COMPATIBLE_TYPES.get(user_type, {user_type})


# ---- portal reads ------------------------------------------------------------------------------------------
def portal_call_raw(portal: Portal, method: str, params: dict | None = None) -> dict:
    """One REST call with the portal's stored (service) credentials; errors → PortalDataUnavailable."""
    try:
        return portal_schema.portal_client(portal).call_raw(method, params or {})
    except BitrixError as error:
        raise PortalDataUnavailable(
            _("Битрикс24 вернул ошибку %(code)s на %(method)s: %(text)s")
            % {"code": error.code or "", "method": method, "text": error.description or error}
        ) from error


def portal_call(portal: Portal, method: str, params: dict | None = None):
    return portal_call_raw(portal, method, params).get("result")


def portal_list(portal: Portal, method: str, params: dict | None = None, key: str | None = None) -> list:
    """A paged list method walked to the end (``start``/``next``)."""
    rows: list = []
    start = 0
    for _page in range(200):
        body = portal_call_raw(portal, method, {**(params or {}), "start": start})
        value = body.get("result")
        page = value.get(key, []) if key and isinstance(value, dict) else value
        rows.extend(page or [])
        if not body.get("next") or not page:
            break
        start = body["next"]
    return rows


@dataclass
class Pipeline:
    id: int
    name: str
    stages: list[dict] = field(default_factory=list)  # {"STATUS_ID", "NAME", "SORT", "SEMANTICS"}


stage_entity_id = portal_schema.stage_entity_id


def portal_pipelines(portal: Portal) -> list[Pipeline]:
    categories = portal_list(portal, "crm.category.list", {"entityTypeId": 2}, key="categories")
    statuses = portal_call(portal, "crm.status.list", {"order": {"SORT": "ASC"}})
    pipelines = []
    for category in sorted(categories, key=lambda c: (int(c.get("sort", 0)), int(c["id"]))):
        entity = stage_entity_id(category["id"])
        stages = [s for s in statuses or [] if s.get("ENTITY_ID") == entity]
        stages.sort(key=lambda s: int(s.get("SORT") or 0))
        pipelines.append(Pipeline(int(category["id"]), str(category.get("name", "")), stages))
    return pipelines


def deal_userfields(portal: Portal) -> list[dict]:
    rows = portal_list(portal, "crm.deal.userfield.list", {"order": {"SORT": "ASC"}})
    return [r for r in rows if str(r.get("MULTIPLE", "N")) != "Y"]


def userfield_label(row: dict) -> str:
    label = row.get("EDIT_FORM_LABEL") or row.get("LIST_COLUMN_LABEL") or ""
    if isinstance(label, dict):
        label = label.get("ru") or next(iter(label.values()), "")
    return str(label or row.get("FIELD_NAME", ""))


def portal_users(portal: Portal) -> list[dict]:
    rows = portal_list(portal, "user.get", {"FILTER": {"ACTIVE": True}, "sort": "LAST_NAME", "order": "ASC"})
    return [r for r in rows if str(r.get("USER_TYPE", "employee")) in ("employee", "")]


def user_display_name(row: dict) -> str:
    parts = [row.get("LAST_NAME", ""), row.get("NAME", ""), row.get("SECOND_NAME", "")]
    name = " ".join(p for p in parts if p).strip()
    return name or row.get("EMAIL", "") or f"#{row.get('ID')}"


# ---- 1С reads -----------------------------------------------------------------------------------------------
def _cache_key(portal: Portal, what: str) -> str:
    return f"settings_page:{portal.pk}:{what}"


def cached_check_report(portal: Portal):
    return cache.get(_cache_key(portal, "check"))


def remember_check_report(portal: Portal, summary: dict) -> None:
    cache.set(_cache_key(portal, "check"), summary, 24 * 3600)


def _page_onec_client(portal_settings: PortalSettings) -> ODataClient:
    """Reads made while rendering the page: short timeout, one attempt (an unreachable 1С must not stall it)."""
    return ODataClient(portal_settings.onec_url, portal_settings.onec_user, portal_settings.onec_password,
                       timeout=PAGE_ONEC_TIMEOUT, retries=1)


PAGE_ONEC_TIMEOUT = 8


def onec_price_types(portal: Portal, portal_settings: PortalSettings | None = None) -> list[str] | None:
    """Names of 1С price types (``Catalog_ТипыЦенНоменклатуры``): from the last successful connection check,
    else read once and cached for five minutes. None when 1С is not configured or cannot be read."""
    summary = cached_check_report(portal)
    if summary and summary.get("ok"):
        return list(summary.get("price_types") or [])
    portal_settings = portal_settings or PortalSettings.objects.filter(portal=portal).first()
    if portal_settings is None or not portal_settings.onec_configured:
        return None
    key = _cache_key(portal, "price_types")
    names = cache.get(key)
    if names is None:
        client = _page_onec_client(portal_settings)
        try:
            names = [r.get("Description", "") for r in client.iter_rows(PRICE_TYPES, select="Ref_Key,Description")]
        except OneCError as error:
            log.info("price types of portal %s unavailable: %s", portal.member_id, error)
            return None
        cache.set(key, names, 300)
    return list(names)


def onec_users(portal: Portal, portal_settings: PortalSettings) -> list[dict]:
    """1С users (``Catalog_Пользователи``, not marked for deletion); raises OneCError (message for the admin)."""
    key = _cache_key(portal, "onec_users")
    cached = cache.get(key)
    if cached is not None:
        return cached
    client = _page_onec_client(portal_settings)
    rows = [{"ref": u.ref, "name": u.name, "email": u.email} for u in read_users(client) if not u.deletion_mark]
    rows.sort(key=lambda r: r["name"].lower())
    cache.set(key, rows, 300)
    return rows


def forget_onec_cache(portal: Portal) -> None:
    cache.delete_many([_cache_key(portal, what) for what in ("onec_users", "check", "price_types")])


# ---- our own records ------------------------------------------------------------------------------------------
def recent_runs(portal: Portal, limit: int = 10) -> list[SyncRun]:
    return list(SyncRun.objects.filter(portal=portal).order_by("-started_at", "-pk")[:limit])


def open_problems(portal: Portal, limit: int = 200) -> list[SyncProblem]:
    return list(SyncProblem.objects.filter(portal=portal, resolved_at__isnull=True).order_by("-last_seen")[:limit])


def _iso(value):
    return value.isoformat() if value else None


def run_to_json(run: SyncRun | None) -> dict | None:
    if run is None:
        return None
    duration = run.duration
    return {
        "id": run.pk,
        "status": run.status,
        "status_label": str(run.get_status_display()),
        "trigger": run.trigger,
        "kinds": run.kinds,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "duration_seconds": round(duration.total_seconds(), 1) if duration else None,
        "progress": run.progress or {},
        "counts": run.counts or {},
        "rest_requests": run.rest_requests,
        "rest_commands": run.rest_commands,
        "onec_requests": run.onec_requests,
        "error": run.error,
        "running": run.status == SyncRun.Status.RUNNING,
    }


def problem_to_json(problem: SyncProblem) -> dict:
    return {
        "id": problem.pk,
        "kind": problem.kind,
        "code": problem.code,
        "label": problem.label,
        "onec_ref": problem.onec_ref,
        "reason": problem.reason,
        "first_seen": _iso(problem.first_seen),
        "last_seen": _iso(problem.last_seen),
        "retry_requested": retry_pending(problem),
    }


def retry_cache_key(problem: SyncProblem) -> str:
    return f"settings_page:retry:{problem.pk}"


def retry_pending(problem: SyncProblem) -> bool:
    """«Повторить» was pressed and no sync has seen the record since (a later sighting refreshes last_seen)."""
    requested_at = cache.get(retry_cache_key(problem))
    return bool(requested_at) and (problem.last_seen is None or requested_at > problem.last_seen.timestamp())


def sync_status(portal: Portal) -> dict:
    """The latest run (live progress), the last ten runs and the open problems, for the page's polling."""
    runs = recent_runs(portal, limit=10)
    problems = open_problems(portal)
    return {
        "run": run_to_json(runs[0] if runs else None),
        "runs": [run_to_json(r) for r in runs],
        "problems": [problem_to_json(p) for p in problems],
        "problems_total": SyncProblem.objects.filter(portal=portal, resolved_at__isnull=True).count(),
    }
