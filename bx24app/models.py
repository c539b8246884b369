"""Tenants: one Portal per Bitrix24 installation (key member_id) and its configuration."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .crypto import EncryptedTextField


class Portal(models.Model):
    """A Bitrix24 portal that installed the application; tokens are kept encrypted."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Активен")
        NEEDS_REAUTH = "needs_reauth", _("Требуется повторная авторизация")
        UNINSTALLED = "uninstalled", _("Приложение удалено")

    member_id = models.CharField(max_length=64, unique=True)
    domain = models.CharField(max_length=255)
    protocol = models.CharField(max_length=5, default="https")
    client_endpoint = models.URLField(max_length=500)
    server_endpoint = models.URLField(max_length=500)
    application_token = EncryptedTextField(blank=True)
    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    scope = models.CharField(max_length=500, blank=True)
    license_family = models.CharField(max_length=50, blank=True)
    installed_by_user_id = models.IntegerField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.TextField(blank=True)
    installed_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    uninstalled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("портал")
        verbose_name_plural = _("порталы")

    def __str__(self):
        return f"{self.domain} ({self.member_id})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_enterprise(self) -> bool:
        return self.license_family.lower().startswith("ent")

    def deal_url(self, deal_id) -> str:
        return f"{self.protocol}://{self.domain}/crm/deal/details/{deal_id}/"


class PortalSettings(models.Model):
    """What the administrator configures in the embedded page (or with `manage.py configure_portal`)."""

    portal = models.OneToOneField(Portal, on_delete=models.CASCADE, related_name="settings")
    onec_url = models.URLField(max_length=500, blank=True)
    onec_user = models.CharField(max_length=150, blank=True)
    onec_password = EncryptedTextField(blank=True)
    sale_price_type = models.CharField(max_length=150, blank=True, help_text=_("Наименование типа цен 1С"))
    purchase_price_type = models.CharField(max_length=150, blank=True, help_text=_("Наименование типа цен 1С"))
    category_id = models.IntegerField(default=0)
    stage_map = models.JSONField(default=dict, blank=True)
    field_map = models.JSONField(default=dict, blank=True)
    user_map = models.JSONField(default=dict, blank=True)
    default_responsible_id = models.IntegerField(null=True, blank=True)
    editor_user_ids = models.JSONField(default=list, blank=True)
    robot_code = models.CharField(max_length=100, blank=True)
    schedule_enabled = models.BooleanField(default=True)
    interval_minutes = models.PositiveIntegerField(default=5)
    order_window_days = models.PositiveIntegerField(default=90)
    last_scheduled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("настройки портала")
        verbose_name_plural = _("настройки порталов")

    def __str__(self):
        return f"Настройки {self.portal}"

    @property
    def onec_configured(self) -> bool:
        return bool(self.onec_url and self.onec_user)


class PaymentNotification(models.Model):
    """One «клиент оплатил» notification per deal and payment state; the unique row makes it exactly once."""

    class Source(models.TextChoices):
        ROBOT = "robot", _("Робот")
        EVENT = "event", _("Событие Битрикс24")
        SYNC = "sync", _("Синхронизация")

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="payment_notifications")
    deal_id = models.PositiveBigIntegerField()
    state_key = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    notification_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("уведомление об оплате")
        verbose_name_plural = _("уведомления об оплате")
        constraints = [
            models.UniqueConstraint(fields=["portal", "deal_id", "state_key"], name="uniq_payment_notification")
        ]

    def __str__(self):
        return f"Deal {self.deal_id} paid [{self.state_key}] via {self.source}"
