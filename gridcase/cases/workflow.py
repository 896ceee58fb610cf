"""Applying a transition of the table in state.py: the one place a case's status changes.

`apply()` checks, in this order, scope (404), role (403), `version` (409 conflict / 412 with If-Match),
status (409 invalid_transition), the action's own rules and input (400/403); then, in one transaction,
writes the new state with a compare-and-set on `version`, appends a CaseEvent, keeps the hop ledger and
queues notifications (delivered after commit). Two people acting at once: one wins, the other gets 409.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from gridcase.core.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from gridcase.grids import tree
from gridcase.grids.choices import LEVEL_RANK, Level, Role
from gridcase.grids.models import Department, DepartmentMember, Membership
from gridcase.grids.scoping import Scope, scope_for
from gridcase.notifications.models import Kind
from gridcase.notifications.services import notify

from . import sla, state
from .choices import AttachmentKind, ExtensionState, HopKind, Rating, Status
from .models import Attachment, Case, CaseDepartment, CaseEvent, CaseHop, ExtensionRequest

User = get_user_model()
MAX_EXTENSION_HOURS = 24 * 30


class PreconditionFailed(Conflict):
    status = 412
    code = "precondition_failed"


@dataclass
class Plan:
    """What a transition will write: case fields, the event's payload and comment, and follow-up writes."""

    changes: dict = field(default_factory=dict)
    payload: dict = field(default_factory=dict)
    comment: str = ""
    effects: list = field(default_factory=list)  # callables(case, event_at) run after the CAS succeeded


@dataclass
class Ctx:
    case: Case
    actor: object
    scope: Scope
    roles: set
    relations: set
    now: datetime
    data: dict


# --- loading and who-is-who ------------------------------------------------------------------------------------

def with_related(qs):
    """The joins and prefetches every read of a case needs (constant queries per page)."""
    return qs.select_related("owner_grid", "grid", "category", "assignee").prefetch_related(
        Prefetch("case_departments", CaseDepartment.objects.select_related("department").order_by("id"))
    ).annotate(has_pending_extension=Exists(
        ExtensionRequest.objects.filter(case=OuterRef("pk"), state=ExtensionState.PENDING)))


def load(case_id, scope: Scope | None):
    qs = with_related(Case.objects.all())
    if scope is not None:
        qs = qs.restrict(scope)
    try:
        return qs.filter(pk=int(case_id)).first()
    except (TypeError, ValueError):
        return None


def roles_on(case, scope: Scope) -> set:
    if scope.is_global:
        return {Role.ADMIN}
    return set(scope.roles_at(case.owner_grid))


def relations_to(case, scope: Scope) -> set:
    rel = set()
    if scope.user_id is None:
        return rel
    if case.assignee_id == scope.user_id:
        rel.add(state.ASSIGNEE)
    if case.reporter_id == scope.user_id:
        rel.add(state.REPORTER)
    if scope.department_ids and any(cd.department_id in scope.department_ids for cd in case.case_departments.all()):
        rel.add(state.OFFICER)
    return rel


def _my_links(case, scope):
    return [cd for cd in case.case_departments.all() if cd.department_id in scope.department_ids]


def _guard(ctx: Ctx, action: str) -> None:
    """Rules beyond role and status; raise when the action cannot run now for this actor."""
    case, scope = ctx.case, ctx.scope
    if action == "verify" and case.assignee_id and case.assignee_id == scope.user_id and not scope.is_global:
        raise Forbidden(_("The person who resolved a case cannot verify it."))
    if action == "close" and case.sensitive and not (ctx.roles & state.SENSITIVE_CLOSERS):
        raise Forbidden(_("Closing a sensitive case needs the community secretary."))
    if action == "escalate":
        if state.ASSIGNEE not in ctx.relations and not ctx.roles & state.WORKERS:
            raise Forbidden()
        if case.owner_grid.level in (Level.STREET, Level.DISTRICT):
            raise InvalidTransition(_("This case is already owned by the street; whistle departments instead."))
    if action == "report_in":
        if not any(cd.reported_in_at is None for cd in _my_links(case, scope)):
            raise InvalidTransition(_("Your department has already reported in."))
    if action == "reply":
        if not any(cd.replied_at is None for cd in _my_links(case, scope)):
            raise InvalidTransition(_("Your department has already replied."))
    if action == "score_department" and not any(cd.reported_in_at for cd in case.case_departments.all()):
        raise InvalidTransition(_("A department can be scored once it has reported in."))
    if action == "request_extension" and _has_pending(case):
        raise InvalidTransition(_("An extension request is already waiting for a decision."))
    if action == "decide_extension" and not _has_pending(case):
        raise InvalidTransition(_("There is no extension request to decide."))
    if action == "rate" and case.rated_at and case.closed_at and case.rated_at >= case.closed_at:
        raise InvalidTransition(_("This case has already been rated."))


