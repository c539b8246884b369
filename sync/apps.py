"""Django app config for the sync domain."""

from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Синхронизация 1С"
