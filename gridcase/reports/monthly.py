"""The monthly report of a node (网格化治理月报): the document a street office sends up.

`gather(user, grid, month)` reads every figure through the modules that own it — the rates and their change from
`stats.queries.summary` (declared in `stats.kpis`, never recomputed here), the ranking of the child grids from
`stats.queries.grid_ranking`, the departments' response (吹哨/应哨) from `stats.queries.departments`, the top
categories from the same daily rollups, hotspots (未诉先办) from `cases.hotspots`' table, visit coverage from
`visits.coverage`, and the overdue items from the case list's own `overdue` rule — all within the owner's scope.
`pdf.render(data)` draws it. `run_job` is the background job (`gridcase.jobs`, kind `monthly_report`).

`month` is "YYYY-MM" (Asia/Shanghai), not in the future; the current month runs up to today.
"""

from dataclasses import replace
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from gridcase.core import replica
from gridcase.core.errors import ValidationFailed
from gridcase.grids import tree
from gridcase.grids.accounts import display_name
from gridcase.grids.roles import SENSITIVE_ROLES
from gridcase.grids.scoping import scope_for
from gridcase.stats import kpis, queries
from gridcase.stats.params import TZ, Filters, Period

OVERDUE_ROWS = 10
TOP_CATEGORIES = 8
TOP_HOTSPOTS = 8
RANKING_ROWS = 20


def parse_month(raw, today: date | None = None) -> date:
    """The first day of "YYYY-MM" (400 `invalid_month` when malformed or after the current month)."""
    today = today or timezone.localdate(timezone=TZ)
    text = str(raw or "").strip()
    try:
        year, month = (int(p) for p in text.split("-"))
        first = date(year, month, 1)
    except (ValueError, TypeError):
        raise ValidationFailed(_("Enter a month as YYYY-MM."), fields={"month": [_("Enter a month as YYYY-MM.")]},
                               code="invalid_month")
    if first > today.replace(day=1) or first.year < 2000:
        raise ValidationFailed(_("Choose a month that has begun."), fields={"month": [_("Choose a month that has begun.")]},
                               code="invalid_month")
    return first


def month_period(first: date, today: date | None = None) -> Period:
    today = today or timezone.localdate(timezone=TZ)
    return Period(first, min(queries.month_end(first), today))