def _has_pending(case) -> bool:
    if hasattr(case, "has_pending_extension"):
        return bool(case.has_pending_extension)
    return ExtensionRequest.objects.filter(case=case, state=ExtensionState.PENDING).exists()


def allowed_actions(case, scope: Scope) -> list[str]:
    """The actions the caller could run on the case now (no database queries with `with_related`)."""
    roles, relations = roles_on(case, scope), relations_to(case, scope)
    ctx = Ctx(case, None, scope, roles, relations, timezone.now(), {})
    out = []
    for name, t in state.TRANSITIONS.items():
        if case.status not in t.sources or not state.permitted(name, roles, relations):
            continue
        try:
            _guard(ctx, name)
        except (Forbidden, InvalidTransition):
            continue
        out.append(name)
    return out


# --- applying -----------------------------------------------------------------------------------------------

def apply(case_id, action: str, actor, data: dict | None = None, *, version=None, if_match: bool = False,
          present=None) -> Case:
    """Run `action` on the case as `actor`. `version` is the version the caller saw; `present(case)` renders
    the current case for a conflict answer."""
    data = dict(data or {})
    if action not in state.TRANSITIONS:
        raise NotFound(_("Unknown action."))
    scope = scope_for(actor)
    case = load(case_id, scope)
    if case is None:
        raise NotFound()
    t = state.TRANSITIONS[action]
    roles, relations = roles_on(case, scope), relations_to(case, scope)
    if not state.permitted(action, roles, relations):
        raise Forbidden()
    expected = _parse_version(version)
    if expected != case.version:
        raise _conflict(case, if_match, present)
    if case.status not in t.sources:
        raise InvalidTransition(current=present(case) if present else None)
    ctx = Ctx(case, actor, scope, roles, relations, timezone.now(), data)
    _guard(ctx, action)
    missing = {f: [_("This field is required.")] for f in t.requires if data.get(f) in (None, "", [])}
    if missing:
        raise ValidationFailed(_("Some required fields are missing."), fields=missing)
    handler = HANDLERS[action]
    try:
        with transaction.atomic():
            plan = handler(ctx)
            commit(case, action, actor, plan, ctx.now)
    except _Lost:
        fresh = load(case.pk, None)
        raise _conflict(fresh, if_match, present)
    return load(case.pk, None)


def rate_by_resident(case_id, rating: str, comment: str = "", *, channel: str = "resident_qr") -> Case:
    """The resident who reported a case (through its tracking code, no account) rates the result: the same
    `rate` transition as `apply`, acting in the reporter's place. A dissatisfied rating reopens the case."""
    case = load(case_id, None)
    if case is None or case.status not in state.TRANSITIONS["rate"].sources:
        raise InvalidTransition()
    ctx = Ctx(case, None, Scope(user_id=None), set(), {state.REPORTER}, timezone.now(),
              {"rating": rating, "comment": comment})
    _guard(ctx, "rate")
    try:
        with transaction.atomic():
            plan = HANDLERS["rate"](ctx)
            plan.payload["channel"] = channel
            commit(case, "rate", None, plan, ctx.now)
    except _Lost:
        raise Conflict()
    return load(case.pk, None)


class _Lost(Exception):
    """The compare-and-set found another version: someone else acted first."""


def _conflict(case, if_match, present):
    cls = PreconditionFailed if if_match else Conflict
    return cls(current=present(case) if present and case is not None else None)


