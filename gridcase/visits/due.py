"""What is due and overdue: the worker's round for a day, and the daily job that fills inboxes.

An item is due on day D when its due date is D, overdue when its due date is before D. The job is
idempotent (each notice has a dedupe key per resident, kind and due date, and items remember which due
date they were already reported for) and catches up after downtime: whatever fell due while it was not
running is overdue now and is reported at the next run, with the grid leader told once an item is
`GRACE_DAYS` overdue.
"""

import logging
from datetime import date, timedelta

from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.grids import tree
from gridcase.grids.choices import Role
from gridcase.grids.models import Grid, Membership

from .choices import ContactKind
from .models import CarePlanItem, DueRun
from .services import responsible_workers

log = logging.getLogger(__name__)

GRACE_DAYS = 2
CHUNK = 1000


def open_items():
    return CarePlanItem.objects.filter(care_plan__active=True, due_on__isnull=False)


def due_by(day: date, qs=None):
    """Items due on `day` or earlier (overdue), on active plans."""
    qs = open_items() if qs is None else qs.filter(care_plan__active=True, due_on__isnull=False)
    return qs.filter(due_on__lte=day)


def _leaders_of(grid_id: int, cache: dict) -> list[int]:
    """The grid leader(s) above a micro-grid; where nobody holds that role, the general grid's worker."""
    if grid_id not in cache:
        grid = Grid.objects.get(pk=grid_id)
        above = Membership.objects.filter(tree.ancestors_q(grid, include_self=True, prefix="grid__"))
        leaders = list(above.filter(role=Role.GRID_LEADER).values_list("user_id", flat=True))
        if not leaders:
            leaders = list(above.filter(role=Role.GRID_WORKER).values_list("user_id", flat=True))
        cache[grid_id] = sorted(set(leaders))
    return cache[grid_id]


def _kind_label(kind: str) -> str:
    return str(ContactKind(kind).label)


def run_due_job(day: date | None = None, grace_days: int = GRACE_DAYS) -> DueRun:
    """Count today's round and the overdue items, send each worker a digest and overdue notices, and tell
    the grid leader about items overdue for `grace_days` or more. Safe to run any number of times."""
    from gridcase.notifications.models import Kind
    from gridcase.notifications.services import notify

    day = day or timezone.localdate()
    run, _created = DueRun.objects.get_or_create(day=day)
    items = due_by(day)
    run.due_today = items.filter(due_on=day).count()
    run.overdue = items.filter(due_on__lt=day).count()

    # 1. A digest per responsible worker: "N contacts due today" (once a day).
    per_worker: dict[int, int] = {}
    for worker_id, n in (items.filter(care_plan__worker__isnull=False).values("care_plan__worker_id")
                         .annotate(n=Count("id")).order_by().values_list("care_plan__worker_id", "n")):
        per_worker[worker_id] = per_worker.get(worker_id, 0) + n
    by_grid = dict(items.filter(care_plan__worker__isnull=True).values("care_plan__resident__grid_id")
                   .annotate(n=Count("id")).order_by().values_list("care_plan__resident__grid_id", "n"))
    for grid_id, user_id in Membership.objects.filter(grid_id__in=list(by_grid), role=Role.MICRO_GRID_WORKER) \
            .values_list("grid_id", "user_id"):
        per_worker[user_id] = per_worker.get(user_id, 0) + by_grid[grid_id]
    for user_id, n in sorted(per_worker.items()):
        notify([user_id], Kind.VISIT_DUE, _("%(n)s contacts due in your round today") % {"n": n},
               dedupe_key=f"visit-due:{day.isoformat()}", payload={"date": day.isoformat(), "count": n})

    # 2. Overdue notices to the responsible worker, once per resident, kind and due date.
    worker_notices = 0
    pending = (items.filter(due_on__lt=day).filter(Q(worker_notified_for__isnull=True) | ~Q(worker_notified_for=F("due_on")))
               .select_related("care_plan__resident").order_by("id"))
    last_id = 0
    while True:
        chunk = list(pending.filter(id__gt=last_id)[:CHUNK])
        if not chunk:
            break
        last_id = chunk[-1].pk
        workers = responsible_workers([i.care_plan for i in chunk])
        for item in chunk:
            resident = item.care_plan.resident
            worker_notices += notify(
                workers.get(item.care_plan_id, []), Kind.VISIT_OVERDUE,
                _("Overdue: %(kind)s for %(name)s (due %(due)s)") % {
                    "kind": _kind_label(item.kind), "name": resident.name, "due": item.due_on.isoformat()},
                dedupe_key=f"visit-overdue:{resident.pk}:{item.kind}:{item.due_on.isoformat()}", resident=resident,
                payload={"kind": item.kind, "due_on": item.due_on.isoformat(), "overdue_days": (day - item.due_on).days},
            )
        CarePlanItem.objects.filter(pk__in=[i.pk for i in chunk]).update(worker_notified_for=F("due_on"))

    # 3. After the grace period, the grid leader too.
    leader_notices = 0
    cache: dict = {}
    late = (items.filter(due_on__lte=day - timedelta(days=grace_days))
            .filter(Q(leader_notified_for__isnull=True) | ~Q(leader_notified_for=F("due_on")))
            .select_related("care_plan__resident").order_by("id"))
    last_id = 0
    while True:
        chunk = list(late.filter(id__gt=last_id)[:CHUNK])
        if not chunk:
            break
        last_id = chunk[-1].pk
        for item in chunk:
            resident = item.care_plan.resident
            leader_notices += notify(
                _leaders_of(resident.grid_id, cache), Kind.VISIT_OVERDUE,
                _("Overdue %(days)s days: %(kind)s for %(name)s") % {
                    "days": (day - item.due_on).days, "kind": _kind_label(item.kind), "name": resident.name},
                dedupe_key=f"visit-overdue-leader:{resident.pk}:{item.kind}:{item.due_on.isoformat()}",
                resident=resident,
                payload={"kind": item.kind, "due_on": item.due_on.isoformat(), "overdue_days": (day - item.due_on).days},
            )
        CarePlanItem.objects.filter(pk__in=[i.pk for i in chunk]).update(leader_notified_for=F("due_on"))

    run.worker_notices += worker_notices
    run.leader_notices += leader_notices
    run.runs += 1
    run.finished_at = timezone.now()
    run.save()
    log.info("due job %s: %s due, %s overdue, %s worker and %s leader notices", day, run.due_today, run.overdue,
             worker_notices, leader_notices)
    return run
