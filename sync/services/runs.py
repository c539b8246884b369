"""Running a sync for a portal: lock, SyncRun bookkeeping, the kinds in order, progress, and the outcome."""

from __future__ import annotations

import importlib
import logging
import time

from django.db import transaction
from django.utils import timezone

from bx24app.bitrix.errors import BitrixError
from bx24app.models import Portal
from sync.locks import portal_sync_lock
from sync.models import SyncRun
from sync.onec.errors import OneCError

from .context import SyncContext, context_for_portal

logger = logging.getLogger(__name__)
KINDS = ("counterparties", "products", "orders")  # order matters: deals link clients and products
_SERVICES = {
    "counterparties": "sync.services.counterparties.counterparties_sync",
    "products": "sync.services.products.products_sync",
    "orders": "sync.services.orders.orders_sync",
}


def _service(kind: str):
    module, _, name = _SERVICES[kind].rpartition(".")
    return getattr(importlib.import_module(module), name)


def sync_run_execute(portal: Portal, *, kinds=None, trigger: str = "manual", full: bool = False,
                     on_progress=None, batch_size: int | None = None) -> SyncRun:
    """Run the given kinds (all by default) now, in this process; returns the finished SyncRun."""
    kinds = [k for k in KINDS if k in (kinds or KINDS)]
    if not portal.is_active:
        reason = portal.status_reason or "Портал не активен: синхронизация не выполняется."
        return _skipped(portal, trigger, kinds, reason)
    if not portal.settings.onec_configured:
        return _skipped(portal, trigger, kinds, "Не настроено подключение к 1С.")
    with portal_sync_lock(portal) as acquired:
        if not acquired:
            return _skipped(portal, trigger, kinds, "Синхронизация этого портала уже выполняется.")
        _close_interrupted_runs(portal)
        run = SyncRun.objects.create(portal=portal, trigger=trigger, kinds=kinds)
        progress = _ProgressRecorder(run, on_progress)
        extra = {"batch_size": batch_size} if batch_size else {}
        ctx = context_for_portal(portal, full=full, on_progress=progress, **extra)
        try:
            _execute_kinds(ctx, run, kinds)
        except BaseException:  # a stopped worker (KeyboardInterrupt, SystemExit): the run still gets an ending
            run.error = run.error or "Синхронизация прервана: процесс остановлен."
            _finish(ctx, run)
            raise
        return _finish(ctx, run)


def _close_interrupted_runs(portal: Portal) -> None:
    """Runs still "running" while we hold the portal lock died with their process (e.g. a killed worker)."""
    SyncRun.objects.filter(portal=portal, status=SyncRun.Status.RUNNING).update(
        status=SyncRun.Status.FAILED, finished_at=timezone.now(),
        error="Синхронизация прервана: процесс остановлен. Следующий запуск продолжил с того же места.")


def sync_run_request(portal: Portal, *, trigger: str = "manual", kinds=None) -> None:
    """Queue a sync on a worker once the current transaction commits (the "Синхронизировать сейчас" button)."""
    from sync.tasks import sync_portal

    transaction.on_commit(lambda: sync_portal.delay(portal.pk, trigger=trigger, kinds=list(kinds or KINDS)))


def _execute_kinds(ctx: SyncContext, run: SyncRun, kinds) -> None:
    for kind in kinds:
        try:
            _service(kind)(ctx)
        except (BitrixError, OneCError, LookupError) as exc:
            logger.warning("Sync %s of portal %s stopped: %s", kind, ctx.portal.member_id, exc)
            run.error = f"{_KIND_NAMES[kind]}: {exc}"
            break
        except Exception as exc:
            logger.exception("Sync %s of portal %s crashed", kind, ctx.portal.member_id)
            run.error = f"{_KIND_NAMES[kind]}: внутренняя ошибка ({exc.__class__.__name__}: {exc})"
            break
    _flush_quietly(ctx, run)


def _flush_quietly(ctx: SyncContext, run: SyncRun) -> None:
    """Save what the finished batches created; a failure here must not leave the run without an ending."""
    try:
        ctx.flush()
    except Exception as exc:
        logger.exception("Saving links of portal %s failed", ctx.portal.member_id)
        run.error = run.error or f"Не удалось сохранить связи: {exc}"


_KIND_NAMES = {"counterparties": "Контрагенты", "products": "Номенклатура", "orders": "Заказы покупателей"}


def _finish(ctx: SyncContext, run: SyncRun) -> SyncRun:
    run.counts = {kind: counts.as_dict() for kind, counts in ctx.counts.items()}
    stats = ctx.stats_snapshot()
    run.rest_requests, run.rest_commands, run.onec_requests = (
        stats["rest_requests"], stats["rest_commands"], stats["onec_requests"])
    run.finished_at = timezone.now()
    troubled = any(c.problems or c.failed for c in ctx.counts.values())
    if run.error:
        run.status = SyncRun.Status.FAILED
    else:
        run.status = SyncRun.Status.PARTIAL if troubled else SyncRun.Status.SUCCESS
    run.save()
    return run


def _skipped(portal, trigger, kinds, reason: str) -> SyncRun:
    now = timezone.now()
    return SyncRun.objects.create(portal=portal, trigger=trigger, kinds=kinds, status=SyncRun.Status.SKIPPED,
                                  finished_at=now, error=reason)


class _ProgressRecorder:
    """Writes progress into the SyncRun (at most once a second) so the settings page can show it live."""

    def __init__(self, run: SyncRun, forward=None):
        self.run, self.forward, self._last = run, forward, 0.0

    def __call__(self, kind: str, done: int, total: int) -> None:
        self.run.progress[kind] = {"done": done, "total": total}
        if self.forward:
            self.forward(kind, done, total)
        if time.monotonic() - self._last >= 1.0 or done >= total:
            self._last = time.monotonic()
            SyncRun.objects.filter(pk=self.run.pk).update(progress=self.run.progress)
