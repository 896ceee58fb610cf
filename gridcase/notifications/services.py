"""Notifying users: an inbox row per recipient, plus an outbox row per outbound channel.

`notify` is idempotent on (recipient, dedupe_key): calling it twice for one event stores one
notification and sends it once. Call it inside the transaction that made the event; delivery is
queued only after commit, and a broker that is down never fails the caller (the outbox sweep sends).
"""

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import F, Q
from django.utils import timezone

from gridcase.core.queue import enqueue_on_commit

from . import channels
from .models import Delivery, Notification

logger = logging.getLogger("gridcase.notifications")

MAX_ATTEMPTS = 6


def notify(recipients, kind: str, title: str, body: str = "", *, dedupe_key: str, case_id=None, resident=None,
           payload=None, via=None) -> int:
    """Put a message in each recipient's inbox once per `dedupe_key`; returns how many were new. `via` names
    the outbound channels instead of the enabled ones (a system recipient such as the 12345 hotline)."""
    recipient_ids = sorted({getattr(r, "pk", r) for r in recipients if r is not None})
    if not recipient_ids:
        return 0
    enabled = channels.enabled() if via is None else [channels.REGISTRY[name] for name in via]
    if connection.vendor == "postgresql":
        new = _insert_once(recipient_ids, kind, str(title)[:200], str(body), case_id,
                           getattr(resident, "pk", resident), payload or {}, dedupe_key, [c.name for c in enabled])
        if new and enabled:
            _queue_delivery()
        return new
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
    if enabled:
        new = Notification.objects.filter(recipient_id__in=[r.recipient_id for r in rows], dedupe_key=dedupe_key)
        Delivery.objects.bulk_create(
            [Delivery(notification=n, channel=c.name) for n in new for c in enabled], ignore_conflicts=True
        )
        _queue_delivery()
    return len(rows)


def _insert_once(recipient_ids, kind, title, body, case_id, resident_id, payload, dedupe_key, channel_names) -> int:
    """`notify`'s rows in one statement (PostgreSQL): the inbox rows not there yet and, for each new one, its
    outbox row per channel. Returns how many inbox rows were new. The notifications table is partitioned by
    month: its (recipient, dedupe_key) key lives in a trigger-kept key table (gridcase/core/partitions.py) whose
    trigger drops a duplicate row before it is stored, so `RETURNING` names only the new rows, and a concurrent
    sender of the same event waits on the key, then skips. `ON CONFLICT DO NOTHING` only covers a table that
    still carries the unique constraint itself."""
    n, d = Notification._meta.db_table, Delivery._meta.db_table
    payload_sql = Notification._meta.get_field("payload").get_db_prep_save(payload, connection)
    params = [str(kind), title, body, case_id, resident_id, payload_sql, dedupe_key, timezone.now(), recipient_ids]
    insert = (f"INSERT INTO {n} (recipient_id, kind, title, body, case_id, resident_id, payload, dedupe_key, "
              f"created_at) SELECT r, %s, %s, %s, %s, %s, %s, %s, %s FROM unnest(%s::bigint[]) AS r "
              f"ON CONFLICT DO NOTHING RETURNING id")
    if channel_names:
        sql = (f"WITH new AS ({insert}), outbox AS (INSERT INTO {d} (notification_id, channel, state, attempts, "
               f"last_error) SELECT new.id, c, %s, 0, '' FROM new, unnest(%s::text[]) AS c "
               f"ON CONFLICT DO NOTHING) SELECT count(*) FROM new")
        params += [str(Delivery.State.PENDING), channel_names]
    else:
        sql = f"WITH new AS ({insert}) SELECT count(*) FROM new"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _queue_delivery():
    """After commit, ask a worker to send. A broker that is down is logged, not raised: the rows wait in
    the outbox and the `deliver-notifications` sweep (beat, every minute) sends them."""
    enqueue_on_commit("gridcase.notifications.tasks.deliver_pending")  # by name: tasks.py imports this module


def _due(now):
    """Rows a worker may claim: pending and due, or claimed by a worker whose lease ran out."""
    pending = Q(state=Delivery.State.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    expired = Q(state=Delivery.State.SENDING) & (Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    return pending | expired


def lease_seconds() -> int:
    return max(1, settings.NOTIFICATION_LEASE_SECONDS)


class Heartbeat:
    """While a row is being sent, renew its lease every third of the lease, from a thread with its own
    database connection, as long as the claim is still ours (same `attempts`)."""

    def __init__(self, pk: int, attempt: int):
        self.pk, self.attempt = pk, attempt
        self.stopped = threading.Event()
        self.lost = False
        self.thread = threading.Thread(target=self._run, name=f"delivery-lease-{pk}", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join(timeout=5)

    def _run(self):
        try:
            while not self.stopped.wait(lease_seconds() / 3):
                try:
                    renewed = Delivery.objects.filter(
                        pk=self.pk, state=Delivery.State.SENDING, attempts=self.attempt
                    ).update(lease_until=timezone.now() + timedelta(seconds=lease_seconds()))
                except DatabaseError:
                    logger.warning("Could not renew the lease of delivery %s; retrying.", self.pk, exc_info=True)
                    connection.close()
                    continue
                if not renewed:
                    self.lost = True
                    return
        finally:
            connection.close()


def claim(pk: int, now=None) -> int | None:
    """Compare-and-set a due row to `sending` with a fresh lease; the claim's number, or None if taken."""
    now = now or timezone.now()
    claimed = Delivery.objects.filter(_due(now), pk=pk).update(
        state=Delivery.State.SENDING, attempts=F("attempts") + 1, claimed_at=now,
        lease_until=now + timedelta(seconds=lease_seconds()),
    )
    if not claimed:
        return None
    return Delivery.objects.filter(pk=pk).values_list("attempts", flat=True).get()


def deliver_pending(limit: int = 200) -> int:
    """Send due outbox rows, each under a leased claim, so two live workers never both send it and a dead
    worker's row is sent by the next sweep once its lease has expired. A send cut off by a crash may be
    repeated; it carries the same idempotency key, so the receiver keeps one."""
    due = list(Delivery.objects.filter(_due(timezone.now())).order_by("pk").values_list("pk", flat=True)[:limit])
    sent = 0
    for pk in due:
        attempt = claim(pk)
        if attempt is None:
            continue
        mine = Delivery.objects.filter(pk=pk, state=Delivery.State.SENDING, attempts=attempt)
        delivery = Delivery.objects.select_related("notification__recipient").get(pk=pk)
        channel = channels.REGISTRY.get(delivery.channel)
        try:
            with Heartbeat(pk, attempt):
                if channel is None:
                    raise channels.ChannelError(f"unknown channel {delivery.channel}")
                if channel.applies_to(delivery.notification):
                    channel.send(delivery.notification, delivery.idempotency_key)
        except Exception as exc:  # noqa: BLE001 - any channel failure is retried, then recorded
            failed = attempt >= MAX_ATTEMPTS
            mine.update(
                state=Delivery.State.FAILED if failed else Delivery.State.PENDING, lease_until=None,
                last_error=str(exc)[:1000],
                next_attempt_at=timezone.now() + timedelta(seconds=30 * 2 ** attempt),
            )
            continue
        if mine.update(state=Delivery.State.SENT, sent_at=timezone.now(), lease_until=None, last_error=""):
            sent += 1
        else:
            logger.warning("Delivery %s was claimed again while it was being sent (lease lost).", pk)
    return sent


def mark_read(user, notification_id=None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())
