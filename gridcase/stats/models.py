"""Rollups of cases for dashboards: one row per day × grid × top-level category × source, per month × grid, and per
day × street.

A case is counted on the day it was created (Asia/Shanghai), in the grid where it happened (and its dedicated
grid, if any): every figure is a cohort of "cases created in the period, in the subtree", which is exactly the
list `GET /api/v1/cases/?within=…&created_after=…&created_before=…` drills down to. Rows are rebuilt per day
by `rollup.refresh()` (periodic, idempotent) and `gridcase rebuild_rollups`; nothing else writes them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from gridcase.cases.models import Category
from gridcase.grids.models import Department, Grid

from . import kpis

# One column per counter declared in kpis.py (added to CaseCounters below), and the sum of hours to resolve.
STATUS_FIELDS = kpis.STATUS_COUNTERS
COUNTER_FIELDS = (*kpis.COUNTER_NAMES, "resolve_hours_sum")


class InArea(models.Model):
    """The community and street of the row's grid (its ancestors at those levels; null where it has none), copied
    so a community's or street's figures read that one value of an index (`area_q` in queries.py) instead of
    joining every row of the period to the tree or sending the subtree's grids as a list. Filled where the rows are
    written (`areas.py`), kept true by the registry's moves (`grids.moves`, through `areas.follow`)."""

    community = models.ForeignKey(Grid, null=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                                  related_name="+")
    street = models.ForeignKey(Grid, null=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                               related_name="+")

    class Meta:
        abstract = True


def area_indexes(prefix: str, date_field: str | None) -> list:
    """(street, date) and (community, date) indexes of a rollup carrying its area."""
    tail = [date_field] if date_field else []
    return [models.Index(fields=["street", *tail], name=f"{prefix}_street_idx"),
            models.Index(fields=["community", *tail], name=f"{prefix}_community_idx")]


class CaseCounters(models.Model):
    """What a rollup row counts about the cases it covers: a column per counter of kpis.COUNTERS (their
    definitions), filled by rollup.py."""

    resolve_hours_sum = models.FloatField(default=0)

    class Meta:
        abstract = True


for _counter in kpis.COUNTERS:
    CaseCounters.add_to_class(_counter.name, models.PositiveIntegerField(default=0))


class CaseDailyRollup(CaseCounters, InArea):
    day = models.DateField()
    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="+")
    dedicated_grid = models.ForeignKey(Grid, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")  # top-level category
    source = models.CharField(max_length=16)
    # Sensitive cases (mental health, minors, domestic violence) are counted only for the roles that see them.
    sensitive = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("daily case rollup")
        verbose_name_plural = _("daily case rollups")
        constraints = [models.UniqueConstraint(fields=["day", "grid", "dedicated_grid", "category", "source",
                                                       "sensitive"], name="case_rollup_unique", nulls_distinct=False)]
        indexes = [models.Index(fields=["grid", "day"], name="case_rollup_grid_day"),
                   models.Index(fields=["dedicated_grid", "day"], name="case_rollup_dedicated_day",
                                condition=models.Q(dedicated_grid__isnull=False)),
                   *area_indexes("case_rollup", "day")]

    def __str__(self):
        return f"{self.day} {self.grid_id} {self.category_id} {self.source}: {self.created}"


class CaseMonthlyRollup(CaseCounters, InArea):
    """The daily rows of whole months summed per grid (no category or source): at city density a micro-grid
    sees a case every few days, so daily rows are nearly one per case; monthly rows serve long periods with
    several times fewer rows. Rebuilt from the daily rows of every month a refresh touches."""

    month = models.DateField()  # first day of the month
    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="+")
    dedicated_grid = models.ForeignKey(Grid, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    sensitive = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("monthly case rollup")
        verbose_name_plural = _("monthly case rollups")
        constraints = [models.UniqueConstraint(fields=["month", "grid", "dedicated_grid", "sensitive"],
                                               name="case_monthly_unique", nulls_distinct=False)]
        indexes = [models.Index(fields=["grid", "month"], name="case_monthly_grid_month"),
                   models.Index(fields=["dedicated_grid", "month"], name="case_monthly_dedicated",
                                condition=models.Q(dedicated_grid__isnull=False)),
                   *area_indexes("case_monthly", "month")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.grid_id}: {self.created}"


class CaseMonthlyBucket(InArea):
    """Histogram of hours to resolve per month × grid (the monthly rows' dimensions, repeated so the
    histogram is read with the same index and filters as the counters, without a join)."""

    month = models.DateField()
    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="+")
    dedicated_grid = models.ForeignKey(Grid, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    sensitive = models.BooleanField(default=False)
    bucket = models.PositiveSmallIntegerField()
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["month", "grid", "dedicated_grid", "sensitive", "bucket"],
                                               name="case_monthly_bucket_unique", nulls_distinct=False)]
        indexes = [models.Index(fields=["grid", "month"], name="case_mbucket_grid_month"),
                   *area_indexes("case_mbucket", "month")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.grid_id}#{self.bucket}: {self.count}"


