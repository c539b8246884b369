"""Django app config for the Bitrix24-facing part."""

from django.apps import AppConfig


class Bx24AppConfig(AppConfig):
    name = "bx24app"
    verbose_name = "Bitrix24"
