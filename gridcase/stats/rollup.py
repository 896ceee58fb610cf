"""Building the rollups. Every figure is recomputed from the cases of whole days, so a run is idempotent:
recomputing a day twice gives the same rows. `refresh()` (Celery, periodic) recomputes the days whose cases
changed since the last run plus today; `rebuild()` (`gridcase rebuild_rollups`) recomputes every day.

A case belongs to the day it was created (Asia/Shanghai) and keeps being counted there as it moves on:
when it is resolved or rated weeks later, its creation day is recomputed.
"""

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Case as SqlCase
from django.db.models import (
    Count,
    DateField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    Min,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, TruncDate
from django.utils import timezone

from gridcase.cases import categories
from gridcase.cases.models import Case, CaseDepartment
from gridcase.core.bulk import analyze as analyze_tables
from gridcase.core.bulk import bulk_mode, copy_rows, restore_indexes

from . import areas, buckets, kpis
from .models import (
    COUNTER_FIELDS,
    CaseDailyRollup,
    CaseMonthlyBucket,
    CaseMonthlyRollup,
    CaseRollupBucket,
    CaseStreetDailyBucket,
    CaseStreetDailyRollup,
    DepartmentDailyRollup,
    DepartmentRollupBucket,
    InArea,
    RollupState,
)
from .params import TZ, Period

log = logging.getLogger(__name__)
# A transaction that stamped `updated_at` just before a run started may commit just after it read:
# the next run looks back this far before its predecessor's start.
LOOKBACK = timedelta(minutes=10)


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment, TZ).date()


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[start of `first`, start of the day after `last`) in Asia/Shanghai."""
    period = Period(first, last)
    return period.start, period.end


def top_categories() -> dict[int, int]:
    """{category id: id of its top-level ancestor}, read now (a rollup files every case under its top)."""
    return categories.tops(fresh=True)


# Rollup rows' dimensions as database columns, in the order of the keys built below.
DIM_COLUMNS = ("day", "grid_id", "dedicated_grid_id", "category_id", "source", "sensitive")
CASE_FIELDS = tuple(dict.fromkeys(("grid_id", "dedicated_grid_id", "category_id", "source", "sensitive", "created_at",
                                   kpis.MEDIAN.start, kpis.MEDIAN.end)))
# Each counter of kpis.py as a 0/1 column computed by the database (the declaration is the only definition).
FLAGS = {f"kpi_{c.name}": c.name for c in kpis.COUNTERS}


def _compute_case_rows(first: date, last: date, tops: dict):
    start, end = day_bounds(first, last)
    rows: dict = {}
    hist: dict = defaultdict(lambda: defaultdict(int))
    median = kpis.MEDIAN
    over = f"kpi_{median.over}"
    qs = (Case.objects.filter(created_at__gte=start, created_at__lt=end)
          .annotate(**{alias: kpis.COUNTER[name].flag() for alias, name in FLAGS.items()})
          .values(*CASE_FIELDS, *FLAGS))
    for c in qs.iterator(chunk_size=5000):
        key = (local_day(c["created_at"]), c["grid_id"], c["dedicated_grid_id"], tops.get(c["category_id"],
               c["category_id"]), c["source"], c["sensitive"])
        row = rows.get(key)
        if row is None:
            row = rows[key] = defaultdict(float)
        for alias, name in FLAGS.items():
            row[name] += c[alias]
        if c[over] and c[median.end]:
            hours = buckets.hours_between(c[median.start], c[median.end])
            row["resolve_hours_sum"] += max(hours, 0.0)
            hist[key][buckets.bucket_of(hours)] += 1
    return rows, hist


DEPT_FIELDS = ("case__created_at", "case__grid_id", "case__dedicated_grid_id", "department_id", "whistled_at",
               "report_by", "reported_in_at", "replied_at", "score", "case__sensitive")


def _compute_department_rows(first: date, last: date):
    start, end = day_bounds(first, last)
    rows: dict = {}
    hist: dict = defaultdict(lambda: defaultdict(int))
    qs = CaseDepartment.objects.filter(case__created_at__gte=start, case__created_at__lt=end).values(*DEPT_FIELDS)
    for d in qs.iterator(chunk_size=5000):
        key = (local_day(d["case__created_at"]), d["department_id"], d["case__grid_id"], d["case__dedicated_grid_id"],
               d["case__sensitive"])
        row = rows.setdefault(key, defaultdict(int))
        row["whistled"] += 1
        if d["reported_in_at"]:
            row["reported_in"] += 1
            row["reported_in_on_time"] += int(d["reported_in_at"] <= d["report_by"])
            hist[key][(DepartmentRollupBucket.REPORT_IN,
                       buckets.bucket_of(buckets.hours_between(d["whistled_at"], d["reported_in_at"])))] += 1
        if d["replied_at"]:
            row["replied"] += 1
            hist[key][(DepartmentRollupBucket.HANDLE,
                       buckets.bucket_of(buckets.hours_between(d["whistled_at"], d["replied_at"])))] += 1
        if d["score"] is not None:
            row["scored"] += 1
            row["score_sum"] += d["score"]
    return rows, hist


# --- in the database (PostgreSQL): INSERT … SELECT … GROUP BY, the counters' flags compiled from kpis.py ------

def _hours(start: str, end: str):
    """SQL: hours from `start` to `end` as a double, as buckets.hours_between computes them."""
    return ExpressionWrapper(Func(F(end) - F(start), template="EXTRACT(EPOCH FROM %(expressions)s)::float8")
                             / Value(3600.0), output_field=FloatField())


def _bucket(hours):
    """SQL: buckets.bucket_of(hours) (the last edge at or below; 0 for none or a negative duration)."""
    edges = "ARRAY[" + ",".join(repr(float(e)) for e in buckets.EDGES) + "]::float8[]"
    return Func(hours, template=f"GREATEST(width_bucket(%(expressions)s, {edges}) - 1, 0)",
                output_field=IntegerField())


def _insert_select(model, columns, qs, names=None, order=()) -> int:
    """INSERT INTO model's table (columns) SELECT names FROM (qs) (the names qs selects, by default the columns'),
    with the rows' community and street (areas.py) on a rollup that carries them; in the `order` of those names
    on one that does not (the rows a figure reads together on adjacent pages)."""
    sql, params = qs.query.sql_with_params()
    names = names or columns
    if issubclass(model, InArea):
        columns, select = [*columns, *areas.AREA_COLUMNS], areas.select_sql(sql, names)
    else:
        select = "SELECT {} FROM ({}) AS rows".format(", ".join(f'"{c}"' for c in names), sql)
        if order:
            select += " ORDER BY " + ", ".join(f'rows."{c}"' for c in order)
    cols = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f'INSERT INTO "{model._meta.db_table}" ({cols}) {select}', params)
        return cursor.rowcount


def _recompute_range_sql(first: date, last: date, tops: dict) -> int:
    start, end = day_bounds(first, last)
    median = kpis.MEDIAN
    cases = Case.objects.filter(created_at__gte=start, created_at__lt=end).annotate(
        day=TruncDate("created_at", tzinfo=TZ),
        top=SqlCase(*(When(category_id=c, then=Value(t)) for c, t in tops.items() if c != t),
                    default=F("category_id"), output_field=IntegerField()),
    ).values("day", "grid_id", "dedicated_grid_id", "top", "source", "sensitive").order_by()
    timed = Q(**{f"{median.end}__isnull": False}) & (kpis.COUNTER[median.over].where or Q())
    hours = _hours(median.start, median.end)
    counters = {name: Sum(kpis.COUNTER[name].flag()) for name in kpis.COUNTER_NAMES}
    dims = ("day", "grid_id", "dedicated_grid_id", "top", "source", "sensitive")  # DIM_COLUMNS, top as category
    made = _insert_select(CaseDailyRollup, [*DIM_COLUMNS, *COUNTER_FIELDS], cases.annotate(
        **counters, resolve_hours_sum=Coalesce(Sum(Greatest(hours, Value(0.0)), filter=timed), Value(0.0)),
    ), [*dims, *COUNTER_FIELDS])
    _insert_select(CaseRollupBucket, [*DIM_COLUMNS, "bucket", "count"], cases.filter(timed).annotate(
        bucket=_bucket(hours)).values(*dims, "bucket").annotate(count=Count("id")), [*dims, "bucket", "count"])
    links = CaseDepartment.objects.filter(case__created_at__gte=start, case__created_at__lt=end).annotate(
        day=TruncDate("case__created_at", tzinfo=TZ), grid_id=F("case__grid_id"),
        dedicated_grid_id=F("case__dedicated_grid_id"), sensitive=F("case__sensitive"),
    ).values("day", "department_id", "grid_id", "dedicated_grid_id", "sensitive").order_by()
    dmade = _insert_select(DepartmentDailyRollup, [*DEPT_DIMS, *DEPT_COUNTERS], links.annotate(
        whistled=Count("id"), reported_in=Count("id", filter=Q(reported_in_at__isnull=False)),
        reported_in_on_time=Count("id", filter=Q(reported_in_at__isnull=False, reported_in_at__lte=F("report_by"))),
        replied=Count("id", filter=Q(replied_at__isnull=False)), scored=Count("id", filter=Q(score__isnull=False)),
        score_sum=Coalesce(Sum("score"), Value(0))))
    for metric, stamp in ((DepartmentRollupBucket.REPORT_IN, "reported_in_at"),
                          (DepartmentRollupBucket.HANDLE, "replied_at")):
        sql, params = links.filter(**{f"{stamp}__isnull": False}).annotate(
            bucket=_bucket(_hours("whistled_at", stamp))).values(*DEPT_DIMS, "bucket").annotate(
            count=Count("id")).query.sql_with_params()
        # Equalities a hash join can use; the one column that may be empty matched as "not distinct".
        match = " AND ".join(f'r."{c}" IS NOT DISTINCT FROM h."{c}"' if c == "dedicated_grid_id" else
                             f'r."{c}" = h."{c}"' for c in DEPT_DIMS)
        with connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO "{DepartmentRollupBucket._meta.db_table}" (rollup_id, metric, bucket, count) '
                f'SELECT r.id, %s, h.bucket, h.count FROM ({sql}) AS h JOIN "{DepartmentDailyRollup._meta.db_table}" '
                f"r ON {match} WHERE r.day >= %s AND r.day <= %s", [metric, *params, first, last])
    return made + dmade


DEPT_DIMS = ("day", "department_id", "grid_id", "dedicated_grid_id", "sensitive")
DEPT_COUNTERS = ("whistled", "reported_in", "reported_in_on_time", "replied", "scored", "score_sum")


def recompute_range(first: date, last: date, tops: dict | None = None, streets: bool = True) -> int:
    """Replace the rollup rows of the days `first`..`last` (inclusive) with fresh ones, the street rows of those
    days in the same transaction (unless `streets` is False: a rebuild sums them once at the end). Returns rows
    written. On PostgreSQL the database computes them (INSERT … SELECT … GROUP BY); elsewhere Python does."""
    tops = tops if tops is not None else top_categories()
    if connection.vendor == "postgresql":
        with transaction.atomic():
            _delete_days(first, last)
            made = _recompute_range_sql(first, last, tops)
            return made + (recompute_street_days(first, last) if streets else 0)
    return _recompute_range_python(first, last, tops, streets)


def _recompute_range_python(first: date, last: date, tops: dict, streets: bool = True) -> int:
    case_rows, case_hist = _compute_case_rows(first, last, tops)
    dept_rows, dept_hist = _compute_department_rows(first, last)
    with transaction.atomic():
        _delete_days(first, last)
        # COPY (PostgreSQL) or executemany: a rebuild writes about as many rows as there are cases, and
        # bulk_create spends most of its time preparing model instances.
        area = areas.of({k[1] for k in case_rows} | {k[2] for k in dept_rows})
        nowhere = (None, None)
        made = copy_rows(CaseDailyRollup, [*DIM_COLUMNS, *COUNTER_FIELDS, *areas.AREA_COLUMNS], (
            (*k, *(case_rows[k].get(n, 0) if n == "resolve_hours_sum" else int(case_rows[k].get(n, 0))
                   for n in COUNTER_FIELDS), *area.get(k[1], nowhere)) for k in case_rows))
        copy_rows(CaseRollupBucket, [*DIM_COLUMNS, "bucket", "count", *areas.AREA_COLUMNS], (
            (*k, b, n, *area.get(k[1], nowhere)) for k, hist in case_hist.items() for b, n in sorted(hist.items())))
        dkeys = list(dept_rows)
        dmade = DepartmentDailyRollup.objects.bulk_create([
            DepartmentDailyRollup(day=k[0], department_id=k[1], grid_id=k[2], dedicated_grid_id=k[3],
                                  sensitive=k[4], community_id=area.get(k[2], nowhere)[0],
                                  street_id=area.get(k[2], nowhere)[1], **dept_rows[k]) for k in dkeys], batch_size=2000)
        DepartmentRollupBucket.objects.bulk_create([
            DepartmentRollupBucket(rollup_id=row.pk, metric=m, bucket=b, count=n)
            for k, row in zip(dkeys, dmade, strict=True) for (m, b), n in sorted(dept_hist.get(k, {}).items())], batch_size=5000)
        if streets:
            made += recompute_street_days(first, last)
    return made + len(dmade)


def _delete_days(first: date, last: date) -> None:
    CaseStreetDailyBucket.objects.filter(day__gte=first, day__lte=last).delete()
    CaseStreetDailyRollup.objects.filter(day__gte=first, day__lte=last).delete()
    CaseRollupBucket.objects.filter(day__gte=first, day__lte=last).delete()
    CaseDailyRollup.objects.filter(day__gte=first, day__lte=last).delete()
    DepartmentRollupBucket.objects.filter(rollup__day__gte=first, rollup__day__lte=last).delete()
    DepartmentDailyRollup.objects.filter(day__gte=first, day__lte=last).delete()


# The moment the rollups describe (the dashboards' `as_of`): the start of the last computation that included today,
# where new cases land. A row of RollupState under its own key (the refresh's row keeps its own bookkeeping).
AS_OF_KEY = "as_of"


def stamp_as_of(moment: datetime) -> None:
    RollupState.objects.update_or_create(key=AS_OF_KEY, defaults={"last_run_at": moment})


def recompute_days(days) -> int:
    """Recompute the given days, merging consecutive ones into ranges (few queries for a long backlog)."""
    started = timezone.now()
    days = sorted(set(days))
    if not days:
        return 0
    if local_day(started) in days:
        stamp_as_of(started)
    tops = top_categories()
    written, start, prev = 0, days[0], days[0]
    for d in days[1:] + [None]:
        if d is not None and d == prev + timedelta(days=1) and (d - start).days < 31:
            prev = d
            continue
        written += recompute_range(start, prev, tops)
        if d is not None:
            start = prev = d
    return written + recompute_months({d.replace(day=1) for d in days})


def month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def recompute_months(months) -> int:
    """Replace the monthly rows of `months` (first days) with the sums of their daily rows."""
    written = 0
    for month in sorted(set(months)):
        last = month_end(month)
        dims = ("grid_id", "dedicated_grid_id", "sensitive")
        if connection.vendor == "postgresql":  # summed by the database
            daily = CaseDailyRollup.objects.filter(day__gte=month, day__lte=last).values(*dims).order_by()
            with transaction.atomic():
                CaseMonthlyBucket.objects.filter(month=month).delete()
                CaseMonthlyRollup.objects.filter(month=month).delete()
                written += _insert_select(CaseMonthlyRollup, ["month", *dims, *COUNTER_FIELDS], daily.annotate(
                    month=Value(month, output_field=DateField()), **{f"s_{n}": Sum(n) for n in COUNTER_FIELDS}),
                    ["month", *dims, *(f"s_{n}" for n in COUNTER_FIELDS)])
                _insert_select(CaseMonthlyBucket, ["month", *dims, "bucket", "count"],
                               CaseRollupBucket.objects.filter(day__gte=month, day__lte=last).values(*dims, "bucket")
                               .order_by().annotate(month=Value(month, output_field=DateField()), n=Sum("count")),
                               ["month", *dims, "bucket", "n"])
            continue
        dims = (*dims, *areas.AREA_COLUMNS)  # the daily rows' copies (the same for every row of a grid)
        rows = list(CaseDailyRollup.objects.filter(day__gte=month, day__lte=last).values(*dims)
                    .annotate(**{f"s_{n}": Sum(n) for n in COUNTER_FIELDS}).order_by())
        buckets_rows = list(CaseRollupBucket.objects.filter(day__gte=month, day__lte=last)
                            .values(*dims, "bucket").annotate(n=Sum("count")).order_by())
        with transaction.atomic():
            CaseMonthlyBucket.objects.filter(month=month).delete()
            CaseMonthlyRollup.objects.filter(month=month).delete()
            made = copy_rows(CaseMonthlyRollup, ["month", *dims, *COUNTER_FIELDS], (
                (month, *(r[d] for d in dims), *(r[f"s_{n}"] or 0 for n in COUNTER_FIELDS)) for r in rows))
            copy_rows(CaseMonthlyBucket, ["month", *dims, "bucket", "count"], (
                (month, *(r[d] for d in dims), r["bucket"], r["n"]) for r in buckets_rows))
        written += made
    return written


# The street a daily row counts in (CaseStreetDailyRollup.street): its copied street, or its grid when that lies
# above every street (a district's own cases).
STREET_OF_ROW = Coalesce(F("street_id"), F("grid_id"))


def recompute_street_days(first: date, last: date, only_streets=None) -> int:
    """Replace the street rows of the days `first`..`last` (of the streets `only_streets` when given: a grid moved
    between streets) with the sums of their daily rows; the caller's transaction keeps both tables in step. Returns
    rows written."""
    rows, hist = CaseStreetDailyRollup.objects.all(), CaseStreetDailyBucket.objects.all()
    daily = CaseDailyRollup.objects.filter(day__gte=first, day__lte=last)
    bucket_rows = CaseRollupBucket.objects.filter(day__gte=first, day__lte=last)
    if only_streets is not None:
        only_streets = sorted(only_streets)
        rows, hist = rows.filter(street_id__in=only_streets), hist.filter(street_id__in=only_streets)
        counted_there = Q(street_id__in=only_streets) | Q(street_id__isnull=True, grid_id__in=only_streets)
        daily, bucket_rows = daily.filter(counted_there), bucket_rows.filter(counted_there)
    with transaction.atomic():
        hist.filter(day__gte=first, day__lte=last).delete()
        rows.filter(day__gte=first, day__lte=last).delete()
        dims = ("day", "street_id", "sensitive")
        # Written in day order: a city's period is a run of adjacent pages, not a row on every page of the table.
        order = ("day", "area", "sensitive")
        counters = daily.annotate(area=STREET_OF_ROW).values(*order).order_by().annotate(
            **{f"s_{n}": Sum(n) for n in COUNTER_FIELDS})
        bucketed = bucket_rows.annotate(area=STREET_OF_ROW).values(*order, "bucket").order_by() \
            .annotate(n=Sum("count"))
        if connection.vendor == "postgresql":  # summed by the database
            made = _insert_select(CaseStreetDailyRollup, [*dims, *COUNTER_FIELDS], counters,
                                  [*order, *(f"s_{n}" for n in COUNTER_FIELDS)], order)
            _insert_select(CaseStreetDailyBucket, [*dims, "bucket", "count"], bucketed,
                           [*order, "bucket", "n"], (*order, "bucket"))
            return made
        made = copy_rows(CaseStreetDailyRollup, [*dims, *COUNTER_FIELDS], [
            (r["day"], r["area"], r["sensitive"], *(r[f"s_{n}"] or 0 for n in COUNTER_FIELDS)) for r in counters])
        copy_rows(CaseStreetDailyBucket, [*dims, "bucket", "count"], [
            (r["day"], r["area"], r["sensitive"], r["bucket"], r["n"]) for r in bucketed])
        return made


def follow_streets(moved_grids, move) -> int:
    """Run `move` (rewriting the daily rows' copied street of the grids `moved_grids`, a queryset of ids), then
    recompute the street rows of every street those rows counted in before or after, over all days."""
    def streets_of():
        return set(CaseDailyRollup.objects.filter(grid_id__in=moved_grids).annotate(area=STREET_OF_ROW)
                   .values_list("area", flat=True).order_by().distinct())

    with transaction.atomic():
        before = streets_of()
        written = move()
        streets = before | streets_of()
        if not streets:
            return written
        bounds = CaseDailyRollup.objects.aggregate(first=Min("day"), last=Max("day"))
        if bounds["first"] is not None:
            written += recompute_street_days(bounds["first"], bounds["last"], only_streets=streets)
    return written


def touched_days(since: datetime) -> set[date]:
    """Creation days of the cases changed since `since` (a transition bumps the case's `updated_at`)."""
    return set(Case.objects.filter(updated_at__gte=since)
               .annotate(d=TruncDate("created_at", tzinfo=TZ)).values_list("d", flat=True).distinct())


def _state(skip_locked=False):
    """The state row, locked for this transaction: runs never overlap. With `skip_locked`, None while
    another run holds it (a periodic run then just skips: the running one covers its days)."""
    RollupState.objects.get_or_create(key="cases")
    return RollupState.objects.select_for_update(skip_locked=skip_locked).filter(key="cases").first()


def refresh(now: datetime | None = None) -> dict:
    """Recompute the days touched since the previous run and today. Runs one at a time (row lock);
    a first run (or one after the state was lost) rebuilds everything."""
    now = now or timezone.now()
    with transaction.atomic():
        state = _state(skip_locked=True)
        if state is None:
            return {"days": 0, "rows": 0, "skipped": True}
        first_run = state.last_run_at is None
        if first_run:
            days = all_days()
        else:
            days = touched_days(state.last_run_at - LOOKBACK) | {local_day(now)}
        written = recompute_days(days)
        state.last_run_at = now
        state.last_days = len(days)
        state.save(update_fields=["last_run_at", "last_days"])
    if first_run:
        analyze()
    return {"days": len(days), "rows": written}


def analyze() -> None:
    """Fresh planner statistics after a bulk rebuild (PostgreSQL), so subtree queries use the (grid, day) index."""
    analyze_tables([CaseDailyRollup, CaseRollupBucket, CaseMonthlyRollup, CaseMonthlyBucket, CaseStreetDailyRollup,
                    CaseStreetDailyBucket, DepartmentDailyRollup, DepartmentRollupBucket])


def all_days() -> set[date]:
    bounds = Case.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    if bounds["first"] is None:
        return set()
    first, last = local_day(bounds["first"]), local_day(bounds["last"])
    return {first + timedelta(days=i) for i in range((last - first).days + 1)}


def rebuild(now: datetime | None = None, progress=None, bulk: bool = False) -> dict:
    """Drop every rollup row and recompute every day that has cases. `bulk` (the seeders, nobody reading yet):
    the rollup tables' secondary indexes are dropped meanwhile and built once at the end (core.bulk)."""
    now = now or timezone.now()
    models = (CaseStreetDailyBucket, CaseStreetDailyRollup, CaseMonthlyBucket, CaseMonthlyRollup, CaseRollupBucket,
              CaseDailyRollup, DepartmentRollupBucket, DepartmentDailyRollup)
    with transaction.atomic():
        state = _state()
        stamp_as_of(now)
        dropped = bulk_mode(models) if bulk else []  # first: the deletes then queue no deferred checks
        for model in models:
            model.objects.all().delete()
        days = sorted(all_days())
        tops = top_categories()
        written = 0
        for i in range(0, len(days), 31):
            chunk = days[i:i + 31]
            written += recompute_range(chunk[0], chunk[-1], tops, streets=False)
            if progress is not None:
                progress(len(chunk))
        written += recompute_months({d.replace(day=1) for d in days})
        if days:  # every street row in one statement, from the daily rows just written
            written += recompute_street_days(days[0], days[-1])
        restore_indexes(dropped)
        state.last_run_at = now
        state.last_days = len(days)
        state.save(update_fields=["last_run_at", "last_days"])
    analyze()
    return {"days": len(days), "rows": written}
