"""``/bitrix/app/…``: the embedded settings page and its JSON endpoints."""

from django.urls import path

from . import views

app_name = "settings_page"

urlpatterns = [
    path("", views.app_page, name="page"),
    path("save/<slug:section>/", views.section_save, name="save"),
    path("sync-status/", views.sync_status, name="sync_status"),
    path("sync-now/", views.sync_now, name="sync_now"),
    path("problems/<int:problem_id>/retry/", views.problem_retry, name="problem_retry"),
]
