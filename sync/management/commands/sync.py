"""`manage.py sync <member_id> [--only …] [--full]`: run a sync now, with a progress bar and a summary."""

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from bx24app.models import Portal
from sync.services.runs import KINDS, sync_run_execute

KIND_TITLES = {"counterparty": "Контрагенты", "contact_person": "Контактные лица", "product": "Номенклатура",
               "order": "Заказы"}


class Command(BaseCommand):
    help = "Синхронизировать портал сейчас (контрагенты → номенклатура → заказы) и вывести итог."

    def add_arguments(self, parser):
        parser.add_argument("member_id")
        parser.add_argument("--only", default=",".join(KINDS),
                            help="через запятую: counterparties,products,orders")
        parser.add_argument("--full", action="store_true", help="перечитать всё, не только изменения")

    def handle(self, member_id, only, full, **options):
        portal = Portal.objects.filter(member_id=member_id).select_related("settings").first()
        if portal is None:
            raise CommandError(f"Портал {member_id} не найден (приложение не установлено).")
        kinds = [k.strip() for k in only.split(",") if k.strip()]
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise CommandError(f"Неизвестные виды: {', '.join(sorted(unknown))}. Допустимы: {', '.join(KINDS)}.")
        started = time.monotonic()
        run = sync_run_execute(portal, kinds=kinds, trigger="command", full=full, on_progress=self._progress)
        sys.stdout.write("\n")
        self._summary(run, time.monotonic() - started)
        if run.status in ("failed", "skipped"):
            raise CommandError(run.error or run.get_status_display())

    def _progress(self, kind: str, done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        self.stdout.write(f"\r{kind:15} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", ending="")
        self.stdout.flush()

    def _summary(self, run, seconds: float) -> None:
        self.stdout.write(f"Синхронизация #{run.pk}: {run.get_status_display()} за {seconds:.1f} с")
        self.stdout.write(f"{'вид':16}{'в 1С':>8}{'создано':>10}{'обновлено':>11}{'без изм.':>10}"
                          f"{'пропущ.':>9}{'ошибки':>8}{'проблемы':>10}")
        for kind, c in run.counts.items():
            self.stdout.write(f"{KIND_TITLES.get(kind, kind):16}{c['onec_records']:>8}{c['created']:>10}"
                              f"{c['updated']:>11}{c['unchanged']:>10}{c['skipped']:>9}{c['failed']:>8}"
                              f"{c['problems']:>10}")
        self.stdout.write(f"Запросов к Битрикс24: {run.rest_requests} (команд: {run.rest_commands}); "
                          f"запросов к 1С: {run.onec_requests}")
        if run.error:
            self.stderr.write(run.error)
