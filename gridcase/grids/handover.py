"""Handing a worker's work to colleagues (工作交接): a worker leaving or changing grid.

`handover(actor, worker, to=…)` gives her open cases (assigned or in progress) and the care plans she is
responsible for to one colleague, or — with `to=None` — spreads them over the workers of her grids by load
(fewest open cases and care plans first). Rules:

- The actor manages the grids involved (secretary, street dispatcher or administrator there).
- `receiver_outside_grid` (400): every case and plan must go to someone who works there — a case to a worker
  eligible for its owner grid (the workflow's assignee rule), a plan to someone holding a role on the resident's
  grid or above it. Checked for everything before anything is written: nothing is half handed over.
- Each case goes through the case workflow's `reassign` row (event, compare-and-set on its version: a case
  changed meanwhile fails the whole handover with 409); each receiver is told once, for all their new work.
- `preview=True` runs the same code and rolls it back, answering the summary.

`reassign_cases(actor, [(id, version)…], to)` is the console's bulk reassignment: the same row for each
selected case, with the caller's version of each (409 naming the case when one changed), all or nothing.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.core import audit
from gridcase.core.errors import Conflict, Forbidden, NotFound, ValidationFailed

from . import tree
from .roles import CASE_WORKERS, EDITOR_ROLES, FIELD_WORKERS, MANAGER_ROLES
from .scoping import scope_for

User = get_user_model()
HANDED = ("assigned", "in_progress")


class _DryRun(Exception):
    def __init__(self, summary):
        self.summary = summary


def work_of(worker):
    """Her open cases (assigned to her, not finished) and the active care plans she is responsible for."""
    from gridcase.cases.models import Case
    from gridcase.visits.models import CarePlan
    from gridcase.visits.services import responsible_q

    cases = Case.objects.filter(assignee_id=worker.pk, status__in=HANDED)
    plans = CarePlan.objects.filter(responsible_q(worker.pk), active=True)
    return cases, plans


def home_grids(worker):
    from .models import Grid

    return list(Grid.objects.filter(memberships__user_id=worker.pk, memberships__role__in=CASE_WORKERS).distinct())


def candidates(worker, grids=None) -> list[dict]:
    """Colleagues who could take her work: the field workers (micro-grid and grid workers) of her general grid and
    its micro-grids (or of `grids`), with their load (open cases assigned, care plans responsible)."""
    from gridcase.cases.models import Case
    from gridcase.visits.models import CarePlan
    from gridcase.visits.services import responsible_q

    from .models import Grid, Membership

    grids = grids or home_grids(worker)
    area = set()
    for g in grids:
        top = Grid.objects.get(pk=g.parent_id) if g.level == "micro_grid" and g.parent_id else g
        area.add(top)
    spans = [tree.span(g) for g in area]
    rows = (Membership.objects.filter(tree.subtree_q(spans, "grid__"), role__in=FIELD_WORKERS)
            .exclude(user_id=worker.pk).filter(user__is_active=True)
            .select_related("user", "grid").order_by("user_id", "id"))
    people: dict = {}
    for m in rows:
        p = people.setdefault(m.user_id, {"id": m.user_id, "name": m.user.first_name or m.user.username,
                                          "username": m.user.username, "grids": [], "roles": []})
        if m.grid.name not in p["grids"]:
            p["grids"].append(m.grid.name)
        if m.role not in p["roles"]:
            p["roles"].append(m.role)
    ids = list(people)
    open_cases = dict(Case.objects.filter(assignee_id__in=ids, status__in=HANDED).values("assignee_id")
                      .annotate(n=Count("id")).values_list("assignee_id", "n"))
    for uid, p in people.items():
        p["open_cases"] = open_cases.get(uid, 0)
        p["care_plans"] = CarePlan.objects.filter(responsible_q(uid), active=True).count()
        p["load"] = p["open_cases"] + p["care_plans"]
    return sorted(people.values(), key=lambda p: (p["load"], p["id"]))


def _holds(user_ids):
    from .models import Membership

    by_user: dict = {}
    for m in Membership.objects.filter(user_id__in=user_ids).select_related("grid"):
        by_user.setdefault(m.user_id, []).append(m)
    return by_user


def _can_take_case(holds, case) -> bool:
    owner = case.owner_grid
    return any(m.role in CASE_WORKERS and (tree.is_inside(m.grid, owner) or tree.is_inside(owner, m.grid))
               for m in holds)


def _can_take_plan(holds, plan) -> bool:
    grid = plan.resident.grid
    return any(m.role in EDITOR_ROLES and tree.is_inside(grid, m.grid) for m in holds)


def check_manager(actor, grids) -> None:
    scope = scope_for(actor)
    if scope.is_global:
        return
    if not grids or not all(scope.roles_at(g) & MANAGER_ROLES for g in grids):
        raise Forbidden(_("Handing over work needs a manager role on the grids involved."))


def outside(items) -> ValidationFailed:
    return ValidationFailed(_("A handover goes only to someone who works in the grid of each case and care plan."),
                            code="receiver_outside_grid", fields={"to": [str(i) for i in items[:20]]})


def handover(actor, worker, to=None, *, preview=False, request=None, include_cases=True,
             include_plans=True, end_roles=False) -> dict:
    """Hand `worker`'s open cases and care plans to `to` (a user), or spread them by load when `to` is None.
    `end_roles` (a worker leaving): her field roles on the grids end in the same transaction (the account rules of
    grids.accounts decide whether the actor may remove them: 403 otherwise, nothing handed over)."""
    from gridcase.cases.workflow.engine import with_related
    from gridcase.cases.workflow.places import transition
    from gridcase.notifications.models import Kind
    from gridcase.notifications.services import notify

    if to is not None and to.pk == worker.pk:
        raise ValidationFailed(_("Choose someone else to hand the work to."), code="receiver_outside_grid",
                               fields={"to": [_("Choose someone else to hand the work to.")]})
    cases_qs, plans_qs = work_of(worker)
    cases = list(with_related(cases_qs).order_by("id")) if include_cases else []
    plans = list(plans_qs.select_related("resident__grid").order_by("id")) if include_plans else []
    grids = home_grids(worker) or list({c.owner_grid_id: c.owner_grid for c in cases}.values())
    check_manager(actor, grids + [c.owner_grid for c in cases])

    if to is not None:
        pool = [{"id": to.pk, "load": 0}]
        if not User.objects.filter(pk=to.pk, is_active=True).exists():
            raise NotFound()
    else:
        pool = candidates(worker, grids)
        if not pool:
            raise outside([_("no colleague works in these grids")])
    holds = _holds([p["id"] for p in pool])
    load = {p["id"]: p["load"] for p in pool}
    given: dict = {}  # receiver -> {"cases": [...], "plans": [...]}
    refused = []

    def choose(item, fits):
        fitting = [p["id"] for p in pool if fits(holds.get(p["id"], []), item)]
        if not fitting:
            refused.append(getattr(item, "number", None) or getattr(item.resident, "name", item.pk))
            return None
        best = min(fitting, key=lambda u: (load[u], u))
        load[best] += 1
        return best

    case_to = {c.pk: choose(c, _can_take_case) for c in cases}
    plan_to = {p.pk: choose(p, _can_take_plan) for p in plans}
    if refused:
        raise outside(refused)

    try:
        with transaction.atomic():
            now = timezone.now()
            key = f"handover:{worker.pk}:{now.isoformat()}"
            for case in cases:
                receiver = case_to[case.pk]
                transition(case, "reassign", actor, now=now, assignee=receiver, note=str(_("Handover")),
                           handover=worker.pk)
                given.setdefault(receiver, {"cases": [], "care_plans": []})["cases"].append(case.number)
            for plan in plans:
                receiver = plan_to[plan.pk]
                type(plan).objects.filter(pk=plan.pk).update(worker_id=receiver, updated_at=now)
                given.setdefault(receiver, {"cases": [], "care_plans": []})["care_plans"].append(plan.resident.name)
            ended = []
            if end_roles:
                from .accounts import check_can_remove_membership
                from .models import Membership
                from .scoping import forget_scope

                for m in Membership.objects.filter(user_id=worker.pk, role__in=FIELD_WORKERS).select_related("grid"):
                    check_can_remove_membership(actor, m)
                    ended.append(m.grid.name)
                    m.delete()
                forget_scope(worker)
            names = {pk: first or username for pk, first, username in
                     User.objects.filter(pk__in=list(given)).values_list("pk", "first_name", "username")}
            summary = {
                "worker": {"id": worker.pk, "name": worker.first_name or worker.username},
                "preview": preview, "cases": len(cases), "care_plans": len(plans), "roles_ended": ended,
                "receivers": [{"id": uid, "name": names.get(uid, ""), "cases": len(v["cases"]),
                               "care_plans": len(v["care_plans"]), "case_numbers": v["cases"]}
                              for uid, v in sorted(given.items())],
            }
            if preview:
                raise _DryRun(summary)
            audit.record(actor, "handover", [worker], ["cases", "care_plans"], request, summary=summary)
            giver = worker.first_name or worker.username
            for uid, v in given.items():
                notify([uid], Kind.ASSIGNED,
                       _("%(worker)s's work handed to you: %(cases)s cases, %(plans)s care plans") % {
                           "worker": giver, "cases": len(v["cases"]), "plans": len(v["care_plans"])},
                       ", ".join(v["cases"]), dedupe_key=key, payload={"handover": worker.pk})
    except _DryRun as dry:
        return dry.summary
    return summary


def reassign_cases(actor, selection, to, *, note="", request=None) -> dict:
    """Reassign the selected cases [(id, version)…] to `to`, each through the workflow's `reassign` row, all or
    nothing; the receiver is told once."""
    from gridcase.cases.workflow.engine import load
    from gridcase.cases.workflow.places import transition
    from gridcase.notifications.models import Kind
    from gridcase.notifications.services import notify

    scope = scope_for(actor)
    if not selection:
        raise ValidationFailed(fields={"cases": [_("Choose at least one case.")]})
    if len(selection) > 200:
        raise ValidationFailed(fields={"cases": [_("At most 200 cases at once.")]})
    holds = _holds([to.pk]).get(to.pk, [])
    numbers = []
    with transaction.atomic():
        now = timezone.now()
        for case_id, version in selection:
            case = load(case_id, scope)
            if case is None:
                raise NotFound(_("Case %(id)s was not found.") % {"id": case_id})
            if case.version != version:
                raise Conflict(_("Case %(number)s changed meanwhile. Reload and try again.") % {"number": case.number})
            if case.status not in ("accepted", "assigned", "in_progress"):
                raise ValidationFailed(_("Case %(number)s cannot be reassigned in its status.") % {"number": case.number},
                                       code="invalid_transition", fields={"cases": [case.number]})
            if not _can_take_case(holds, case):
                raise outside([case.number])
            transition(case, "reassign", actor, now=now, data={"assignee": to.pk, "note": note}, handover="bulk")
            numbers.append(case.number)
        notify([to.pk], Kind.ASSIGNED, _("%(n)s cases reassigned to you") % {"n": len(numbers)},
               ", ".join(numbers), dedupe_key=f"reassign:{to.pk}:{now.isoformat()}")
        audit.record(actor, "reassign", [to], ["cases"], request, cases=numbers)
    return {"assignee": to.pk, "cases": numbers}

