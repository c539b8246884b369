"""Sync bookkeeping: links 1С ↔ Bitrix24, source versions, runs and the problems admins see."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from bx24app.models import Portal


class EntityLink(models.Model):
    """One 1С object (by Ref_Key) linked to one Bitrix24 record of a kind, with the hash of what we sent."""

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(max_length=32)
    onec_ref = models.CharField(max_length=80)
    bitrix_id = models.CharField(max_length=64)
    content_hash = models.CharField(max_length=64, blank=True)
    state = models.JSONField(default=dict, blank=True)  # what we last sent that needs diffing (multifields)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["portal", "kind", "onec_ref"], name="uniq_link_portal_kind_ref")
        ]
        indexes = [models.Index(fields=["portal", "kind", "bitrix_id"])]

    def __str__(self):
        return f"{self.kind} {self.onec_ref} → {self.bitrix_id}"


class SourceVersion(models.Model):
    """The last seen version (DataVersion or a row hash) of a 1С object, for change detection."""

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="source_versions")
    entity_set = models.CharField(max_length=100)
    onec_ref = models.CharField(max_length=120)
    version = models.TextField()  # DataVersion, a hash, or "<DataVersion>|<order refs>" for documents

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["portal", "entity_set", "onec_ref"], name="uniq_source_version")
        ]

    def __str__(self):
        return f"{self.entity_set} {self.onec_ref} @ {self.version}"


class SyncRun(models.Model):
    """One execution of a sync for a portal: what it did, what it cost, how it ended."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Выполняется")
        SUCCESS = "success", _("Успешно")
        PARTIAL = "partial", _("С проблемами")
        FAILED = "failed", _("Ошибка")
        SKIPPED = "skipped", _("Пропущена")

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="sync_runs")
    trigger = models.CharField(max_length=20, default="manual")
    kinds = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    progress = models.JSONField(default=dict, blank=True)
    rest_requests = models.PositiveIntegerField(default=0)
    rest_commands = models.PositiveIntegerField(default=0)
    onec_requests = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"Run {self.pk} {self.portal_id} {self.status}"

    @property
    def duration(self):
        return (self.finished_at - self.started_at) if self.finished_at else None


class SyncProblem(models.Model):
    """A 1С record that could not be synced (fully): shown to the administrator until it syncs."""

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="problems")
    kind = models.CharField(max_length=32)
    onec_ref = models.CharField(max_length=80)
    label = models.CharField(max_length=300)
    code = models.CharField(max_length=64)
    reason = models.TextField()
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["portal", "kind", "onec_ref", "code"], name="uniq_problem")
        ]
        ordering = ["-last_seen"]

    def __str__(self):
        return f"{self.kind} {self.label}: {self.reason}"