def previous_month(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


def _filters(scope, grid, period) -> Filters:
    sensitive = None if scope.is_global else tuple(h for h in scope.holds if h.role in SENSITIVE_ROLES)
    return Filters(grid, period, None, "", sensitive)


def _change(now, before):
    return None if now is None or before is None else round(now - before, 4)


def rates(filters: Filters, previous: Filters) -> list[dict]:
    cur, prev = queries.summary(filters), queries.summary(previous)
    rows = [{"metric": kpis.TOTAL, "value": cur["total"], "previous": prev["total"],
             "change": cur["total"] - prev["total"], "higher_is_better": None, "kind": "count"}]  # neither good nor bad
    for r in kpis.RATES:
        rows.append({"metric": r.name, "value": cur[r.name], "previous": prev[r.name],
                     "change": _change(cur[r.name], prev[r.name]), "higher_is_better": r.higher_is_better,
                     "kind": "rate"})
    m = kpis.MEDIAN.name
    rows.append({"metric": m, "value": cur[m], "previous": prev[m], "change": _change(cur[m], prev[m]),
                 "higher_is_better": kpis.MEDIAN.higher_is_better, "kind": "hours"})
    return rows


def ranking(filters: Filters) -> list[dict]:
    """The child grids, by resolution rate (the street's usual order), each with its volume."""
    found = queries.grid_ranking(filters, "resolution_rate")
    rows = [{k: item.get(k) for k in ("rank", "grid_name", "level", "total", "resolution_rate", "on_time_rate",
                                      "satisfaction_rate", "response_rate")} for item in found["results"][:RANKING_ROWS]]
    return {"rows": rows, "min_volume": found.get("min_volume")}


def departments(filters: Filters) -> list[dict]:
    return [{k: d[k] for k in ("department_name", "whistled", "reported_in", "report_in_rate",
                               "median_report_in_hours", "replied", "average_score")}
            for d in queries.departments(filters)["results"]]


def top_categories(filters: Filters, previous: Filters) -> list[dict]:
    """Top-level categories by cases reported, from the same daily rollups as every figure (`created`)."""
    from gridcase.cases.models import Category
    from gridcase.stats.models import CaseDailyRollup

    def counts(f):
        rows = queries._base(CaseDailyRollup, f).values("category_id").annotate(n=Sum("created")).order_by()
        return {r["category_id"]: r["n"] or 0 for r in rows}

    now, before = counts(filters), counts(previous)
    total = sum(now.values())
    top = sorted((c for c in now if now[c]), key=lambda c: (-now[c], c))[:TOP_CATEGORIES]
    names = dict(Category.objects.filter(pk__in=top).values_list("pk", "name"))
    return [{"category_name": names.get(c, ""), "count": now[c], "share": kpis.ratio(now[c], total),
             "previous": before.get(c, 0)} for c in top]


def hotspots(user, grid, period: Period) -> list[dict] | None:
    """Hotspots of the node's subtree seen during the month, most cases first; None when the hotspot module is not
    installed (the section is then left out, not drawn empty)."""
    try:
        from gridcase.cases.models import Hotspot
    except ImportError:
        return None
    qs = Hotspot.objects.restrict(user).filter(last_seen__gte=period.start, first_seen__lt=period.end)
    if grid is not None:
        qs = qs.filter(tree.subtree_q([tree.span(grid)], "grid__"))
    rows = qs.select_related("category", "grid", "building").order_by("-count", "-id")[:TOP_HOTSPOTS]
    return [{"category_name": h.category.name, "place": h.building.name if h.building_id else h.grid.name,
             "grid_name": h.grid.name, "kind": h.get_kind_display(), "count": h.count, "window_days": h.window_days,
             "status": h.get_status_display()} for h in rows]


def coverage(scope, grid, period: Period) -> dict:
    from gridcase.visits import coverage as visit_coverage

    found = visit_coverage.visit_coverage(scope, grid, period)
    return {"overall": found["overall"], "by_tag": found["by_tag"], "by_grid": found["by_grid"][:RANKING_ROWS]}


def overdue(user, grid, now=None) -> dict:
    """Open cases past their current stage's deadline now (the case list's `overdue=true`), the longest late first."""
    from gridcase.cases.models import Case
    from gridcase.grids import scoping

    now = now or timezone.now()
    late = ~Q(sla_stage="") & Q(sla_red_at__lte=now)
    qs = Case.objects.restrict(user)
    if grid is not None:
        qs = scoping.within(qs, tree.span(grid), "grid__")
    qs = qs.filter(late)
    rows = (qs.select_related("grid", "owner_grid", "category").order_by("sla_red_at", "id")[:OVERDUE_ROWS])
    items = [{"number": c.number, "title": c.title, "category_name": c.category.name, "grid_name": c.grid.name,
              "owner_grid_name": c.owner_grid.name, "status": c.get_status_display(),
              "days_late": round(max((now - c.sla_red_at).total_seconds(), 0) / 86400, 1)} for c in rows]
    return {"count": qs.count(), "items": items}


def gather(user, grid, first: date, today: date | None = None) -> dict:
    scope = scope_for(user)
    period = month_period(first, today)
    prev_first = previous_month(first)
    prev_period = Period(prev_first, queries.month_end(prev_first))
    filters = _filters(scope, grid, period)
    previous = replace(filters, period=prev_period)
    return {
        "grid": {"id": grid.pk, "name": grid.name, "code": grid.code, "level": grid.level,
                 "level_label": grid.get_level_display(),
                 "path": " / ".join(g.name for g in tree.ancestors(grid, include_self=True))} if grid else None,
        "month": first.strftime("%Y-%m"),
        "from": period.first, "to": period.last, "previous_month": prev_first.strftime("%Y-%m"),
        "partial": period.last < queries.month_end(first),
        "as_of": queries.as_of(filters),
        "generated_at": timezone.localtime(timezone=TZ),
        "generated_by": display_name(user),
        "rates": rates(filters, previous),
        "ranking": ranking(filters),
        "departments": departments(filters),
        "categories": top_categories(filters, previous),
        "hotspots": hotspots(user, grid, period),
        "coverage": coverage(scope, grid, period),
        "overdue": overdue(user, grid),
    }


def run_job(job, progress):
    from gridcase.jobs.services import Output
    from gridcase.stats.params import resolve_grid

    from . import pdf

    params = job.params
    with translation.override(params.get("language") or settings.LANGUAGE_CODE):
        progress(0, 3, force=True)
        # The owner's scope now (a role lost since the request means the report is refused: NotFound fails the job).
        grid = resolve_grid(scope_for(job.owner), params.get("grid"))
        with replica.reads_from_replica():  # the figures may lag the primary by seconds: a monthly report allows it
            data = gather(job.owner, grid, parse_month(params["month"]))
        progress(1, 3, force=True)
        out = pdf.render(data)
        progress(3, 3, force=True)
        node = data["grid"]["name"] if data["grid"] else pgettext("monthly report", "All grids")
        name = f"{node}-{data['month']}-{pgettext('monthly report', 'monthly report')}.pdf"
    return Output(out, name, "application/pdf")
