"""Inbox and outbox: once per event, unread first, retried on failure, never sent twice."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from gridcase.notifications import services
from gridcase.notifications.models import Delivery, Notification

pytestmark = pytest.mark.django_db


def test_notify_is_idempotent_per_event(city):
    assert services.notify([city.worker, city.secretary], "assigned", "派单", dedupe_key="case:1:assigned") == 2
    assert services.notify([city.worker, city.secretary], "assigned", "派单", dedupe_key="case:1:assigned") == 0
    assert Notification.objects.count() == 2


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
