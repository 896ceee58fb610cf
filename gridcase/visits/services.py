"""Care plans and visits: the rules views, tasks, signals and seeds share.

- A resident holding any key-population tag has an active care plan; losing the last tag ends it.
- A plan's cadence per kind comes from the cadence rules of the resident's tags (a community's own rule
  replaces the city default; over several tags the most frequent wins), unless a worker set one.
- A visit is an append-only fact, stored once per `client_uuid`. The plan's due dates are recomputed
  from the visits after every visit, so a visit synced late (offline phone) still lands right.
- Wellbeing `attention` or `urgent` on the latest contact raises phone calls to daily until a later
  contact says `good`; `urgent` also opens a case and tells the grid worker and the secretary at once.
"""

import logging
from datetime import UTC, date, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.core import partitions
from gridcase.core.errors import Conflict, Forbidden, ValidationFailed
from gridcase.grids import areas, tree
from gridcase.grids.choices import Role
from gridcase.grids.models import Membership, Resident
from gridcase.grids.roles import PLAN_EDIT_ROLES, URGENT_VISIT_ROLES, VISIT_ROLES
from gridcase.grids.scoping import scope_for

from . import coverage
from .cadence import next_due
from .choices import (
    ESCALATED_EVERY_N_DAYS,
    ESCALATED_KIND,
    ESCALATING,
    SATISFIED_BY,
    ContactKind,
    Need,
    Wellbeing,
)
from .digest import content_digest
from .models import CadenceRule, CarePlan, CarePlanItem, Visit

log = logging.getLogger(__name__)

CLOCK_SKEW = timedelta(minutes=5)


def today() -> date:
    return timezone.localdate()


# Cadence rules ------------------------------------------------------------------------------------------

def cadence_rules_for(resident, tag_ids=None) -> dict[str, int]:
    """{kind: every n days} for a resident: per tag the community's rule or else the default; the shortest wins."""
    if tag_ids is None:
        tag_ids = list(resident.tags.values_list("pk", flat=True))
    if not tag_ids:
        return {}
    community = areas.community_of(resident.grid)
    rules = CadenceRule.objects.filter(tag_id__in=tag_ids).filter(
        Q(community__isnull=True) | Q(community=community) if community else Q(community__isnull=True)
    ).values_list("tag_id", "kind", "every_n_days", "community_id")
    chosen: dict[tuple, tuple] = {}
    for tag_id, kind, days, community_id in rules:
        key = (tag_id, kind)
        # A community's own rule beats the default for the same tag and kind.
        if key not in chosen or (community_id is not None and chosen[key][1] is None):
            chosen[key] = (days, community_id)
    result: dict[str, int] = {}
    for (_tag, kind), (days, _c) in chosen.items():
        result[kind] = min(days, result.get(kind, days))
    return result


# Care plans -------------------------------------------------------------------------------------------

def sync_care_plan(resident: Resident) -> CarePlan | None:
    """Start, restart or end a resident's plan after their key-population tags (or activity) changed."""
    tag_ids = list(resident.tags.values_list("pk", flat=True))
    plan = CarePlan.objects.filter(resident=resident).first()
    wanted = bool(tag_ids) and resident.is_active
    if wanted:
        if plan is None:
            plan = CarePlan.objects.create(resident=resident, started_on=today())
        elif not plan.active:
            plan.active, plan.started_on, plan.ended_on = True, today(), None
            plan.save(update_fields=["active", "started_on", "ended_on", "updated_at"])
        refresh_plan(plan, tag_ids=tag_ids)
        return plan
    if plan is not None and plan.active:
        plan.active, plan.ended_on = False, today()
        plan.save(update_fields=["active", "ended_on", "updated_at"])
        plan.items.update(due_on=None)
        coverage.recompute([plan.resident_id])
    return plan


