"""`manage.py configure_portal`: the settings page's settings for scripted provisioning, plus a 1С check."""

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from bx24app.bitrix.errors import BitrixError
from bx24app.models import Portal, PortalSettings
from bx24app.services.install import InstallError, portal_setup
from bx24app.services.portal_settings import portal_settings_update


class Command(BaseCommand):
    help = "Сохраняет подключение к 1С и параметры синхронизации портала и проверяет подключение к 1С."

    def add_arguments(self, parser):
        parser.add_argument("member_id", help="member_id портала Битрикс24")
        parser.add_argument("--onec-url", required=True, help="адрес публикации OData 1С (…/odata/standard.odata/)")
        parser.add_argument("--onec-user", required=True, help="пользователь 1С")
        parser.add_argument("--onec-password", required=True, help="пароль 1С; «-» — прочитать из stdin")
        parser.add_argument("--sale-price-type", help="наименование типа цен продажи в 1С")
        parser.add_argument("--purchase-price-type", help="наименование типа цен закупки в 1С")
        parser.add_argument("--pipeline", type=int, help="ID воронки сделок (0 — общая)")
        parser.add_argument("--interval", type=int, help="интервал синхронизации, минут")

    def handle(self, *args, **options):
        portal = Portal.objects.filter(member_id=options["member_id"]).first()
        if portal is None:
            raise CommandError(f"Портал с member_id {options['member_id']} не найден: сначала установите приложение.")
        password = sys.stdin.readline().rstrip("\n") if options["onec_password"] == "-" else options["onec_password"]
        pipeline_changed = options["pipeline"] is not None and options["pipeline"] != _current_pipeline(portal)
        self._save(portal, _changes(options, password))
        if pipeline_changed:
            self._setup_pipeline(portal)
        self._check_onec(options, password)

    def _save(self, portal, changes):
        try:
            portal_settings_update(portal, **changes)
        except ValidationError as error:
            raise CommandError("\n".join(_messages(error))) from error
        self.stdout.write(f"Настройки портала {portal.domain} сохранены.")

    def _setup_pipeline(self, portal):
        """The four stages must exist in the newly chosen pipeline (idempotent install step)."""
        if not portal.is_active:
            self.stderr.write(f"Стадии не созданы: портал в статусе «{portal.get_status_display()}».")
            return
        try:
            portal_setup(portal)
        except (InstallError, BitrixError) as error:
            raise CommandError(f"Не удалось создать стадии в воронке: {error}") from error
        stage_map = PortalSettings.objects.get(portal=portal).stage_map
        self.stdout.write("Стадии сделок: " + ", ".join(f"{k} → {v}" for k, v in stage_map.items()))

    def _check_onec(self, options, password):
        from sync.onec.check import onec_connection_check

        report = onec_connection_check(options["onec_url"], options["onec_user"], password)
        for line in report.summary_lines():
            self.stdout.write(line)
        if not report.ok:
            raise CommandError(report.error or "Подключение к 1С не удалось.")
        known = {price_type["name"] for price_type in report.price_types}
        for option, label in (("sale_price_type", "продажи"), ("purchase_price_type", "закупки")):
            name = options.get(option)
            if name and known and name not in known:
                raise CommandError(f"Тип цен {label} «{name}» не найден в 1С. Есть: {', '.join(sorted(known))}.")


def _current_pipeline(portal) -> int:
    portal_settings = PortalSettings.objects.filter(portal=portal).first()
    return portal_settings.category_id if portal_settings else 0


def _changes(options, password) -> dict:
    changes = {"onec_url": options["onec_url"], "onec_user": options["onec_user"], "onec_password": password}
    for option, field in (("sale_price_type", "sale_price_type"), ("purchase_price_type", "purchase_price_type"),
                          ("pipeline", "category_id"), ("interval", "interval_minutes")):
        if options.get(option) is not None:
            changes[field] = options[option]
    return changes


def _messages(error: ValidationError) -> list[str]:
    if hasattr(error, "message_dict"):
        return [message for messages in error.message_dict.values() for message in messages]
    return list(error.messages)
