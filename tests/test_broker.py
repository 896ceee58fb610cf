"""Celery over the real broker: a task queued after commit is picked up by a worker and does its work.

In CI (`CI=true`) the broker is Redis; `make test` refuses to start without it.
"""

import os
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core import mail

from gridcase.celery import app
from gridcase.notifications.models import Delivery, Notification
from gridcase.notifications.services import notify
from tests import factories as f


@pytest.fixture
def worker(transactional_db):
    if os.environ.get("GRIDCASE_REQUIRE_SERVICES"):
        assert settings.CELERY_BROKER_URL.startswith("redis://"), "CI must test on a Redis broker"
    app.conf.task_always_eager = False
    with start_worker(app, perform_ping_check=False, pool="solo", concurrency=1, loglevel="WARNING",
                      shutdown_timeout=10):
        yield


def test_notification_is_delivered_by_a_worker_through_the_broker(worker, settings):
    settings.NOTIFICATION_CHANNELS = ["email"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user = f.UserFactory(username="receiver", email="receiver@example.org")
    # notify() queues the delivery task on commit; nothing else here sends anything.
    notify([user], "other", "测试通知", "正文", dedupe_key="broker-test")
    # The worker thread consumes from the broker; wait for its effect in the database.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and Delivery.objects.get().state != "sent":
        time.sleep(0.2)
    assert Delivery.objects.get().state == "sent"
    assert Notification.objects.count() == 1
    assert [m.to for m in mail.outbox] == [["receiver@example.org"]]