class CaseStreetDailyRollup(CaseCounters):
    """The daily rows summed per street and day (no grid, category or source): what a city's or district's figures
    read, a few rows per street and day where the daily rows are nearly one per case. `street` is the street the
    cases happened in (the daily rows' copied street; the grid itself for a grid above every street, a district's
    own cases), so a node at street level or above is its streets. Rebuilt from the daily rows of every day a
    refresh or rebuild recomputes, in the same transaction (rollup.py); which figures may read it: queries.by_street.
    """

    day = models.DateField()
    street = models.ForeignKey(Grid, on_delete=models.CASCADE, db_index=False, related_name="+")
    sensitive = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("daily street case rollup")
        verbose_name_plural = _("daily street case rollups")
        constraints = [models.UniqueConstraint(fields=["day", "street", "sensitive"], name="case_street_unique")]
        indexes = [models.Index(fields=["street", "day"], name="case_street_street_day")]

    def __str__(self):
        return f"{self.day} {self.street_id}: {self.created}"


class CaseStreetDailyBucket(models.Model):
    """Histogram of hours to resolve per street × day (CaseStreetDailyRollup's dimensions)."""

    day = models.DateField()
    street = models.ForeignKey(Grid, on_delete=models.CASCADE, db_index=False, related_name="+")
    sensitive = models.BooleanField(default=False)
    bucket = models.PositiveSmallIntegerField()
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "street", "sensitive", "bucket"],
                                               name="case_street_bucket_unique")]
        indexes = [models.Index(fields=["street", "day"], name="case_sbucket_street_day")]

    def __str__(self):
        return f"{self.day} {self.street_id}#{self.bucket}: {self.count}"


class CaseRollupBucket(InArea):
    """Histogram of hours from report to resolution (see buckets.py) per daily rollup row's dimensions."""

    day = models.DateField()
    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="+")
    dedicated_grid = models.ForeignKey(Grid, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=16)
    sensitive = models.BooleanField(default=False)
    bucket = models.PositiveSmallIntegerField()
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "grid", "dedicated_grid", "category", "source",
                                                       "sensitive", "bucket"],
                                               name="case_rollup_bucket_unique", nulls_distinct=False)]
        indexes = [models.Index(fields=["grid", "day"], name="case_bucket_grid_day"),
                   *area_indexes("case_bucket", "day")]

    def __str__(self):
        return f"{self.day} {self.grid_id}#{self.bucket}: {self.count}"


