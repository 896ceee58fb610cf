"""Visit coverage (走访及时率): the share of key-population residents visited on time in a period.

A resident counts as visited on time in [from, to] when, for every kind of contact their plan asks for
(at its base cadence: a worker's own cadence or the rules, not a temporary escalation), the time since the
last contact that counts for it never exceeded the cadence at any moment of the period: the last contact
on or before `from` (or the plan's start) is within the cadence, each following contact came within the
cadence of the previous one, and `to` is within the cadence of the last. A monthly cadence (30 days)
allows 31 days between contacts. Only residents whose plan is active and started by `to` are counted.

Everything is computed in the database; no resident is loaded into Python. Figures come overall, per
key-population tag (a resident with two tags counts under both) and per sub-grid of the requested grid.

The figures read a rollup (`stats.VisitCoverageGap`): each item's stretches overdue, which do not depend on the
period asked, so any period is one indexed read of the residents' rows. A resident is late over [from, to] when
one of their stretches starts by `to` and has not ended by `from` (its contact came after `from`): the same test
as the raw computation's (`raw=True`, one statement with window functions over the visits, kept for the tests
that prove the two agree). `recompute(resident_ids)` rewrites some residents' rows (called by
`services.refresh_plan`, which every visit, plan and cadence change goes through), `refresh()` those touched
since its last run (the hourly job), `rebuild()` all of them.
"""

from datetime import date
from urllib.parse import urlencode

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Case, IntegerField, Value, When
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from gridcase.core.bulk import analyze as analyze_tables
from gridcase.grids import scoping, tree
from gridcase.grids.choices import Level
from gridcase.grids.models import Grid, Resident, Tag
from gridcase.stats import areas
from gridcase.stats.models import RollupState, VisitCoverageGap
from gridcase.stats.params import Period

from .choices import SATISFIED_BY
from .models import CarePlan, CarePlanItem, Visit

CARE_PLANS_URL = "/api/v1/care-plans/"


def _rate(on_time, residents):
    return round(on_time / residents, 4) if residents else None


def drilldown_url(grid_id, period: Period, on_time: bool = True, tag: str = "") -> str:
    """The care plans behind a coverage figure: those of the residents counted on time (or late) in the grid's
    subtree over the period (the care-plans list's `coverage` filter runs the figure's own statement)."""
    params = {"coverage": "on_time" if on_time else "late", "coverage_from": period.first.isoformat(),
              "coverage_to": period.last.isoformat()}
    if grid_id is not None:
        params["within"] = grid_id
    if tag:
        params["tag"] = tag
    return f"{CARE_PLANS_URL}?{urlencode(params)}"


def _drills(grid_id, period: Period, tag: str = "") -> dict:
    return {"drilldown": drilldown_url(grid_id, period, True, tag),
            "late_drilldown": drilldown_url(grid_id, period, False, tag)}


def _residents_sql(scope, grid, to: date):
    """The residents counted, each with the sub-grid (bucket) it falls in: an ORM query, compiled."""
    qs = Resident.objects.restrict(scope).filter(care_plan__active=True, care_plan__started_on__lte=to)
    if grid is not None:
        qs = qs.filter(tree.subtree_q([tree.span(grid)], "grid__"))
        children = list(Grid.objects.filter(parent=grid).order_by("id"))
    else:
        children = list(Grid.objects.filter(parent__isnull=True).order_by("id"))
    if children:
        bucket = Case(*[When(tree.subtree_q([tree.span(c)], "grid__"), then=Value(c.pk)) for c in children],
                      default=Value(grid.pk if grid is not None else None), output_field=IntegerField())
    else:
        bucket = Value(grid.pk if grid is not None else None, output_field=IntegerField())
    sql, params = _compiled(qs.annotate(bucket=bucket), ("id", "bucket"))
    return sql, params, children


FIGURES = """SELECT 'all', 0, COUNT(*), COALESCE(SUM(ok), 0) FROM res_ok
UNION ALL
SELECT 'grid', res.bucket, COUNT(*), COALESCE(SUM(res_ok.ok), 0)
  FROM res_ok JOIN res ON res.id = res_ok.resident_id GROUP BY res.bucket
UNION ALL
SELECT 'tag', t.tag_id, COUNT(*), COALESCE(SUM(res_ok.ok), 0)
  FROM res_ok JOIN {tags} t ON t.resident_id = res_ok.resident_id GROUP BY t.tag_id"""


