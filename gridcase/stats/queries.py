"""Dashboard figures read from the rollups (never from the cases themselves).

Every figure is a cohort: the cases created in [from, to] (Asia/Shanghai days) that happened in the subtree of
the chosen grid (their grid; a dedicated grid's own cases also by their dedicated grid: `area_q`) — the list
`GET /api/v1/cases/?within=<grid>&created_after=…&created_before=…&in_figures=true` returns (`in_figures` names
the subtree's cases as the figures do, and leaves out the sensitive ones the caller's figures cannot count), so
each figure carries a drill-down URL with the filters that produced it.

A street's or community's rows are read by the street or community id copied onto every rollup row (areas.py),
any other grid's by its grids, never by a list of ids. A street, a district or the whole city reads the street
rows (one per street and day) instead, when they give the same answer (`by_street`).

The figures themselves (counters, rates, the median) are declared in kpis.py; the parameters (grid, period,
category, source, metric, interval) are parsed in params.py.
"""

from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Case as SqlCase
from django.db.models import F, IntegerField, Lookup, Q, Subquery, Sum, Value, When
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils.translation import gettext_lazy as _

from gridcase.core.errors import ValidationFailed
from gridcase.grids import tree
from gridcase.grids.choices import Level
from gridcase.grids.models import Department, Grid
from gridcase.grids.scoping import Hold

from . import buckets, kpis, models
from .kpis import MEDIAN, RATE, STATUS_COUNTERS
from .models import (
    CaseDailyRollup,
    CaseMonthlyBucket,
    CaseMonthlyRollup,
    CaseRollupBucket,
    CaseStreetDailyBucket,
    CaseStreetDailyRollup,
    RollupState,
)
from .params import Filters, Period
from .rollup import AS_OF_KEY

CASES_URL = "/api/v1/cases/"
MAX_POINTS = 800
COUNTERS = kpis.COUNTER_NAMES
# A ranking ranks only the grids with at least this many cases behind the metric (`min_volume`): a grid with
# two cases both on time is not the best of the street.
MIN_VOLUME = 10


# --- drill-down ----------------------------------------------------------------------------------------------

def as_of(filters: Filters) -> datetime | None:
    """When the rollups were last computed (the start of the last computation that included today, where new cases
    land: rollup.AS_OF_KEY; None before the first): the moment every case figure describes. One query, cached on
    `filters`."""
    cache = filters.__dict__.setdefault("_as_of", {})
    if "at" not in cache:
        cache["at"] = RollupState.objects.filter(key=AS_OF_KEY).values_list("last_run_at", flat=True).first()
    return cache["at"]


def as_of_text(filters: Filters) -> str | None:
    moment = as_of(filters)
    return moment.isoformat() if moment else None


def drilldown_url(grid_id, first: date, last: date, extra: dict | None = None, *, category=None, source="",
                  base: str = CASES_URL, moment: datetime | None = None) -> str:
    """The case list behind a figure. With `moment` (the rollups' `as_of`), the cases reported since are left out
    (`as_of`), so the list's count is the figure's until the next refresh."""
    params = {}
    if grid_id is not None:
        params["within"] = grid_id
    period = Period(first, last)
    params["created_after"] = period.start.isoformat()
    params["created_before"] = period.end.isoformat()
    if category is not None:
        params["category"] = category
    if source:
        params["source"] = source
    params.update(extra or {})
    if moment is not None:
        params["as_of"] = moment.isoformat()
    params["in_figures"] = "true"
    return f"{base}?{urlencode(params)}"


def _drill(filters: Filters, grid_id, first, last, extra=None):
    return drilldown_url(grid_id, first, last, extra, category=filters.category.pk if filters.category else None,
                         source=filters.source, moment=as_of(filters))


# --- reading the rollups ----------------------------------------------------------------------------------------

