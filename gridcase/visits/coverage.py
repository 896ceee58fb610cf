"""Visit coverage (走访及时率): the share of key-population residents visited on time in a period.

A resident counts as visited on time in [from, to] when, for every kind of contact their plan asks for
(at its base cadence: a worker's own cadence or the rules, not a temporary escalation), the time since the
last contact that counts for it never exceeded the cadence at any moment of the period: the last contact
on or before `from` (or the plan's start) is within the cadence, each following contact came within the
cadence of the previous one, and `to` is within the cadence of the last. A monthly cadence (30 days)
allows 31 days between contacts. Only residents whose plan is active and started by `to` are counted.

Everything is computed in the database (one statement with window functions); no resident is loaded into
Python. Figures come overall, per key-population tag (a resident with two tags counts under both) and per
sub-grid of the requested grid.
"""

from datetime import date
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Case, IntegerField, Value, When

from gridcase.grids import tree
from gridcase.grids.models import Grid, Resident, Tag
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
    qs = qs.annotate(bucket=bucket).values("id", "bucket").order_by()
    sql, params = qs.query.sql_with_params()
    return sql, list(params), children


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


def _period_params(period: Period) -> list:
    """Placeholders after the residents' query, in order: it.f0 (from), c (to), gaps' LEAD default (to)."""
    return [period.first.isoformat(), period.last.isoformat(), period.last.isoformat()]


def visit_coverage(scope, grid, period: Period) -> dict:
    """The figures of `grid`'s subtree (None: everywhere) over `period` (parsed and checked by
    gridcase.stats.params, like every dashboard figure)."""
    residents_sql, params, children = _residents_sql(scope, grid, period.last)
    sql = _sql(residents_sql)
    params = params + _period_params(period)
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


def residents_sql(scope, grid, period: Period, on_time: bool):
    """(sql, params) selecting the ids of the residents counted on time (or late): the drill-down list
    behind every figure (used by the care-plans list's `coverage` filter)."""
    residents, params, _children = _residents_sql(scope, grid, period.last)
    sql = _sql(residents, final=f"SELECT resident_id FROM res_ok WHERE ok = {1 if on_time else 0}")
    return sql, params + _period_params(period)
