"""What leaves by e-mail and webhook: signed, carrying an idempotency key, claimed under a lease that a
live sender renews and a dead one loses, and never a sensitive case's title or details."""

import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from gridcase.cases import services as cases
from gridcase.cases.models import Case, Category
from gridcase.env import ConfigError
from gridcase.notifications import services, signing
from gridcase.notifications.config import check_webhook_secret
from gridcase.notifications.models import Delivery, Notification
from tests.cases.conftest import ensure_taxonomy
from tests.faults.support import SECRET, Receiver


@pytest.fixture
def receiver(settings):
    r = Receiver()
    settings.NOTIFICATION_CHANNELS = ["webhook"]
    settings.NOTIFICATION_WEBHOOK_URL = r.url
    settings.NOTIFICATION_WEBHOOK_SECRET = SECRET
    settings.PUBLIC_URL = "https://gridcase.example.org"
    yield r
    r.close()


@pytest.fixture
def email(settings):
    settings.NOTIFICATION_CHANNELS = ["email"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "gridcase@jiedao.example.org"
    settings.PUBLIC_URL = "https://gridcase.example.org"


# --- signing ---------------------------------------------------------------------------------------------

def test_signature_verifies_only_the_exact_body_the_secret_and_a_fresh_timestamp():
    body = b'{"a": 1}'
    header = signing.sign("s3cret", body, timestamp=1_700_000_000)
    assert signing.verify("s3cret", header, body, now=1_700_000_010)
    assert not signing.verify("s3cret", header, body + b" ", now=1_700_000_010)       # body changed
    assert not signing.verify("other", header, body, now=1_700_000_010)               # wrong secret
    assert not signing.verify("s3cret", header, body, now=1_700_000_000 + 301)        # replayed later
    assert not signing.verify("s3cret", "t=1700000000,v1=00", body, now=1_700_000_000)
    assert not signing.verify("s3cret", None, body)


@pytest.mark.django_db
def test_webhook_is_signed_and_carries_the_notification_as_idempotency_key(city, receiver):
    services.notify([city.worker], "other", "停水通知", "明天停水", dedupe_key="water")
    assert services.deliver_pending() == 1
    n = Notification.objects.get()
    key = f"gridcase-{n.pk}-webhook"
    assert receiver.bad_signatures == 0 and dict(receiver.raw) == {key: 1}
    body = receiver.processed[key]
    assert body["gridcase"]["id"] == n.pk and body["gridcase"]["idempotency_key"] == key
    assert body["text"]["content"].startswith("停水通知\n明天停水")


@pytest.mark.django_db
def test_a_webhook_receiver_refuses_a_delivery_signed_with_another_secret(city, receiver, settings):
    settings.NOTIFICATION_WEBHOOK_SECRET = "not-the-receivers-secret"
    services.notify([city.worker], "other", "通知", dedupe_key="x")
    services.deliver_pending()
    assert receiver.bad_signatures == 1 and not receiver.processed
    assert Delivery.objects.get().state == "pending"  # 401 is a failure: retried later


@pytest.mark.django_db
def test_email_carries_the_idempotency_key_as_its_message_id(city, email):
    city.worker.email = "worker@example.org"
    city.worker.save()
    services.notify([city.worker], "other", "停水通知", "明天停水", dedupe_key="water")
    assert services.deliver_pending() == 1
    n = Notification.objects.get()
    [message] = mail.outbox
    assert message.extra_headers["Message-ID"] == f"<gridcase-{n.pk}-email@jiedao.example.org>"
    assert message.message()["Message-ID"] == f"<gridcase-{n.pk}-email@jiedao.example.org>"
    assert message.subject == "停水通知" and "明天停水" in message.body


def test_production_refuses_a_webhook_without_a_secret():
    """settings.py runs this check at start-up: GRIDCASE_DEV=false with a webhook URL and no secret stops."""
    with pytest.raises(ConfigError, match="NOTIFICATION_WEBHOOK_SECRET"):
        check_webhook_secret(["email", "webhook"], "https://robot.example.org/send", "", dev=False)
    check_webhook_secret(["email", "webhook"], "https://robot.example.org/send", "a-real-secret", dev=False)
    check_webhook_secret(["email", "webhook"], "https://robot.example.org/send", "", dev=True)
    check_webhook_secret(["email"], "", "", dev=False)


# --- leases ---------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_claim_whose_lease_ran_out_is_sent_by_the_next_sweep_and_a_live_one_is_not(city, receiver):
    services.notify([city.worker], "other", "甲", dedupe_key="a")
    services.notify([city.worker], "other", "乙", dedupe_key="b")
    now = timezone.now()
    dead, alive = Delivery.objects.order_by("pk")
    # One worker died holding a claim that expired a second ago; another is still sending under its lease.
    Delivery.objects.filter(pk=dead.pk).update(state="sending", attempts=1, lease_until=now - timedelta(seconds=1))
    Delivery.objects.filter(pk=alive.pk).update(state="sending", attempts=1, lease_until=now + timedelta(seconds=30))
    assert services.deliver_pending() == 1
    assert Delivery.objects.get(pk=dead.pk).state == "sent"
    assert Delivery.objects.get(pk=alive.pk).state == "sending"
    assert list(receiver.raw) == [dead.idempotency_key]


@pytest.mark.django_db(transaction=True)
def test_a_slow_send_keeps_its_claim_by_heartbeat_and_is_sent_once(city, receiver, settings):
    """The gateway hangs for three leases; the sender's heartbeat keeps the claim, so a second sweep
    running meanwhile does not send it again."""
    settings.NOTIFICATION_LEASE_SECONDS = 1
    settings.NOTIFICATION_WEBHOOK_TIMEOUT = 30
    services.notify([city.worker], "other", "慢", dedupe_key="slow")
    receiver.stall(1)
    first = threading.Thread(target=services.deliver_pending)
    first.start()
    try:
        deadline = time.monotonic() + 10
        while receiver.stalled == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert receiver.stalled == 1
        for _ in range(6):  # 3 s: three times the lease
            time.sleep(0.5)
            assert services.deliver_pending() == 0
        assert Delivery.objects.get().lease_until > timezone.now()  # renewed while sending
    finally:
        receiver.release()
        first.join(10)
    delivery = Delivery.objects.get()
    assert delivery.state == "sent" and delivery.attempts == 1 and delivery.lease_until is None
    assert sum(receiver.raw.values()) == 1


# --- sensitive cases ---------------------------------------------------------------------------------------

def _people_with_email(city):
    for user in (city.worker, city.grid_worker, city.secretary, city.dispatcher, city.sibling_worker):
        user.email = f"{user.username}@example.org"
        user.save()


def _sensitive_case(city):
    ensure_taxonomy()
    category = Category.objects.get(code="care_mental")
    assert category.sensitive
    return cases.create_case(city.grid_worker, {"category": category, "grid": city.micro,
                                                "title": "王秀英情绪异常", "description": "独居老人，夜间哭喊"}).case


@pytest.mark.django_db
def test_a_sensitive_case_leaves_by_email_only_as_a_neutral_notice_with_a_link(city, email):
    _people_with_email(city)
    case = _sensitive_case(city)
    notified = Notification.objects.filter(case_id=case.pk)
    assert notified.exists()
    assert services.deliver_pending() == len(mail.outbox) > 0
    for message in mail.outbox:
        text = message.subject + message.body
        assert "王秀英" not in text and "情绪" not in text and "哭喊" not in text and case.number not in text
        assert message.subject == "您有一件敏感事件"
        assert f"https://gridcase.example.org/console/cases/{case.pk}" in message.body or \
            f"https://gridcase.example.org/m/cases/{case.pk}" in message.body
    # The inbox keeps the details for the people allowed to see the case.
    assert all(n.body == "王秀英情绪异常" for n in notified)


@pytest.mark.django_db
def test_a_sensitive_case_leaves_by_webhook_only_as_a_neutral_notice(city, receiver):
    case = _sensitive_case(city)
    assert services.deliver_pending() == len(receiver.processed) > 0
    for body in receiver.processed.values():
        text = str(body)
        assert "王秀英" not in text and "哭喊" not in text and case.number not in text
        assert body["gridcase"]["sensitive"] is True and body["gridcase"]["case"] == case.pk
        assert body["text"]["content"].startswith("有一件敏感事件需要您处理")


@pytest.mark.django_db
def test_the_category_decides_when_the_message_is_built(city, email):
    """A category marked sensitive after the case was reported: what is sent now is neutral."""
    _people_with_email(city)
    ensure_taxonomy()
    category = Category.objects.get(code="env_drain")
    case = cases.create_case(city.grid_worker, {"category": category, "grid": city.micro, "title": "下水道堵塞"}).case
    Category.objects.filter(pk=category.pk).update(sensitive=True)
    assert not Case.objects.get(pk=case.pk).sensitive
    services.deliver_pending()
    assert mail.outbox and all("下水道" not in m.subject + m.body for m in mail.outbox)


@pytest.mark.django_db
def test_an_ordinary_case_goes_out_with_its_title_and_a_link(city, email):
    _people_with_email(city)
    ensure_taxonomy()
    case = cases.create_case(city.grid_worker, {"category": Category.objects.get(code="env_drain"),
                                                "grid": city.micro, "title": "下水道堵塞"}).case
    services.deliver_pending()
    assert mail.outbox
    for message in mail.outbox:
        assert case.number in message.subject and "下水道堵塞" in message.body
        assert f"/cases/{case.pk}" in message.body