def _parse_version(value):
    if value in (None, ""):
        raise ValidationFailed(_("Send the version of the case you are acting on."),
                               fields={"version": [_("This field is required.")]})
    try:
        return int(str(value).strip().strip('"').removeprefix('W/').strip('"'))
    except (TypeError, ValueError):
        raise ValidationFailed(_("The version must be a whole number."), fields={"version": [_("Invalid value.")]})


def commit(case, action, actor, plan: Plan, now) -> CaseEvent:
    """Compare-and-set the case's row, append the event, run the plan's follow-up writes."""
    from_status = case.status
    changes = dict(plan.changes)
    to_status = changes.get("status", from_status)
    new_version = case.version + 1
    updated = Case.objects.filter(pk=case.pk, version=case.version).update(
        **changes, version=new_version, updated_at=now)
    if updated != 1:
        raise _Lost()
    for key, value in changes.items():
        setattr(case, key, value)
    case.version = new_version
    payload = dict(plan.payload)
    if "status" in changes or "sla_state" in changes:
        payload.setdefault("sla_state", changes.get("sla_state", case.sla_state))
    event = record_event(case, action, actor, from_status, to_status, new_version, plan.comment, payload, now)
    for effect in plan.effects:
        effect(case, now)
    return event


def record_event(case, action, actor, from_status, to_status, version, comment="", payload=None, at=None):
    return CaseEvent.objects.create(case_id=case.pk, action=action, actor=actor if getattr(actor, "pk", None) else None,
                                    from_status=from_status or "", to_status=to_status or "", version=version,
                                    comment=str(comment or ""), payload=payload or {}, at=at or timezone.now())


def stage_changes(case, new_status, now, owner_level=None) -> dict:
    """Restart the SLA timer when the stage changes (or the owning level does)."""
    stage = sla.stage_for_status(new_status)
    if stage == case.sla_stage and owner_level is None:
        return {}
    return sla.stage_timers(case, stage, now, owner_level)


# --- hop ledger ---------------------------------------------------------------------------------------------

def open_grid_hop(case, grid, action, at):
    CaseHop.objects.create(case_id=case.pk, kind=HopKind.GRID, grid=grid, grid_level=grid.level,
                           start_action=action, started_at=at)


def close_grid_hop(case, action, at):
    CaseHop.objects.filter(case_id=case.pk, kind=HopKind.GRID, ended_at__isnull=True).update(
        ended_at=at, end_action=action)


def close_department_hops(case, action, at, department_ids=None):
    qs = CaseHop.objects.filter(case_id=case.pk, kind=HopKind.DEPARTMENT, ended_at__isnull=True)
    if department_ids is not None:
        qs = qs.filter(department_id__in=department_ids)
    qs.update(ended_at=at, end_action=action)


# --- people to tell ---------------------------------------------------------------------------------------------

def staff_of(grid) -> list[int]:
    """Staff holding a handling role on `grid`, or on its nearest ancestor that has any."""
    nodes = list(tree.ancestors(grid, include_self=True).values_list("pk", flat=True))
    rows = list(Membership.objects.filter(grid_id__in=nodes, role__in=state.STAFF - {Role.ADMIN})
                .values_list("grid_id", "user_id"))
    for node in reversed(nodes):
        users = sorted({u for g, u in rows if g == node})
        if users:
            return users
    return []


def responsible_users(case) -> list[int]:
    users = set(staff_of(case.owner_grid))
    if case.assignee_id:
        users.add(case.assignee_id)
    return sorted(users)


def officers_of(department_ids) -> list[int]:
    return sorted(set(DepartmentMember.objects.filter(department_id__in=department_ids)
                      .values_list("user_id", flat=True)))


