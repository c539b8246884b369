"""URL routes: health check, admin, and the Bitrix24-facing endpoints."""

from django.contrib import admin
from django.urls import path

from .health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
