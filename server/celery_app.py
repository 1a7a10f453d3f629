"""The Celery application; tasks live in the `workers` package."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

app = Celery("duchaa")
app.config_from_object("django.conf:settings", namespace="CELERY")
