"""Saving PortalSettings with one validation for the settings page and `manage.py configure_portal`."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from bx24app.models import Portal, PortalSettings

EDITABLE_FIELDS = {
    "onec_url", "onec_user", "onec_password", "sale_price_type", "purchase_price_type", "category_id",
    "stage_map", "field_map", "user_map", "default_responsible_id", "editor_user_ids", "schedule_enabled",
    "interval_minutes", "order_window_days",
}
MAX_INTERVAL_MINUTES = 24 * 60


def portal_settings_get_or_create(portal: Portal) -> PortalSettings:
    portal_settings, _created = PortalSettings.objects.get_or_create(portal=portal)
    return portal_settings


def portal_settings_update(portal: Portal, **changes) -> PortalSettings:
    """Validate and save only the given fields (row lock; other fields untouched). ValidationError in Russian."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Not editable settings: {', '.join(sorted(unknown))}")
    _validate(changes)
    with transaction.atomic():
        portal_settings_get_or_create(portal)
        locked = PortalSettings.objects.select_for_update().get(portal=portal)
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.full_clean(exclude=[f.name for f in PortalSettings._meta.fields if f.name not in changes],
                          validate_unique=False)
        locked.save(update_fields=[*changes, "updated_at"])
    return locked


def _validate(changes: dict) -> None:
    errors = {}
    url = changes.get("onec_url")
    if url and not str(url).startswith(("http://", "https://")):
        errors["onec_url"] = _("Адрес 1С должен начинаться с http:// или https://.")
    if "interval_minutes" in changes:
        interval = changes["interval_minutes"]
        if not isinstance(interval, int) or not 1 <= interval <= MAX_INTERVAL_MINUTES:
            errors["interval_minutes"] = _("Интервал синхронизации — целое число минут от 1 до 1440.")
    if "category_id" in changes:
        category = changes["category_id"]
        if not isinstance(category, int) or category < 0:
            errors["category_id"] = _("Номер воронки — целое число, 0 — общая воронка.")
    if "order_window_days" in changes:
        days = changes["order_window_days"]
        if not isinstance(days, int) or not 1 <= days <= 3650:
            errors["order_window_days"] = _("Окно заказов — целое число дней от 1 до 3650.")
    if errors:
        raise ValidationError(errors)