class DepartmentDailyRollup(InArea):
    """Whistled departments (吹哨/应哨) per case-creation day × department × grid."""

    day = models.DateField()
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+")
    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="+")
    dedicated_grid = models.ForeignKey(Grid, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    sensitive = models.BooleanField(default=False)

    whistled = models.PositiveIntegerField(default=0)
    reported_in = models.PositiveIntegerField(default=0)
    reported_in_on_time = models.PositiveIntegerField(default=0)  # reported in by report_by
    replied = models.PositiveIntegerField(default=0)
    scored = models.PositiveIntegerField(default=0)
    score_sum = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("daily department rollup")
        verbose_name_plural = _("daily department rollups")
        constraints = [models.UniqueConstraint(fields=["day", "department", "grid", "dedicated_grid", "sensitive"],
                                               name="department_rollup_unique", nulls_distinct=False)]
        indexes = [models.Index(fields=["grid", "day"], name="dept_rollup_grid_day"),
                   *area_indexes("dept_rollup", "day")]

    def __str__(self):
        return f"{self.day} {self.department_id} {self.grid_id}: {self.whistled}"


class DepartmentRollupBucket(models.Model):
    REPORT_IN = "report_in"
    HANDLE = "handle"
    METRICS = [(REPORT_IN, "whistle to report-in"), (HANDLE, "whistle to reply")]

    rollup = models.ForeignKey(DepartmentDailyRollup, on_delete=models.CASCADE, related_name="buckets")
    metric = models.CharField(max_length=10, choices=METRICS)
    bucket = models.PositiveSmallIntegerField()
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rollup", "metric", "bucket"],
                                               name="department_rollup_bucket_unique")]

    def __str__(self):
        return f"{self.rollup_id} {self.metric}#{self.bucket}: {self.count}"


class RollupState(models.Model):
    """One row: when the last refresh started (the next one recomputes the days touched since then)."""

    key = models.CharField(max_length=20, unique=True, default="cases")
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_days = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.key}: {self.last_run_at}"


class VisitCoverageGap(InArea):
    """Visit coverage's rollup: the days a care-plan item went without a contact beyond its cadence.

    For each item with a cadence, every stretch between the plan's start or a contact that counts for it and the
    next such contact that lasted longer than the item allows is one row: overdue from `late_from` (the first day
    past the cadence) to `late_to` (the day of the contact that ended it; null while none has). Every item has its
    open row after its last contact, so a resident with a counted item always has rows. A resident was visited on
    time over [from, to] when none of their rows has `late_from <= to` and (`late_to` null or after `from`):
    gridcase.visits.coverage reads the figures from here; visit writes (`services.refresh_plan`) and the hourly
    job keep it true, `rebuild` recomputes it all in one statement.

    Each row carries what the figures filter on, copied from the resident and the plan, so a street's figures
    read only its own rows (by its `street`, a community's by `community`, any other grid's by `grid`, the
    resident's micro-grid): `grid`, `community` and `street` (kept by the registry's moves,
    `grids.moves.carry_people` and `visits.coverage.moved`), the plan's `active` and `started_on` (rewritten with
    the rows by every plan change).
    """

    resident_id = models.IntegerField()
    item_id = models.IntegerField()
    grid = models.ForeignKey(Grid, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    active = models.BooleanField()
    started_on = models.DateField()
    late_from = models.DateField()
    late_to = models.DateField(null=True)

    class Meta:
        indexes = [models.Index(fields=["resident_id", "late_from"], name="coverage_gap_resident_idx"),
                   *area_indexes("coverage_gap", None)]

    def __str__(self):
        return f"{self.resident_id}/{self.item_id}: {self.late_from}–{self.late_to or '…'}"


class HoldRollup(InArea):
    """Hold times' rollup: the hops of the ledger (`cases.CaseHop`) that ended on a day (Asia/Shanghai), per case
    grid (where the case happened), kind (grid or department), level of the holding grid and hour bucket
    (`stats.buckets`): a street's median hold per level reads its own rows for the period instead of every hop of
    the city. gridcase.stats.holds writes it (refreshed with the case rollups, rebuilt by the seeders)."""

    day = models.DateField()
    grid = models.ForeignKey(Grid, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    kind = models.CharField(max_length=16)
    level = models.CharField(max_length=16, blank=True)
    bucket = models.PositiveSmallIntegerField()
    count = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["grid", "day"], name="hold_rollup_grid_day_idx"),
                   models.Index(fields=["day"], name="hold_rollup_day_idx"),
                   *area_indexes("hold_rollup", "day")]

    def __str__(self):
        return f"{self.day} {self.grid_id} {self.kind}/{self.level} #{self.bucket}: {self.count}"
