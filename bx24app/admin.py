"""Django admin for portals and their settings (secrets are never displayed)."""

from django.contrib import admin

from .models import Portal, PortalSettings


@admin.register(Portal)
class PortalAdmin(admin.ModelAdmin):
    list_display = ("domain", "member_id", "status", "license_family", "installed_at")
    list_filter = ("status",)
    search_fields = ("domain", "member_id")
    exclude = ("application_token", "access_token", "refresh_token")
    readonly_fields = ("installed_at", "updated_at", "uninstalled_at")


@admin.register(PortalSettings)
class PortalSettingsAdmin(admin.ModelAdmin):
    list_display = ("portal", "onec_url", "schedule_enabled", "interval_minutes")
    exclude = ("onec_password",)
