"""A recipient reads and acknowledges a notice; the publisher chases who has not.

Both are compare-and-sets on the recipient's own receipt, so a tap repeated, or an acknowledgement replayed by a
phone that was offline, changes nothing the second time and says so (`created=False`). Somebody with no receipt
for the notice gets 404, as for a notice that does not exist: nothing is revealed.
"""

from dataclasses import dataclass

from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.core.errors import Forbidden, NotFound, ValidationFailed
from gridcase.grids import tree
from gridcase.grids.accounts import display_name
from gridcase.grids.roles import NOTICE_PUBLISHERS
from gridcase.grids.scoping import scope_for
from gridcase.notifications.models import Notification

from .models import Receipt, State
from .publishing import dedupe_key


@dataclass
class Acked:
    receipt: Receipt
    created: bool


def receipt_of(user, notice_id) -> Receipt:
    receipt = Receipt.objects.select_related("notice").filter(notice_id=notice_id, user=user).first()
    if receipt is None or receipt.notice.state == State.SCHEDULED:
        raise NotFound()
    return receipt


def _inbox_read(user, notice_id, at) -> None:
    Notification.objects.filter(recipient=user, dedupe_key=dedupe_key(notice_id), read_at__isnull=True).update(
        read_at=at)


def mark_read(user, notice_id, now=None) -> Receipt:
    now = now or timezone.now()
    receipt = receipt_of(user, notice_id)
    if Receipt.objects.filter(pk=receipt.pk, read_at__isnull=True).update(read_at=now):
        _inbox_read(user, notice_id, now)
        receipt.refresh_from_db()
    return receipt


def acknowledge(user, notice_id, *, client_uuid=None, at=None, now=None) -> Acked:
    """Record that `user` acknowledged the notice, at `at` (when the phone's button was tapped; it may have been
    offline) clamped between the notice's publication and now. A second acknowledgement — the same phone
    replaying its queue, or another device — leaves the first one standing."""
    now = now or timezone.now()
    receipt = receipt_of(user, notice_id)
    if not receipt.notice.requires_ack:
        raise ValidationFailed(_("This notice does not ask for an acknowledgement."), code="ack_not_required")
    when = min(at or now, now)
    if receipt.notice.published_at and when < receipt.notice.published_at:
        when = receipt.notice.published_at
    changed = Receipt.objects.filter(pk=receipt.pk, acked_at__isnull=True).update(
        acked_at=when, ack_client_uuid=client_uuid, read_at=Coalesce(F("read_at"), when))
    if changed:
        _inbox_read(user, notice_id, when)
    receipt.refresh_from_db()
    return Acked(receipt, bool(changed))


def chase(actor, notice) -> dict:
    """Receipts of the notice inside the caller's area, per grid: how many it reached, read and acknowledged,
    and who still has to (acknowledge, or read when no acknowledgement is asked) — the list to phone round."""
    scope = scope_for(actor)
    if not scope.has_role(*NOTICE_PUBLISHERS):
        raise Forbidden(_("Only grid leaders, secretaries and the street follow up notices."))
    receipts = Receipt.objects.filter(notice=notice)
    if not scope.is_global:
        receipts = receipts.filter(tree.subtree_q(scope.spans, "grid__"))
    rows = list(receipts.select_related("user", "grid").order_by("grid__code", "user__username"))
    grids: dict[int, dict] = {}
    for r in rows:
        g = grids.setdefault(r.grid_id, {"grid": r.grid_id, "grid_name": r.grid.name, "grid_code": r.grid.code,
                                         "total": 0, "read": 0, "acked": 0, "pending": []})
        g["total"] += 1
        g["read"] += r.read_at is not None
        g["acked"] += r.acked_at is not None
        done = r.acked_at is not None if notice.requires_ack else r.read_at is not None
        if not done:
            g["pending"].append({"user": r.user_id, "name": display_name(r.user), "role": r.role,
                                 "read_at": r.read_at})
    per_grid = sorted(grids.values(), key=lambda g: (-len(g["pending"]), g["grid_code"]))
    return {
        "notice": notice.pk,
        "requires_ack": notice.requires_ack,
        "total": sum(g["total"] for g in per_grid),
        "read": sum(g["read"] for g in per_grid),
        "acked": sum(g["acked"] for g in per_grid),
        "pending": sum(len(g["pending"]) for g in per_grid),
        "grids": per_grid,
    }
