"""Django admin for links, runs and problems."""

from django.contrib import admin

from .models import EntityLink, SyncProblem, SyncRun


@admin.register(EntityLink)
class EntityLinkAdmin(admin.ModelAdmin):
    list_display = ("portal", "kind", "onec_ref", "bitrix_id", "synced_at")
    list_filter = ("kind",)
    search_fields = ("onec_ref", "bitrix_id")


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ("portal", "trigger", "status", "started_at", "finished_at", "rest_requests", "onec_requests")
    list_filter = ("status", "trigger")


@admin.register(SyncProblem)
class SyncProblemAdmin(admin.ModelAdmin):
    list_display = ("portal", "kind", "label", "code", "reason", "last_seen", "resolved_at")
    list_filter = ("kind", "code")
    search_fields = ("label", "onec_ref")
