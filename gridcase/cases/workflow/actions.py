"""The case's own path: each action registered with its guard and its input next to its plan (see plan.py);
the actions involving departments and extensions are in coordination.py.

Plans are pure (plan.py): the seeders call them with the input they chose. A plan never sets `status`;
the table in state.py does. Also here: the plan of a new case (`opening`), the sweep's automatic
escalation and the resident's rating, which run the same plans on the system's or the resident's behalf.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from gridcase.core.errors import Conflict, Forbidden, InvalidTransition, ValidationFailed
from gridcase.grids import tree
from gridcase.grids.models import Membership
from gridcase.grids.roles import CASE_STAFF, CASE_WORKERS, SENSITIVE_CLOSERS
from gridcase.notifications.models import Kind

from .. import rules, sla, state
from ..choices import CaseScope, Priority, Rating, RatingSource, Source, Stage, Status
from ..models import Attachment, Case
from . import hops
from .coordination import WHISTLE_TITLE
from .engine import Ctx, Lost, commit, load, perform
from .inputs import ids, integer, note, required_text, text
from .plan import At, Plan, action, step
from .recipients import Notice, officers, responsible, staff, users

User = get_user_model()
AUTO_ESCALATE_REASON = _("Escalated automatically after the deadline passed.")


def first_response(at, changes: dict) -> dict:
    if at.case.first_response_at is None:
        changes["first_response_at"] = at.now
    return changes


def closes_ledger(action):
    """A case leaving the workflow: its grid hop and any department hops end."""
    return [hops.CloseGridHop(action), hops.CloseDepartmentHops(action)]


# --- a new case -------------------------------------------------------------------------------------------

def opening(at, grid, owner, departments=(), copies=(), channel="") -> Plan:
    """The creation of a case reported in `grid` and owned by `owner` (rules.py decided both): the accept
    stage's timers, the `create` event, the owner's grid hop, the departments whistled at once, who is told."""
    case, now = at.case, at.now
    changes = sla.stage_timers(case, Stage.ACCEPT, now, owner.level, at.limits)
    payload = {"owner_grid": owner.pk, "grid": grid.pk, "assignee": None, "sla_state": changes["sla_state"]}
    if channel:
        payload["channel"] = channel
    if owner.pk != grid.pk:
        payload["skip_rule"] = owner.level
    if departments:
        payload["departments"] = list(departments)
    if copies:
        payload["copied_grids"] = [g.pk for g in copies]
    ops, notices = [hops.OpenGridHop(owner.pk, owner.level, "create")], []
    if departments:
        ops.append(hops.Whistle(tuple(departments), at.by, owner.pk, now + timedelta(hours=2), "", "create"))
        notices.append(Notice(officers(departments), Kind.WHISTLE, WHISTLE_TITLE, "v1:whistle"))
    notices.append(Notice(staff(owner), Kind.CASE_UPDATE, _("New case: %(number)s"), "created"))
    notices += [Notice(staff(g), Kind.CASE_UPDATE, _("Copied to your grid: %(number)s"), f"copy:{g.pk}")
                for g in copies]
    return Plan(changes, payload, case.description[:200], ops, notices)


# --- accept, reject, merge ----------------------------------------------------------------------------------

@action("accept", inputs=note)
def accept(at, note=""):
    return Plan(first_response(at, {"accepted_at": at.now}), comment=note)


@action("reject", inputs=lambda ctx: {"reason": required_text(ctx, "reason")})
def reject(at, reason):
    return Plan(first_response(at, {"closed_at": at.now}), {"reason": reason}, reason, closes_ledger("reject"))


def merge_target(ctx) -> dict:
    into_id = integer(ctx, "into")
    target = Case.objects.restrict(ctx.scope).filter(pk=into_id).only("pk", "status", "number").first()
    if target is None:
        raise ValidationFailed(_("The case to merge into was not found."), fields={"into": [_("Not found.")]})
    if target.pk == ctx.case.pk or target.status in (Status.MERGED, Status.REJECTED):
        raise ValidationFailed(_("A case can only be merged into another open case."),
                               fields={"into": [_("Invalid value.")]})
    return {"into": target, "note": text(ctx, "note")}


@action("merge", inputs=merge_target)
def merge(at, into, note=""):
    """`into`: the case this one duplicates (anything with `pk` and `number`)."""
    changes = first_response(at, {"merged_into_id": into.pk, "closed_at": at.now})
    return Plan(changes, {"merged_into": into.pk, "into_number": into.number}, note, closes_ledger("merge"))


# --- assign, start, resolve, verify, reopen, close ----------------------------------------------------------

def eligible_memberships(case):
    """The rule of who may be assigned a case, as the memberships that qualify: a working role held on a grid
    inside the owner grid's subtree, or on the owner grid or its ancestors (staff above it can take the case
    themselves), by an active user. The assign check and the picker's list (`cases.assignees`) both use it.
    The workers of the case's dedicated grid (school, hospital …) qualify like its grid's while the case is owned
    where it happened (`cases.overlap`)."""
    owner = case.owner_grid
    where = (tree.subtree_q([tree.span(owner)], "grid__")
             | tree.ancestors_q(owner, include_self=True, prefix="grid__"))
    if case.dedicated_grid_id and case.owner_grid_id == case.grid_id:
        where |= Q(grid_id=case.dedicated_grid_id)
    return Membership.objects.filter(where, role__in=CASE_WORKERS, user__is_active=True)


def eligible_assignee(case, user_id) -> bool:
    return eligible_memberships(case).filter(user_id=user_id).exists()


def assignee_input(ctx) -> dict:
    user_id = integer(ctx, "assignee")
    if not eligible_assignee(ctx.case, user_id):
        raise ValidationFailed(_("The assignee must work in this case's grid."),
                               fields={"assignee": [_("Choose someone who works in the owner grid.")]},
                               code="assignee_outside_grid")
    return {"assignee": user_id, "note": text(ctx, "note")}


@action("assign", inputs=assignee_input)
def assign(at, assignee, note=""):
    told = Notice(users([assignee]), Kind.ASSIGNED, _("New case assigned to you: %(number)s"), "v{version}:assigned")
    return Plan({"assignee_id": assignee, "assigned_at": at.now}, {"assignee": assignee}, note, notices=[told])


@action("start", inputs=note)
def start(at, note=""):
    return Plan({"started_at": at.now}, comment=note)


def resolution(ctx) -> dict:
    note_text = required_text(ctx, "note")
    photos = ids(ctx, "photos", _("Send a list of attachment ids.")) if ctx.data.get("photos") else []
    if photos and Attachment.objects.filter(case_id=ctx.case.pk, pk__in=photos).count() != len(photos):
        raise ValidationFailed(_("Photos must be attachments of this case."), fields={"photos": [_("Not found.")]})
    reply = text(ctx, "public_reply", 500)
    return {"note": note_text, "photos": photos, **({"public_reply": reply} if reply else {})}


@action("resolve", inputs=resolution)
def resolve(at, note, photos=(), public_reply=""):
    """`note` is for staff; `public_reply` (optional) is what the resident reads on the tracking page."""
    ops = [hops.MarkPhotosAfter(tuple(photos))] if photos else []
    payload = {"photos": list(photos), "owner_grid_level": at.case.owner_grid.level}
    if public_reply:
        payload["public_reply"] = public_reply
    return Plan({"resolved_at": at.now}, payload, note, ops)


def not_by_the_resolver(ctx):
    if ctx.case.assignee_id and ctx.case.assignee_id == ctx.scope.user_id and not ctx.scope.is_global:
        raise Forbidden(_("The person who resolved a case cannot verify it."))


@action("verify", inputs=note, guard=not_by_the_resolver)
def verify(at, note=""):
    return Plan({"verified_at": at.now}, comment=note)


def reopening(at, action_name, reason="", payload=None) -> Plan:
    """Back to the assignee: counted, the resolution undone, the owner's grid hop reopened if it had closed."""
    case = at.case
    changes = {"reopen_count": case.reopen_count + 1, "resolved_at": None, "verified_at": None}
    ops = []
    if case.status == Status.CLOSED:
        changes["closed_at"] = None
        ops.append(hops.OpenGridHop(case.owner_grid_id, case.owner_grid.level, action_name))
    notices = [Notice(users([case.assignee_id]), Kind.REOPENED, _("Case reopened: %(number)s"),
                      "v{version}:reopened")] if case.assignee_id else []
    return Plan(changes, dict(payload or {}, reason=reason), reason, ops, notices)


