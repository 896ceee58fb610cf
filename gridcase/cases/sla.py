"""SLA policy maths: per-stage deadlines from the category's policy, priority and owning level.

The periodic sweep that warns, marks and escalates is in sweep.py. Every function that turns a policy into
deadlines takes `limits` (default `limits_for`): the seeders pass a cached lookup.

The policies are few (tens) and change in the admin: a process keeps them (`policies()`, a `KeptCopy`: the
shared cache's version of them is read on every use instead of the table, and every change through the ORM bumps
it, so no deadline is computed from a policy changed before it was asked for).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from gridcase.core.cache import KeptCopy

from . import categories
from .choices import DEADLINE_FIELD, PRIORITY_RANK, STAGE_OF_STATUS, SlaState, Stage
from .models import SlaPolicy
from .workcalendar import add_hours, shift_hours

# Used when no policy row matches: (yellow, red) hours per stage in working time.
DEFAULT_LIMITS = {Stage.ACCEPT: (2, 4), Stage.HANDLE: (30, 45), Stage.VERIFY: (8, 15)}


@dataclass(frozen=True)
class Limits:
    yellow_hours: float
    red_hours: float
    working: bool
    auto_escalate: bool


_FIELDS = ("category_id", "priority", "owner_level", "stage", "yellow_hours", "red_hours", "working_hours",
           "auto_escalate")


@dataclass(frozen=True)
class Policy:
    category_id: int | None
    priority: str
    owner_level: str
    stage: str
    yellow_hours: object  # Decimal
    red_hours: object
    working_hours: bool
    auto_escalate: bool


VERSION_KEY = "gridcase:sla-policies:version"
_kept = KeptCopy(VERSION_KEY, lambda: tuple(
    Policy(*row) for row in SlaPolicy.objects.values_list(*_FIELDS)))
policies = _kept.rows  # every policy, from this process's copy while it is current
invalidate = _kept.invalidate  # a policy changed (the cases app config calls it on every save and delete)
forget = _kept.forget


def forget_caches():
    """Drop this process's copies of the policies and the category tree."""
    forget()
    categories.forget()


def limits_for(category_id, priority: str, owner_level: str, stage: str) -> Limits:
    """The most specific policy: own category before its ancestors before none; then priority; then level."""
    chain = categories.ancestors(category_id)
    rows = [p for p in policies() if p.stage == stage and (p.category_id is None or p.category_id in chain)
            and p.priority in (priority, "") and p.owner_level in (owner_level, "")]

    def rank(p):
        cat = chain.index(p.category_id) if p.category_id in chain else len(chain)
        return (cat, p.priority == "", p.owner_level == "")

    if rows:
        best = min(rows, key=rank)
        return Limits(float(best.yellow_hours), float(best.red_hours), best.working_hours, best.auto_escalate)
    yellow, red = DEFAULT_LIMITS[Stage(stage)]
    # Urgent work runs on the clock, at a quarter of the normal limits.
    if PRIORITY_RANK.get(priority, 1) >= PRIORITY_RANK["urgent"]:
        return Limits(yellow / 4, red / 4, False, False)
    return Limits(yellow, red, True, False)


Lookup = Callable[[int, str, str, str], Limits]


def stage_timers(case, stage: str, start: datetime, owner_level: str | None = None,
                 limits: Lookup | None = None) -> dict:
    """Field values starting the timer of `stage` at `start` (deadline, warning and breach instants)."""
    if not stage:
        return {"sla_stage": "", "sla_yellow_at": None, "sla_red_at": None, "sla_state": SlaState.OK}
    limits = (limits or limits_for)(case.category_id, case.priority, owner_level or case.owner_grid.level, stage)
    red = add_hours(start, limits.red_hours, limits.working)
    return {
        "sla_stage": stage,
        "sla_yellow_at": add_hours(start, limits.yellow_hours, limits.working),
        "sla_red_at": red,
        "sla_state": SlaState.OK,
        DEADLINE_FIELD[Stage(stage)]: red,
    }


def stage_for_status(status: str) -> str:
    return STAGE_OF_STATUS.get(status, "")


def stage_changes(case, new_status: str, now: datetime, owner_level: str | None = None,
                  limits: Lookup | None = None) -> dict:
    """Restart the SLA timer when the stage changes (or, given `owner_level`, under a new owning level)."""
    stage = stage_for_status(new_status)
    if stage == case.sla_stage and owner_level is None:
        return {}
    return stage_timers(case, stage, now, owner_level, limits)


def extend(case, hours: float, now: datetime | None = None, limits: Lookup | None = None) -> dict:
    """Fields moving the current stage's deadline by `hours` (in the policy's kind of time)."""
    stage = case.sla_stage
    limits = (limits or limits_for)(case.category_id, case.priority, case.owner_grid.level, stage)
    red = add_hours(case.sla_red_at, hours, limits.working)
    yellow = add_hours(case.sla_yellow_at, hours, limits.working) if case.sla_yellow_at else None
    now = now or timezone.now()
    state = SlaState.OK if (yellow is None or yellow > now) else (SlaState.YELLOW if red > now else SlaState.RED)
    return {"sla_red_at": red, "sla_yellow_at": yellow, DEADLINE_FIELD[Stage(stage)]: red, "sla_state": state}


def reprioritise(case, new_priority: str, now=None, limits: Lookup | None = None) -> dict:
    """Fields moving the running stage's timers when the priority changes: the new policy's limits counted
    from when the stage began, so time already spent and approved extensions still count."""
    stage = case.sla_stage
    if not stage or case.sla_red_at is None:
        return {}
    level = case.owner_grid.level
    limits = limits or limits_for
    old = limits(case.category_id, case.priority, level, stage)
    new = limits(case.category_id, new_priority, level, stage)
    # Where the stage's timer started (later by any approved extension), in the old policy's kind of time,
    # then the new policy's limits from there; for policies of one kind this is old + (new − old) hours.
    start = shift_hours(case.sla_red_at, -float(old.red_hours), old.working)
    red = shift_hours(start, float(new.red_hours), new.working)
    yellow = shift_hours(start, float(new.yellow_hours), new.working) if case.sla_yellow_at else None
    now = now or timezone.now()
    # Moving limits later can clear a warning; crossing a limit is left to the sweep, which notifies.
    if yellow is None or yellow > now:
        state = SlaState.OK
    elif red > now and case.sla_state == SlaState.RED:
        state = SlaState.YELLOW
    else:
        state = case.sla_state
    return {"sla_red_at": red, "sla_yellow_at": yellow, DEADLINE_FIELD[Stage(stage)]: red, "sla_state": state}