def render(message, **params) -> str:
    """Stored notification text, in the site's language (the recipient is not the caller)."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(message) % params


def _notify(users, kind, title, case, key, **params):
    notify(users, kind, render(title, number=case.number, **params), case.title,
           dedupe_key=f"case:{case.pk}:{key}", case_id=case.pk)


# --- handlers: validate input, return the plan ---------------------------------------------------------------

def _text(ctx, name, limit=2000):
    value = ctx.data.get(name, "")
    if not isinstance(value, str):
        raise ValidationFailed(fields={name: [_("Enter text.")]})
    if len(value) > limit:  # as sent (the schema's maxLength), not after trimming
        raise ValidationFailed(fields={name: [_("This text is too long.")]})
    return value.strip()


def _required_text(ctx, name):
    value = _text(ctx, name)
    if not value:
        raise ValidationFailed(_("Some required fields are missing."), fields={name: [_("This field is required.")]})
    return value


def _accept(ctx):
    case, now = ctx.case, ctx.now
    changes = {"status": Status.ACCEPTED, "accepted_at": now, **stage_changes(case, Status.ACCEPTED, now)}
    if case.first_response_at is None:
        changes["first_response_at"] = now
    return Plan(changes, comment=_text(ctx, "note"))


def _reject(ctx):
    case, now = ctx.case, ctx.now
    reason = _required_text(ctx, "reason")
    changes = {"status": Status.REJECTED, "closed_at": now, **stage_changes(case, Status.REJECTED, now)}
    if case.first_response_at is None:
        changes["first_response_at"] = now
    return Plan(changes, {"reason": reason}, reason, [
        lambda c, at: (close_grid_hop(c, "reject", at), close_department_hops(c, "reject", at))])


def _merge(ctx):
    case, now = ctx.case, ctx.now
    into_id = ctx.data.get("into")
    try:
        into_id = int(into_id)
    except (TypeError, ValueError):
        raise ValidationFailed(fields={"into": [_("Invalid value.")]})
    target = Case.objects.restrict(ctx.scope).filter(pk=into_id).only("pk", "status", "number").first()
    if target is None:
        raise ValidationFailed(_("The case to merge into was not found."), fields={"into": [_("Not found.")]})
    if target.pk == case.pk or target.status in (Status.MERGED, Status.REJECTED):
        raise ValidationFailed(_("A case can only be merged into another open case."),
                               fields={"into": [_("Invalid value.")]})
    changes = {"status": Status.MERGED, "merged_into_id": target.pk, "closed_at": now,
               **stage_changes(case, Status.MERGED, now)}
    if case.first_response_at is None:
        changes["first_response_at"] = now
    return Plan(changes, {"merged_into": target.pk, "into_number": target.number}, _text(ctx, "note"), [
        lambda c, at: (close_grid_hop(c, "merge", at), close_department_hops(c, "merge", at))])


def eligible_assignee(case, user_id) -> bool:
    """An assignee holds a working role on a grid inside the owner grid's subtree, or on the owner grid's
    ancestors (staff above it can take the case themselves)."""
    holds = Membership.objects.filter(user_id=user_id, role__in=state.WORKERS).select_related("grid")
    owner = case.owner_grid
    return any(tree.is_inside(m.grid, owner) or tree.is_inside(owner, m.grid) for m in holds)


def _assign(ctx):
    case, now = ctx.case, ctx.now
    try:
        user_id = int(ctx.data.get("assignee"))
    except (TypeError, ValueError):
        raise ValidationFailed(fields={"assignee": [_("Invalid value.")]})
    if not User.objects.filter(pk=user_id, is_active=True).exists() or not eligible_assignee(case, user_id):
        raise ValidationFailed(_("The assignee must work in this case's grid."),
                               fields={"assignee": [_("Choose someone who works in the owner grid.")]},
                               code="assignee_outside_grid")
    changes = {"status": Status.ASSIGNED, "assignee_id": user_id, "assigned_at": now,
               **stage_changes(case, Status.ASSIGNED, now)}

    def tell(c, at):
        _notify([user_id], Kind.ASSIGNED, _("New case assigned to you: %(number)s"), c, f"v{c.version}:assigned")

    return Plan(changes, {"assignee": user_id}, _text(ctx, "note"), [tell])


def _start(ctx):
    changes = {"status": Status.IN_PROGRESS, "started_at": ctx.now}
    return Plan(changes, comment=_text(ctx, "note"))


def _resolve(ctx):
    case, now = ctx.case, ctx.now
    note = _required_text(ctx, "note")
    photos = ctx.data.get("photos") or []
    if not isinstance(photos, list) or not all(str(p).isdigit() for p in photos):
        raise ValidationFailed(fields={"photos": [_("Send a list of attachment ids.")]})
    photo_ids = sorted({int(p) for p in photos})
    if photo_ids and Attachment.objects.filter(case_id=case.pk, pk__in=photo_ids).count() != len(photo_ids):
        raise ValidationFailed(_("Photos must be attachments of this case."), fields={"photos": [_("Not found.")]})
    changes = {"status": Status.RESOLVED, "resolved_at": now, **stage_changes(case, Status.RESOLVED, now)}

    def mark_after(c, at):
        if photo_ids:
            Attachment.objects.filter(pk__in=photo_ids).update(kind=AttachmentKind.AFTER)

    return Plan(changes, {"photos": photo_ids, "owner_grid_level": case.owner_grid.level}, note, [mark_after])


def _verify(ctx):
    return Plan({"status": Status.VERIFIED, "verified_at": ctx.now}, comment=_text(ctx, "note"))


def _reopen_plan(case, now, action, reason="", payload=None):
    changes = {"status": Status.ASSIGNED, "reopen_count": case.reopen_count + 1, "resolved_at": None,
               "verified_at": None, **stage_changes(case, Status.ASSIGNED, now)}
    was_closed = case.status == Status.CLOSED
    if was_closed:
        changes["closed_at"] = None

    def effects(c, at):
        if was_closed:
            open_grid_hop(c, c.owner_grid, action, at)
        if c.assignee_id:
            _notify([c.assignee_id], Kind.REOPENED, _("Case reopened: %(number)s"), c, f"v{c.version}:reopened")

    return Plan(changes, dict(payload or {}, reason=reason), reason, [effects])


def _close(ctx):
    case, now = ctx.case, ctx.now
    changes = {"status": Status.CLOSED, "closed_at": now, **stage_changes(case, Status.CLOSED, now)}
    return Plan(changes, comment=_text(ctx, "note"), effects=[
        lambda c, at: (close_grid_hop(c, "close", at), close_department_hops(c, "close", at))])


def next_owner(grid):
    """The nearest ancestor of a higher rank: micro-grid → grid → community → street."""
    rank = LEVEL_RANK.get(grid.level, 0)
    for node in reversed(list(tree.ancestors(grid))):
        if LEVEL_RANK.get(node.level, 0) > rank:
            return node
    return None


def _escalate_plan(case, now, action, reason=""):
    target = next_owner(case.owner_grid)
    if target is None:
        raise InvalidTransition(_("There is no higher level to escalate to."))
    new_status = Status.REPORTED if case.status == Status.REPORTED else Status.ACCEPTED
    changes = {"owner_grid_id": target.pk, "status": new_status, "assignee_id": None,
               "escalation_count": case.escalation_count + 1,
               **sla.stage_timers(case, sla.stage_for_status(new_status), now, target.level)}
    payload = {"owner_grid": target.pk, "from_grid": case.owner_grid_id, "assignee": None,
               "owner_grid_level": target.level}

    def effects(c, at):
        close_grid_hop(c, action, at)
        open_grid_hop(c, target, action, at)
        c.owner_grid = target
        _notify(staff_of(target), Kind.ESCALATED, _("Case escalated to you: %(number)s"), c, f"v{c.version}:escalated")

    return Plan(changes, payload, reason, [effects])


def _escalate(ctx):
    reason, note = _text(ctx, "reason"), _text(ctx, "note")  # both read: a note too long is refused
    return _escalate_plan(ctx.case, ctx.now, "escalate", reason or note)


def auto_escalate(case, now) -> bool:
    """Escalate a breached case on the system's behalf (called by the SLA sweep inside its transaction)."""
    if case.status not in state.OPEN:
        return False
    try:
        with transaction.atomic():
            commit(case, "escalate", None, _escalate_plan(case, now, "auto_escalate",
                                                       str(_("Escalated automatically after the deadline passed."))),
                   now)
    except (_Lost, InvalidTransition):
        return False
    return True


