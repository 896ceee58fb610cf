"""Celery app: configured from Django settings (CELERY_ namespace), tasks autodiscovered."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridcase.settings")

app = Celery("gridcase")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every task carries the id of the request that queued it into its log lines (gridcase/core/requestid.py).
from gridcase.core.requestid import connect_celery_signals  # noqa: E402

connect_celery_signals()
