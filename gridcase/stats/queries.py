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
from gridcase.core import dates
from gridcase.core.errors import NotFound, ValidationFailed
from gridcase.grids import tree
from gridcase.grids.choices import Level
from gridcase.grids.models import Department, Grid
from gridcase.grids.scoping import Hold, Scope

from . import buckets
from .models import (
    STATUS_FIELDS,
    CaseDailyRollup,
    CaseMonthlyBucket,
    CaseMonthlyRollup,
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
        day = date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed(_("Enter a date as YYYY-MM-DD."), fields={name: [_("Enter a date as YYYY-MM-DD.")]})
    return dates.check(day, name)


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


# Up to this many grids, a subtree is read as a list of ids: PostgreSQL then walks the rollups' (grid, day)
# index for just those grids instead of joining every row of the period to the tree (4–10× faster for a
# street); above it (a whole city), the range join on the tree.
MAX_ID_LIST = 5000


@dataclass(frozen=True)
class Filters:
    grid: Grid | None
    period: Period
    category: Category | None = None
    source: str = ""
    # The caller's holds where sensitive cases are visible (None: everywhere), as in the case list.
    sensitive_holds: tuple | None = None

    def grid_ids(self) -> list[int] | None:
        """Ids of the grids in the subtree (one query, cached), or None when there are too many."""
        if self.grid is None:
            return None
        cache = self.__dict__.setdefault("_ids", {})
        if "ids" not in cache:
            ids = list(Grid.objects.filter(tree.subtree_q([tree.span(self.grid)]))
                       .values_list("id", flat=True)[:MAX_ID_LIST + 1])
            cache["ids"] = ids if len(ids) <= MAX_ID_LIST else None
        return cache["ids"]


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
    sensitive_holds = None if scope.is_global else tuple(h for h in scope.holds if h.role in SENSITIVE_ROLES)
    return Filters(grid, period, category, source, sensitive_holds)


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

def area_q(nodes, prefix: str = "") -> Q:
    """Rollup rows counted in the subtrees of `nodes` (grids, or scope holds: objects with an id, a level and a
    span). A case counts where it happened and in its dedicated grid. A dedicated grid is a leaf beside the
    general grids of its community and a case's micro-grid lies in the same community, so only a dedicated
    grid itself needs the second column; every other node is one range join on the tree, which keeps the
    rollup's (grid, day) index usable (an OR across both joins would scan the whole period)."""
    q = Q(pk__in=[])
    for node in nodes:
        is_hold = isinstance(node, Hold)
        if node.level == Level.DEDICATED:
            pk = node.grid_id if is_hold else node.pk
            q |= Q(**{f"{prefix}grid_id": pk}) | Q(**{f"{prefix}dedicated_grid_id": pk})
        else:
            q |= tree.subtree_q([node.span if is_hold else tree.span(node)], f"{prefix}grid__")
    return q


def _scoped(qs, filters: Filters, prefix: str = "", dims: bool = True):
    """Keep the rows of the grid's subtree the caller may see (and the category/source asked for)."""
    if filters.grid is not None:
        ids = filters.grid_ids()
        if ids is None:
            qs = qs.filter(area_q([filters.grid], prefix))
        elif filters.grid.level == Level.DEDICATED:
            qs = qs.filter(Q(**{f"{prefix}grid_id": filters.grid.pk}) | Q(**{f"{prefix}dedicated_grid_id": filters.grid.pk}))
        else:
            qs = qs.filter(**{f"{prefix}grid_id__in": ids})
    if filters.sensitive_holds is not None:
        qs = qs.filter(Q(**{f"{prefix}sensitive": False})
                       | (Q(**{f"{prefix}sensitive": True}) & area_q(filters.sensitive_holds, prefix)))
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


def case_sets(filters: Filters, buckets_of: bool = False) -> list:
    """Querysets whose sums make up the period: monthly rows for the whole months inside it (when no category or
    source is asked for), daily rows for the rest. Each comes with the name of its date column."""
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
    """The "three rates" and the other KPIs of one grid's subtree over a period. Two to four queries."""
    counts = _zero(None)
    for qs, _col in case_sets(filters):
        _add(counts, qs.aggregate(**_sums()))
    hist: dict = defaultdict(int)
    for qs, _col in case_sets(filters, buckets_of=True):
        for r in qs.values("bucket").annotate(n=Sum("count")).order_by():
            hist[r["bucket"]] += r["n"]
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
    """One point per day, week (Monday) or month of the period, with numerator and denominator. Two to four
    queries."""
    if interval not in INTERVALS:
        raise ValidationFailed(fields={"interval": [", ".join(INTERVALS)]})
    starts = period_starts(filters.period, interval)
    if len(starts) > MAX_POINTS:
        raise ValidationFailed(_("Too many points: choose a shorter period or a longer interval."),
                               fields={"interval": [_("Too many points.")]}, code="too_many_points")
    # Monthly rows can only serve monthly points.
    if interval == "month":
        sets, bsets = case_sets(filters), case_sets(filters, buckets_of=True)
    else:
        sets, bsets = [(_base(CaseDailyRollup, filters), "day")], [(_base(CaseRollupBucket, filters), "day")]
    rows: dict = defaultdict(dict)
    for qs, col in sets:
        for r in qs.annotate(p=_trunc(interval, col)).values("p").annotate(**_sums()).order_by():
            _add(rows[_as_date(r["p"])], r)
    hists: dict = defaultdict(lambda: defaultdict(int))
    if metric == MEDIAN:
        for qs, col in bsets:
            for r in qs.annotate(p=_trunc(interval, col)).values("p", "bucket").annotate(n=Sum("count")).order_by():
                hists[_as_date(r["p"])][r["bucket"]] += r["n"]
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
    """SQL CASE naming the child (of the ranked grid) that counts the row (see area_q)."""
    whens = [When(area_q([c], prefix), then=Value(c.pk)) for c in children]
    return SqlCase(*whens, default=Value(None), output_field=IntegerField())


def grid_ranking(filters: Filters, metric: str) -> dict:
    """The children of the grid, each with its KPIs, best first by `metric`. Two to four queries on the rollups
    (grouped by child in SQL), however many cases and sub-grids there are."""
    children = children_of(filters.grid)
    per_child = {c.pk: _zero(None) for c in children}
    hist: dict = {c.pk: defaultdict(int) for c in children}
    if children:
        # A row may count for a general grid's child and for a dedicated grid beside it: two CASE columns.
        general = [c for c in children if c.level != Level.DEDICATED]
        dedicated = [c for c in children if c.level == Level.DEDICATED]
        for qs, _col in case_sets(filters):
            for r in (qs.annotate(c1=_child_case(general, ""), c2=_child_case(dedicated, ""))
                      .values("c1", "c2").annotate(**_sums()).order_by()):
                for child in {r["c1"], r["c2"]} - {None}:
                    _add(per_child[child], r)
        for qs, _col in case_sets(filters, buckets_of=True):
            for r in (qs.annotate(c1=_child_case(general, ""), c2=_child_case(dedicated, ""))
                      .values("c1", "c2", "bucket").annotate(n=Sum("count")).order_by()):
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