@action("reopen", inputs=lambda ctx: {"reason": required_text(ctx, "reason")})
def reopen(at, reason):
    return reopening(at, "reopen", reason)


def closer_of_sensitive(ctx):
    if ctx.case.sensitive and not (ctx.roles & SENSITIVE_CLOSERS):
        raise Forbidden(_("Closing a sensitive case needs the community secretary."))


@action("close", inputs=note, guard=closer_of_sensitive)
def close(at, note=""):
    return Plan({"closed_at": at.now}, comment=note, ops=closes_ledger("close"))


# --- escalate, and the sweep's automatic escalation -----------------------------------------------------------

def below_the_street(ctx):
    if state.ASSIGNEE not in ctx.relations and not ctx.roles & CASE_WORKERS:
        raise Forbidden()
    if not rules.escalates_from(ctx.case.owner_grid.level):
        raise InvalidTransition(_("This case is already owned by the street; whistle departments instead."))


def escalation_target(case):
    target = rules.next_owner(case.owner_grid, list(tree.ancestors(case.owner_grid)))
    if target is None:
        raise InvalidTransition(_("There is no higher level to escalate to."))
    return target


def reason_or_note(ctx) -> str:
    """The reason, or else the note; both are read (a note too long is refused even beside a reason)."""
    reason, note_text = text(ctx, "reason"), text(ctx, "note")
    return reason or note_text


