"""The periodic SLA sweep: warns at yellow, marks red, escalates where the policy says.

The sweep works only from deadlines stored on each case (not from "what changed since the last run"), so it
catches up after any downtime; every mark is a compare-and-set and every notice has a dedupe key, so
running it twice (or on two workers) warns once and escalates once.

`due`, `mark_payload` and `escalates` are the sweep's rules; the seeders call them to mark and escalate the
cases they simulate exactly as the sweep would have.
"""

from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.notifications.models import Kind
from gridcase.notifications.services import notify

from . import rules, workflow
from .choices import SlaState, Stage
from .models import Case
from .sla import Limits, limits_for


def due(case, now: datetime) -> str | None:
    """The mark the sweep gives the case at `now`: "red" past the breach instant (unless already red),
    "yellow" past the warning instant while still on time; None otherwise."""
    if not case.sla_stage:
        return None
    if case.sla_state != SlaState.RED and case.sla_red_at is not None and case.sla_red_at <= now:
        return "red"
    if case.sla_state == SlaState.OK and case.sla_yellow_at is not None and case.sla_yellow_at <= now:
        return "yellow"
    return None


def mark_payload(case, level: str) -> dict:
    """The payload of the `sla_yellow` / `sla_red` event (the deadline in UTC, as the database returns it)."""
    return {"sla_state": level, "stage": case.sla_stage, "deadline": case.sla_red_at.astimezone(UTC).isoformat()}


def escalates(limits: Limits, owner_level: str) -> bool:
    """Does a red mark escalate the case? Where the policy says so, below the street."""
    return limits.auto_escalate and rules.escalates_from(owner_level)


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
    with transaction.atomic():
        case = Case.objects.select_related("owner_grid", "category", "grid", "assignee").filter(pk=case_id).first()
        if case is None or due(case, now) != level:
            return None
        allowed = [SlaState.OK, SlaState.YELLOW] if level == "red" else [SlaState.OK]
        changed = Case.objects.filter(pk=case.pk, sla_state__in=allowed, sla_stage=case.sla_stage,
                                      sla_red_at=case.sla_red_at).update(sla_state=level)
        if not changed:
            return None
        workflow.record_event(case, f"sla_{level}", None, case.status, "", case.version,
                              payload=mark_payload(case, level), at=now)
        kind = Kind.SLA_RED if level == "red" else Kind.SLA_YELLOW
        title = workflow.render(_("Deadline passed: %(number)s (%(stage)s)") if level == "red"
                                else _("Deadline near: %(number)s (%(stage)s)"),
                                number=case.number, stage=Stage(case.sla_stage).label)
        notify(workflow.responsible_users(case), kind, title, case.title,
               dedupe_key=f"case:{case.pk}:sla:{case.sla_stage}:{level}:{case.sla_red_at:%Y%m%d%H%M}",
               case_id=case.pk)
        if level == "red":
            limits = limits_for(case.category_id, case.priority, case.owner_grid.level, case.sla_stage)
            if escalates(limits, case.owner_grid.level):
                case.sla_state = level
                if workflow.auto_escalate(case, now):
                    return "escalated"
        return level
