"""`manage.py reconcile <member_id> [--only …]`: compare 1С with the portal and print what is missing/duplicated/stale.

Exit code 0 when the CRM matches 1С, 1 when anything is wrong (or a kind could not be checked), 2 on bad usage.
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from bx24app.models import Portal
from sync.services.reconcile import portal_reconcile
from sync.services.runs import KINDS


class Command(BaseCommand):
    help = "Сверить 1С с порталом: чего нет в CRM, что задублировано, что устарело. Ничего не меняет."

    def add_arguments(self, parser):
        parser.add_argument("member_id")
        parser.add_argument("--only", default=",".join(KINDS), help="через запятую: counterparties,products,orders")
        parser.add_argument("--limit", type=int, default=20, help="сколько записей показывать на каждое расхождение")

    def handle(self, member_id, only, limit, **options):
        portal = Portal.objects.filter(member_id=member_id).select_related("settings").first()
        if portal is None:
            raise CommandError(f"Портал {member_id} не найден (приложение не установлено).", returncode=2)
        kinds = [k.strip() for k in only.split(",") if k.strip()]
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise CommandError(f"Неизвестные виды: {', '.join(sorted(unknown))}. Допустимы: {', '.join(KINDS)}.",
                               returncode=2)
        if not portal.settings.onec_configured:
            raise CommandError("Не настроено подключение к 1С: сверять не с чем.", returncode=2)
        report = portal_reconcile(portal, kinds=kinds)
        self.stdout.write(report.render(limit=limit))
        if not report.ok:
            sys.exit(1)
