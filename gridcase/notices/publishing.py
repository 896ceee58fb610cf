"""Publishing a notice or an emergency broadcast, now or at a set time, and sending it once.

`publish_notice(actor, grid=…, title=…, …)` is the one way in (the API and other apps, e.g. deliberation's decisions,
call it). It checks that the actor may publish on `grid` (a publisher role held on it or above: `NOTICE_PUBLISHERS`),
validates the times and the kind, and stores the notice as scheduled; a notice due now is sent in the same
transaction. `send_notice` moves a scheduled notice to published with a compare-and-set, so of two senders (the
request and the beat sweep, or two sweeps) exactly one writes the receipts and puts the message in the recipients'
inboxes through the notification outbox (`notify`, deduplicated per recipient on `notice-<id>`): each recipient gets
it once, on every channel, whatever is retried.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.core.errors import Forbidden, ValidationFailed
from gridcase.grids import tree
from gridcase.grids.models import Grid, Membership
from gridcase.grids.roles import NOTICE_PUBLISHERS, NOTICE_RECIPIENTS, ROLE_RANK
from gridcase.grids.scoping import scope_for
from gridcase.notifications.models import Kind as NotificationKind
from gridcase.notifications.services import notify

from .models import Audience, Kind, Notice, Receipt, State

TITLE_MAX = 200
BODY_MAX = 10_000
# A publish time this far in the past is a clock or a typo, not "now".
PAST_SLACK = timedelta(minutes=10)
LONGEST = timedelta(days=366)

OUT_OF_SCOPE = _("You can publish only to grids in your area.")


def dedupe_key(notice_id: int) -> str:
    return f"notice-{notice_id}"


def check_publisher(actor, grid) -> None:
    """The actor publishes on `grid`: it lies in their area (else a 400 naming the field, as for any reference
    outside the scope) and they hold a publisher role on it or above (else 403)."""
    scope = scope_for(actor)
    if not scope.covers(grid):
        raise ValidationFailed(OUT_OF_SCOPE, code="out_of_scope", fields={"grid": [OUT_OF_SCOPE]})
    if not scope.is_global and not scope.roles_at(grid) & NOTICE_PUBLISHERS:
        raise Forbidden(_("Only grid leaders, secretaries and the street may publish notices."))


def check_manages_notice(actor, notice) -> None:
    """Changing an existing notice (attachments, withdrawal): a publisher role on its grid or above (else 403; the
    notice itself was already found in the caller's area)."""
    scope = scope_for(actor)
    if not scope.is_global and not (scope.covers(notice.grid) and scope.roles_at(notice.grid) & NOTICE_PUBLISHERS):
        raise Forbidden(_("Only grid leaders, secretaries and the street may change this notice."))


def _text(value, name, limit, required=True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(fields={name: [_("Expected text.")]})
    value = value.strip()
    if required and not value:
        raise ValidationFailed(fields={name: [_("This field is required.")]})
    if len(value) > limit:
        raise ValidationFailed(fields={name: [_("At most %(n)d characters.") % {"n": limit}]})
    return value


def publish_notice(actor, *, grid, title, body="", kind=Kind.NOTICE, audience=Audience.WORKERS, requires_ack=None,
                   publish_at=None, expires_at=None, client_key="", now=None) -> Notice:
    """Store a notice to `grid`'s subtree and send it now, or at `publish_at` (the beat sweep sends it).

    `actor` is the publishing user (checked: `check_publisher`); None for the system, when the calling app has
    already decided who may publish. A broadcast (`kind="broadcast"`) goes to workers and always asks for an
    acknowledgement. A resend under the same `client_key` by the same actor answers the first notice unchanged."""
    now = now or timezone.now()
    grid = Grid.objects.get(pk=grid.pk)  # its tree position as stored now (an instance may be older than a move)
    if kind not in Kind.values:
        raise ValidationFailed(fields={"kind": [_("Unknown kind.")]})
    if audience not in Audience.values:
        raise ValidationFailed(fields={"audience": [_("Unknown audience.")]})
    title = _text(title, "title", TITLE_MAX)
    body = _text(body, "body", BODY_MAX, required=False)
    if kind == Kind.BROADCAST:
        if audience != Audience.WORKERS:
            raise ValidationFailed(fields={"audience": [_("An emergency broadcast goes to workers.")]},
                                   code="broadcast_to_workers")
        requires_ack = True
    requires_ack = bool(requires_ack)
    publish_at = publish_at or now
    if publish_at < now - PAST_SLACK:
        raise ValidationFailed(fields={"publish_at": [_("The publish time is in the past.")]}, code="in_the_past")
    publish_at = max(publish_at, now)
    if publish_at > now + LONGEST:
        raise ValidationFailed(fields={"publish_at": [_("At most a year ahead.")]})
    if expires_at is not None and expires_at <= publish_at:
        raise ValidationFailed(fields={"expires_at": [_("The notice must expire after it is published.")]},
                               code="expires_before_publish")
    client_key = _text(client_key, "client_key", 64, required=False)
    if actor is not None:
        check_publisher(actor, grid)
        if client_key:
            first = Notice.objects.filter(created_by=actor, client_key=client_key).first()
            if first is not None:
                return first
    try:
        with transaction.atomic():
            notice = Notice.objects.create(
                grid=grid, kind=kind, audience=audience, title=title, body=body, requires_ack=requires_ack,
                publish_at=publish_at, expires_at=expires_at, created_by=actor, client_key=client_key)
            if publish_at <= now:
                send_notice(notice.pk, now=now)
    except IntegrityError:
        # The same key published at the same moment by a second request: the first one's notice.
        first = Notice.objects.filter(created_by=actor, client_key=client_key).first() if client_key else None
        if first is None:
            raise
        return first
    notice.refresh_from_db()
    return notice


def recipients(notice) -> dict[int, tuple[int, str]]:
    """{user id: (grid id, role)} of everyone the notice reaches: the workers holding a recipient role in its
    subtree (each once, at their most local role), and with `audience=residents` the building and unit leads
    and volunteers there."""
    span = tree.span(notice.grid)
    rows = (Membership.objects.filter(tree.subtree_q([span], "grid__"), role__in=NOTICE_RECIPIENTS,
                                      user__is_active=True)
            .values_list("user_id", "grid_id", "role"))
    found: dict[int, tuple[int, str]] = {}
    for user_id, grid_id, role in sorted(rows, key=lambda r: (r[0], ROLE_RANK[r[2]], r[1])):
        found.setdefault(user_id, (grid_id, role))
    if notice.audience == Audience.RESIDENTS:
        from gridcase.volunteers.places import notice_recipients

        for user_id, grid_id, role in notice_recipients(span):
            found.setdefault(user_id, (grid_id, role))
    return found


@transaction.atomic
def send_notice(notice_id: int, now=None) -> int:
    """Publish a scheduled notice: compare-and-set to `published`, one receipt and one inbox message (with its
    outbox rows) per recipient. Returns how many it reached; 0 when someone else already sent it."""
    now = now or timezone.now()
    claimed = Notice.objects.filter(pk=notice_id, state=State.SCHEDULED).update(
        state=State.PUBLISHED, published_at=now, updated_at=now)
    if not claimed:
        return 0
    notice = Notice.objects.select_related("grid").get(pk=notice_id)
    reached = recipients(notice)
    Receipt.objects.bulk_create(
        [Receipt(notice=notice, user_id=uid, grid_id=g, role=role) for uid, (g, role) in reached.items()],
        ignore_conflicts=True)
    kind = NotificationKind.BROADCAST if notice.kind == Kind.BROADCAST else NotificationKind.NOTICE
    title = notice.title if notice.kind != Kind.BROADCAST else f"【{_('Emergency')}】{notice.title}"
    notify(list(reached), kind, title, notice.body[:1000], dedupe_key=dedupe_key(notice.pk),
           payload={"notice": notice.pk, "requires_ack": notice.requires_ack})
    Notice.objects.filter(pk=notice.pk).update(recipients_count=len(reached))
    return len(reached)


def publish_due(now=None, limit: int = 200) -> int:
    """The beat sweep: send every scheduled notice whose time has come (catching up after downtime), and mark
    published notices whose expiry has passed as expired. Safe to run from several workers at once."""
    now = now or timezone.now()
    due = list(Notice.objects.filter(state=State.SCHEDULED, publish_at__lte=now)
               .order_by("publish_at").values_list("pk", flat=True)[:limit])
    for pk in due:
        send_notice(pk, now=now)
    Notice.objects.filter(state=State.PUBLISHED, expires_at__lte=now).update(state=State.EXPIRED, updated_at=now)
    return len(due)


def withdraw(actor, notice) -> Notice:
    """Take a notice down (it leaves the public pages and the inboxes' current list; receipts stay)."""
    check_manages_notice(actor, notice)
    if notice.state == State.WITHDRAWN:
        return notice
    Notice.objects.filter(pk=notice.pk).exclude(state=State.WITHDRAWN).update(
        state=State.WITHDRAWN, updated_at=timezone.now())
    notice.refresh_from_db()
    return notice


def is_current(notice, now=None) -> bool:
    now = now or timezone.now()
    return notice.state == State.PUBLISHED and (notice.expires_at is None or notice.expires_at > now)