def _parse_when(value, name):
    if isinstance(value, datetime):
        when = value
    else:
        when = parse_datetime(str(value)) if value else None
    if when is None:
        raise ValidationFailed(fields={name: [_("Enter a date and time.")]})
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    return when


def _whistle(ctx):
    case, now = ctx.case, ctx.now
    raw = ctx.data.get("departments")
    if not isinstance(raw, list) or not raw or not all(str(d).isdigit() for d in raw):
        raise ValidationFailed(fields={"departments": [_("Send a list of department ids.")]})
    ids = sorted({int(d) for d in raw})
    found = list(Department.objects.restrict(ctx.scope).filter(pk__in=ids).values_list("pk", flat=True))
    if len(found) != len(ids):
        raise ValidationFailed(_("Some departments were not found or do not serve this area."),
                               fields={"departments": [_("Not found.")]})
    already = {cd.department_id for cd in case.case_departments.all()}
    if set(ids) & already:
        raise ValidationFailed(_("A department was already whistled for this case."),
                               fields={"departments": [_("Already whistled.")]})
    report_by = _parse_when(ctx.data["report_by"], "report_by") if ctx.data.get("report_by") else now + timedelta(hours=24)
    if report_by <= now:
        raise ValidationFailed(fields={"report_by": [_("The report-in deadline must be in the future.")]})
    note = _text(ctx, "note")

    def effects(c, at):
        CaseDepartment.objects.bulk_create([
            CaseDepartment(case_id=c.pk, department_id=d, whistled_at=at, whistled_by_id=ctx.scope.user_id,
                           whistled_from_id=c.owner_grid_id, report_by=report_by, note=note) for d in ids])
        CaseHop.objects.bulk_create([CaseHop(case_id=c.pk, kind=HopKind.DEPARTMENT, department_id=d,
                                             start_action="whistle", started_at=at) for d in ids])
        _notify(officers_of(ids), Kind.WHISTLE, _("Whistle (吹哨): %(number)s"), c, f"v{c.version}:whistle")

    return Plan({}, {"departments": ids, "report_by": report_by.isoformat()}, note, [effects])


