"""Redis stops: a report is saved and answered 201 (not 500, which made clients resend and duplicate it); the
queueing failure is logged; when Redis is back the outbox sweep sends every notification, once. The Redis
stopped here is our own redis-server on a free port, never the shared one."""

import logging
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from gridcase.cases.models import Case
from gridcase.grids.imports import jobs
from gridcase.grids.models import ImportJob
from gridcase.notifications.models import Delivery, Notification
from gridcase.notifications.tasks import deliver_pending

from .support import use_broker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def email(settings, city):
    settings.NOTIFICATION_CHANNELS = ["email"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for user in (city.worker, city.grid_worker, city.secretary, city.dispatcher):
        user.email = f"{user.username}@example.org"
        user.save()


def test_a_report_is_answered_201_while_redis_is_down_and_its_notices_go_out_once_it_is_back(
        city, category, client_for, redis, email, caplog):
    with use_broker(redis.url) as app:
        redis.kill()
        caplog.set_level(logging.WARNING, logger="gridcase.queue")
        started = time.monotonic()
        r = client_for(city.worker).post("/api/v1/cases/", {"category": category.pk, "grid": city.micro.pk,
                                                            "title": "路灯不亮", "client_key": "lamp-1"},
                                         format="json")
        took = time.monotonic() - started
        assert r.status_code == 201, r.content
        assert took < 5  # a dead broker costs a few quick retries, not a hang
        assert Case.objects.count() == 1
        waiting = Delivery.objects.filter(state="pending").count()
        assert waiting == Notification.objects.count() > 0
        assert "Could not queue gridcase.notifications.tasks.deliver_pending" in caplog.text
        assert not mail.outbox

        redis.start()  # back, empty: what was queued before the crash is gone
        app.conf.task_always_eager = False
        with start_worker(app, perform_ping_check=False, pool="solo", concurrency=1, loglevel="WARNING",
                          shutdown_timeout=10):
            deliver_pending.delay()  # the beat's `deliver-notifications` sweep
            wait_for(lambda: not Delivery.objects.exclude(state="sent").exists(), 20, what="the sweep")
    assert len(mail.outbox) == waiting
    assert len({m.extra_headers["Message-ID"] for m in mail.outbox}) == waiting


def test_an_import_uploaded_while_redis_is_down_is_queued_again_by_the_sweep(city, client_for, redis, settings):
    from django.utils import timezone

    from tests.grids.test_import import csv_bytes, good_rows, upload

    settings.IMPORT_SYNC_MAX_ROWS = 1
    with use_broker(redis.url) as app:
        redis.kill()
        r = upload(client_for(city.secretary), city.community.pk, csv_bytes(good_rows()))
        assert r.status_code == 202, r.content
        job = ImportJob.objects.get()
        assert job.status == "pending"
        redis.start()
        with start_worker(app, perform_ping_check=False, pool="solo", concurrency=1, loglevel="WARNING",
                          shutdown_timeout=10):
            assert jobs.requeue_pending(now=timezone.now()) == 0  # too fresh: its own task may still come
            assert jobs.requeue_pending(now=timezone.now() + jobs.UNQUEUED_AFTER * 2) == 1
            wait_for(lambda: ImportJob.objects.get().status == "done", 20, what="the import job")
