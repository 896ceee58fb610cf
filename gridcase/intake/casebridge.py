"""The two places intake needs the case workflow without a signed-in actor: creating a resident's case and
recording the resident's rating.

`cases.services.create_case` and `cases.workflow.apply` both require an actor with a role (or the reporter
relation) in scope; a resident scanning a QR code has neither. Until the cases app offers entry points for a
public reporter (asked for in the stats/intake report), this module composes the cases app's own building
blocks in the same order as they do: numbering, SLA timers, skip rule, event, hop ledger, notifications for
creation; the `rate` handler and `commit` (compare-and-set on `version`, event, reopen on dissatisfied) for
rating. No case rule is re-implemented here.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from gridcase.cases import services as case_services
from gridcase.cases import sla, state, workflow
from gridcase.cases.choices import HopKind, Source, Stage, Status
from gridcase.cases.models import Case, CaseDepartment, CaseHop
from gridcase.core.errors import Conflict, InvalidTransition
from gridcase.grids.scoping import Scope
from gridcase.notifications.models import Kind


def create_resident_case(*, grid, category, title, description, reporter_name="", location=None, now=None) -> Case:
    """Create a case with source `resident`, no reporter account, in `grid` (a micro-grid). Same rules as
    `cases.services.create_case` (skip rule, SLA, numbering, event, hop, notifications) minus the actor's role."""
    now = now or timezone.now()
    priority = category.default_priority
    owner = case_services._entry_grid(category, priority, grid)
    location = location or {}
    case = Case(
        title=title, description=description, category=category, priority=priority, sensitive=category.sensitive,
        grid=grid, owner_grid=owner, lat=location.get("lat"), lng=location.get("lng"), source=Source.RESIDENT,
        reporter=None, reporter_name=reporter_name, status=Status.REPORTED, version=1, created_at=now, updated_at=now,
    )
    for key, value in sla.stage_timers(case, Stage.ACCEPT, now, owner.level).items():
        setattr(case, key, value)
    departments = case_services._skip_departments(category, priority, owner)
    with transaction.atomic():
        case.number = case_services.next_number(case_services.community_of(grid), now)
        case.save(force_insert=True)
        payload = {"owner_grid": owner.pk, "grid": grid.pk, "assignee": None, "sla_state": case.sla_state,
                   "channel": "resident_qr"}
        if owner.pk != grid.pk:
            payload["skip_rule"] = owner.level
        if departments:
            payload["departments"] = departments
        workflow.record_event(case, "create", None, "", Status.REPORTED, 1, case.description[:200], payload, now)
        workflow.open_grid_hop(case, owner, "create", now)
        if departments:
            report_by = now + timedelta(hours=2)
            CaseDepartment.objects.bulk_create([
                CaseDepartment(case=case, department_id=d, whistled_at=now, whistled_from=owner, report_by=report_by)
                for d in departments])
            CaseHop.objects.bulk_create([CaseHop(case=case, kind=HopKind.DEPARTMENT, department_id=d,
                                                 start_action="create", started_at=now) for d in departments])
            workflow._notify(workflow.officers_of(departments), Kind.WHISTLE, f"吹哨：{case.number}", case,
                             "v1:whistle")
        workflow._notify(workflow.staff_of(owner), Kind.CASE_UPDATE, f"居民上报：{case.number} {case.title}",
                         case, "created")
    return case


def rate_as_resident(case_id: int, rating: str, comment: str = "") -> Case:
    """Run the workflow's `rate` transition for the resident holding the tracking code (the reporter)."""
    case = workflow.load(case_id, None)
    if case is None or case.status not in state.TRANSITIONS["rate"].sources:
        raise InvalidTransition()
    scope = Scope(user_id=None)
    ctx = workflow.Ctx(case, None, scope, set(), {state.REPORTER}, timezone.now(),
                       {"rating": rating, "comment": comment})
    workflow._guard(ctx, "rate")
    try:
        with transaction.atomic():
            plan = workflow.HANDLERS["rate"](ctx)
            plan.payload["channel"] = "resident_qr"
            workflow.commit(case, "rate", None, plan, ctx.now)
    except workflow._Lost:
        raise Conflict()
    return workflow.load(case.pk, None)