def _sql(residents_sql: str, final: str | None = None) -> str:
    pg = connection.vendor == "postgresql"
    sat = ", ".join(f"('{k}', '{v}')" for k, kinds in SATISFIED_BY.items() for v in sorted(kinds))
    item, plan, visit = CarePlanItem._meta.db_table, CarePlan._meta.db_table, Visit._meta.db_table
    tags = Resident.tags.through._meta.db_table
    if pg:
        day = "%s::date"
        greatest = "GREATEST({a}, {b})"
        minus_days = "({d} - {n})"
        diff = "({a} - {b})"
    else:
        day = "%s"
        greatest = "MAX({a}, COALESCE({b}, {a}))"
        minus_days = "date({d}, '-' || {n} || ' days')"
        diff = "CAST(julianday({a}) - julianday({b}) AS INTEGER)"
    if pg:
        # One index range scan per item on (resident, kind, visited_on) for each kind that counts for it.
        kinds = " ".join(f"WHEN '{k}' THEN ARRAY[{', '.join(repr(str(v)) for v in sorted(vs))}]::varchar[]"
                         for k, vs in SATISFIED_BY.items())
        contacts = f"""c AS (
  SELECT it.id AS item_id, it.f0, v.visited_on AS c
  FROM it CROSS JOIN LATERAL (
    SELECT v.visited_on FROM {visit} v
    WHERE v.resident_id = it.resident_id AND v.kind = ANY(CASE it.kind {kinds} END)
      AND v.visited_on <= {day} AND v.visited_on >= it.f0 - it.allow
  ) v
),"""
    else:
        contacts = f"""c AS (
  SELECT it.id AS item_id, it.f0, v.visited_on AS c
  FROM it JOIN sat ON sat.item_kind = it.kind
  JOIN {visit} v ON v.resident_id = it.resident_id AND v.kind = sat.visit_kind
  WHERE v.visited_on <= {day} AND v.visited_on >= {minus_days.format(d="it.f0", n="it.allow")}
),"""
    final = final or FIGURES.format(tags=tags)
    return f"""
WITH res(id, bucket) AS ({residents_sql}),
it AS (
  SELECT i.id, p.resident_id, i.kind, p.started_on,
         {greatest.format(a="p.started_on", b=day)} AS f0,
         CASE WHEN COALESCE(i.custom_days, i.rule_days) >= 30 AND COALESCE(i.custom_days, i.rule_days) %% 30 = 0
              THEN COALESCE(i.custom_days, i.rule_days) / 30 * 31 ELSE COALESCE(i.custom_days, i.rule_days) END AS allow
  FROM {item} i JOIN {plan} p ON p.id = i.care_plan_id JOIN res ON res.id = p.resident_id
  WHERE COALESCE(i.custom_days, i.rule_days) IS NOT NULL
),
sat(item_kind, visit_kind) AS (VALUES {sat}),
{contacts}
anchor AS (
  SELECT item_id, MAX(c) AS a FROM c WHERE c <= f0 GROUP BY item_id
),
pts AS (
  SELECT it.id AS item_id, it.allow, {greatest.format(a="it.started_on", b="anchor.a")} AS p
  FROM it LEFT JOIN anchor ON anchor.item_id = it.id
  UNION ALL
  SELECT c.item_id, it.allow, c.c FROM c JOIN it ON it.id = c.item_id WHERE c.c > c.f0
),
gaps AS (
  SELECT item_id, allow, p, LEAD(p, 1, {day}) OVER (PARTITION BY item_id ORDER BY p) AS nxt FROM pts
),
item_ok AS (
  SELECT item_id, MIN(CASE WHEN {diff.format(a="nxt", b="p")} <= allow THEN 1 ELSE 0 END) AS ok
  FROM gaps GROUP BY item_id
),
res_ok AS (
  SELECT it.resident_id, MIN(item_ok.ok) AS ok FROM it JOIN item_ok ON item_ok.item_id = it.id
  GROUP BY it.resident_id
)
{final}
"""


