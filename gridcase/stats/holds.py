"""Where do cases wait? The median time a level held a case (the hop ledger, `CaseHop`), per grid level and
for departments, over the hops that ended in a period, for cases reported inside a grid's subtree.

The hops that ended are read from their rollup (`stats.HoldRollup`: per end day, case grid, kind, level and
hour bucket), so a street's figures read its own rows however many hops the city holds; the median is read
from the buckets like every other median of the dashboards (at most half a bucket off). The hops still open at
the end of the period are counted beside, live (their wait is not over, so they are not in the median).
`refresh()` (with the case rollups) recomputes the end days of the hops of cases changed since its last run;
`rebuild()` (seeders) every day.
"""

import logging
from collections import defaultdict
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from gridcase.cases.choices import ACTIVE, HopKind
from gridcase.cases.models import Case, CaseHop
from gridcase.core.bulk import analyze as analyze_tables
from gridcase.grids import tree
from gridcase.grids.choices import Level
from gridcase.grids.models import Grid

from . import areas, buckets
from .models import HoldRollup, RollupState
from .params import TZ, Period
from .queries import any_of, area_q

log = logging.getLogger(__name__)
DEPARTMENT = "department"
# Bottom up: the micro-grid first, the street last, then the departments.
ORDER = [Level.MICRO_GRID, Level.DEDICATED, Level.GRID, Level.COMMUNITY, Level.STREET, Level.DISTRICT, DEPARTMENT]
REFRESH_KEY = "holds"


# --- the rollup ------------------------------------------------------------------------------------------------

def _insert_sql(where: str) -> str:
    """PostgreSQL: the rollup rows of the hops matching `where` (over h, the hop, and c, its case), hours and
    buckets as buckets.py computes them."""
    edges = "ARRAY[" + ",".join(repr(float(e)) for e in buckets.EDGES) + "]::float8[]"
    hours = "EXTRACT(EPOCH FROM h.ended_at - h.started_at)::float8 / 3600.0"
    columns = ("day", "grid_id", "kind", "level", "bucket", "count")
    rows = (f"SELECT (h.ended_at AT TIME ZONE %s)::date AS day, c.grid_id, h.kind, COALESCE(h.grid_level, '') AS level, "
            f"GREATEST(width_bucket({hours}, {edges}) - 1, 0) AS bucket, COUNT(*) AS count "
            f"FROM {CaseHop._meta.db_table} h JOIN {Case._meta.db_table} c ON c.id = h.case_id "
            f"WHERE h.ended_at IS NOT NULL{where} GROUP BY 1, 2, 3, 4, 5")
    return (f"INSERT INTO {HoldRollup._meta.db_table} ({', '.join(columns)}, {', '.join(areas.AREA_COLUMNS)}) "
            f"{areas.select_sql(rows, columns)}")


def _write(days=None) -> int:
    """Rows for the hops that ended on the local days `days` (None: every hop), in one pass over the ledger.
    Returns the rows written."""
    if connection.vendor == "postgresql":
        where, params = "", [str(TZ)]
        if days is not None:
            where, params = " AND (h.ended_at AT TIME ZONE %s)::date = ANY(%s)", params + [str(TZ), list(days)]
        with connection.cursor() as cursor:
            cursor.execute(_insert_sql(where), params)
            return cursor.rowcount
    hops = CaseHop.objects.filter(ended_at__isnull=False)
    if days is not None:
        first, last = Period(min(days), max(days)).start, Period(min(days), max(days)).end
        hops = hops.filter(ended_at__gte=first, ended_at__lt=last)
    counts: dict = defaultdict(int)
    for started, ended, grid_id, kind, level in hops.values_list("started_at", "ended_at", "case__grid_id", "kind",
                                                                "grid_level").iterator():
        day = timezone.localtime(ended, TZ).date()
        if days is None or day in days:
            counts[(day, grid_id, kind, level or "",
                    buckets.bucket_of(buckets.hours_between(started, ended)))] += 1
    area = areas.of({key[1] for key in counts})
    HoldRollup.objects.bulk_create([HoldRollup(day=d, grid_id=g, kind=k, level=lv, bucket=b, count=n,
                                               community_id=area.get(g, (None, None))[0],
                                               street_id=area.get(g, (None, None))[1])
                                    for (d, g, k, lv, b), n in counts.items()], batch_size=5000)
    return len(counts)


