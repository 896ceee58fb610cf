"""Dashboard figures read from the rollups (never from the cases themselves).

Every figure is a cohort: the cases created in [from, to] (Asia/Shanghai days) whose grid or dedicated grid
lies in the subtree of the chosen grid — the same list `GET /api/v1/cases/?within=<grid>&created_after=…
&created_before=…` returns, so each figure carries a drill-down URL with the filters that produced it.

Definitions (numerator / denominator):
- response_rate: responded (accepted, rejected or merged) by the accept deadline / created
- resolution_rate: resolved, verified or closed / created minus rejected and merged
- on_time_rate: resolved by the handle deadline / resolved
- satisfaction_rate: satisfied + basically satisfied / rated
- escalation_rate: escalated at least once / created
- resolved_in_micro_grid_rate: resolved while a micro-grid owned the case / resolved
- median_hours_to_resolve: hours from report to resolution of the resolved cases, from the hour-bucket
  histograms of the rollups (see buckets.py for the error bound).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db.models import Case as SqlCase
from django.db.models import F, IntegerField, Q, Sum, Value, When
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.cases.choices import Source, Status
from gridcase.cases.models import SENSITIVE_ROLES, Category
from gridcase.core.errors import NotFound, ValidationFailed
from gridcase.grids import tree
from gridcase.grids.models import Department, Grid
from gridcase.grids.scoping import Scope

from . import buckets
from .models import (
    STATUS_FIELDS,
    CaseDailyRollup,
    CaseRollupBucket,
    DepartmentDailyRollup,
    DepartmentRollupBucket,
)

TZ = ZoneInfo("Asia/Shanghai")
CASES_URL = "/api/v1/cases/"
DEFAULT_DAYS = 30
MAX_DAYS = 366 * 5
MAX_POINTS = 800
INTERVALS = ("day", "week", "month")
RESOLVED_STATUSES = "resolved,verified,closed"
VALID_STATUSES = ",".join(s for s in Status.values if s not in (Status.REJECTED, Status.MERGED))

COUNTERS = ("created", "responded_on_time", "accepted", "valid", "resolved", "resolved_on_time",
            "resolved_in_micro_grid", "rated", "satisfied", "basically", "dissatisfied", "escalated",
            *STATUS_FIELDS)

# metric: (numerator counters, denominator counter, extra case-list filters for the numerator,
#          filters for the denominator, higher is better)
RATES = {
    "response_rate": (("responded_on_time",), "created", {"responded_on_time": "true"}, {}, True),
    "resolution_rate": (("resolved",), "valid", {"status": RESOLVED_STATUSES}, {"status": VALID_STATUSES}, True),
    "on_time_rate": (("resolved_on_time",), "resolved", {"status": RESOLVED_STATUSES, "resolved_on_time": "true"},
                     {"status": RESOLVED_STATUSES}, True),
    "satisfaction_rate": (("satisfied", "basically"), "rated", {"rating": "satisfied,basically"},
                          {"rated": "true"}, True),
    "escalation_rate": (("escalated",), "created", {"escalated": "true"}, {}, False),
    "resolved_in_micro_grid_rate": (("resolved_in_micro_grid",), "resolved",
                                    {"status": RESOLVED_STATUSES, "owner_level": "micro_grid"},
                                    {"status": RESOLVED_STATUSES}, True),
}
MEDIAN = "median_hours_to_resolve"
METRICS = ("total", *RATES, MEDIAN)


# --- parameters -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=TZ)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=TZ)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def _parse_date(value, name):
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed(_("Enter a date as YYYY-MM-DD."), fields={name: [_("Enter a date as YYYY-MM-DD.")]})


def parse_period(raw_from, raw_to, today: date | None = None) -> Period:
    """`from`/`to` as YYYY-MM-DD days in Asia/Shanghai, both included; by default the last 30 days."""
    today = today or timezone.localdate(timezone=TZ)
    last = _parse_date(raw_to, "to") if raw_to else today
    first = _parse_date(raw_from, "from") if raw_from else last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValidationFailed(_("The start of the period must not be after its end."),
                               fields={"from": [_("Must not be after `to`.")]}, code="invalid_period")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed(_("The period may span at most five years."),
                               fields={"from": [_("The period is too long.")]}, code="invalid_period")
    return Period(first, last)


def _parse_int(value, name):
    if value in (None, ""):
        return None
    value = str(value).strip()
    if not value.isdigit():
        raise ValidationFailed(fields={name: [_("Enter a whole number.")]})
    return int(value)


def resolve_grid(scope: Scope, raw) -> Grid | None:
    """The grid asked for (404 unless inside the caller's scope), or the caller's widest grid.
    None means the whole forest (only for callers with a global scope and no grid given)."""
    grid_id = _parse_int(raw, "grid")
    if grid_id is None:
        if scope.is_global:
            return None
        if not scope.holds:
            raise NotFound(_("You hold no grid to show statistics for."))
        widest = max(scope.holds, key=lambda h: (h.span.rght - h.span.lft, -h.grid_id))
        return Grid.objects.get(pk=widest.grid_id)
    grid = Grid.objects.filter(pk=grid_id).first()
    if grid is None or not scope.covers(grid):
        raise NotFound()
    return grid


@dataclass(frozen=True)
class Filters:
    grid: Grid | None
    period: Period
    category: Category | None = None
    source: str = ""
    # Where the caller may see sensitive cases (None: everywhere), as the case list does.
    sensitive_spans: tuple | None = None


def parse_filters(scope: Scope, params) -> Filters:
    grid = resolve_grid(scope, params.get("grid"))
    period = parse_period(params.get("from"), params.get("to"))
    category = None
    cat_id = _parse_int(params.get("category"), "category")
    if cat_id is not None:
        category = Category.objects.filter(pk=cat_id, parent__isnull=True).first()
        if category is None:
            raise ValidationFailed(_("Choose a top-level category."), fields={"category": [_("Invalid value.")]})
    source = (params.get("source") or "").strip()
    if source and source not in Source.values:
        raise ValidationFailed(fields={"source": [_("Invalid value.")]})
    sensitive_spans = None if scope.is_global else tuple(h.span for h in scope.holds if h.role in SENSITIVE_ROLES)
    return Filters(grid, period, category, source, sensitive_spans)


def parse_metric(raw, default="total") -> str:
    metric = (raw or default).strip()
    if metric not in METRICS:
        raise ValidationFailed(_("Unknown metric."), fields={"metric": [", ".join(METRICS)]}, code="unknown_metric")
    return metric


# --- drill-down ----------------------------------------------------------------------------------------------

def _iso(moment: datetime) -> str:
    return moment.isoformat()


def drilldown_url(grid_id, first: date, last: date, extra: dict | None = None, *, category=None, source="",
                  base: str = CASES_URL) -> str:
    params = {}
    if grid_id is not None:
        params["within"] = grid_id
    params["created_after"] = _iso(datetime.combine(first, time.min, tzinfo=TZ))
    params["created_before"] = _iso(datetime.combine(last + timedelta(days=1), time.min, tzinfo=TZ))
    if category is not None:
        params["category"] = category
    if source:
        params["source"] = source
    params.update(extra or {})
    return f"{base}?{urlencode(params)}"


def _drill(filters: Filters, grid_id, first, last, extra=None):
    return drilldown_url(grid_id, first, last, extra, category=filters.category.pk if filters.category else None,
                         source=filters.source)


# --- reading the rollups ----------------------------------------------------------------------------------------

def area_q(spans, prefix: str = "") -> Q:
    """Rollup rows whose grid or dedicated grid lies in any of `spans`."""
    return tree.subtree_q(spans, f"{prefix}grid__") | tree.subtree_q(spans, f"{prefix}dedicated_grid__")


def _base(model, filters: Filters, prefix: str = ""):
    qs = model.objects.filter(**{f"{prefix}day__gte": filters.period.first, f"{prefix}day__lte": filters.period.last})
    if filters.grid is not None:
        qs = qs.filter(area_q([tree.span(filters.grid)], prefix))
    if filters.sensitive_spans is not None:
        qs = qs.filter(Q(**{f"{prefix}sensitive": False})
                       | (Q(**{f"{prefix}sensitive": True}) & area_q(filters.sensitive_spans, prefix)))
    if filters.category is not None and model in (CaseDailyRollup, CaseRollupBucket):
        qs = qs.filter(**{f"{prefix}category_id": filters.category.pk})
    if filters.source and model in (CaseDailyRollup, CaseRollupBucket):
        qs = qs.filter(**{f"{prefix}source": filters.source})
    return qs


def _sums(names=COUNTERS):
    return {n: Sum(n) for n in names}


def _zero(row: dict | None) -> dict:
    row = row or {}
    return {n: int(row.get(n) or 0) for n in COUNTERS}


def rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def metric_value(counts: dict, hist: dict, metric: str) -> tuple[float | int | None, int | None, int | None]:
    """(value, numerator, denominator) of `metric` from summed counters and a histogram."""
    if metric == "total":
        return counts["created"], counts["created"], None
    if metric == MEDIAN:
        return buckets.median(hist), None, counts["resolved"]
    nums, den, *_rest = RATES[metric]
    numerator = sum(counts[n] for n in nums)
    return rate(numerator, counts[den]), numerator, counts[den]


def summary(filters: Filters) -> dict:
    """The "three rates" and the other KPIs of one grid's subtree over a period. Two queries."""
    counts = _zero(_base(CaseDailyRollup, filters).aggregate(**_sums()))
    hist = {r["bucket"]: r["n"] for r in _base(CaseRollupBucket, filters, "rollup__").values("bucket")
            .annotate(n=Sum("count")).order_by()}
    grid_id = filters.grid.pk if filters.grid else None
    first, last = filters.period.first, filters.period.last
    out = {
        "grid": _grid_brief(filters.grid),
        "from": first.isoformat(),
        "to": last.isoformat(),
        "total": counts["created"],
        "counts": {n: counts[n] for n in COUNTERS if not n.startswith("st_")},
    }
    drill = {"total": _drill(filters, grid_id, first, last)}
    for metric, (_n, _d, num_filters, den_filters, _hb) in RATES.items():
        out[metric] = metric_value(counts, hist, metric)[0]
        drill[metric] = _drill(filters, grid_id, first, last, num_filters)
        drill[f"{metric}_denominator"] = _drill(filters, grid_id, first, last, den_filters)
    out[MEDIAN] = buckets.median(hist)
    drill[MEDIAN] = _drill(filters, grid_id, first, last, {"status": RESOLVED_STATUSES})
    out["by_status"] = {f.removeprefix("st_"): counts[f] for f in STATUS_FIELDS}
    for f in STATUS_FIELDS:
        status = f.removeprefix("st_")
        drill[f"by_status.{status}"] = _drill(filters, grid_id, first, last, {"status": status})
    out["drilldown"] = drill
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
    """One point per day, week (Monday) or month of the period, with numerator and denominator. Two queries."""
    if interval not in INTERVALS:
        raise ValidationFailed(fields={"interval": [", ".join(INTERVALS)]})
    starts = period_starts(filters.period, interval)
    if len(starts) > MAX_POINTS:
        raise ValidationFailed(_("Too many points: choose a shorter period or a longer interval."),
                               fields={"interval": [_("Too many points.")]}, code="too_many_points")
    rows = {_as_date(r["p"]): r for r in _base(CaseDailyRollup, filters).annotate(p=_trunc(interval))
            .values("p").annotate(**_sums()).order_by()}
    hists: dict = defaultdict(dict)
    if metric == MEDIAN:
        for r in (_base(CaseRollupBucket, filters, "rollup__").annotate(p=_trunc(interval, "rollup__day"))
                  .values("p", "bucket").annotate(n=Sum("count")).order_by()):
            hists[_as_date(r["p"])][r["bucket"]] = r["n"]
    grid_id = filters.grid.pk if filters.grid else None
    num_filters = RATES[metric][2] if metric in RATES else ({"status": RESOLVED_STATUSES} if metric == MEDIAN else {})
    points = []
    for i, start in enumerate(starts):
        end = (starts[i + 1] - timedelta(days=1)) if i + 1 < len(starts) else filters.period.last
        first, last = max(start, filters.period.first), min(end, filters.period.last)
        value, num, den = metric_value(_zero(rows.get(start)), hists.get(start, {}), metric)
        points.append({"date": start.isoformat(), "from": first.isoformat(), "to": last.isoformat(), "value": value,
                       "numerator": num, "denominator": den,
                       "drilldown": _drill(filters, grid_id, first, last, num_filters)})
    return {"grid": _grid_brief(filters.grid), "metric": metric, "interval": interval,
            "from": filters.period.first.isoformat(), "to": filters.period.last.isoformat(), "points": points}


# --- ranking of sub-grids -----------------------------------------------------------------------------------

def children_of(grid) -> list[Grid]:
    if grid is None:
        return list(Grid.objects.filter(parent__isnull=True).order_by("code"))
    return list(Grid.objects.filter(parent=grid).order_by("code"))


def _child_case(children, prefix):
    """SQL CASE naming the child (of the ranked grid) whose subtree holds the row's grid."""
    whens = [When(tree.subtree_q([tree.span(c)], prefix), then=Value(c.pk)) for c in children]
    return SqlCase(*whens, default=Value(None), output_field=IntegerField())


def grid_ranking(filters: Filters, metric: str) -> dict:
    """The children of the grid, each with its KPIs, best first by `metric`. Two queries on the rollups
    (grouped by child in SQL), however many cases and sub-grids there are."""
    children = children_of(filters.grid)
    per_child = {c.pk: _zero(None) for c in children}
    hist: dict = {c.pk: defaultdict(int) for c in children}
    if children:
        rows = (_base(CaseDailyRollup, filters)
                .annotate(c1=_child_case(children, "grid__"), c2=_child_case(children, "dedicated_grid__"))
                .values("c1", "c2").annotate(**_sums()).order_by())
        for r in rows:
            for child in {r["c1"], r["c2"]} - {None}:
                acc = per_child[child]
                for n in COUNTERS:
                    acc[n] += int(r[n] or 0)
        brows = (_base(CaseRollupBucket, filters, "rollup__")
                 .annotate(c1=_child_case(children, "rollup__grid__"),
                           c2=_child_case(children, "rollup__dedicated_grid__"))
                 .values("c1", "c2", "bucket").annotate(n=Sum("count")).order_by())
        for r in brows:
            for child in {r["c1"], r["c2"]} - {None}:
                hist[child][r["bucket"]] += r["n"]
    first, last = filters.period.first, filters.period.last
    results = []
    for c in children:
        counts = per_child[c.pk]
        item = {"grid": c.pk, "grid_name": c.name, "grid_code": c.code, "level": c.level, "total": counts["created"]}
        for m in RATES:
            item[m] = metric_value(counts, hist[c.pk], m)[0]
        item[MEDIAN] = buckets.median(hist[c.pk])
        item["value"] = item[metric] if metric != "total" else counts["created"]
        item["drilldown"] = _drill(filters, c.pk, first, last,
                                   RATES[metric][2] if metric in RATES else None)
        results.append(item)
    higher_is_better = RATES[metric][4] if metric in RATES else metric == "total"

    def key(item):
        v = item["value"]
        if v is None:
            return (1, 0, item["grid_code"])
        return (0, -v if higher_is_better else v, item["grid_code"])

    results.sort(key=key)
    for i, item in enumerate(results, 1):
        item["rank"] = i if item["value"] is not None else None
    return {"grid": _grid_brief(filters.grid), "metric": metric, "from": first.isoformat(), "to": last.isoformat(),
            "results": results}


# --- departments (吹哨 / 应哨) -------------------------------------------------------------------------------

DEPT_COUNTERS = ("whistled", "reported_in", "reported_in_on_time", "replied", "scored", "score_sum")


def departments(filters: Filters) -> dict:
    """Per whistled department: cases whistled, report-in rate within the deadline, median hours to report in
    and to reply, and the average response score (应哨评价). Two queries on the rollups."""
    rows = list(_base(DepartmentDailyRollup, filters).values("department_id")
                .annotate(**{n: Sum(n) for n in DEPT_COUNTERS}).order_by())
    hists: dict = defaultdict(lambda: defaultdict(dict))
    for r in (_base(DepartmentRollupBucket, filters, "rollup__").values("rollup__department_id", "metric", "bucket")
              .annotate(n=Sum("count")).order_by()):
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
            "report_in_rate": rate(r["reported_in_on_time"], r["whistled"]),
            "median_report_in_hours": buckets.median(hists[d][DepartmentRollupBucket.REPORT_IN]),
            "replied": r["replied"],
            "median_handling_hours": buckets.median(hists[d][DepartmentRollupBucket.HANDLE]),
            "scored": r["scored"],
            "average_score": round(r["score_sum"] / r["scored"], 2) if r["scored"] else None,
            "drilldown": drilldown_url(grid_id, first, last, {"department": d}),
        })
    results.sort(key=lambda x: (-x["whistled"], x["department"]))
    return {"grid": _grid_brief(filters.grid), "from": first.isoformat(), "to": last.isoformat(), "results": results}