def _report_in(ctx):
    links = [cd for cd in _my_links(ctx.case, ctx.scope) if cd.reported_in_at is None]
    ids = [cd.department_id for cd in links]

    def effects(c, at):
        CaseDepartment.objects.filter(pk__in=[cd.pk for cd in links]).update(
            reported_in_at=at, reported_in_by_id=ctx.scope.user_id)

    return Plan({}, {"reported_in": ids}, _text(ctx, "note"), [effects])


def _reply(ctx):
    note = _required_text(ctx, "note")
    links = [cd for cd in _my_links(ctx.case, ctx.scope) if cd.replied_at is None]
    ids = [cd.department_id for cd in links]

    def effects(c, at):
        for cd in links:
            CaseDepartment.objects.filter(pk=cd.pk, reported_in_at__isnull=True).update(
                reported_in_at=at, reported_in_by_id=ctx.scope.user_id)
        CaseDepartment.objects.filter(pk__in=[cd.pk for cd in links]).update(
            replied_at=at, replied_by_id=ctx.scope.user_id, reply=note)
        close_department_hops(c, "reply", at, ids)
        _notify(responsible_users(c), Kind.CASE_UPDATE, _("A department replied: %(number)s"), c, f"v{c.version}:reply")

    return Plan({}, {"replied": ids}, note, [effects])


def _score_department(ctx):
    try:
        dept_id, score = int(ctx.data.get("department")), int(ctx.data.get("score"))
    except (TypeError, ValueError):
        raise ValidationFailed(fields={"score": [_("Give a score from 1 to 5.")]})
    if not 1 <= score <= 5:
        raise ValidationFailed(_("Give a score from 1 to 5."), fields={"score": [_("Give a score from 1 to 5.")]})
    link = next((cd for cd in ctx.case.case_departments.all() if cd.department_id == dept_id), None)
    if link is None:
        raise ValidationFailed(_("That department was not whistled for this case."),
                               fields={"department": [_("Not found.")]})
    if link.reported_in_at is None and link.replied_at is None:
        raise InvalidTransition(_("A department can be scored once it has reported in."))
    comment = _text(ctx, "comment", 500)

    def effects(c, at):
        CaseDepartment.objects.filter(pk=link.pk).update(score=score, score_comment=comment, scored_at=at,
                                                         scored_by_id=ctx.scope.user_id)

    return Plan({}, {"department": dept_id, "score": score}, comment, [effects])


