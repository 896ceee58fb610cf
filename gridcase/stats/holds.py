"""Where do cases wait? The median time a level held a case (the hop ledger, `CaseHop`), per grid level and
for departments, over the hops that ended in a period, for cases reported inside a grid's subtree.

One query: hops grouped by level with PostgreSQL's `percentile_cont`; the hops still open at the end of the
period are counted beside (their wait is not over, so they are not in the median).
"""

from statistics import median

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Func, Q

from gridcase.cases.choices import ACTIVE, HopKind
from gridcase.cases.models import Case, CaseHop
from gridcase.grids import tree
from gridcase.grids.choices import Level
from gridcase.grids.models import Grid

from .params import Period

DEPARTMENT = "department"
# Bottom up: the micro-grid first, the street last, then the departments.
ORDER = [Level.MICRO_GRID, Level.DEDICATED, Level.GRID, Level.COMMUNITY, Level.STREET, Level.DISTRICT, DEPARTMENT]


class Median(Aggregate):
    function = "percentile_cont"
    template = "percentile_cont(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class Epoch(Func):
    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


def counted_cases(grid, period: Period):
    """The cases whose hops can count for `period` (an id subquery): a hop ends only at a transition, which stamps
    the case's `updated_at`, so a hop ended in the period or after it belongs to a case updated since the period
    began; a hop still open belongs to a case not finished. Read through the cases' indexes (grid, updated_at,
    status), so the work follows the subtree and the period rather than every hop of the city."""
    cases = Case.objects.filter(Q(updated_at__gte=period.start) | Q(status__in=ACTIVE))
    if grid is not None:
        cases = cases.filter(tree.in_subtrees_q(Grid, [tree.span(grid)], "grid_id"))
    return cases.values("pk")


def hold_times(grid, period: Period) -> dict:
    qs = CaseHop.objects.filter(case_id__in=counted_cases(grid, period))
    finished = Q(ended_at__gte=period.start, ended_at__lt=period.end)
    waiting = Q(started_at__lt=period.end) & (Q(ended_at__isnull=True) | Q(ended_at__gte=period.end))
    if connection.vendor == "postgresql":
        rows = (qs.filter(finished | waiting)
                .values("kind", "grid_level")
                .annotate(held=Count("id", filter=finished),
                          median=Median(Epoch(F("ended_at") - F("started_at")), filter=finished),
                          waiting=Count("id", filter=waiting))
                .order_by())
    else:
        rows = _rows_without_percentiles(qs, finished, waiting)
    by_level: dict[str, dict] = {}
    for r in rows:
        key = DEPARTMENT if r["kind"] == HopKind.DEPARTMENT else (r["grid_level"] or "")
        by_level[key] = {"level": key, "hops": r["held"], "waiting": r["waiting"],
                         "median_hours": round(r["median"] / 3600, 1) if r["median"] is not None else None}
    results = [by_level[k] for k in ORDER if k in by_level] + [v for k, v in by_level.items() if k not in ORDER]
    return {"grid": ({"id": grid.pk, "code": grid.code, "name": grid.name, "level": grid.level} if grid else None),
            "from": period.first, "to": period.last, "results": results}


def _rows_without_percentiles(qs, finished, waiting) -> list[dict]:
    """The same rows on a database without percentile_cont (SQLite, `make run`'s default): medians in Python."""
    groups: dict[tuple, dict] = {}
    for kind, level, started, ended, done in (qs.filter(finished | waiting).annotate(
            done=Count("id", filter=finished)).values_list("kind", "grid_level", "started_at", "ended_at", "done")):
        row = groups.setdefault((kind, level), {"kind": kind, "grid_level": level, "held": 0, "waiting": 0,
                                                "spans": []})
        if done:
            row["held"] += 1
            row["spans"].append((ended - started).total_seconds())
        else:
            row["waiting"] += 1
    return [{**row, "median": median(row.pop("spans")) if row["spans"] else None} for row in groups.values()]
