from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    ASSIGNED = "assigned", _("assigned to you")
    ESCALATED = "escalated", _("escalated")
    SLA_YELLOW = "sla_yellow", _("deadline warning")
    SLA_RED = "sla_red", _("deadline breached")
    WHISTLE = "whistle", _("whistle (吹哨)")
    REOPENED = "reopened", _("reopened")
    RATED = "rated", _("rated by resident")
    CASE_UPDATE = "case_update", _("case update")
    VISIT_DUE = "visit_due", _("visit due")
    VISIT_OVERDUE = "visit_overdue", _("visit overdue")
    URGENT_VISIT = "urgent_visit", _("urgent visit")
    EXTENSION = "extension", _("extension request")
    NOTICE = "notice", _("notice")
    BROADCAST = "broadcast", _("emergency broadcast")
    CHECK_IN = "check_in", _("neighbour check-in")
    OTHER = "other", _("other")


class Notification(models.Model):
    """One message in one user's inbox. `dedupe_key` makes sending idempotent: an event notifies once."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    # The case this is about (plain id: the inbox must not depend on the cases app's tables).
    case_id = models.BigIntegerField(null=True, blank=True)
    resident = models.ForeignKey("grids.Resident", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    payload = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [models.UniqueConstraint(fields=["recipient", "dedupe_key"], name="notification_once")]
        indexes = [models.Index(fields=["recipient", "read_at", "-id"], name="notification_inbox_idx")]

    def __str__(self):
        return f"{self.recipient_id}: {self.title}"


class Delivery(models.Model):
    """Outbox row: one notification to send on one outbound channel.

    A worker claims a row with a compare-and-set that takes a short lease (`lease_until`) and renews the
    lease while it sends; a row whose lease ran out (its worker died) may be claimed again. `attempts`
    counts claims and fences them: a worker finishes a row only while its own claim is the latest.
    """

    class State(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"

    # No database constraint: notifications are partitioned by month, and PostgreSQL can only reference a
    # partitioned table's full primary key (id, created_at). The ORM still deletes deliveries with their
    # notification (gridcase/core/partitions.py).
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries",
                                     db_constraint=False)
    channel = models.CharField(max_length=20)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notification", "channel"], name="delivery_once")]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="delivery_due_idx",
                                condition=models.Q(state__in=["pending", "sending"]))]

    def __str__(self):
        return f"{self.channel}:{self.notification_id}:{self.state}"

    @property
    def idempotency_key(self) -> str:
        """The same on every attempt of this delivery, so a receiver can drop a repeat."""
        return f"gridcase-{self.notification_id}-{self.channel}"
