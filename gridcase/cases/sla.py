"""SLA: per-stage deadlines from the category's policy, and the periodic sweep that warns, marks and escalates.

The sweep works only from deadlines stored on each case (not from "what changed since the last run"), so it
catches up after any downtime; every mark is a compare-and-set and every notice has a dedupe key, so
running it twice (or on two workers) warns once and escalates once.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.grids.choices import Level

from .choices import PRIORITY_RANK, STAGE_OF_STATUS, SlaState, Stage
from .models import Case, Category, SlaPolicy
from .workcalendar import add_hours

log = logging.getLogger(__name__)

# Used when no policy row matches: (yellow, red) hours per stage in working time.
DEFAULT_LIMITS = {Stage.ACCEPT: (2, 4), Stage.HANDLE: (30, 45), Stage.VERIFY: (8, 15)}


@dataclass(frozen=True)
class Limits:
    yellow_hours: float
    red_hours: float
    working: bool
    auto_escalate: bool


def _category_chain(category_id) -> list:
    """The category and its ancestors, nearest first (categories are few; cached per process)."""
    chain, parents = [], _parents()
    node = category_id
    while node is not None and node not in chain:
        chain.append(node)
        node = parents.get(node)
    return chain


_PARENTS: dict = {}


def _parents() -> dict:
    if not _PARENTS:
        _PARENTS.update(dict(Category.objects.values_list("id", "parent_id")))
    return _PARENTS


def forget_caches():
    _PARENTS.clear()


def limits_for(category_id, priority: str, owner_level: str, stage: str) -> Limits:
    """The most specific policy: own category before its ancestors before none; then priority; then level."""
    chain = _category_chain(category_id)
    rows = list(SlaPolicy.objects.filter(
        Q(category_id__in=chain) | Q(category__isnull=True), Q(priority=priority) | Q(priority=""),
        Q(owner_level=owner_level) | Q(owner_level=""), stage=stage))

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


def stage_timers(case, stage: str, start: datetime, owner_level: str | None = None) -> dict:
    """Field values starting the timer of `stage` at `start` (deadline, warning and breach instants)."""
    from .choices import DEADLINE_FIELD

    if not stage:
        return {"sla_stage": "", "sla_yellow_at": None, "sla_red_at": None, "sla_state": SlaState.OK}
    limits = limits_for(case.category_id, case.priority, owner_level or case.owner_grid.level, stage)
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


def extend(case, hours: float) -> dict:
    """Fields moving the current stage's deadline by `hours` (in the policy's kind of time)."""
    from .choices import DEADLINE_FIELD

    stage = case.sla_stage
    limits = limits_for(case.category_id, case.priority, case.owner_grid.level, stage)
    red = add_hours(case.sla_red_at, hours, limits.working)
    yellow = add_hours(case.sla_yellow_at, hours, limits.working) if case.sla_yellow_at else None
    now = timezone.now()
    state = SlaState.OK if (yellow is None or yellow > now) else (SlaState.YELLOW if red > now else SlaState.RED)
    return {"sla_red_at": red, "sla_yellow_at": yellow, DEADLINE_FIELD[Stage(stage)]: red, "sla_state": state}


def reprioritise(case, new_priority: str, now=None) -> dict:
    """Fields moving the running stage's timers when the priority changes: the new policy's limits counted
    from when the stage began, so time already spent and approved extensions still count."""
    from .choices import DEADLINE_FIELD
    from .workcalendar import shift_hours

    stage = case.sla_stage
    if not stage or case.sla_red_at is None:
        return {}
    level = case.owner_grid.level
    old = limits_for(case.category_id, case.priority, level, stage)
    new = limits_for(case.category_id, new_priority, level, stage)
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


# --- the sweep -------------------------------------------------------------------------------------------

def due_for_yellow(now):
    return Case.objects.filter(sla_state=SlaState.OK, sla_yellow_at__lte=now, sla_red_at__gt=now).exclude(sla_stage="")


def due_for_red(now):
    return Case.objects.filter(sla_state__in=[SlaState.OK, SlaState.YELLOW], sla_red_at__lte=now).exclude(sla_stage="")


def sweep(now: datetime | None = None, batch: int = 500) -> dict:
    """Mark every case whose stored warning/breach instant has passed; notify; escalate where the policy says."""
    now = now or timezone.now()
    counts = {"yellow": 0, "red": 0, "escalated": 0}
    for level, qs in (("red", due_for_red(now)), ("yellow", due_for_yellow(now))):
        while True:
            ids = list(qs.order_by("sla_red_at" if level == "red" else "sla_yellow_at").values_list("pk", flat=True)[:batch])
            if not ids:
                break
            done = 0
            for pk in ids:
                result = mark(pk, level, now)
                if result:
                    done += 1
                    counts[level] += 1
                    if result == "escalated":
                        counts["escalated"] += 1
            if done == 0:
                break
    return counts


def mark(case_id: int, level: str, now: datetime):
    """Compare-and-set one case to `level` for its current stage; notify once; escalate once if due."""
    from gridcase.notifications.models import Kind
    from gridcase.notifications.services import notify

    from . import workflow

    with transaction.atomic():
        case = Case.objects.select_related("owner_grid", "category").filter(pk=case_id).first()
        if case is None or not case.sla_stage:
            return None
        if level == "red":
            if case.sla_state == SlaState.RED or case.sla_red_at is None or case.sla_red_at > now:
                return None
            allowed = [SlaState.OK, SlaState.YELLOW]
        else:
            if case.sla_state != SlaState.OK or case.sla_yellow_at is None or case.sla_yellow_at > now:
                return None
            allowed = [SlaState.OK]
        changed = Case.objects.filter(pk=case.pk, sla_state__in=allowed, sla_stage=case.sla_stage,
                                      sla_red_at=case.sla_red_at).update(sla_state=level)
        if not changed:
            return None
        workflow.record_event(case, f"sla_{level}", None, case.status, "", case.version,
                              payload={"sla_state": level, "stage": case.sla_stage,
                                       "deadline": case.sla_red_at.isoformat()}, at=now)
        recipients = workflow.responsible_users(case)
        kind = Kind.SLA_RED if level == "red" else Kind.SLA_YELLOW
        title = workflow.render(_("Deadline passed: %(number)s (%(stage)s)") if level == "red"
                                else _("Deadline near: %(number)s (%(stage)s)"),
                                number=case.number, stage=Stage(case.sla_stage).label)
        notify(recipients, kind, title, case.title, dedupe_key=f"case:{case.pk}:sla:{case.sla_stage}:{level}:"
               f"{case.sla_red_at:%Y%m%d%H%M}", case_id=case.pk)
        if level == "red":
            limits = limits_for(case.category_id, case.priority, case.owner_grid.level, case.sla_stage)
            if limits.auto_escalate and case.owner_grid.level not in (Level.STREET, Level.DISTRICT):
                case.sla_state = level
                if workflow.auto_escalate(case, now):
                    return "escalated"
        return level
