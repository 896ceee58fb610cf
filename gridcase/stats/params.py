"""The parameters of every dashboard figure (the case statistics and visit coverage): which grid, which period.

One set of defaults and limits, one error type (`ValidationFailed`, 400; `NotFound`, 404):
- `grid`: a grid inside the caller's scope (404 otherwise); by default the caller's widest grid, or the whole
  forest for a caller with a global scope.
- `from` / `to`: YYYY-MM-DD days in Asia/Shanghai, both included; by default the 30 days up to today. A period
  ends no earlier than it starts and spans at most five years (`invalid_period`).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.cases.choices import Source
from gridcase.cases.models import Category
from gridcase.core import dates
from gridcase.core.errors import NotFound, ValidationFailed
from gridcase.grids.models import Grid
from gridcase.grids.roles import SENSITIVE_ROLES
from gridcase.grids.scoping import Scope

from . import kpis

TZ = ZoneInfo("Asia/Shanghai")
DEFAULT_DAYS = 30
MAX_DAYS = 366 * 5
INTERVALS = ("day", "week", "month")


@dataclass(frozen=True)
class Period:
    """Days `first`..`last` (Asia/Shanghai), both included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=TZ)

    @property
    def end(self) -> datetime:
        """The start of the day after `last` (exclusive bound)."""
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=TZ)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def parse_date(value, name):
    try:
        day = date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed(_("Enter a date as YYYY-MM-DD."), fields={name: [_("Enter a date as YYYY-MM-DD.")]})
    return dates.check(day, name)


def make_period(first: date | None, last: date | None, today: date | None = None,
                names: tuple[str, str] = ("from", "to")) -> Period:
    """The period from already parsed days (None: the default), checked against the limits. `names` are the
    parameters the days came from, for the error."""
    last = last or today or timezone.localdate(timezone=TZ)
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValidationFailed(_("The start of the period must not be after its end."),
                               fields={names[0]: [_("Must not be after `to`.")]}, code="invalid_period")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed(_("The period may span at most five years."),
                               fields={names[0]: [_("The period is too long.")]}, code="invalid_period")
    return Period(first, last)


def parse_period(raw_from, raw_to, today: date | None = None) -> Period:
    """`from`/`to` query parameters (see the module's docstring)."""
    return make_period(parse_date(raw_from, "from") if raw_from else None,
                       parse_date(raw_to, "to") if raw_to else None, today)


def parse_int(value, name):
    if value in (None, ""):
        return None
    value = str(value).strip()
    if not value.isdigit():
        raise ValidationFailed(fields={name: [_("Enter a whole number.")]})
    return int(value)


def resolve_grid(scope: Scope, raw) -> Grid | None:
    """The grid asked for (404 unless inside the caller's scope), or the caller's widest grid.
    None means the whole forest (only for callers with a global scope and no grid given)."""
    grid_id = parse_int(raw, "grid")
    if grid_id is None:
        if scope.is_global:
            return None
        if not scope.holds:
            raise NotFound(_("You hold no grid to show statistics for."))
        widest = max(scope.holds, key=lambda h: (h.span.size, -h.grid_id))
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
    # The caller's holds where sensitive cases are visible (None: everywhere), as in the case list.
    sensitive_holds: tuple | None = None


def sensitive_holds(scope: Scope) -> tuple | None:
    """The caller's holds where sensitive cases are counted (None: everywhere), as the case list shows them in
    their area."""
    return None if scope.is_global else tuple(h for h in scope.holds if h.role in SENSITIVE_ROLES)


def parse_filters(scope: Scope, params) -> Filters:
    grid = resolve_grid(scope, params.get("grid"))
    period = parse_period(params.get("from"), params.get("to"))
    category = None
    cat_id = parse_int(params.get("category"), "category")
    if cat_id is not None:
        category = Category.objects.filter(pk=cat_id, parent__isnull=True).first()
        if category is None:
            raise ValidationFailed(_("Choose a top-level category."), fields={"category": [_("Invalid value.")]})
    source = (params.get("source") or "").strip()
    if source and source not in Source.values:
        raise ValidationFailed(fields={"source": [_("Invalid value.")]})
    return Filters(grid, period, category, source, sensitive_holds(scope))


def parse_metric(raw, default=kpis.TOTAL) -> str:
    metric = (raw or default).strip()
    if metric not in kpis.METRICS:
        raise ValidationFailed(_("Unknown metric."), fields={"metric": [", ".join(kpis.METRICS)]},
                               code="unknown_metric")
    return metric


def parse_interval(raw, default="day") -> str:
    interval = (raw or default).strip()
    if interval not in INTERVALS:
        raise ValidationFailed(fields={"interval": [", ".join(INTERVALS)]})
    return interval
