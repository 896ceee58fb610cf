"""`kill -9` of a Celery worker while it is sending: nothing is lost, the row it held is sent again as soon as
its lease runs out (seconds, not the ten minutes it used to take), and the receiver, deduplicating on the
`Idempotency-Key`, handles every notification exactly once. A real worker process on our own Redis, a real
HTTP receiver on 127.0.0.1 that stalls the first delivery so the kill lands mid-send."""

import time

import pytest
from django.conf import settings

from gridcase.notifications.models import Delivery, Notification
from gridcase.notifications.services import notify
from gridcase.notifications.tasks import deliver_pending

from .support import SECRET, WorkerProcess, use_broker, wait_for

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="a worker process shares the test database"),
    pytest.mark.django_db(transaction=True),
]
LEASE = 2


def worker_env(receiver):
    return {"NOTIFICATION_CHANNELS": "webhook", "NOTIFICATION_WEBHOOK_URL": receiver.url,
            "NOTIFICATION_WEBHOOK_SECRET": SECRET, "NOTIFICATION_LEASE_SECONDS": LEASE,
            "NOTIFICATION_WEBHOOK_TIMEOUT": 60}


def sweep_until_all_sent(app, timeout=30):
    """What beat's `deliver-notifications` entry does, every half second instead of every minute."""
    deadline = time.monotonic() + timeout
    while Delivery.objects.exclude(state="sent").exists():
        assert time.monotonic() < deadline, list(Delivery.objects.exclude(state="sent").values())
        deliver_pending.delay()
        time.sleep(0.5)


def test_a_worker_killed_mid_send_loses_nothing_and_each_notification_is_handled_once(city, redis, receiver):
    first = WorkerProcess(redis.url, **worker_env(receiver)).start()
    second = WorkerProcess(redis.url, **worker_env(receiver))
    try:
        receiver.stall(1)
        with use_broker(redis.url) as app:
            for i in range(6):
                notify([city.worker, city.secretary], "other", f"通知{i}", f"第{i}条", dedupe_key=f"crash-{i}")
            expected = {f"gridcase-{pk}-webhook" for pk in Notification.objects.values_list("pk", flat=True)}
            assert len(expected) == 12
            wait_for(lambda: receiver.stalled == 1, 20, what="the first delivery to reach the receiver")
            first.kill9()
            killed_at = time.monotonic()
            assert Delivery.objects.filter(state="sending").count() == 1  # held by the dead worker
            receiver.release()  # the dead worker's request had reached the gateway: it counts as received
            second.start()
            sweep_until_all_sent(app)
            recovered_in = time.monotonic() - killed_at
    finally:
        receiver.release()
        first.stop()
        second.stop()
    assert set(receiver.processed) == expected          # nothing lost
    assert receiver.bad_signatures == 0
    assert receiver.repeats == 1                          # the one cut-off send, dropped by its key
    assert recovered_in < LEASE + 20, recovered_in
    cut_off = Delivery.objects.get(attempts=2)
    assert receiver.raw[cut_off.idempotency_key] == 2
    assert not Delivery.objects.filter(attempts__gt=2).exists()