@action("escalate", guard=below_the_street,
        inputs=lambda ctx: {"target": escalation_target(ctx.case), "reason": reason_or_note(ctx)})
def escalate(at, target, reason="", hop_action="escalate"):
    """`target`: the grid above (rules.next_owner). The new owner's timers start afresh."""
    case = at.case
    changes = {"owner_grid_id": target.pk, "assignee_id": None, "escalation_count": case.escalation_count + 1}
    payload = {"owner_grid": target.pk, "from_grid": case.owner_grid_id, "assignee": None,
               "owner_grid_level": target.level}
    ops = [hops.CloseGridHop(hop_action), hops.OpenGridHop(target.pk, target.level, hop_action)]
    told = Notice(staff(target), Kind.ESCALATED, _("Case escalated to you: %(number)s"), "v{version}:escalated")
    return Plan(changes, payload, reason, ops, [told], owner_level=target.level)


def auto_escalate(case, now) -> bool:
    """Escalate a breached case on the system's behalf (called by the SLA sweep inside its transaction)."""
    if case.status not in state.OPEN:
        return False
    target = rules.next_owner(case.owner_grid, list(tree.ancestors(case.owner_grid)))
    if target is None:
        return False
    try:
        with transaction.atomic():
            commit(case, step(At(case, now), "escalate", target=target, reason=str(AUTO_ESCALATE_REASON),
                              hop_action="auto_escalate"), None, now)
    except Lost:
        return False
    return True


# --- rating -------------------------------------------------------------------------------------------------

def not_rated_yet(ctx):
    case = ctx.case
    if case.rated_at and case.closed_at and case.rated_at >= case.closed_at:
        raise InvalidTransition(_("This case has already been rated."))


def rating_input(ctx) -> dict:
    rating = ctx.data.get("rating")
    if rating not in Rating.values:
        raise ValidationFailed(fields={"rating": [_("Choose satisfied, basically or dissatisfied.")]})
    return {"rating": rating, "comment": text(ctx, "comment", 500)}


def rated(at, action_name, rating, comment, source, payload) -> Plan:
    """The plan of a rating however it came (the resident's own, or told on a call-back)."""
    base = {"rating": rating, "rating_comment": comment, "rated_at": at.now, "rating_source": source}
    title = (_("Resident rated %(number)s: %(rating)s") if source == RatingSource.RESIDENT
             else _("Call-back recorded for %(number)s: %(rating)s"))
    told = Notice(responsible, Kind.RATED, title, "v{version}:rated", {"rating": Rating(rating).label})
    payload = {"rating": rating, "rating_source": source, **payload}
    if rating != Rating.DISSATISFIED:
        return Plan(base, payload, comment, notices=[told])
    plan = reopening(at, action_name, comment, payload)
    plan.changes.update(base)
    plan.notices.append(told)
    plan.outcome = "dissatisfied"
    return plan


@action("rate", guard=not_rated_yet, inputs=rating_input)
def rate(at, rating, comment=""):
    """The resident's own rating (tracking code). A dissatisfied rating reopens the case (the table's
    `dissatisfied` outcome)."""
    return rated(at, "rate", rating, comment, RatingSource.RESIDENT, {})