class AnyOf(Lookup):
    """`field = ANY(ARRAY(subquery))` (PostgreSQL): the subquery runs once and its ids probe the field's index, where
    `IN (subquery)` lets the planner hash-join the whole table when it guesses that costs less (it grows with the
    city)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", [*lhs_params, *rhs_params]


def any_of(field: str, ids):
    """`field` names one of the rows `ids` (a queryset of ids) selects: a filter() argument."""
    if connection.vendor == "postgresql":
        return AnyOf(F(field), Subquery(ids))
    return Q(**{f"{field}__in": ids})


def area_q(nodes, prefix: str = "", copies: bool = False, streets: bool = False) -> Q:
    """Rows counted in the subtrees of `nodes` (grids, or scope holds: objects with an id, a level and a span). A
    case counts where it happened and in its dedicated grid. A dedicated grid is a leaf beside the general grids of
    its community and a case's micro-grid lies in the same community, so only a dedicated grid itself needs the
    second column. With `copies` (rollup rows, which carry their grid's community and street: models.InArea) a
    street or community is that one value of its index, a grid without children its id, any other node its
    grids as a subquery over the tree range; without (cases: a figure's drill-down, `in_figures`), the subtree's
    grids as one array the (grid, created_at) index is probed with. With `streets` (the street rows, nodes at street
    level or above: `by_street`) a street is its id, a node above the streets in its tree range. Never a list of
    ids in the statement."""
    q = Q(pk__in=[])
    for node in nodes:
        is_hold = isinstance(node, Hold)
        pk, span = (node.grid_id, node.span) if is_hold else (node.pk, tree.span(node))
        if streets:  # the rows' street: a street, or a grid above every street (WHOLE_STREETS)
            q |= Q(**{f"{prefix}street_id": pk}) if node.level == Level.STREET else Q(**{
                f"{prefix}street_id__in": Grid.objects.filter(tree.subtree_q([span]), level__in=WHOLE_STREETS)
                .values("pk")})
        elif node.level == Level.DEDICATED:
            q |= Q(**{f"{prefix}grid_id": pk}) | Q(**{f"{prefix}dedicated_grid_id": pk})
        elif copies and node.level == Level.STREET:
            q |= Q(**{f"{prefix}street_id": pk})
        elif copies and node.level == Level.COMMUNITY:
            q |= Q(**{f"{prefix}community_id": pk})
        elif copies and span.size == 1:
            q |= Q(**{f"{prefix}grid_id": pk})
        elif copies:
            q |= tree.in_subtrees_q(Grid, [span], f"{prefix}grid_id")
        else:  # cases: the subtree's grids probe the (grid, created_at) index
            q |= Q(any_of(f"{prefix}grid_id", Grid.objects.filter(tree.subtree_q([span])).values("pk")))
    return q


def sensitive_q(sensitive_holds, prefix: str = "", copies: bool = False, streets: bool = False) -> Q:
    """Rows (rollups: `copies`, or cases) the figures count for a caller whose holds that see sensitive cases are
    `sensitive_holds`: every case that is not sensitive, sensitive ones only inside those holds. (The case list
    also shows a caller the sensitive cases they own, were assigned or reported: no rollup can count those, so a
    figure's drill-down asks for `in_figures=true`, this condition.)"""
    return Q(**{f"{prefix}sensitive": False}) | (Q(**{f"{prefix}sensitive": True})
                                                 & area_q(sensitive_holds, prefix, copies, streets))


# Levels whose subtree is made of whole streets (a street row's `street` is a grid of one of them).
WHOLE_STREETS = (Level.STREET, Level.DISTRICT)


def whole_streets(node) -> bool:
    """Whether the subtree of `node` (a grid or a hold; None: the whole forest) is made of whole streets."""
    return node is None or node.level in WHOLE_STREETS


def by_street(filters: Filters, children: bool = False) -> bool:
    """Whether the street rows (one per street and day: models.CaseStreetDailyRollup) give the figures the daily
    rows give: no category or source asked for (they have neither); the grid made of whole streets (for a ranking,
    `children`, each of its children: the whole forest or a district); and sensitive cases counted everywhere or
    only in holds made of whole streets (a street's row cannot tell which of its sensitive cases lie in a
    community held). The one rule every figure follows."""
    if filters.category is not None or filters.source:
        return False
    grid = filters.grid
    if children and grid is not None and grid.level != Level.DISTRICT:
        return False
    holds = filters.sensitive_holds
    return whole_streets(grid) and (holds is None or all(whole_streets(h) for h in holds))


def _scoped(qs, filters: Filters, prefix: str = "", dims: bool = True, streets: bool = False):
    """Keep the rows of the grid's subtree the caller may see (and the category/source asked for). `streets`: the
    street rows (`by_street` allowed them)."""
    if filters.grid is not None:
        qs = qs.filter(area_q([filters.grid], prefix, copies=True, streets=streets))
    if filters.sensitive_holds is not None:
        qs = qs.filter(sensitive_q(filters.sensitive_holds, prefix, copies=True, streets=streets))
    if dims and filters.category is not None:
        qs = qs.filter(**{f"{prefix}category_id": filters.category.pk})
    if dims and filters.source:
        qs = qs.filter(**{f"{prefix}source": filters.source})
    return qs


def _base(model, filters: Filters, prefix: str = ""):
    """Daily rows (cases or departments) of the whole period."""
    qs = model.objects.filter(**{f"{prefix}day__gte": filters.period.first, f"{prefix}day__lte": filters.period.last})
    return _scoped(qs, filters, prefix, dims=model in (CaseDailyRollup, CaseRollupBucket))


def month_end(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def split_period(period: Period):
    """(first and last whole month inside the period, or None; the day ranges left at either end)."""
    first_month = period.first if period.first.day == 1 else month_end(period.first) + timedelta(days=1)
    last_month_end = period.last if period.last == month_end(period.last) else period.last.replace(day=1) - timedelta(days=1)
    if first_month > last_month_end:
        return None, [(period.first, period.last)]
    edges = []
    if period.first < first_month:
        edges.append((period.first, first_month - timedelta(days=1)))
    if last_month_end < period.last:
        edges.append((last_month_end + timedelta(days=1), period.last))
    return (first_month, last_month_end.replace(day=1)), edges


def street_days(filters: Filters, buckets_of: bool = False):
    """The street rows (or their histograms) of the period: only where `by_street` allows them."""
    model = CaseStreetDailyBucket if buckets_of else CaseStreetDailyRollup
    qs = model.objects.filter(day__gte=filters.period.first, day__lte=filters.period.last)
    return _scoped(qs, filters, dims=False, streets=True)


def day_sets(filters: Filters, buckets_of: bool = False, children: bool = False) -> list:
    """The period's rows day by day (a daily or weekly series): the street rows where they serve (`by_street`),
    else the daily rows. As `case_sets`."""
    if by_street(filters, children):
        return [(street_days(filters, buckets_of), "day")]
    return [(_base(CaseRollupBucket if buckets_of else CaseDailyRollup, filters), "day")]


def case_sets(filters: Filters, buckets_of: bool = False, children: bool = False) -> list:
    """Querysets whose sums make up the period: the street rows where they serve (`by_street`; `children`: for a
    ranking of the grid's children); else monthly rows for the whole months inside it (when no category or source
    is asked for), daily rows for the rest. Each comes with the name of its date column."""
    if by_street(filters, children):
        return day_sets(filters, buckets_of, children)
    daily, prefix = (CaseRollupBucket, "") if buckets_of else (CaseDailyRollup, "")
    months, edges = split_period(filters.period)
    if months is None or filters.category is not None or filters.source:
        return [(_base(daily, filters, prefix), f"{prefix}day")]
    out = []
    monthly = CaseMonthlyBucket if buckets_of else CaseMonthlyRollup
    out.append((_scoped(monthly.objects.filter(**{f"{prefix}month__gte": months[0], f"{prefix}month__lte": months[1]}),
                        filters, prefix, dims=False), f"{prefix}month"))
    if edges:
        days = Q(pk__in=[])
        for first, last in edges:
            days |= Q(**{f"{prefix}day__gte": first, f"{prefix}day__lte": last})
        out.append((_scoped(daily.objects.filter(days), filters, prefix), f"{prefix}day"))
    return out


def _add(acc: dict, row: dict) -> dict:
    for n in COUNTERS:
        acc[n] = acc.get(n, 0) + int(row.get(n) or 0)
    return acc


def _sums(names=COUNTERS):
    return {n: Sum(n) for n in names}


def _zero(row: dict | None) -> dict:
    row = row or {}
    return {n: int(row.get(n) or 0) for n in COUNTERS}


def metric_value(counts: dict, hist: dict, metric: str) -> tuple[float | int | None, int | None, int | None]:
    """(value, numerator, denominator) of `metric` from summed counters and a histogram."""
    if metric == kpis.TOTAL:
        return counts["created"], counts["created"], None
    if metric == MEDIAN.name:
        return buckets.median(hist), None, counts[MEDIAN.over]
    return RATE[metric].parts(counts)


def _totals(filters: Filters) -> tuple[dict, dict]:
    """Every counter summed over the period, and the median's histogram. Two to four queries."""
    counts = _zero(None)
    for qs, _col in case_sets(filters):
        _add(counts, qs.aggregate(**_sums()))
    hist: dict = defaultdict(int)
    for qs, _col in case_sets(filters, buckets_of=True):
        for r in qs.values("bucket").annotate(n=Sum("count")).order_by():
            hist[r["bucket"]] += r["n"]
    return counts, hist


def previous_period(period: Period) -> Period:
    """The period of the same length just before `period` (the comparison of every rate)."""
    return Period(period.first - timedelta(days=period.days), period.first - timedelta(days=1))


def previous(filters: Filters) -> dict:
    """The same figures over the previous period of the same length (same grid, category and source)."""
    before = replace(filters, period=previous_period(filters.period))
    counts, hist = _totals(before)
    out = {"from": before.period.first.isoformat(), "to": before.period.last.isoformat(), "total": counts["created"]}
    for r in kpis.RATES:
        out[r.name] = r.parts(counts)[0]
    out[MEDIAN.name] = buckets.median(hist)
    return out


def summary(filters: Filters) -> dict:
    """The "three rates" and the other KPIs of one grid's subtree over a period, with the same figures over the
    previous period of the same length (`previous`) and the rollups' time (`as_of`). Five to nine queries."""
    counts, hist = _totals(filters)
    grid_id = filters.grid.pk if filters.grid else None
    first, last = filters.period.first, filters.period.last
    out = {
        "grid": _grid_brief(filters.grid),
        "from": first.isoformat(),
        "to": last.isoformat(),
        "as_of": as_of_text(filters),
        "total": counts["created"],
        "counts": {n: counts[n] for n in COUNTERS if n not in STATUS_COUNTERS},
    }
    drill = {kpis.TOTAL: _drill(filters, grid_id, first, last, kpis.metric_drilldown(kpis.TOTAL))}
    out["parts"] = {}
    for r in kpis.RATES:
        out[r.name], num, den = r.parts(counts)
        out["parts"][r.name] = {"numerator": num, "denominator": den}
        drill[r.name] = _drill(filters, grid_id, first, last, r.drilldown)
        drill[f"{r.name}_denominator"] = _drill(filters, grid_id, first, last, r.denominator_drilldown)
    out[MEDIAN.name] = buckets.median(hist)
    drill[MEDIAN.name] = _drill(filters, grid_id, first, last, MEDIAN.drilldown)
    out["by_status"] = {n.removeprefix("st_"): counts[n] for n in STATUS_COUNTERS}
    for n in STATUS_COUNTERS:
        drill[f"by_status.{n.removeprefix('st_')}"] = _drill(filters, grid_id, first, last, kpis.COUNTER[n].drilldown)
    out["drilldown"] = drill
    out["previous"] = previous(filters)
    return out


def _grid_brief(grid):
    if grid is None:
        return None
    return {"id": grid.pk, "code": grid.code, "name": grid.name, "level": grid.level}


# --- time series ----------------------------------------------------------------------------------------------

def period_starts(period: Period, interval: str) -> list[date]:
    def floor(d):
        if interval == "week":
            return d - timedelta(days=d.weekday())
        if interval == "month":
            return d.replace(day=1)
        return d

    out, d = [], floor(period.first)
    while d <= period.last:
        out.append(d)
        if interval == "day":
            d += timedelta(days=1)
        elif interval == "week":
            d += timedelta(days=7)
        else:
            d = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


def _trunc(interval, field="day"):
    if interval == "week":
        return TruncWeek(field)
    if interval == "month":
        return TruncMonth(field)
    return F(field)


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def timeseries(filters: Filters, metric: str, interval: str) -> dict:
    """One point per day, week (Monday) or month of the period, with numerator and denominator. Two to four
    queries. `interval` is one of params.INTERVALS."""
    starts = period_starts(filters.period, interval)
    if len(starts) > MAX_POINTS:
        raise ValidationFailed(_("Too many points: choose a shorter period or a longer interval."),
                               fields={"interval": [_("Too many points.")]}, code="too_many_points")
    # Monthly rows can only serve monthly points.
    if interval == "month":
        sets, bsets = case_sets(filters), case_sets(filters, buckets_of=True)
    else:
        sets, bsets = day_sets(filters), day_sets(filters, buckets_of=True)
    rows: dict = defaultdict(dict)
    for qs, col in sets:
        for r in qs.annotate(p=_trunc(interval, col)).values("p").annotate(**_sums()).order_by():
            _add(rows[_as_date(r["p"])], r)
    hists: dict = defaultdict(lambda: defaultdict(int))
    if metric == MEDIAN.name:
        for qs, col in bsets:
            for r in qs.annotate(p=_trunc(interval, col)).values("p", "bucket").annotate(n=Sum("count")).order_by():
                hists[_as_date(r["p"])][r["bucket"]] += r["n"]
    grid_id = filters.grid.pk if filters.grid else None
    num_filters = kpis.metric_drilldown(metric)
    points = []
    for i, start in enumerate(starts):
        end = (starts[i + 1] - timedelta(days=1)) if i + 1 < len(starts) else filters.period.last
        first, last = max(start, filters.period.first), min(end, filters.period.last)
        value, num, den = metric_value(_zero(rows.get(start)), hists.get(start, {}), metric)
        points.append({"date": start.isoformat(), "from": first.isoformat(), "to": last.isoformat(), "value": value,
                       "numerator": num, "denominator": den,
                       "drilldown": _drill(filters, grid_id, first, last, num_filters)})
    return {"grid": _grid_brief(filters.grid), "metric": metric, "interval": interval,
            "from": filters.period.first.isoformat(), "to": filters.period.last.isoformat(),
            "as_of": as_of_text(filters), "points": points}


# --- ranking of sub-grids -----------------------------------------------------------------------------------

def children_of(grid) -> list[Grid]:
    if grid is None:
        return list(Grid.objects.filter(parent__isnull=True).order_by("code"))
    return list(Grid.objects.filter(parent=grid).order_by("code"))


def _child_case(children, prefix, streets: bool = False):
    """SQL naming the child (of the ranked grid) that counts the row (see area_q): the rows' copied street or
    community when the children are streets or communities, else a CASE over them. `streets`: the street rows."""
    levels = {c.level for c in children}
    if len(levels) == 1 and levels & {Level.STREET, Level.COMMUNITY}:
        return F(f"{prefix}{levels.pop()}_id")
    whens = [When(area_q([c], prefix, copies=True, streets=streets), then=Value(c.pk)) for c in children]
    return SqlCase(*whens, default=Value(None), output_field=IntegerField())


def grid_ranking(filters: Filters, metric: str, min_volume: int = MIN_VOLUME) -> dict:
    """The children of the grid, each with its KPIs and its `volume` (the cases the metric is taken over), best
    first by `metric` among those with at least `min_volume` (ranked); the others follow unranked, largest volume
    first. Two to four queries on the rollups (grouped by child in SQL), however many cases and sub-grids."""
    children = children_of(filters.grid)
    per_child = {c.pk: _zero(None) for c in children}
    hist: dict = {c.pk: defaultdict(int) for c in children}
    if children:
        # A row may count for a general grid's child and for a dedicated grid beside it: two CASE columns.
        general = [c for c in children if c.level != Level.DEDICATED]
        dedicated = [c for c in children if c.level == Level.DEDICATED]
        streets = by_street(filters, children=True)  # then every child is whole streets: no dedicated one
        for qs, _col in case_sets(filters, children=True):
            for r in (qs.annotate(c1=_child_case(general, "", streets), c2=_child_case(dedicated, "", streets))
                      .values("c1", "c2").annotate(**_sums()).order_by()):
                for child in {r["c1"], r["c2"]} & per_child.keys():
                    _add(per_child[child], r)
        for qs, _col in case_sets(filters, buckets_of=True, children=True):
            for r in (qs.annotate(c1=_child_case(general, "", streets), c2=_child_case(dedicated, "", streets))
                      .values("c1", "c2", "bucket").annotate(n=Sum("count")).order_by()):
                for child in {r["c1"], r["c2"]} & hist.keys():
                    hist[child][r["bucket"]] += r["n"]
    first, last = filters.period.first, filters.period.last
    results = []
    for c in children:
        counts = per_child[c.pk]
        item = {"grid": c.pk, "grid_name": c.name, "grid_code": c.code, "level": c.level, "total": counts["created"]}
        for r in kpis.RATES:
            item[r.name] = r.parts(counts)[0]
        item[MEDIAN.name] = buckets.median(hist[c.pk])
        item["value"] = item[metric] if metric != kpis.TOTAL else counts["created"]
        item["volume"] = counts[kpis.volume_counter(metric)]
        item["ranked"] = item["value"] is not None and item["volume"] >= min_volume
        item["drilldown"] = _drill(filters, c.pk, first, last, kpis.metric_drilldown(metric))
        item["volume_drilldown"] = _drill(filters, c.pk, first, last, kpis.COUNTER[kpis.volume_counter(metric)].drilldown)
        results.append(item)
    higher_is_better = kpis.higher_is_better(metric)

    def key(item):
        if not item["ranked"]:
            return (1, -item["volume"], item["grid_code"])
        v = item["value"]
        return (0, -v if higher_is_better else v, -item["volume"], item["grid_code"])

    results.sort(key=key)
    for i, item in enumerate(results, 1):
        item["rank"] = i if item["ranked"] else None
    return {"grid": _grid_brief(filters.grid), "metric": metric, "from": first.isoformat(), "to": last.isoformat(),
            "as_of": as_of_text(filters), "min_volume": min_volume, "results": results}


# --- departments (吹哨 / 应哨) -------------------------------------------------------------------------------

DEPT_COUNTERS = ("whistled", "reported_in", "reported_in_on_time", "replied", "scored", "score_sum")


def departments(filters: Filters) -> dict:
    """Per whistled department: cases whistled, report-in rate within the deadline, median hours to report in
    and to reply, and the average response score (应哨评价). Two queries on the rollups (the histograms of the
    counters' rows, found by their ids)."""
    daily = _base(models.DepartmentDailyRollup, filters)
    rows = list(daily.values("department_id").annotate(**{n: Sum(n) for n in DEPT_COUNTERS}).order_by())
    hists: dict = defaultdict(lambda: defaultdict(dict))
    for r in (models.DepartmentRollupBucket.objects.filter(any_of("rollup_id", daily.values("pk")))
              .values("rollup__department_id", "metric", "bucket").annotate(n=Sum("count")).order_by()):
        hists[r["rollup__department_id"]][r["metric"]][r["bucket"]] = r["n"]
    names = dict(Department.objects.filter(pk__in=[r["department_id"] for r in rows]).values_list("pk", "name"))
    grid_id = filters.grid.pk if filters.grid else None
    first, last = filters.period.first, filters.period.last
    results = []
    for r in rows:
        d = r["department_id"]
        results.append({
            "department": d, "department_name": names.get(d, ""), "whistled": r["whistled"],
            "reported_in": r["reported_in"], "reported_in_on_time": r["reported_in_on_time"],
            "report_in_rate": kpis.ratio(r["reported_in_on_time"], r["whistled"]),
            "median_report_in_hours": buckets.median(hists[d][models.DepartmentRollupBucket.REPORT_IN]),
            "replied": r["replied"],
            "median_handling_hours": buckets.median(hists[d][models.DepartmentRollupBucket.HANDLE]),
            "scored": r["scored"],
            "average_score": round(r["score_sum"] / r["scored"], 2) if r["scored"] else None,
            "drilldown": drilldown_url(grid_id, first, last, {"department": d}, moment=as_of(filters)),
        })
    results.sort(key=lambda x: (-x["whistled"], x["department"]))
    return {"grid": _grid_brief(filters.grid), "from": first.isoformat(), "to": last.isoformat(),
            "as_of": as_of_text(filters), "results": results}
