"""Demo-only routes (included by bx24app/urls.py only when APP_ENV=demo)."""

from django.urls import path

from . import views

urlpatterns = [
    path("demo/open-app/", views.open_app, name="demo-open-app"),
]
