"""Working with others on a case: departments whistled (吹哨), reporting in, replying and scored (应哨); more
time asked of the owning level (延期); a level above urging the owner on (督办). Registered like every action
(plan.py); see actions.py for the rest.
"""

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from gridcase.core.errors import Forbidden, InvalidTransition, ValidationFailed
from gridcase.grids import tree
from gridcase.grids.models import Department
from gridcase.grids.roles import SUPERVISORS
from gridcase.notifications.models import Kind

from .. import sla
from ..choices import ExtensionState
from ..models import ExtensionRequest
from . import hops
from .inputs import hours, ids, required_text, text, when, yes_or_no
from .plan import Plan, action
from .recipients import Notice, officers, owner_staff, responsible, responsible_but, users

WHISTLE_TITLE = _("Whistle (吹哨): %(number)s")


def my_links(case, scope):
    return [cd for cd in case.case_departments.all() if cd.department_id in scope.department_ids]


def has_pending_extension(case) -> bool:
    if hasattr(case, "has_pending_extension"):
        return bool(case.has_pending_extension)
    return ExtensionRequest.objects.filter(case=case, state=ExtensionState.PENDING).exists()


# --- departments: whistle, report in, reply, score -----------------------------------------------------------

def whistling(ctx) -> dict:
    departments = ids(ctx, "departments", _("Send a list of department ids."))
    if not departments:
        raise ValidationFailed(fields={"departments": [_("Send a list of department ids.")]})
    found = list(Department.objects.restrict(ctx.scope).filter(pk__in=departments).values_list("pk", flat=True))
    if len(found) != len(departments):
        raise ValidationFailed(_("Some departments were not found or do not serve this area."),
                               fields={"departments": [_("Not found.")]})
    if set(departments) & {cd.department_id for cd in ctx.case.case_departments.all()}:
        raise ValidationFailed(_("A department was already whistled for this case."),
                               fields={"departments": [_("Already whistled.")]})
    raw = ctx.data.get("report_by")
    report_by = when(raw, "report_by") if raw else ctx.now + timedelta(hours=24)
    if report_by <= ctx.now:
        raise ValidationFailed(fields={"report_by": [_("The report-in deadline must be in the future.")]})
    return {"departments": departments, "report_by": report_by, "note": text(ctx, "note")}


@action("whistle", inputs=whistling)
def whistle(at, departments, report_by, note=""):
    ops = [hops.Whistle(tuple(departments), at.by, at.case.owner_grid_id, report_by, note)]
    told = Notice(officers(departments), Kind.WHISTLE, WHISTLE_TITLE, "v{version}:whistle")
    return Plan({}, {"departments": list(departments), "report_by": report_by.isoformat()}, note, ops, [told])


def not_reported_in(ctx):
    if not any(cd.reported_in_at is None for cd in my_links(ctx.case, ctx.scope)):
        raise InvalidTransition(_("Your department has already reported in."))


@action("report_in", guard=not_reported_in, inputs=lambda ctx: {
    "departments": [cd.department_id for cd in my_links(ctx.case, ctx.scope) if cd.reported_in_at is None],
    "note": text(ctx, "note")})
def report_in(at, departments, note=""):
    return Plan({}, {"reported_in": list(departments)}, note, [hops.ReportIn(tuple(departments), at.by)])


def not_replied(ctx):
    if not any(cd.replied_at is None for cd in my_links(ctx.case, ctx.scope)):
        raise InvalidTransition(_("Your department has already replied."))


@action("reply", guard=not_replied, inputs=lambda ctx: {
    "note": required_text(ctx, "note"),
    "departments": [cd.department_id for cd in my_links(ctx.case, ctx.scope) if cd.replied_at is None]})
def reply(at, departments, note):
    ops = [hops.Reply(tuple(departments), at.by, note), hops.CloseDepartmentHops("reply", tuple(departments))]
    told = Notice(responsible, Kind.CASE_UPDATE, _("A department replied: %(number)s"), "v{version}:reply")
    return Plan({}, {"replied": list(departments)}, note, ops, [told])


def someone_reported_in(ctx):
    if not any(cd.reported_in_at for cd in ctx.case.case_departments.all()):
        raise InvalidTransition(_("A department can be scored once it has reported in."))