def _allow(days: str) -> str:
    """Days allowed between two contacts for a cadence of `days`: a monthly cadence (30 days) allows 31."""
    return f"CASE WHEN {days} >= 30 AND {days} %% 30 = 0 THEN {days} / 30 * 31 ELSE {days} END"


def _gaps_sql(residents: bool) -> str:
    """INSERT of the overdue stretches of every item with a cadence (of the residents `= ANY(%s)` when
    `residents`): the plan's start and the contacts after it in order, a row where the next contact (or none yet)
    came later than the item allows."""
    pg = connection.vendor == "postgresql"
    sat = ", ".join(f"('{k}', '{v}')" for k, kinds in SATISFIED_BY.items() for v in sorted(kinds))
    item, plan, visit = CarePlanItem._meta.db_table, CarePlan._meta.db_table, Visit._meta.db_table
    resident = Resident._meta.db_table
    if pg:
        which = "AND p.resident_id = ANY(%s)" if residents else ""
        start, gap = "p + gaps.allow + 1", "n - p"
    else:
        which = "AND p.resident_id IN (SELECT value FROM json_each(%s))" if residents else ""
        start, gap = "date(p, '+' || (gaps.allow + 1) || ' days')", "CAST(julianday(n) - julianday(p) AS INTEGER)"
    return f"""
WITH it AS (
  SELECT i.id, p.resident_id, r.grid_id, r.community_id, r.street_id, p.active, i.kind, p.started_on,
         {_allow("COALESCE(i.custom_days, i.rule_days)")} AS allow
  FROM {item} i JOIN {plan} p ON p.id = i.care_plan_id JOIN {resident} r ON r.id = p.resident_id
  WHERE COALESCE(i.custom_days, i.rule_days) IS NOT NULL {which}
),
sat(item_kind, visit_kind) AS (VALUES {sat}),
pts AS (
  SELECT id AS item_id, allow, started_on AS p FROM it
  UNION ALL
  SELECT it.id, it.allow, v.visited_on FROM it JOIN sat ON sat.item_kind = it.kind
  JOIN {visit} v ON v.resident_id = it.resident_id AND v.kind = sat.visit_kind AND v.visited_on > it.started_on
),
gaps AS (
  SELECT item_id, allow, p, LEAD(p) OVER (PARTITION BY item_id ORDER BY p) AS n FROM pts
)
INSERT INTO {VisitCoverageGap._meta.db_table} (resident_id, item_id, grid_id, community_id, street_id, active,
  started_on, late_from, late_to)
SELECT it.resident_id, it.id, it.grid_id, it.community_id, it.street_id, it.active, it.started_on, {start}, n
FROM gaps JOIN it ON it.id = gaps.item_id WHERE n IS NULL OR {gap} > gaps.allow
ORDER BY it.street_id, it.community_id, it.grid_id
"""


def recompute(resident_ids) -> None:
    """Rewrite the rollup rows of these residents from their plans and visits (two statements)."""
    ids = sorted({int(i) for i in resident_ids})
    if not ids:
        return
    param = ids if connection.vendor == "postgresql" else __import__("json").dumps(ids)
    with transaction.atomic(), connection.cursor() as cursor:
        VisitCoverageGap.objects.filter(resident_id__in=ids).delete()
        cursor.execute(_gaps_sql(True), [param])


def moved(residents, grid_id: int) -> int:
    """The residents (ids or a queryset of ids) now live in micro-grid `grid_id`: their rows follow (the registry's
    moves, a resident moving household and the import call this; the rows' overdue stretches do not change), with
    its community and street (stats.areas)."""
    community_id, street_id = areas.of([grid_id]).get(grid_id, (None, None))
    return VisitCoverageGap.objects.filter(resident_id__in=residents).update(
        grid_id=grid_id, community_id=community_id, street_id=street_id)


def rebuild() -> int:
    """Every row again, in one statement (the seeders and a lost state); returns the rows written."""
    with transaction.atomic(), connection.cursor() as cursor:
        started = timezone.now()
        VisitCoverageGap.objects.all().delete()
        cursor.execute(_gaps_sql(False), [])
        written = cursor.rowcount
        RollupState.objects.update_or_create(key=REFRESH_KEY, defaults={"last_run_at": started})
    analyze_tables([VisitCoverageGap])
    return written


