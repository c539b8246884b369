"""The Django project and everything that faces Bitrix24 (install, settings page, events, REST client)."""

from .celery import app as celery_app

__all__ = ["celery_app"]
