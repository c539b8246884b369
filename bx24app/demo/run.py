"""The demo, start to finish: database, emulators, web app + worker, install, configure, first sync, summary,
then the schedule and live events until Ctrl-C."""

from __future__ import annotations

import errno
import logging
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from bx24app.models import PortalSettings
from sync.models import SyncRun
from sync.services.runs import sync_run_execute

from . import console
from . import portal as demo_portal
from .services import DemoServices
from .watch import PortalWatch

log = logging.getLogger(__name__)
WATCH_SECONDS = 2.0
FIRST_SYNC_HINT = {"medium": "; первая синхронизация набора medium при 10/с — около 2–3 минут",
                   "large": "; первая синхронизация набора large — десятки минут"}
MAX_LINES_PER_LOOK = 10


def demo_run(args) -> int:
    log_path = _logging_to_file(args.log)
    services = DemoServices(args)
    try:
        _run(args, services, log_path)
    except KeyboardInterrupt:
        console.say()
        console.say("Остановка (Ctrl-C)…")
    except (demo_portal.DemoSetupError, OSError) as exc:
        hint = (" — порт занят (другое демо еще работает?); выберите другие: --port, --b24-port, --onec-port"
                if getattr(exc, "errno", None) == errno.EADDRINUSE else "")
        console.say(f"Демо не запустилось: {exc}{hint}. Подробности: {log_path}")
        return 1
    finally:
        services.stop()
        _interrupted_runs_close()
    console.say("Демо остановлено.")
    return 0


def _run(args, services: DemoServices, log_path: Path) -> None:
    console.say("Демо коннектора 1С:УТ 10.3 → Битрикс24 (профиль demo)")
    console.step(f"База данных: {demo_portal.database_describe()}; "
                 + (f"Redis: {settings.REDIS_URL} (Celery-воркер на Redis)" if settings.REDIS_URL else
                    "Redis не используется: Celery-воркер в этом процессе (брокер memory://)")
                 + f"; журнал: {log_path}")
    _database_prepare()

    services.start_emulators()
    console.step(f"Эмулятор 1С:УТ 10.3 (набор {args.size}, создан за {services.onec_seconds:.1f} с): "
                 f"{services.onec.odata_url}")
    console.step(f"Эмулятор Битрикс24: {services.bitrix.base_url} — лимит {args.rate:g} запросов/с, burst 50 "
                 f"(у настоящего портала 2/с){FIRST_SYNC_HINT.get(args.size, '')}")
    demo_portal.earlier_demo_portals_retire(services.bitrix.base_url)

    services.start_app()
    console.step(f"Приложение: {settings.APP_BASE_URL} (веб-сервер, Celery-воркер)")

    emu_portal, manager = demo_portal.portal_create(services.bitrix)
    portal = demo_portal.app_install(services.bitrix, emu_portal["member_id"])
    console.step(f"Приложение установлено на портал {portal.domain} (POST {settings.APP_BASE_URL}/bitrix/install/ "
                 "с параметрами установки от портала): события, робот, поля и стадии сделки созданы")
    demo_portal.onec_configure(portal, services.onec, manager)
    console.step(f"Подключение к 1С настроено: {services.onec.odata_url}, пользователь {demo_portal.ONEC_USER}; "
                 f"ответственный за сделки — {manager['NAME']} {manager['LAST_NAME']}")

    console.step("Первая синхронизация: контрагенты → компании и контакты, номенклатура → товары, "
                 "заказы → сделки")
    bar = console.ProgressBar()
    portal.refresh_from_db()
    run = sync_run_execute(portal, trigger="manual", on_progress=bar)
    bar.finish()
    watch = PortalWatch(services.bitrix, portal.member_id)
    stage_map = PortalSettings.objects.get(portal=portal).stage_map
    console.run_summary(run, watch.stage_counts(stage_map), services.bitrix.stats.snapshot(),
                        services.onec.stats.snapshot().get("requests", 0), log_path)
    console.where_to_look(settings.APP_BASE_URL, services.bitrix.base_url, services.onec, portal.member_id)
    if args.no_wait:
        return

    watch.mark()
    services.start_schedule()
    console.live_intro(demo_portal.DEMO_INTERVAL_MINUTES)
    _live(portal, watch, run.pk)


def _live(portal, watch: PortalWatch, last_run_id: int) -> None:
    while True:
        time.sleep(WATCH_SECONDS)
        runs = SyncRun.objects.filter(portal=portal, pk__gt=last_run_id, finished_at__isnull=False).order_by("pk")
        for run in runs:
            last_run_id = run.pk
            console.say(f"[{console.clock()}] {_run_line(run)}")
        changes = watch.changes()
        for kind, lines in (("Сделка", changes.moves), ("Уведомление", changes.notifications)):
            for line in lines[:MAX_LINES_PER_LOOK]:
                console.say(f"[{console.clock()}] {kind}: {line}")
            if len(lines) > MAX_LINES_PER_LOOK:
                console.say(f"[{console.clock()}] … и еще {len(lines) - MAX_LINES_PER_LOOK}")
        connection.close()


def _run_line(run: SyncRun) -> str:
    if run.status == SyncRun.Status.SKIPPED:
        return f"Синхронизация ({run.trigger}) пропущена: {run.error}"
    changed = []
    for kind, counts in (run.counts or {}).items():
        touched = {key: counts.get(key, 0) for key in ("created", "updated", "problems", "failed") if counts.get(key)}
        if touched:
            changed.append(f"{console.KIND_NAMES.get(kind, kind)} "
                           + ", ".join(f"{dict(console.COUNT_NAMES)[k]} {v}" for k, v in touched.items()))
    seconds = (run.finished_at - run.started_at).total_seconds()
    return (f"Синхронизация ({run.trigger}): {run.get_status_display()} за {console.duration_text(seconds)}; "
            f"{'; '.join(changed) or 'изменений нет'}; REST {run.rest_requests}, 1С {run.onec_requests}"
            + (f"; {run.error}" if run.error else ""))


def _database_prepare() -> None:
    """The demo's own SQLite file starts empty on every run; any other database is migrated as is."""
    if connection.vendor == "sqlite":
        path = Path(connection.settings_dict["NAME"])
        connection.close()
        path.parent.mkdir(parents=True, exist_ok=True)
        for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)
    call_command("migrate", verbosity=0, interactive=False)


def _interrupted_runs_close() -> None:
    try:
        SyncRun.objects.filter(status=SyncRun.Status.RUNNING).update(
            status=SyncRun.Status.FAILED, finished_at=timezone.now(), error="Демо остановлено (Ctrl-C).")
    except Exception:
        log.exception("could not close the interrupted sync runs")


def _logging_to_file(path: str) -> Path:
    """Everything the app logs goes to a file; the console is for the demo's own story."""
    log_path = Path(path) if path else Path(settings.BASE_DIR) / "var" / "demo.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.FileHandler(log_path, mode="w", encoding="utf-8")  # one run, one log (like its database)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    settings.LOGGING_CONFIG = None  # the worker's Django fixup runs django.setup() again: keep this set-up
    return log_path