def refresh_plan(plan: CarePlan, tag_ids=None) -> CarePlan:
    """Recompute a plan's wellbeing, escalation, cadences and due dates from the rules and the visits."""
    resident = plan.resident
    rules = cadence_rules_for(resident, tag_ids)
    visits = Visit.objects.filter(resident_id=resident.pk)
    latest = visits.order_by("-visited_at", "-id").values("wellbeing", "visited_at").first()
    last_by_kind = dict(visits.values("kind").annotate(m=Max("visited_on")).order_by().values_list("kind", "m"))
    escalated = bool(latest) and latest["wellbeing"] in ESCALATING

    changed = []
    if latest and (plan.wellbeing != latest["wellbeing"] or plan.last_contact_at != latest["visited_at"]):
        plan.wellbeing, plan.last_contact_at = latest["wellbeing"], latest["visited_at"]
        changed += ["wellbeing", "last_contact_at"]
    if plan.escalated != escalated:
        plan.escalated = escalated
        changed.append("escalated")
    if changed:
        plan.save(update_fields=[*changed, "updated_at"])

    existing = {i.kind: i for i in CarePlanItem.objects.filter(care_plan=plan)}
    to_create = []
    for kind in ContactKind.values:
        item = existing.get(kind)
        rule_days = rules.get(kind)
        custom = item.custom_days if item else None
        raised = escalated and kind == ESCALATED_KIND
        every = ESCALATED_EVERY_N_DAYS if raised else (custom or rule_days)
        if item is None and every is None:
            continue
        contacts = [last_by_kind[k] for k in SATISFIED_BY[kind] if last_by_kind.get(k)]
        last = max(contacts) if contacts else None
        anchor = max(last, plan.started_on) if last else plan.started_on
        due = next_due(anchor, every, kind, escalated=raised) if (every and plan.active) else None
        values = {"rule_days": rule_days, "every_n_days": every, "last_contact_on": last, "due_on": due}
        if item is None:
            to_create.append(CarePlanItem(care_plan=plan, kind=kind, **values))
        elif any(getattr(item, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(item, k, v)
            item.save(update_fields=list(values))
    if to_create:
        CarePlanItem.objects.bulk_create(to_create)
    coverage.recompute([plan.resident_id])  # the coverage rollup's rows of this resident (visits, cadences, start)
    return plan


def responsible_workers(plans) -> dict[int, list[int]]:
    """{plan id: [user ids]}: the plan's worker, or else the workers of the resident's micro-grid. One query."""
    plans = list(plans)
    grids = {p.resident.grid_id for p in plans if p.worker_id is None}
    by_grid: dict[int, list[int]] = {}
    if grids:
        for grid_id, user_id in (Membership.objects.filter(grid_id__in=grids, role=Role.MICRO_GRID_WORKER)
                                 .order_by("id").values_list("grid_id", "user_id")):
            by_grid.setdefault(grid_id, []).append(user_id)
    return {p.pk: [p.worker_id] if p.worker_id else by_grid.get(p.resident.grid_id, []) for p in plans}


def responsible_q(user_id: int, prefix: str = "") -> Q:
    """Plans (reached through `prefix`, e.g. "care_plan__") the user is responsible for."""
    micro_grids = Membership.objects.filter(user_id=user_id, role=Role.MICRO_GRID_WORKER).values("grid_id")
    return Q(**{f"{prefix}worker_id": user_id}) | Q(
        **{f"{prefix}worker__isnull": True, f"{prefix}grid_id__in": micro_grids})  # the plan's copy of the grid


@transaction.atomic
def update_care_plan(actor, plan: CarePlan, *, worker=..., cadences=None, note=None) -> CarePlan:
    """A worker changes who is responsible or the cadence per kind (days ≥ 1, or null for the rules)."""
    scope = scope_for(actor)
    if not scope.is_global and not scope.roles_at(plan.resident.grid) & PLAN_EDIT_ROLES:
        raise Forbidden()
    if worker is not ...:
        if worker is not None and not _works_on(worker, plan.resident.grid):
            raise ValidationFailed(_("The responsible worker must hold a role on this resident's grid."),
                                   fields={"worker": [_("The responsible worker must hold a role on this resident's grid.")]})
        plan.worker = worker
    if note is not None:
        plan.note = note
    plan.save()
    for kind, days in (cadences or {}).items():
        if kind not in ContactKind.values:
            raise ValidationFailed(fields={"cadences": [_("Unknown kind of contact: %(kind)s") % {"kind": kind}]})
        if days is not None and (not isinstance(days, int) or isinstance(days, bool) or days < 1 or days > 366):
            raise ValidationFailed(_("A cadence must be a whole number of days from 1 to 366."),
                                   fields={"cadences": [_("A cadence must be a whole number of days from 1 to 366.")]})
        CarePlanItem.objects.update_or_create(care_plan=plan, kind=kind, defaults={"custom_days": days})
    refresh_plan(plan)
    return plan


def _works_on(user, grid) -> bool:
    return Membership.objects.filter(tree.ancestors_q(grid, include_self=True, prefix="grid__"), user=user).exists()


# Visits -----------------------------------------------------------------------------------------------

def content_hash(data: dict) -> str:
    """A fingerprint of what the phone sent: the same visit resent has the same fingerprint."""
    resident, household = data.get("resident"), data.get("household")
    visited_at = data["visited_at"].astimezone(UTC).replace(microsecond=0).isoformat()
    open_case = data.get("open_case") or None
    if open_case:
        open_case = {k: (getattr(v, "pk", v)) for k, v in sorted(open_case.items())}
    canonical = {
        "resident": getattr(resident, "pk", resident),
        "household": getattr(household, "pk", household) if not resident else None,
        "kind": data["kind"],
        "visited_at": visited_at,
        "wellbeing": data["wellbeing"],
        "findings": (data.get("findings") or "").strip(),
        "needs": sorted(set(data.get("needs") or [])),
        "pension_certified": bool(data.get("pension_certified")),
        "open_case": open_case,
    }
    return content_digest(canonical, data.get("photo"))


def _replay(existing: Visit, actor, digest: str):
    if existing.content_hash == digest and existing.visitor_id == getattr(actor, "pk", None):
        return existing, False
    scope = scope_for(actor)
    current = None
    if scope.is_global or (existing.grid_id and scope.covers(existing.grid)):
        current = {"id": existing.pk, "client_uuid": str(existing.client_uuid), "kind": existing.kind,
                   "visited_at": existing.visited_at.isoformat(), "wellbeing": existing.wellbeing,
                   "resident": existing.resident_id, "household": existing.household_id}
    raise Conflict(_("A different visit was already sent with this client_uuid."), code="conflict", current=current)


def stored_visit(client_uuid) -> Visit | None:
    """The visit stored under `client_uuid`, if any. On PostgreSQL visits are partitioned by month and the uuid's
    only index is the trigger-kept key table (gridcase/core/partitions.py KEYS): the id is read there, since a
    filter on the column itself would scan every partition (0.2 s at a city's 2 M visits)."""
    qs = Visit.objects.filter(client_uuid=client_uuid)
    if partitions.applies(connection):
        key = partitions.KEYS[Visit._meta.db_table]
        qs = qs.filter(id=RawSQL(f'SELECT "{key.ref}" FROM "{key.table}" WHERE "{key.columns[0]}" = %s',
                                 [str(client_uuid)]))
    return qs.first()


def record_visit(actor, data: dict) -> tuple[Visit, bool]:
    """Store a visit once per client_uuid and apply its consequences; returns (visit, created).

    The same client_uuid with the same content answers the stored visit; with different content it is a
    conflict (409) and nothing is overwritten. Concurrent copies of one visit store one (the unique
    constraint decides; the loser reads the winner's row).
    """
    digest = content_hash(data)
    client_uuid = data["client_uuid"]
    resident, household = data.get("resident"), data.get("household")
    if resident is None and household is None:
        raise ValidationFailed(_("A visit names a resident or a household."),
                               fields={"resident": [_("A visit names a resident or a household.")]})
    if resident is not None and household is not None and resident.household_id != household.pk:
        raise ValidationFailed(_("The resident does not live in this household."),
                               fields={"household": [_("The resident does not live in this household.")]})
    if data["visited_at"] > timezone.now() + CLOCK_SKEW:
        raise ValidationFailed(_("A visit cannot be in the future."),
                               fields={"visited_at": [_("A visit cannot be in the future.")]})
    needs = data.get("needs") or []
    bad = [n for n in needs if n not in Need.values]
    if bad:
        raise ValidationFailed(fields={"needs": [_("Unknown need: %(need)s") % {"need": ", ".join(map(str, bad))}]})
    grid = resident.grid if resident is not None else household.grid
    scope = scope_for(actor)
    if not scope.is_global and not scope.roles_at(grid) & VISIT_ROLES:
        raise Forbidden(_("Only grid staff of this resident's grid can log a visit."))

    with transaction.atomic():
        existing = stored_visit(client_uuid)
        if existing is not None:
            return _replay(existing, actor, digest)
        visit = Visit(
            client_uuid=client_uuid, content_hash=digest, visitor=actor, resident=resident,
            household=household or (resident.household if resident else None), grid=grid, kind=data["kind"],
            visited_at=data["visited_at"], wellbeing=data["wellbeing"], findings=(data.get("findings") or "").strip(),
            needs=sorted(set(needs)), pension_certified=bool(data.get("pension_certified")),
        )
        photo = data.get("photo")
        try:
            with transaction.atomic():
                visit.save(force_insert=True)
        except IntegrityError:
            existing = stored_visit(client_uuid)
            if existing is None:
                raise
            return _replay(existing, actor, digest)
        if photo:
            visit.photo.save(photo.name, photo, save=False)
            Visit.objects.filter(pk=visit.pk).update(photo=visit.photo.name)

        open_case = data.get("open_case")
        if open_case or visit.wellbeing == Wellbeing.URGENT:
            case_id = open_case_from_visit(visit, open_case or {})
            if case_id:
                visit.case_id = case_id
                Visit.objects.filter(pk=visit.pk).update(case_id=case_id)
        if resident is not None:
            plan = CarePlan.objects.filter(resident=resident, active=True).select_related("resident__grid").first()
            if plan is not None:
                refresh_plan(plan)
        if visit.wellbeing == Wellbeing.URGENT:
            notify_urgent(visit)
    return visit, True


def notify_urgent(visit: Visit) -> int:
    """Tell the grid worker(s) and the community secretary about an urgent visit, once per visit."""
    from gridcase.notifications.models import Kind
    from gridcase.notifications.services import notify

    recipients = Membership.objects.filter(
        tree.ancestors_q(visit.grid, include_self=True, prefix="grid__"),
        role__in=URGENT_VISIT_ROLES,
    ).values_list("user_id", flat=True)
    who = visit.resident.name if visit.resident_id else str(visit.household)
    title = _("Urgent visit: %(who)s") % {"who": who}
    return notify(list(recipients), Kind.URGENT_VISIT, title, visit.findings, dedupe_key=f"visit-urgent:{visit.pk}",
                  case_id=visit.case_id, resident=visit.resident,
                  payload={"visit": visit.pk, "kind": visit.kind, "needs": visit.needs})


# Opening a case from a visit (the cases app owns cases; this is the one place that calls it) --------------

DEFAULT_CASE_CATEGORY_CODES = ("elderly_care", "visit_followup", "livelihood_care", "livelihood_service", "livelihood")


def default_case_category():
    from gridcase.cases.models import Category

    active = Category.objects.filter(is_active=True)
    for code in DEFAULT_CASE_CATEGORY_CODES:
        found = active.filter(code=code).first()
        if found:
            return found
    return active.filter(code__startswith="livelihood").order_by("id").first() or active.order_by("id").first()


def open_case_from_visit(visit: Visit, data: dict):
    """Open a case (source "visit") for this visit through the cases app; returns its id or None.

    `data` is the visit's `open_case` ({category, title, description}); an urgent visit without one opens
    a case in the default care category, titled after the resident. The case's client key is derived from
    the visit's client_uuid, so the case is created once however often the visit is resent.
    """
    from gridcase.cases.models import Category
    from gridcase.cases.services import create_case

    category = data.get("category")
    if category is None:
        category = default_case_category()
        if category is None:
            log.warning("visit %s: no case category exists, no case opened", visit.pk)
            return None
    elif not hasattr(category, "pk"):
        category = Category.objects.filter(pk=category).first()
        if category is None:
            raise ValidationFailed(_("Unknown case category."), fields={"open_case": [_("Unknown case category.")]})
    who = visit.resident.name if visit.resident_id else str(visit.household)
    title = data.get("title") or (_("Urgent care needed: %(who)s") % {"who": who})
    description = data.get("description") or visit.findings or str(title)
    payload = {
        "grid": visit.grid, "category": category, "title": str(title), "description": description,
        "source": "visit", "resident": visit.resident, "household": visit.household,
        "client_key": f"visit-{visit.client_uuid}",
    }
    if visit.wellbeing == Wellbeing.URGENT:
        payload["priority"] = "urgent"
    if visit.household_id:
        payload["unit"] = visit.household.unit
        payload["building"] = visit.household.unit.building
    created = create_case(visit.visitor, payload)
    return created.case.pk
