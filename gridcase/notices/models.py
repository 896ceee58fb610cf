"""Notices (居务公开) and emergency broadcasts, their read receipts and attachments.

A notice targets a grid's subtree (`grid`): its workers, and with `audience=residents` the residents too (the
community's public board, the micro-grids' QR pages, and the building leads and volunteers there). A broadcast is
a notice to workers that each must acknowledge. One `Receipt` per recipient, written once when the notice goes
out (`send.send_notice`), records when they read and acknowledged it; the chase list reads them.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridcase.core.models import TimeStamped
from gridcase.core.querysets import ScopedQuerySet
from gridcase.grids import tree


class Kind(models.TextChoices):
    NOTICE = "notice", _("notice")
    BROADCAST = "broadcast", _("emergency broadcast")


class Audience(models.TextChoices):
    WORKERS = "workers", _("workers only")
    RESIDENTS = "residents", _("workers and residents")


class State(models.TextChoices):
    SCHEDULED = "scheduled", _("scheduled")
    PUBLISHED = "published", _("published")
    EXPIRED = "expired", _("expired")
    WITHDRAWN = "withdrawn", _("withdrawn")


class Notice(TimeStamped):
    grid = models.ForeignKey("grids.Grid", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.NOTICE)
    audience = models.CharField(_("audience"), max_length=12, choices=Audience.choices, default=Audience.WORKERS)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    requires_ack = models.BooleanField(_("acknowledgement required"), default=False)
    publish_at = models.DateTimeField(_("publish at"))
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.SCHEDULED)
    published_at = models.DateTimeField(null=True, blank=True)
    recipients_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # A resent publish (double tap, retry after a timeout) under the same key answers the notice made first.
    client_key = models.CharField(max_length=64, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        constraints = [models.UniqueConstraint(fields=["created_by", "client_key"], condition=~Q(client_key=""),
                                               name="notice_client_key_once")]
        indexes = [models.Index(fields=["state", "publish_at"], name="notice_due_idx",
                                condition=Q(state="scheduled")),
                   models.Index(fields=["state", "expires_at"], name="notice_expiry_idx",
                                condition=Q(state="published"))]

    def __str__(self):
        return self.title

    @classmethod
    def scope_q(cls, scope):
        # Staff see notices sent inside their subtrees and those sent to a grid above theirs (which reached them).
        return tree.subtree_q(scope.spans, "grid__") | tree.covering_q(scope.spans, "grid__")


class Receipt(models.Model):
    """One recipient of one notice: where they work (`grid`, for the chase list per grid), read and acknowledged."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_receipts")
    grid = models.ForeignKey("grids.Grid", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=24)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    acked_at = models.DateTimeField(null=True, blank=True)
    ack_client_uuid = models.UUIDField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notice", "user"], name="receipt_once")]
        indexes = [models.Index(fields=["user", "-notice"], name="receipt_user_idx")]

    def __str__(self):
        return f"{self.notice_id}:{self.user_id}"

    @classmethod
    def scope_q(cls, scope):
        return tree.subtree_q(scope.spans, "grid__")


def attachment_path(instance, filename):
    from gridcase.core.files import random_name

    return f"notices/{random_name(filename.rsplit('.', 1)[-1] if '.' in filename else '')}"


class NoticeAttachment(models.Model):
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.original_name