def scoring(ctx) -> dict:
    try:
        department, score = int(ctx.data.get("department")), int(ctx.data.get("score"))
    except (TypeError, ValueError):
        raise ValidationFailed(fields={"score": [_("Give a score from 1 to 5.")]})
    if not 1 <= score <= 5:
        raise ValidationFailed(_("Give a score from 1 to 5."), fields={"score": [_("Give a score from 1 to 5.")]})
    link = next((cd for cd in ctx.case.case_departments.all() if cd.department_id == department), None)
    if link is None:
        raise ValidationFailed(_("That department was not whistled for this case."),
                               fields={"department": [_("Not found.")]})
    if link.reported_in_at is None and link.replied_at is None:
        raise InvalidTransition(_("A department can be scored once it has reported in."))
    return {"department": department, "score": score, "comment": text(ctx, "comment", 500)}


@action("score_department", guard=someone_reported_in, inputs=scoring)
def score_department(at, department, score, comment=""):
    return Plan({}, {"department": department, "score": score}, comment,
                [hops.Score(department, score, comment, at.by)])


# --- extensions ------------------------------------------------------------------------------------------------

def may_request_extension(ctx):
    if has_pending_extension(ctx.case):
        raise InvalidTransition(_("An extension request is already waiting for a decision."))
    if not ctx.case.sla_stage:
        raise InvalidTransition(_("No deadline runs in this status."))


@action("request_extension", guard=may_request_extension,
        inputs=lambda ctx: {"hours": hours(ctx), "reason": required_text(ctx, "reason")})
def request_extension(at, hours, reason):
    case = at.case
    ops = [hops.RequestExtension(case.sla_stage, hours, reason, at.by, case.sla_red_at)]
    told = Notice(owner_staff, Kind.EXTENSION, _("Extension requested: %(number)s"), "v{version}:extension")
    return Plan({}, {"hours": str(hours)}, reason, ops, [told])


def extension_pending(ctx):
    if not has_pending_extension(ctx.case):
        raise InvalidTransition(_("There is no extension request to decide."))


def decision(ctx) -> dict:
    approve = yes_or_no(ctx, "approve")
    ext = ExtensionRequest.objects.filter(case=ctx.case, state=ExtensionState.PENDING).first()
    if ext is None:
        raise InvalidTransition(_("There is no extension request to decide."))
    if ext.requested_by_id == ctx.scope.user_id and not ctx.scope.is_global:
        raise Forbidden(_("Someone else must decide your own extension request."))
    return {"extension": ext, "approve": approve, "note": text(ctx, "note", 500)}


@action("decide_extension", guard=extension_pending, inputs=decision)
def decide_extension(at, extension, approve, note=""):
    """`extension`: the pending request (`pk`, `stage`, `hours`, `requested_by_id`)."""
    case, changes = at.case, {}
    payload = {"extension": extension.pk, "approve": approve, "hours": str(extension.hours)}
    if approve and case.sla_stage == extension.stage:
        changes = sla.extend(case, float(extension.hours), at.now, at.limits)
        payload["new_deadline"] = changes["sla_red_at"].isoformat()
        payload["sla_state"] = changes["sla_state"]
    ops = [hops.DecideExtension(extension.pk, approve, at.by, note, changes.get("sla_red_at"))]
    title = _("Extension approved: %(number)s") if approve else _("Extension refused: %(number)s")
    notices = [Notice(users([extension.requested_by_id]), Kind.EXTENSION, title, "v{version}:extension-decided")
               ] if extension.requested_by_id else []
    return Plan(changes, payload, note, ops, notices)


# --- supervision (督办) ----------------------------------------------------------------------------------------

def above_the_owner(ctx):
    """A supervisor holds the role on a grid strictly above the owner grid: nobody urges themselves."""
    if ctx.scope.is_global:
        return
    owner = ctx.case.owner_grid
    here = tree.span(owner)
    above = {h.role for h in ctx.scope.holds if h.grid_id != owner.pk and h.span.contains(here)}
    if not above & SUPERVISORS:
        raise Forbidden(_("Only a dispatcher or a secretary above the owner grid can supervise this case."))


@action("supervise", guard=above_the_owner, inputs=lambda ctx: {"comment": required_text(ctx, "comment", 500)})
def supervise(at, comment):
    """Urge the owner grid on: an event with the supervisor's comment and a notice to the owner grid's staff and
    the assignee; the status and the deadline stay as they are."""
    deadline = at.case.sla_red_at
    told = Notice(responsible_but(at.by), Kind.CASE_UPDATE, _("Supervised (督办): %(number)s"),
                  "v{version}:supervise")
    return Plan({}, {"deadline": deadline.isoformat() if deadline else None}, comment, notices=[told])
