"""URL routes: health check, admin, and the Bitrix24-facing endpoints."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from .health import healthz
from .views.events import bitrix_event
from .views.install import installer
from .views.robots import payment_notify_robot

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("bitrix/install/", installer, name="bitrix-install"),
    path("bitrix/events/", bitrix_event, name="bitrix-events"),
    path("bitrix/robots/payment-notify/", payment_notify_robot, name="bitrix-robot-payment-notify"),
    path("bitrix/app/", include("bx24app.settings_page.urls")),
]
urlpatterns += [path("", include("bx24app.demo.urls"))] if settings.APP_ENV == "demo" else []
