"""The dashboard figures, declared once.

Every figure is a cohort of cases (those created in the period, in the subtree: see queries.py). A *counter* is a
named condition over Case fields; a *rate* divides sums of counters; the *median* reads the hour histogram of one
counter's cases. Everything else is derived from these declarations:

- the rollup columns (`models.CaseCounters`: one column per counter) and their values (`rollup.py` asks the
  database for `flag()` of every counter, case by case: no Python twin of a condition);
- the case-list filters behind the figures (`api/cases/filtersets.py`: every counter without `params` is a
  boolean filter `?<name>=true|false` built from its `where`);
- the drill-down URLs of every figure (`drilldown`: the case-list parameters that select a counter's cases).

A counter with `params` drills down through the case list's ordinary filters (status, rating, owner_level); that
those select exactly `where` is checked by tests/stats (for every counter declared here).
Adding a figure: docs/DEVELOPING.md, "Adding a dashboard figure".
"""

from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Case as SqlCase
from django.db.models import F, IntegerField, Q, Value, When

from gridcase.cases.choices import Rating, RatingSource, Status
from gridcase.grids.choices import Level

RESOLVED = (Status.RESOLVED, Status.VERIFIED, Status.CLOSED)
NOT_VALID = (Status.REJECTED, Status.MERGED)
VALID = tuple(s for s in Status.values if s not in NOT_VALID)


def csv(values) -> str:
    return ",".join(str(v) for v in values)


@dataclass(frozen=True)
class Counter:
    """How many cases meet `where` (None: every case). `params`: the case-list query parameters that select the
    same cases; None makes the counter a case-list filter of its own name, built from `where`."""

    name: str
    where: Q | None
    doc: str
    params: Mapping[str, str] | None = None

    @property
    def is_list_filter(self) -> bool:
        return self.params is None

    @property
    def drilldown(self) -> dict[str, str]:
        return {self.name: "true"} if self.params is None else dict(self.params)

    def flag(self):
        """SQL: 1 when a case counts, else 0."""
        if self.where is None:
            return Value(1, output_field=IntegerField())
        return SqlCase(When(self.where, then=Value(1)), default=Value(0), output_field=IntegerField())


_resolved = Q(status__in=RESOLVED)

COUNTERS: tuple[Counter, ...] = (
    Counter("created", None, "every case reported", {}),
    Counter("responded_on_time", Q(first_response_at__isnull=False, accept_by__isnull=False,
                                   first_response_at__lte=F("accept_by")),
            "accepted, rejected or merged by the accept deadline"),
    Counter("accepted", Q(accepted_at__isnull=False), "accepted at some point"),
    Counter("valid", ~Q(status__in=NOT_VALID), "neither rejected nor merged", {"status": csv(VALID)}),
    Counter("resolved", _resolved, "resolved, verified or closed", {"status": csv(RESOLVED)}),
    Counter("resolved_on_time", _resolved & Q(resolved_at__isnull=False, handle_by__isnull=False,
                                              resolved_at__lte=F("handle_by")),
            "resolved by the handle deadline"),
    Counter("resolved_in_micro_grid", _resolved & Q(owner_grid__level=Level.MICRO_GRID),
            "resolved while a micro-grid owned the case", {"status": csv(RESOLVED), "owner_level": Level.MICRO_GRID}),
    Counter("rated", ~Q(rating=""), "rated by the reporter"),
    # Ratings are residents': the resident's own (tracking code) or their answer on a recorded call-back (回访).
    Counter("rated_by_resident", ~Q(rating="") & Q(rating_source=RatingSource.RESIDENT),
            "rated by the resident through the tracking code"),
    Counter("rated_by_callback", ~Q(rating="") & Q(rating_source=RatingSource.CALLBACK),
            "rated on a recorded call-back"),
    Counter("satisfied", Q(rating=Rating.SATISFIED), "rated satisfied", {"rating": Rating.SATISFIED}),
    Counter("basically", Q(rating=Rating.BASICALLY), "rated basically satisfied", {"rating": Rating.BASICALLY}),
    Counter("dissatisfied", Q(rating=Rating.DISSATISFIED), "rated dissatisfied", {"rating": Rating.DISSATISFIED}),
    Counter("escalated", Q(escalation_count__gt=0), "escalated at least once"),
    *(Counter(f"st_{s}", Q(status=s), f"now in status {s}", {"status": s}) for s in Status.values),
)
COUNTER = {c.name: c for c in COUNTERS}
COUNTER_NAMES = tuple(COUNTER)
STATUS_COUNTERS = tuple(n for n in COUNTER_NAMES if n.startswith("st_"))


