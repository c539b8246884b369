"""What the demo prints: steps, the first sync's progress bar, the summary, where to look, live events."""

from __future__ import annotations

import sys
import time

KIND_NAMES = {"counterparties": "Контрагенты", "products": "Номенклатура", "orders": "Заказы покупателей",
              "counterparty": "Контрагенты", "product": "Номенклатура", "order": "Заказы покупателей"}
COUNT_NAMES = [("created", "создано"), ("updated", "обновлено"), ("unchanged", "без изменений"),
               ("skipped", "пропущено"), ("failed", "ошибок"), ("problems", "проблем")]
BAR_WIDTH = 30


def say(text: str = "") -> None:
    print(text, flush=True)


def step(text: str) -> None:
    say(f"• {text}")


class ProgressBar:
    """``on_progress(kind, done, total)`` → one bar per kind; on a terminal redrawn in place, otherwise a line
    every few seconds (logs, CI, the demo test)."""

    def __init__(self, stream=None, interval: float = 5.0):
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.interval = interval
        self.kind = None
        self.started = self._previous_end = time.monotonic()
        self._last_line = 0.0

    def __call__(self, kind: str, done: int, total: int) -> None:
        if kind != self.kind:  # a kind's time counts from the end of the previous one (reading 1С included)
            self.finish()
            self.kind, self._last_line = kind, 0.0
            self.started = self._previous_end
        self._previous_end = time.monotonic()
        line = self._line(kind, done, total)
        if self.tty:
            self.stream.write("\r" + line)
            self.stream.flush()
        elif done >= total or time.monotonic() - self._last_line >= self.interval:
            self._last_line = time.monotonic()
            self.stream.write(line + "\n")
            self.stream.flush()

    def _line(self, kind: str, done: int, total: int) -> str:
        share = done / total if total else 1.0
        filled = int(BAR_WIDTH * share)
        bar = "█" * filled + "·" * (BAR_WIDTH - filled)
        elapsed = time.monotonic() - self.started
        return f"  {KIND_NAMES.get(kind, kind):<20} [{bar}] {done}/{total} {share:4.0%}  {elapsed:5.0f} с"

    def finish(self) -> None:
        if self.tty and self.kind is not None:
            self.stream.write("\n")
            self.stream.flush()
        self.kind = None


def duration_text(seconds: float) -> str:
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} мин {rest} с" if minutes else f"{rest} с"


def run_summary(run, stage_counts: list[tuple[str, int]], bitrix_stats: dict, onec_requests: int,
                log_path="") -> None:
    """The marker line "sync finished" (the demo test waits for it), counts per kind, requests, stages."""
    seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0.0
    say()
    say(f"=== Первая синхронизация завершена (sync finished) за {duration_text(seconds)}: "
        f"{run.get_status_display()} ===")
    for kind, counts in (run.counts or {}).items():
        parts = ", ".join(f"{label} {counts.get(key, 0)}" for key, label in COUNT_NAMES if counts.get(key))
        say(f"  {KIND_NAMES.get(kind, kind):<20} записей 1С {counts.get('onec_records', 0)}: {parts or 'нет'}")
    if run.error:
        say(f"  Ошибка: {run.error}" + (f" (подробности — в журнале {log_path})" if log_path else ""))
    if any((c or {}).get("problems") for c in (run.counts or {}).values()):
        say("  Записи 1С с ошибками в данных (их видно на странице настроек, раздел «Синхронизация») пропущены, "
            "остальное синхронизировано.")
    say(f"  Запросы REST к Битрикс24: {run.rest_requests} (команд {run.rest_commands}; всего с установкой "
        f"{bitrix_stats.get('total_requests', 0)}), запросы OData к 1С: {run.onec_requests} "
        f"(всего {onec_requests})")
    say("  Сделки по стадиям: " + "; ".join(f"«{name}» {count}" for name, count in stage_counts))


def where_to_look(app_url: str, bitrix_url: str, onec, member_id: str) -> None:
    say()
    say("Где смотреть:")
    say(f"  Страница настроек (как ее открывает портал): {app_url}/demo/open-app/")
    say(f"  CRM эмулированного портала:  {bitrix_url}/crm/deal/  (сделки по стадиям)")
    say(f"                               {bitrix_url}/crm/company/  {bitrix_url}/crm/contact/")
    say(f"                               {bitrix_url}/crm/product/  {bitrix_url}/notifications/")
    say(f"  1С (OData, odata/odata):     {onec.odata_url}")
    say(f"  Проверка здоровья:           {app_url}/healthz")
    say(f"  Портал: member_id {member_id}")


def live_intro(interval_minutes: int) -> None:
    say()
    say("Оплата вживую: в другом терминале выполните  make demo-pay  (или .venv/bin/python -m bx24app.demo pay)")
    say(f"— 1С получит оплату по выставленному счету; синхронизация по расписанию (каждые {interval_minutes} мин) "
        "переведет сделку в «Счет оплачен», а ответственный получит уведомление.")
    say("Демо работает; Ctrl-C — остановить.")
    say()


def clock() -> str:
    return time.strftime("%H:%M:%S")