REFRESH_KEY = "visit_coverage"


def refresh(now=None) -> dict:
    """The hourly job: recompute the residents with a visit stored, or a plan changed, since the previous run
    (minus the rollups' lookback, for transactions that committed late). A first run rebuilds everything."""
    from gridcase.stats.rollup import LOOKBACK  # noqa: PLC0415 (stats.rollup imports the cases app)

    now = now or timezone.now()
    with transaction.atomic():
        RollupState.objects.get_or_create(key=REFRESH_KEY)
        state = RollupState.objects.select_for_update(skip_locked=True).filter(key=REFRESH_KEY).first()
        if state is None:
            return {"residents": 0, "skipped": True}
        if state.last_run_at is None:
            return {"residents": None, "rows": rebuild()}
        since = state.last_run_at - LOOKBACK
        ids = set(Visit.objects.filter(created_at__gte=since, resident__isnull=False)
                  .values_list("resident_id", flat=True).distinct())
        ids |= set(CarePlan.objects.filter(updated_at__gte=since).values_list("resident_id", flat=True))
        for i in range(0, len(ids), 5000):
            recompute(sorted(ids)[i:i + 5000])
        state.last_run_at = now
        state.save(update_fields=["last_run_at"])
    return {"residents": len(ids)}


def _gap_rows_sql(scope, grid, to: date):
    """The rollup rows of the residents counted (plan active, started by `to`, in the scope and `grid`'s subtree),
    each with its bucket: an ORM query, compiled. One tree-range condition (the scope cut down to the subtree)."""
    qs = VisitCoverageGap.objects.filter(active=True, started_on__lte=to)
    if scope.user_id is None and not scope.is_global:
        qs = qs.none()
    # The rows carry their resident's grid, community and street (like residents: scoping.area_q).
    if grid is not None:
        qs = qs.filter(scoping.area_q(scoping.nodes_within(None if scope.is_global else scope, tree.span(grid))))
        children = list(Grid.objects.filter(parent=grid).order_by("id"))
    else:
        if not scope.is_global:
            qs = qs.filter(scoping.area_q([(h.grid_id, h.level, h.span) for h in scope.holds]))
        children = list(Grid.objects.filter(parent__isnull=True).order_by("id"))
    levels = {c.level for c in children}
    if len(levels) == 1 and levels & {Level.STREET, Level.COMMUNITY}:
        bucket = Coalesce(f"{levels.pop()}_id", Value(grid.pk if grid is not None else None),
                          output_field=IntegerField())
    elif children:
        bucket = Case(*[When(scoping.area_q([(c.pk, c.level, tree.span(c))]), then=Value(c.pk)) for c in children],
                      default=Value(grid.pk if grid is not None else None), output_field=IntegerField())
    else:
        bucket = Value(grid.pk if grid is not None else None, output_field=IntegerField())
    sql, params = _compiled(qs.annotate(bucket=bucket), ("resident_id", "late_from", "late_to", "bucket"))
    return sql, params, children


def _compiled(qs, columns) -> tuple[str, list]:
    """`qs`'s columns as SQL to embed. A scope or subtree that matches nothing (an empty span list) cannot be
    compiled (Django raises EmptyResultSet): then the same columns with no row, so the figures read zero."""
    try:
        sql, params = qs.values(*columns).order_by().query.sql_with_params()
    except EmptyResultSet:
        empty = qs.model.objects.filter(pk__isnull=True).annotate(bucket=Cast(Value(None), IntegerField()))
        sql, params = empty.values(*columns).order_by().query.sql_with_params()
    return sql, list(params)


# The figures over `res_ok` when it carries each resident's bucket (the rollup's rows: one grid per resident). The
# counted residents' tags are found by their ids (PostgreSQL: `= ANY(ARRAY(…))` probes the tag links' index), not by
# hashing every tag link of the city.
ROLLUP_FIGURES = """SELECT 'all', 0, COUNT(*), COALESCE(SUM(ok), 0) FROM res_ok
UNION ALL
SELECT 'grid', bucket, COUNT(*), COALESCE(SUM(ok), 0) FROM res_ok GROUP BY bucket
UNION ALL
SELECT 'tag', t.tag_id, COUNT(*), COALESCE(SUM(res_ok.ok), 0)
  FROM res_ok JOIN {tags} t ON t.resident_id = res_ok.resident_id {counted} GROUP BY t.tag_id"""