def union_params(counters) -> dict[str, str]:
    """Case-list parameters selecting the cases of any of `counters`: theirs, when only one parameter differs
    between them (its values joined with commas, as the list's multi-value filters take them)."""
    dicts = [COUNTER[n].drilldown for n in counters]
    out = dict(dicts[0])
    for other in dicts[1:]:
        differing = [k for k in out if out[k] != other.get(k)]
        if other.keys() != out.keys() or len(differing) > 1:
            raise ValueError(f"no case-list query selects the union of {counters}")
        for k in differing:
            out[k] = f"{out[k]},{other[k]}"
    return out


def ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


@dataclass(frozen=True)
class Rate:
    """Sum of the `numerator` counters over the `denominator` counter (None when the denominator is 0)."""

    name: str
    numerator: tuple[str, ...]
    denominator: str
    doc: str
    higher_is_better: bool = True

    def parts(self, counts: Mapping[str, int]) -> tuple[float | None, int, int]:
        num = sum(counts[n] for n in self.numerator)
        return ratio(num, counts[self.denominator]), num, counts[self.denominator]

    @property
    def drilldown(self) -> dict[str, str]:
        return union_params(self.numerator)

    @property
    def denominator_drilldown(self) -> dict[str, str]:
        return COUNTER[self.denominator].drilldown


RATES: tuple[Rate, ...] = (
    Rate("response_rate", ("responded_on_time",), "created", "responded by the accept deadline / created"),
    Rate("resolution_rate", ("resolved",), "valid", "resolved, verified or closed / created minus rejected, merged"),
    Rate("on_time_rate", ("resolved_on_time",), "resolved", "resolved by the handle deadline / resolved"),
    Rate("satisfaction_rate", ("satisfied", "basically"), "rated", "satisfied + basically / rated"),
    Rate("escalation_rate", ("escalated",), "created", "escalated at least once / created", higher_is_better=False),
    Rate("resolved_in_micro_grid_rate", ("resolved_in_micro_grid",), "resolved",
         "resolved while a micro-grid owned it / resolved"),
)
RATE = {r.name: r for r in RATES}


@dataclass(frozen=True)
class Median:
    """Median hours from `start` to `end` of the cases of counter `over` (those with an `end`), read from the
    rollups' hour-bucket histograms (buckets.py gives the error bound)."""

    name: str
    over: str
    start: str
    end: str
    doc: str
    higher_is_better: bool = False

    @property
    def drilldown(self) -> dict[str, str]:
        return COUNTER[self.over].drilldown


MEDIAN = Median("median_hours_to_resolve", "resolved", "created_at", "resolved_at",
                "approximate (hour-bucket histogram) hours from report to resolution")
TOTAL = "total"  # the `created` counter, as a metric
METRICS = (TOTAL, *RATE, MEDIAN.name)


def metric_drilldown(metric: str) -> dict[str, str]:
    """Case-list parameters of the cases behind a metric's value (its numerator, for a rate)."""
    if metric in RATE:
        return RATE[metric].drilldown
    if metric == MEDIAN.name:
        return MEDIAN.drilldown
    return COUNTER["created"].drilldown


def volume_counter(metric: str) -> str:
    """The counter a metric's value is taken over (a rate's denominator, the median's cases, every case for the
    total): a ranking shows it as the row's volume and ranks only rows with enough of it."""
    if metric in RATE:
        return RATE[metric].denominator
    if metric == MEDIAN.name:
        return MEDIAN.over
    return "created"


def higher_is_better(metric: str) -> bool:
    if metric in RATE:
        return RATE[metric].higher_is_better
    if metric == MEDIAN.name:
        return MEDIAN.higher_is_better
    return True
