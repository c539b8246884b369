"""The Celery application: JSON messages, late acks, tasks discovered in the Django apps."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bx24app.settings")

app = Celery("bx24app")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
