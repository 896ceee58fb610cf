"""A worker's round for a day, one stop per resident: what is due, what was done today, who lives there.

`visits/due/` lists one row per due item (a resident due for a call and a home visit appears twice). The round
the worker walks is per resident: every kind due on the row, the resident's state (overdue, due today, or done
today), overdue first, then due today, then the walking order (building, unit, room); residents contacted today
with nothing left due stay on the list as done, so progress reads "done 3 of 8". Each stop carries what the
worker needs without signal: the address, the phone to call (for roles that may read it, audited), the last
visits, the household's other members and the open cases about the resident.

A fixed number of queries whatever the size of the round.
"""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Exists, F, OuterRef, Prefetch, Q, Window
from django.db.models.functions import Length, RowNumber

from gridcase.core import audit
from gridcase.grids.choices import Role
from gridcase.grids.models import Resident, Tag
from gridcase.grids.roles import PHONE_ROLES
from gridcase.grids.scoping import scope_for

from .models import CarePlan, CarePlanItem, Visit
from .services import responsible_q

LAST_VISITS = 3
OPEN_CASES = 5
MAX_STOPS = 500

OVERDUE, TODAY, DONE = "overdue", "today", "done"
_STATE_ORDER = {OVERDUE: 0, TODAY: 1, DONE: 2}


@dataclass
class Stop:
    plan: CarePlan
    due: list[CarePlanItem]
    state: str
    overdue_days: int
    visited_today: bool
    phone: str
    phone_revealed: bool
    last_visits: list[Visit] = field(default_factory=list)
    household_members: list[Resident] = field(default_factory=list)
    open_cases: list = field(default_factory=list)


def _walk_key(plan: CarePlan):
    household = plan.resident.household
    unit = household.unit if household else None
    building = unit.building if unit else None

    def natural(s):
        return (len(s or ""), s or "")

    return (natural(building.name if building else ""), building.pk if building else 0,
            natural(unit.name if unit else ""), natural(household.room if household else ""), plan.resident_id)


def round_for(user, day: date, request=None) -> list[Stop]:
    """The caller's round on `day`: plans they are responsible for with an item due by then, or a contact that day."""
    from gridcase.cases.models import Case
    from gridcase.cases.state import UNFINISHED

    due_items = CarePlanItem.objects.filter(care_plan=OuterRef("pk"), due_on__lte=day, every_n_days__isnull=False)
    contacted = Visit.objects.filter(resident_id=OuterRef("resident_id"), visited_on=day)
    plans = list(
        CarePlan.objects.restrict(user)
        .filter(responsible_q(user.pk), active=True, resident__is_active=True)
        .filter(Q(Exists(due_items)) | Q(Exists(contacted)))
        .select_related("resident__household__unit__building", "resident__grid")
        .prefetch_related(
            Prefetch("resident__tags", queryset=Tag.objects.order_by("id")),
            Prefetch("items", queryset=CarePlanItem.objects.filter(due_on__lte=day, every_n_days__isnull=False)
                     .order_by("due_on", "kind"), to_attr="due_items"),
        )
        .annotate(contacted_today=Exists(contacted))[:MAX_STOPS]
    )
    if not plans:
        return []
    resident_ids = [p.resident_id for p in plans]
    household_ids = {p.resident.household_id for p in plans if p.resident.household_id}

    last: dict[int, list[Visit]] = {}
    ranked = (Visit.objects.restrict(user).filter(resident_id__in=resident_ids)
              .annotate(n=Window(RowNumber(), partition_by=[F("resident_id")],
                                 order_by=[F("visited_at").desc(), F("id").desc()]))
              .filter(n__lte=LAST_VISITS).select_related("visitor").order_by("resident_id", "n"))
    for v in ranked:
        last.setdefault(v.resident_id, []).append(v)

    members: dict[int, list[Resident]] = {}
    if household_ids:
        for r in (Resident.objects.filter(household_id__in=household_ids, is_active=True)
                  .only("id", "name", "gender", "birth_date", "relation", "household_id").order_by(Length("relation"), "id")):
            members.setdefault(r.household_id, []).append(r)

    cases: dict[int, list] = {}
    open_cases = (Case.objects.restrict(user).filter(resident_id__in=resident_ids, status__in=UNFINISHED)
                  .annotate(n=Window(RowNumber(), partition_by=[F("resident_id")], order_by=[F("created_at").desc()]))
                  .filter(n__lte=OPEN_CASES).only("id", "number", "title", "status", "sla_state", "created_at",
                                                  "resident_id").order_by("resident_id", "n"))
    for c in open_cases:
        cases.setdefault(c.resident_id, []).append(c)

    scope = scope_for(user)
    revealed = []
    stops = []
    for plan in plans:
        resident = plan.resident
        due = plan.due_items
        overdue_days = max([(day - i.due_on).days for i in due], default=0)
        state = DONE if not due else (OVERDUE if overdue_days > 0 else TODAY)
        roles = {Role.ADMIN} if scope.is_global else scope.roles_at(resident.grid)
        phone, clear = resident.phone_masked, False
        if roles & PHONE_ROLES and resident.phone_encrypted:
            phone, clear = resident.phone, True
            revealed.append(resident)
        stops.append(Stop(
            plan=plan, due=due, state=state, overdue_days=overdue_days, visited_today=plan.contacted_today,
            phone=phone or "", phone_revealed=clear, last_visits=last.get(resident.pk, []),
            household_members=[m for m in members.get(resident.household_id, []) if m.pk != resident.pk],
            open_cases=cases.get(resident.pk, []),
        ))
    if revealed:
        # One INSERT for the whole round: the worker carries these numbers to call from the stairwell.
        audit.record(user, "reveal", revealed, ["phone"], request, via="round")
    stops.sort(key=lambda s: (_STATE_ORDER[s.state], _walk_key(s.plan)))
    return stops
