"""Notifying users: an inbox row per recipient, plus an outbox row per outbound channel.

`notify` is idempotent on (recipient, dedupe_key): calling it twice for one event stores one
notification and sends it once. Call it inside the transaction that made the event; delivery is
queued only after commit.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import channels
from .models import Delivery, Notification

MAX_ATTEMPTS = 6


def notify(recipients, kind: str, title: str, body: str = "", *, dedupe_key: str, case_id=None, resident=None,
           payload=None) -> int:
    """Put a message in each recipient's inbox once per `dedupe_key`; returns how many were new."""
    recipient_ids = sorted({getattr(r, "pk", r) for r in recipients if r is not None})
    if not recipient_ids:
        return 0
    existing = set(Notification.objects.filter(recipient_id__in=recipient_ids, dedupe_key=dedupe_key)
                   .values_list("recipient_id", flat=True))
    rows = [
        Notification(recipient_id=uid, kind=kind, title=str(title)[:200], body=str(body), case_id=case_id,
                     resident=resident, payload=payload or {}, dedupe_key=dedupe_key)
        for uid in recipient_ids if uid not in existing
    ]
    if not rows:
        return 0
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    enabled = channels.enabled()
    if enabled:
        new = Notification.objects.filter(recipient_id__in=[r.recipient_id for r in rows], dedupe_key=dedupe_key)
        Delivery.objects.bulk_create(
            [Delivery(notification=n, channel=c.name) for n in new for c in enabled], ignore_conflicts=True
        )
        transaction.on_commit(_queue_delivery)
    return len(rows)


def _queue_delivery():
    from .tasks import deliver_pending

    deliver_pending.delay()


def deliver_pending(limit: int = 200) -> int:
    """Send due outbox rows. Each row is claimed with a compare-and-set, so two workers never both send it."""
    now = timezone.now()
    due = list(
        Delivery.objects.filter(state=Delivery.State.PENDING)
        .exclude(next_attempt_at__gt=now)
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for pk in due:
        claimed = Delivery.objects.filter(pk=pk, state=Delivery.State.PENDING).update(
            state=Delivery.State.SENDING, attempts=F("attempts") + 1, claimed_at=now
        )
        if not claimed:
            continue
        delivery = Delivery.objects.select_related("notification__recipient").get(pk=pk)
        channel = channels.REGISTRY.get(delivery.channel)
        try:
            if channel is None:
                raise channels.ChannelError(f"unknown channel {delivery.channel}")
            if channel.applies_to(delivery.notification):
                channel.send(delivery.notification)
            Delivery.objects.filter(pk=pk).update(state=Delivery.State.SENT, sent_at=timezone.now(), last_error="")
            sent += 1
        except Exception as exc:  # noqa: BLE001 - any channel failure is retried, then recorded
            failed = delivery.attempts >= MAX_ATTEMPTS
            Delivery.objects.filter(pk=pk).update(
                state=Delivery.State.FAILED if failed else Delivery.State.PENDING,
                last_error=str(exc)[:1000],
                next_attempt_at=timezone.now() + timedelta(seconds=30 * 2 ** delivery.attempts),
            )
    return sent


def recover_stuck(older_than_minutes: int = 10) -> int:
    """A worker that died mid-send leaves a row in `sending`; put it back in the queue."""
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    return Delivery.objects.filter(state=Delivery.State.SENDING, claimed_at__lt=cutoff).update(
        state=Delivery.State.PENDING)


def mark_read(user, notification_id=None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())