def recompute_days(days) -> int:
    """Rewrite the rows of the days `days` from the ledger, in one pass (idempotent)."""
    days = set(days)
    if not days:
        return 0
    with transaction.atomic():
        HoldRollup.objects.filter(day__in=days).delete()
        return _write(days)


def rebuild() -> int:
    """Every row again (the seeders, a lost state); returns the rows written."""
    with transaction.atomic():
        started = timezone.now()
        HoldRollup.objects.all().delete()
        written = _write()
        RollupState.objects.update_or_create(key=REFRESH_KEY, defaults={"last_run_at": started})
    analyze_tables([HoldRollup])
    return written


def refresh(now: datetime | None = None) -> dict:
    """The end days of the hops of the cases changed since the last run (a hop ends only at a transition, which
    stamps the case's `updated_at`), recomputed; the first run rebuilds. One run at a time."""
    from .rollup import LOOKBACK  # noqa: PLC0415

    now = now or timezone.now()
    with transaction.atomic():
        state = RollupState.objects.select_for_update().filter(key=REFRESH_KEY).first()
        if state is None or state.last_run_at is None:
            return {"rebuilt": rebuild()}
        since = state.last_run_at - LOOKBACK
        ended = CaseHop.objects.filter(case_id__in=Case.objects.filter(updated_at__gte=since).values("pk"),
                                       ended_at__isnull=False).values_list("ended_at", flat=True)
        # Every end day of a changed case's hops: a case moved elsewhere (its grid) changes the rows of all of them.
        days = {timezone.localtime(moment, TZ).date() for moment in ended}
        written = recompute_days(days)
        state.last_run_at = now
        state.save(update_fields=["last_run_at"])
    return {"days": len(days), "rows": written}


# --- reading ---------------------------------------------------------------------------------------------------

def hold_times(grid, period: Period) -> dict:
    rows = HoldRollup.objects.filter(day__gte=period.first, day__lte=period.last)
    if grid is not None:  # a street or community: its copied id (the rows carry no dedicated grid)
        rows = rows.filter(area_q([grid], copies=True) if grid.level != Level.DEDICATED
                           else tree.in_subtrees_q(Grid, [tree.span(grid)], "grid_id"))
    by_key: dict = {}

    def entry(kind, level):
        key = DEPARTMENT if kind == HopKind.DEPARTMENT else (level or "")
        return by_key.setdefault(key, {"level": key, "hops": 0, "waiting": 0, "hist": defaultdict(int)})

    for r in rows.values("kind", "level", "bucket").annotate(n=Sum("count")).order_by():
        row = entry(r["kind"], r["level"])
        row["hops"] += r["n"]
        row["hist"][r["bucket"]] += r["n"]
    # Still held at the end of the period: started before it, not ended by then (cases not finished, or changed
    # since the period ended).
    cases = Q(case__updated_at__gte=period.end) | Q(case__status__in=ACTIVE)
    if grid is not None:
        # The subtree's grids probe the index of open cases by grid (and the changed ones are few): the street's
        # open cases, not every open case of the city joined to the tree.
        inside = Q(any_of("case__grid_id", Grid.objects.filter(tree.subtree_q([tree.span(grid)])).values("pk")))
        cases = (Q(case__status__in=ACTIVE) & inside) | (Q(case__updated_at__gte=period.end) & inside)
    # A hop starts no earlier than its case was reported (both are stamped by the same moment at a report): said in
    # the statement, each case's hops are looked for only in the ledger's partitions (by start month) from the
    # case's month on — one or two for an open case — not in every month's (90 -> 40 ms at 4,900 open cases).
    waiting = (CaseHop.objects.filter(cases, started_at__gte=F("case__created_at"), started_at__lt=period.end)
               .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=period.end))
               .values("kind", "grid_level").annotate(n=Count("id")).order_by())
    for r in waiting:
        entry(r["kind"], r["grid_level"])["waiting"] += r["n"]
    for row in by_key.values():
        median = buckets.median(row.pop("hist"))
        row["median_hours"] = round(median, 1) if median is not None else None
    results = [by_key[k] for k in ORDER if k in by_key] + [v for k, v in by_key.items() if k not in ORDER]
    return {"grid": ({"id": grid.pk, "code": grid.code, "name": grid.name, "level": grid.level} if grid else None),
            "from": period.first, "to": period.last, "results": results}