def _rollup_sql(rows_sql: str, final: str | None = None) -> str:
    """The figures' statement over the rollup's rows (`_gap_rows_sql`): `res_ok` (resident, their bucket, 1 when on
    time; every row of a resident carries the resident's grid, so one bucket), then `final`; placeholders before
    the rows' query: `to`, `from` (`_rollup_params`). The rows are read once, straight into the per-resident
    aggregate."""
    counted = "WHERE t.resident_id = ANY(ARRAY(SELECT resident_id FROM res_ok))" \
        if connection.vendor == "postgresql" else ""
    final = final or ROLLUP_FIGURES.format(tags=Resident.tags.through._meta.db_table, counted=counted)
    return f"""
WITH res_ok AS (
  SELECT resident_id, MIN(bucket) AS bucket,
         MIN(CASE WHEN late_from <= %s AND (late_to IS NULL OR late_to > %s) THEN 0 ELSE 1 END) AS ok
  FROM ({rows_sql}) AS g GROUP BY resident_id
)
{final}
"""


def _rollup_params(period: Period) -> list:
    return [period.last.isoformat(), period.first.isoformat()]


def _period_params(period: Period) -> list:
    """Placeholders after the residents' query, in order: it.f0 (from), c (to), gaps' LEAD default (to)."""
    return [period.first.isoformat(), period.last.isoformat(), period.last.isoformat()]


def visit_coverage(scope, grid, period: Period, raw: bool = False) -> dict:
    """The figures of `grid`'s subtree (None: everywhere) over `period` (parsed and checked by
    gridcase.stats.params, like every dashboard figure), from the rollup (`raw`: from the visits)."""
    if raw:
        residents_sql, params, children = _residents_sql(scope, grid, period.last)
        sql, params = _sql(residents_sql), params + _period_params(period)
    else:
        rows_sql, params, children = _gap_rows_sql(scope, grid, period.last)
        sql, params = _rollup_sql(rows_sql), _rollup_params(period) + params
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    overall = {"residents": 0, "on_time": 0, "rate": None}
    grid_id = grid.pk if grid is not None else None
    by_grid, by_tag = {}, {}
    for kind, key, residents, on_time in rows:
        figures = {"residents": int(residents), "on_time": int(on_time), "rate": _rate(int(on_time), int(residents))}
        if kind == "all":
            overall = figures
        elif kind == "grid":
            by_grid[key] = figures
        else:
            by_tag[key] = figures
    tags = list(Tag.objects.order_by("id"))
    grid_rows = children or ([grid] if grid is not None else [])
    return {
        "grid": grid_id,
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "overall": {**overall, **_drills(grid_id, period)},
        "by_tag": [{"tag": t.code, "tag_name": t.name, **by_tag.get(t.pk, {"residents": 0, "on_time": 0, "rate": None}),
                    **_drills(grid_id, period, t.code)}
                   for t in tags if t.pk in by_tag],
        "by_grid": [{"grid": g.pk, "grid_name": g.name, "level": g.level,
                     **by_grid.get(g.pk, {"residents": 0, "on_time": 0, "rate": None}), **_drills(g.pk, period)}
                    for g in grid_rows],
    }


def residents_sql(scope, grid, period: Period, on_time: bool, raw: bool = False):
    """(sql, params) selecting the ids of the residents counted on time (or late): the drill-down list
    behind every figure (used by the care-plans list's `coverage` filter)."""
    final = f"SELECT resident_id FROM res_ok WHERE ok = {1 if on_time else 0}"
    if raw:
        residents, params, _children = _residents_sql(scope, grid, period.last)
        return _sql(residents, final=final), params + _period_params(period)
    rows, params, _children = _gap_rows_sql(scope, grid, period.last)
    return _rollup_sql(rows, final=final), _rollup_params(period) + params
