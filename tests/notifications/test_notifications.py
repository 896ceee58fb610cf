"""Inbox and outbox: once per event, unread first, retried on failure, never sent twice."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.conf import settings
from django.db import connection, transaction

from gridcase.notifications import services
from gridcase.notifications.models import Delivery, Notification

pytestmark = pytest.mark.django_db


def test_notify_is_idempotent_per_event(city):
    assert services.notify([city.worker, city.secretary], "assigned", "派单", dedupe_key="case:1:assigned") == 2
    assert services.notify([city.worker, city.secretary], "assigned", "派单", dedupe_key="case:1:assigned") == 0
    assert Notification.objects.count() == 2


def test_notify_queues_each_new_message_once_per_channel(city):
    sent = services.notify([city.worker], "assigned", "派单", dedupe_key="case:2:assigned", via=["webhook", "email"])
    again = services.notify([city.worker, city.secretary], "assigned", "派单", dedupe_key="case:2:assigned",
                            via=["webhook", "email"])
    assert (sent, again) == (1, 1)  # the secretary's message is the only new one the second time
    assert Notification.objects.filter(dedupe_key="case:2:assigned").count() == 2
    assert sorted(Delivery.objects.values_list("notification__recipient_id", "channel")) == sorted(
        (u.pk, c) for u in (city.worker, city.secretary) for c in ("email", "webhook"))


@pytest.mark.postgres
@pytest.mark.skipif(not settings.IS_POSTGRES, reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True)
def test_the_same_event_notified_at_once_by_several_workers_lands_once(city):
    """Two workers sending one event at the same time: one inbox row and one outbox row per channel, and the
    new rows are counted once between them (the partitioned table's key is kept by a trigger, not a unique index)."""
    n = 6
    barrier = threading.Barrier(n)
    results = [None] * n

    def send(i):
        try:
            barrier.wait()
            with transaction.atomic():
                results[i] = services.notify([city.worker, city.secretary], "assigned", "派单",
                                             dedupe_key="case:3:assigned", via=["webhook"])
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(results) == 2, results
    assert Notification.objects.filter(dedupe_key="case:3:assigned").count() == 2
    assert Delivery.objects.filter(notification__dedupe_key="case:3:assigned").count() == 2


def test_inbox_is_mine_unread_first(city, client_for):
    for i in range(3):
        services.notify([city.worker], "other", f"消息{i}", dedupe_key=f"k{i}")
    services.notify([city.secretary], "other", "别人的", dedupe_key="other")
    first = Notification.objects.filter(recipient=city.worker).order_by("id").first()
    c = client_for(city.worker)
    assert c.post(f"/api/v1/notifications/{first.id}/read/").status_code == 200
    body = c.get("/api/v1/notifications/").json()
    titles = [n["title"] for n in body["results"]]
    assert titles == ["消息2", "消息1", "消息0"]
    assert body["unread_count"] == 2
    # Someone else's notification is not mine to read.
    theirs = Notification.objects.get(recipient=city.secretary)
    assert c.post(f"/api/v1/notifications/{theirs.id}/read/").status_code == 404
    assert c.post("/api/v1/notifications/read-all/").json() == {"marked": 2}
    assert c.get("/api/v1/notifications/?unread=true").json()["results"] == []


class Hook(BaseHTTPRequestHandler):
    received: list = []
    fail_first = 0

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if Hook.fail_first > 0:
            Hook.fail_first -= 1
            self.send_response(500)
        else:
            Hook.received.append(json.loads(body))
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook_url():
    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Hook.received = []
    yield f"http://127.0.0.1:{server.server_port}/robot"
    server.shutdown()


def test_webhook_channel_retries_then_sends_once(city, settings, hook_url):
    settings.NOTIFICATION_CHANNELS = ["webhook"]
    settings.NOTIFICATION_WEBHOOK_URL = hook_url
    Hook.fail_first = 1
    services.notify([city.worker], "sla_red", "事件超时", "请尽快处理", dedupe_key="case:9:red")
    assert services.deliver_pending() == 0  # gateway answered 500
    delivery = Delivery.objects.get()
    assert delivery.state == "pending" and delivery.attempts == 1 and "500" in delivery.last_error
    Delivery.objects.update(next_attempt_at=None)  # as if the backoff had passed
    assert services.deliver_pending() == 1
    assert services.deliver_pending() == 0  # nothing is sent twice
    assert len(Hook.received) == 1
    assert Hook.received[0]["text"]["content"].startswith("事件超时")
    assert Hook.received[0]["gridcase"]["case"] is None