def _hours(ctx):
    raw = ctx.data.get("hours")
    try:
        hours = Decimal(str(raw)) if not isinstance(raw, bool) else None
    except (InvalidOperation, TypeError, ValueError):
        hours = None
    if hours is None or not hours.is_finite():  # "NaN", "Infinity": not a number of hours
        raise ValidationFailed(fields={"hours": [_("Enter a number of hours.")]})
    if not (0 < hours <= MAX_EXTENSION_HOURS) or hours.quantize(Decimal("0.01")) <= 0:
        raise ValidationFailed(_("Ask for between 0 and 720 hours."), fields={"hours": [_("Invalid value.")]})
    return hours.quantize(Decimal("0.01"))


def _request_extension(ctx):
    case = ctx.case
    hours, reason = _hours(ctx), _required_text(ctx, "reason")
    if not case.sla_stage:
        raise InvalidTransition(_("No deadline runs in this status."))

    def effects(c, at):
        ExtensionRequest.objects.create(case_id=c.pk, stage=c.sla_stage, hours=hours, reason=reason,
                                        requested_by_id=ctx.scope.user_id, requested_at=at,
                                        old_deadline=c.sla_red_at)
        _notify(staff_of(c.owner_grid), Kind.EXTENSION, _("Extension requested: %(number)s"), c, f"v{c.version}:extension")

    return Plan({}, {"hours": str(hours)}, reason, [effects])


def _decide_extension(ctx):
    case = ctx.case
    approve = ctx.data.get("approve")
    if isinstance(approve, str):
        approve = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}.get(approve.lower())
    if not isinstance(approve, bool):
        raise ValidationFailed(fields={"approve": [_("Answer true or false.")]})
    ext = ExtensionRequest.objects.filter(case=case, state=ExtensionState.PENDING).first()
    if ext is None:
        raise InvalidTransition(_("There is no extension request to decide."))
    if ext.requested_by_id == ctx.scope.user_id and not ctx.scope.is_global:
        raise Forbidden(_("Someone else must decide your own extension request."))
    note = _text(ctx, "note", 500)
    changes, payload = {}, {"extension": ext.pk, "approve": approve, "hours": str(ext.hours)}
    if approve and case.sla_stage == ext.stage:
        changes = sla.extend(case, float(ext.hours))
        payload["new_deadline"] = changes["sla_red_at"].isoformat()
        payload["sla_state"] = changes["sla_state"]

    def effects(c, at):
        ExtensionRequest.objects.filter(pk=ext.pk).update(
            state=ExtensionState.APPROVED if approve else ExtensionState.REFUSED, decided_by_id=ctx.scope.user_id,
            decided_at=at, decision_note=note, new_deadline=changes.get("sla_red_at"))
        if ext.requested_by_id:
            title = _("Extension approved: %(number)s") if approve else _("Extension refused: %(number)s")
            _notify([ext.requested_by_id], Kind.EXTENSION, title, c, f"v{c.version}:extension-decided")

    return Plan(changes, payload, note, [effects])


def _rate(ctx):
    case, now = ctx.case, ctx.now
    rating = ctx.data.get("rating")
    if rating not in Rating.values:
        raise ValidationFailed(fields={"rating": [_("Choose satisfied, basically or dissatisfied.")]})
    comment = _text(ctx, "comment", 500)
    base = {"rating": rating, "rating_comment": comment, "rated_at": now}
    users = responsible_users(case)

    def tell(c, at):
        _notify(users, Kind.RATED, _("Resident rated %(number)s: %(rating)s"), c, f"v{c.version}:rated",
                rating=Rating(rating).label)

    if rating == Rating.DISSATISFIED:
        plan = _reopen_plan(case, now, "rate", comment, {"rating": rating})
        plan.changes.update(base)
        plan.effects.append(tell)
        return plan
    return Plan(base, {"rating": rating}, comment, [tell])


HANDLERS = {
    "accept": _accept, "reject": _reject, "merge": _merge, "assign": _assign, "start": _start,
    "resolve": _resolve, "verify": _verify, "reopen": lambda ctx: _reopen_plan(
        ctx.case, ctx.now, "reopen", _required_text(ctx, "reason")),
    "close": _close, "escalate": _escalate, "whistle": _whistle, "report_in": _report_in, "reply": _reply,
    "score_department": _score_department, "request_extension": _request_extension,
    "decide_extension": _decide_extension, "rate": _rate,
}
assert set(HANDLERS) == set(state.TRANSITIONS)  # noqa: S101 - the table and the handlers stay in step