def callback_allowed(ctx):
    """A call-back stands in for the resident's rating only where no resident holds a tracking code that
    can rate it (staff-reported cases); and a case is rated once per closing."""
    not_rated_yet(ctx)
    if ctx.case.source == Source.RESIDENT:
        raise InvalidTransition(_("The resident who reported this case rates it through the tracking code."),
                                code="rated_by_resident")


def callback_input(ctx) -> dict:
    out = rating_input(ctx)
    raw = ctx.data.get("called_at")
    called = parse_datetime(raw) if isinstance(raw, str) else None
    if called is not None and timezone.is_naive(called):
        called = timezone.make_aware(called)
    errors = []
    if called is None:
        errors.append(_("Give the time of the call (ISO 8601)."))
    elif called > ctx.now + timedelta(minutes=5):
        errors.append(_("The call cannot be in the future."))
    elif ctx.case.closed_at and called < ctx.case.closed_at:
        errors.append(_("The call-back comes after the case was closed."))
    if errors:
        raise ValidationFailed(fields={"called_at": errors})
    if not out["comment"]:
        raise ValidationFailed(fields={"comment": [_("Write down what the resident said.")]})
    out["called_at"] = called
    return out


@action("callback", guard=callback_allowed, inputs=callback_input)
def callback(at, rating, called_at, comment=""):
    """回访: staff phoned the resident and record their answer (the rating and their words) with the call's
    time; counted as the resident's rating, marked as a call-back. Dissatisfied reopens the case."""
    plan = rated(at, "callback", rating, comment, RatingSource.CALLBACK, {"called_at": called_at.isoformat()})
    plan.changes["callback_at"] = called_at
    return plan


def rate_by_resident(case_id, rating: str, comment: str = "", *, channel: str = "resident_qr") -> Case:
    """The resident who reported a case (through its tracking code, no account) rates the result: the same
    `rate` action as `apply`, acting in the reporter's place. A dissatisfied rating reopens the case."""
    case = load(case_id, None)
    if case is None or case.status not in state.TRANSITIONS["rate"].sources:
        raise InvalidTransition()
    ctx = Ctx(case, timezone.now(), relations={state.RESIDENT}, data={"rating": rating, "comment": comment})
    try:
        perform(ctx, "rate", payload={"channel": channel})
    except Lost:
        raise Conflict()
    return load(case.pk, None)


# --- the PATCH edit -------------------------------------------------------------------------------------------

EDITABLE = ("title", "description", "priority", "scope")


def reporter_only_while_reported(ctx):
    if not ctx.roles & CASE_STAFF and ctx.case.status != Status.REPORTED:
        raise Forbidden()


def edits(ctx) -> dict:
    """The fields that change (title, description, priority, scope), checked."""
    unknown = set(ctx.data) - set(EDITABLE) - {"version"}
    if unknown:
        raise ValidationFailed(_("Only the title, description, priority and scope can be changed."),
                               fields={k: [_("This field cannot be changed here.")] for k in sorted(unknown)})
    changes, errors = {}, {}
    for key in EDITABLE:
        if key not in ctx.data:
            continue
        value = ctx.data[key]
        if not isinstance(value, str):
            errors[key] = [_("Enter text.")]
            continue
        value = value.strip()
        if key == "title" and not value:
            errors[key] = [_("This field is required.")]
        elif key == "title" and len(value) > 200:
            errors[key] = [_("This text is too long.")]
        elif key == "priority" and value not in Priority.values:
            errors[key] = [_("Invalid value.")]
        elif key == "scope" and value and value not in CaseScope.values:
            errors[key] = [_("Invalid value.")]
        elif value != getattr(ctx.case, key):
            changes[key] = value
    if errors:
        raise ValidationFailed(fields=errors)
    return {"changes": changes}


@action("edit", inputs=edits, guard=reporter_only_while_reported, refused=_("A finished case cannot be edited."))
def edit(at, changes):
    """A new priority brings the running stage's deadline under the new policy's limits."""
    if not changes:
        return None
    case = at.case
    fields = dict(changes)
    payload = {"changed": {k: [getattr(case, k), v] for k, v in changes.items()}}
    if "priority" in changes:
        timers = sla.reprioritise(case, changes["priority"], at.now, at.limits)
        if timers:
            payload["deadline"] = [case.sla_red_at.isoformat(), timers["sla_red_at"].isoformat()]
            payload["sla_state"] = timers["sla_state"]
            fields.update(timers)
    return Plan(fields, payload)
