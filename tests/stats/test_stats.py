"""Statistics: figures against a hand-computed week, rollup = direct computation, scoping, query counts, params."""

import random
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.db.models import Count, F, Q
from django.test.utils import CaptureQueriesContext

from gridcase.cases.models import Case
from gridcase.grids import tree
from gridcase.stats import buckets, kpis, rollup
from gridcase.stats.models import CaseDailyRollup, RollupState

from .. import persona
from .helpers import at, fixture, make_case

pytestmark = pytest.mark.django_db
WEEK = {"from": "2026-03-01", "to": "2026-03-07"}


@persona.layer("week")
def build_week(city):
    cases = fixture(city)
    rollup.rebuild()
    return cases


@pytest.fixture
def week(request, city):
    """The hand-computed week, rolled up: built once with the city snapshot (tests/persona.py)."""
    return persona.layer_value(request, "week") or build_week(city)


def get(client_for, user, path, **params):
    return client_for(user).get(f"/api/v1/stats/{path}/", params)


def test_summary_figures(city, week, client_for):
    # Community subtree, cases created 1–7 March (Shanghai): #1 #2 #3 #4 #6 #8 (#5 is in the other community,
    # #7 was created on 28 February at 23:30 Shanghai time).
    r = get(client_for, city.secretary, "summary", grid=city.community.pk, **WEEK)
    assert r.status_code == 200, r.json()
    s = r.json()
    assert s["total"] == 6
    assert s["response_rate"] == round(4 / 6, 4)  # #2 late, #6 never answered
    assert s["resolution_rate"] == round(3 / 5, 4)  # #1 #2 #8 resolved; #4 rejected is not counted
    assert s["on_time_rate"] == round(2 / 3, 4)  # #2 resolved after handle_by
    assert s["satisfaction_rate"] == 1.0  # #1 satisfied
    assert s["escalation_rate"] == round(1 / 6, 4)  # #2
    assert s["resolved_in_micro_grid_rate"] == round(2 / 3, 4)  # #2 was owned by the general grid
    assert s["median_hours_to_resolve"] == 5.5  # 2.5 h, 10.5 h, 5.5 h
    assert s["by_status"] == {"reported": 1, "accepted": 0, "assigned": 0, "in_progress": 1, "resolved": 1,
                              "verified": 1, "closed": 1, "rejected": 1, "merged": 0}
    assert s["grid"]["id"] == city.community.pk and s["from"] == "2026-03-01" and s["to"] == "2026-03-07"


def test_drilldown_urls_carry_the_filters(city, week, client_for):
    s = get(client_for, city.secretary, "summary", grid=city.community.pk, **WEEK).json()
    url = urlparse(s["drilldown"]["total"])
    assert url.path == "/api/v1/cases/"
    q = parse_qs(url.query)
    assert q["within"] == [str(city.community.pk)]
    assert q["created_after"] == ["2026-03-01T00:00:00+08:00"]
    assert q["created_before"] == ["2026-03-08T00:00:00+08:00"]
    assert parse_qs(urlparse(s["drilldown"]["resolution_rate"]).query)["status"] == ["resolved,verified,closed"]
    assert parse_qs(urlparse(s["drilldown"]["by_status.rejected"]).query)["status"] == ["rejected"]
    # The drill-down list (the cases engineer's endpoint) gives back the figure.
    expected = {"total": 6, "resolution_rate": 3, "by_status.rejected": 1, "median_hours_to_resolve": 3,
                "response_rate": 4, "on_time_rate": 2, "satisfaction_rate": 1, "escalation_rate": 1,
                "resolved_in_micro_grid_rate": 2}
    for metric, n in expected.items():
        r = client_for(city.secretary).get(s["drilldown"][metric])
        assert r.status_code == 200, r.json()
        listed = {c["id"] for c in r.json()["results"]}
        assert len(listed) == n, metric


def test_default_grid_is_the_callers_widest(city, week, client_for):
    s = get(client_for, city.secretary, "summary", **WEEK).json()
    assert s["grid"]["id"] == city.community.pk and s["total"] == 6
    s = get(client_for, city.dispatcher, "summary", **WEEK).json()
    assert s["grid"]["id"] == city.street.pk and s["total"] == 7


def test_timeseries_by_day_and_week(city, week, client_for):
    r = get(client_for, city.secretary, "timeseries", grid=city.community.pk, metric="total", interval="day", **WEEK)
    assert r.status_code == 200, r.json()
    points = r.json()["points"]
    assert [p["date"] for p in points][:2] == ["2026-03-01", "2026-03-02"]
    assert [p["value"] for p in points] == [1, 1, 1, 1, 1, 0, 1]
    r = get(client_for, city.secretary, "timeseries", grid=city.community.pk, metric="response_rate",
            interval="week", **WEEK)
    points = r.json()["points"]
    # 1 March 2026 is a Sunday: the week of 23 Feb (only #1), then 2–8 March.
    assert [(p["date"], p["numerator"], p["denominator"]) for p in points] == [
        ("2026-02-23", 1, 1), ("2026-03-02", 3, 5)]
    assert points[0]["from"] == "2026-03-01"
    r = get(client_for, city.secretary, "timeseries", grid=city.community.pk, metric="median_hours_to_resolve",
            interval="month", **WEEK)
    assert r.json()["points"][0]["value"] == 5.5


def test_grid_ranking(city, week, client_for):
    r = get(client_for, city.secretary, "grid-ranking", grid=city.community.pk, metric="total", min_volume=1, **WEEK)
    assert r.status_code == 200, r.json()
    rows = r.json()["results"]
    assert [(x["grid"], x["total"], x["rank"]) for x in rows] == [(city.grid.pk, 6, 1), (city.dedicated.pk, 1, 2)]
    assert rows[1]["on_time_rate"] == 1.0 and rows[1]["median_hours_to_resolve"] == 5.5
    street = get(client_for, city.dispatcher, "grid-ranking", metric="satisfaction_rate", min_volume=1,
                 **WEEK).json()["results"]
    # 和惠 (#5 dissatisfied) ranks below 八里庄 (#1 satisfied).
    assert [(x["grid"], x["satisfaction_rate"]) for x in street] == [(city.community.pk, 1.0),
                                                                    (city.other_community.pk, 0.0)]


def test_departments(city, week, client_for):
    r = get(client_for, city.secretary, "departments", grid=city.community.pk, **WEEK)
    assert r.status_code == 200, r.json()
    (d,) = r.json()["results"]
    assert d["department"] == city.department.pk and d["whistled"] == 2
    assert d["report_in_rate"] == 0.5  # #2 in time, #3 an hour late
    assert d["median_report_in_hours"] == 2.0  # 1.5 h and 3 h, read from hour buckets (exact: 2.25)
    assert d["median_handling_hours"] == 9.5
    assert d["average_score"] == 4.0
    assert parse_qs(urlparse(d["drilldown"]).query)["department"] == [str(city.department.pk)]
    r = get(client_for, city.outsider, "departments", **WEEK)
    assert r.json()["results"] == []


@pytest.mark.parametrize("path", ["summary", "timeseries", "grid-ranking", "departments"])
def test_outsider_gets_404(city, week, client_for, path):
    r = get(client_for, city.outsider, path, grid=city.community.pk, **WEEK)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = get(client_for, city.worker, path, grid=city.sibling_micro.pk, **WEEK)
    assert r.status_code == 404
    assert client_for(None).get(f"/api/v1/stats/{path}/").status_code in (401, 403)


@pytest.mark.parametrize("params,field", [
    ({"from": "2026-03-08", "to": "2026-03-01"}, "from"),
    ({"from": "2026-13-01"}, "from"),
    ({"to": "yesterday"}, "to"),
    ({"grid": "abc"}, "grid"),
    ({"metric": "happiness"}, "metric"),
    ({"interval": "hour"}, "interval"),
    ({"source": "pigeon"}, "source"),
    ({"from": "2000-01-01", "to": "2026-01-01"}, "from"),
])
def test_bad_params_are_400(city, client_for, params, field):
    r = get(client_for, city.secretary, "timeseries", **params)
    assert r.status_code == 400, r.json()
    body = r.json()
    assert body["code"] in ("validation_error", "invalid_period", "unknown_metric") and field in body["fields"]


def test_bad_period_code(city, client_for):
    r = get(client_for, city.secretary, "summary", **{"from": "2026-03-08", "to": "2026-03-01"})
    assert r.json()["code"] == "invalid_period"


def _direct(grid, first, last):
    """Straight from the cases, with the ORM: the reference the rollups must equal."""
    start, end = at(first.isoformat()), at((last + timedelta(days=1)).isoformat())
    qs = Case.objects.filter(created_at__gte=start, created_at__lt=end)
    if grid is not None:
        span = [tree.span(grid)]
        qs = qs.filter(tree.subtree_q(span, "grid__") | tree.subtree_q(span, "dedicated_grid__"))
    resolved = Q(status__in=["resolved", "verified", "closed"])
    return qs.aggregate(
        created=Count("id"),
        responded_on_time=Count("id", filter=Q(first_response_at__lte=F("accept_by"))),
        valid=Count("id", filter=~Q(status__in=["rejected", "merged"])),
        resolved=Count("id", filter=resolved),
        resolved_on_time=Count("id", filter=resolved & Q(resolved_at__lte=F("handle_by"))),
        resolved_in_micro_grid=Count("id", filter=resolved & Q(owner_grid__level="micro_grid")),
        rated=Count("id", filter=~Q(rating="")),
        satisfied=Count("id", filter=Q(rating="satisfied")),
        basically=Count("id", filter=Q(rating="basically")),
        escalated=Count("id", filter=Q(escalation_count__gt=0)),
        closed=Count("id", filter=Q(status="closed")),
    ), sorted((c.resolved_at - c.created_at).total_seconds() / 3600 for c in qs.filter(resolved))


def _random_cases(city, n, seed=7):
    rng = random.Random(seed)
    grids = [city.micro, city.sibling_micro, city.other_micro]
    base = at("2026-02-25")
    for _i in range(n):
        created = base + timedelta(minutes=rng.randrange(0, 60 * 24 * 40))
        status = rng.choice(["reported", "accepted", "in_progress", "resolved", "verified", "closed", "rejected",
                             "merged"])
        responded = created + timedelta(minutes=rng.randrange(5, 600)) if status != "reported" else None
        resolved = created + timedelta(minutes=rng.randrange(30, 60 * 24 * 6)) \
            if status in ("resolved", "verified", "closed") else None
        g = rng.choice(grids)
        make_case(g, created, status=status, responded=responded, resolved=resolved,
                  handle_by=created + timedelta(hours=rng.choice([24, 48, 72])),
                  rating=rng.choice(["", "satisfied", "basically", "dissatisfied"]) if status == "closed" else "",
                  escalations=rng.choice([0, 0, 0, 1]), owner=rng.choice([g, g.parent]),
                  dedicated=city.dedicated if g == city.sibling_micro and rng.random() < 0.3 else None,
                  cat=rng.choice(["env_drain", "safety_fire", "dispute_parking", "other"]),
                  source=rng.choice(["patrol", "resident", "hotline_12345"]))


@pytest.mark.parametrize("period", [("2026-03-02", "2026-03-09"), ("2026-02-20", "2026-04-05"),
                                    ("2026-03-01", "2026-03-31")])
@pytest.mark.parametrize("grid_name", ["street", "community", "other_community", "grid", "dedicated", "micro"])
def test_rollup_equals_direct_computation(city, client_for, grid_name, period):
    # The second and third periods hold the whole of March: read from the monthly rows (+ daily edges).
    _random_cases(city, 80)
    rollup.rebuild()
    grid = type(city.street).objects.get(pk=getattr(city, grid_name).pk)  # fresh tree numbering
    params = {"from": period[0], "to": period[1], "grid": grid.pk}
    s = get(client_for, city.admin, "summary", **params).json()
    direct, hours = _direct(grid, at(period[0]).date(), at(period[1]).date())
    assert s["total"] == direct["created"]
    for key in ("responded_on_time", "valid", "resolved", "resolved_on_time", "resolved_in_micro_grid", "rated",
                "satisfied", "basically", "escalated"):
        assert s["counts"][key] == direct[key], key
    assert s["by_status"]["closed"] == direct["closed"]
    if hours:
        # The histogram median lies inside the buckets of the middle value(s) of the exact distribution.
        lo, hi = hours[(len(hours) - 1) // 2], hours[len(hours) // 2]
        assert buckets.EDGES[buckets.bucket_of(lo)] <= s["median_hours_to_resolve"] <= \
            buckets.upper_edge(buckets.bucket_of(hi))
    else:
        assert s["median_hours_to_resolve"] is None


def test_refresh_recomputes_touched_days_and_is_idempotent(city, week, client_for):
    from django.utils import timezone

    RollupState.objects.update(last_run_at=timezone.now() - timedelta(minutes=1))
    rows = sorted(CaseDailyRollup.objects.values_list("day", "grid_id", "created", "resolved"))
    rollup.refresh()
    rollup.refresh()
    assert sorted(CaseDailyRollup.objects.values_list("day", "grid_id", "created", "resolved")) == rows
    # Case #3 (created 3 March) is resolved weeks later: its creation day is recomputed by the next run.
    case = week[3]
    Case.objects.filter(pk=case.pk).update(status="resolved", resolved_at=at("2026-03-03", "20:00"),
                                           updated_at=timezone.now())
    result = rollup.refresh()
    assert result["days"] >= 1
    s = get(client_for, city.secretary, "summary", grid=city.community.pk, **WEEK).json()
    assert s["by_status"]["resolved"] == 2 and s["by_status"]["in_progress"] == 0


def test_first_refresh_builds_everything(city):
    fixture(city)
    RollupState.objects.all().delete()
    result = rollup.refresh()
    assert result["days"] == 8  # 28 February .. 7 March
    assert CaseDailyRollup.objects.filter(day=at("2026-02-28").date()).count() == 1


def _count_queries(client_for, user, path, params):
    client = client_for(type(user).objects.get(pk=user.pk))  # a fresh user: its scope is not cached yet
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(path, params)
        assert r.status_code == 200, r.json()
    return len(ctx.captured_queries)


@pytest.mark.parametrize("path,extra", [
    ("summary", {}), ("timeseries", {"metric": "median_hours_to_resolve", "interval": "day"}),
    ("timeseries", {"metric": "median_hours_to_resolve", "interval": "month"}),
    ("grid-ranking", {"metric": "on_time_rate"}), ("departments", {}),
])
@pytest.mark.parametrize("period", [("2026-03-01", "2026-03-12"), ("2026-02-10", "2026-04-12")])
def test_query_count_does_not_grow_with_cases(city, client_for, path, extra, period):
    params = {"from": period[0], "to": period[1], **extra}
    fixture(city)
    rollup.rebuild()
    small = _count_queries(client_for, city.dispatcher, f"/api/v1/stats/{path}/", params)
    _random_cases(city, 150, seed=11)
    rollup.rebuild()
    large = _count_queries(client_for, city.dispatcher, f"/api/v1/stats/{path}/", params)
    assert small == large
    # scope (2), grid, children, counters and histograms (2 tiers), the rollups' time; the summary adds the previous
    # period's counters and histogram (2 tiers). (A subtree is read by its copied street or community id or a
    # subquery over the tree: no query for its grids' ids.)
    assert large <= (13 if path == "summary" else 10)


def test_buckets_round_trip():
    assert buckets.bucket_of(0) == 0 and buckets.bucket_of(-3) == 0
    assert buckets.EDGES[buckets.bucket_of(2.5)] == 2.0
    assert buckets.median({buckets.bucket_of(2.5): 1}) == 2.5
    assert buckets.median({}) is None
    assert buckets.bucket_of(10_000) == buckets.OVERFLOW


def test_local_day_is_shanghai():
    from datetime import UTC

    assert rollup.local_day(at("2026-03-01", "00:30").astimezone(UTC)).isoformat() == "2026-03-01"


def test_sensitive_cases_count_only_for_roles_that_see_them(city, client_for):
    make_case(city.micro, at("2026-03-02", "10:00"), cat="care_mental")
    Case.objects.update(sensitive=True)
    make_case(city.micro, at("2026-03-02", "11:00"))
    rollup.rebuild()
    assert get(client_for, city.secretary, "summary", grid=city.community.pk, **WEEK).json()["total"] == 2
    assert get(client_for, city.admin, "summary", grid=city.community.pk, **WEEK).json()["total"] == 2
    # The street dispatcher and a micro-grid worker do not see sensitive cases in the list: nor in the figures.
    assert get(client_for, city.dispatcher, "summary", grid=city.community.pk, **WEEK).json()["total"] == 1
    assert get(client_for, city.worker, "summary", **WEEK).json()["total"] == 1


def test_task_and_command(city):
    from django.core.management import call_command

    from gridcase.stats import tasks

    fixture(city)
    call_command("rebuild_rollups", stdout=open("/dev/null", "w"))
    built = CaseDailyRollup.objects.count()
    assert built > 0
    result = tasks.refresh_rollups()  # called in-process, as a worker would
    assert result["days"] >= 1 and CaseDailyRollup.objects.count() == built


def test_category_and_source_filters(city, week, client_for):
    from gridcase.cases.models import Category

    safety = Category.objects.get(code="safety")
    s = get(client_for, city.secretary, "summary", grid=city.community.pk, category=safety.pk, **WEEK).json()
    assert s["total"] == 1  # #2 (fire hazard)
    assert parse_qs(urlparse(s["drilldown"]["total"]).query)["category"] == [str(safety.pk)]
    s = get(client_for, city.secretary, "summary", grid=city.community.pk, source="resident", **WEEK).json()
    assert s["total"] == 1  # #6
    fire = Category.objects.get(code="safety_fire")
    r = get(client_for, city.secretary, "summary", category=fire.pk, **WEEK)
    assert r.status_code == 400 and "category" in r.json()["fields"]


@pytest.mark.django_db(transaction=True)
def test_overlapping_refresh_skips(city):
    import threading

    from django.db import connection as conn
    from django.db import connections, transaction

    if conn.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    rollup.refresh()
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                RollupState.objects.select_for_update().get(key="cases")
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    t = threading.Thread(target=hold)
    t.start()
    assert locked.wait(10)
    try:
        assert rollup.refresh().get("skipped") is True
    finally:
        release.set()
        t.join()
    assert not rollup.refresh().get("skipped")


def test_monthly_timeseries_matches_daily(city, client_for):
    _random_cases(city, 60, seed=5)
    rollup.rebuild()
    params = {"grid": city.street.pk, "from": "2026-02-20", "to": "2026-04-05", "metric": "resolution_rate"}
    months = get(client_for, city.dispatcher, "timeseries", interval="month", **params).json()["points"]
    days = get(client_for, city.dispatcher, "timeseries", interval="day", **params).json()["points"]
    for m in months:
        inside = [d for d in days if m["from"] <= d["date"] <= m["to"]]
        assert m["numerator"] == sum(d["numerator"] for d in inside)
        assert m["denominator"] == sum(d["denominator"] for d in inside)
    assert [m["date"] for m in months] == ["2026-02-01", "2026-03-01", "2026-04-01"]


def test_split_period():
    from datetime import date

    from gridcase.stats.queries import Period, split_period

    assert split_period(Period(date(2026, 3, 2), date(2026, 3, 9))) == (None, [(date(2026, 3, 2), date(2026, 3, 9))])
    assert split_period(Period(date(2026, 2, 20), date(2026, 4, 5))) == (
        (date(2026, 3, 1), date(2026, 3, 1)), [(date(2026, 2, 20), date(2026, 2, 28)), (date(2026, 4, 1), date(2026, 4, 5))])
    assert split_period(Period(date(2026, 1, 1), date(2026, 12, 31))) == ((date(2026, 1, 1), date(2026, 12, 1)), [])


# --- every figure declared in kpis.py, against the case list it drills down to ------------------------------

SPAN = {"from": "2026-02-20", "to": "2026-04-10"}  # the hand-computed week and 60 random cases, months and edges


@persona.layer("many")
def build_many(city):
    cases = fixture(city)
    _random_cases(city, 60, seed=13)
    rollup.rebuild()
    return cases


@pytest.fixture
def many(request, city):
    """The week and 60 random cases, rolled up: built once with the city snapshot (tests/persona.py)."""
    return persona.layer_value(request, "many") or build_many(city)


def _listed(client, url) -> set[int]:
    r = client.get(f"{url}&page_size=200")
    assert r.status_code == 200, r.json()
    assert r.json()["next"] is None
    return {c["id"] for c in r.json()["results"]}


def _counted(summary: dict, counter: str) -> int:
    if counter in kpis.STATUS_COUNTERS:
        return summary["by_status"][counter.removeprefix("st_")]
    return summary["counts"][counter]


def test_every_counter_is_the_list_it_drills_down_to(city, many, client_for):
    from gridcase.stats.queries import drilldown_url

    client = client_for(city.admin)
    s = get(client_for, city.admin, "summary", grid=city.street.pk, **SPAN).json()
    cohort = Case.objects.filter(created_at__gte=at(SPAN["from"]), created_at__lt=at("2026-04-11"))
    first, last = at(SPAN["from"]).date(), at(SPAN["to"]).date()
    everyone = _listed(client, drilldown_url(city.street.pk, first, last))
    assert everyone == set(cohort.values_list("id", flat=True))
    for counter in kpis.COUNTERS:
        listed = _listed(client, drilldown_url(city.street.pk, first, last, counter.drilldown))
        meets = set(cohort.filter(counter.where).values_list("id", flat=True)) if counter.where else everyone
        assert listed == meets, counter.name
        assert _counted(s, counter.name) == len(meets), counter.name
        if counter.is_list_filter:  # ?<counter>=false is the rest of the cohort
            rest = _listed(client, drilldown_url(city.street.pk, first, last, {counter.name: "false"}))
            assert rest == everyone - meets, counter.name
    assert sum(_counted(s, n) for n in kpis.STATUS_COUNTERS) == len(everyone)


def test_every_rate_drills_down_to_its_numerator_and_denominator(city, many, client_for):
    client = client_for(city.admin)
    s = get(client_for, city.admin, "summary", grid=city.street.pk, **SPAN).json()
    assert set(s["drilldown"]) >= {*kpis.METRICS, *(f"{r.name}_denominator" for r in kpis.RATES)}
    for r in kpis.RATES:
        numerator = _listed(client, s["drilldown"][r.name])
        denominator = _listed(client, s["drilldown"][f"{r.name}_denominator"])
        assert numerator <= denominator, r.name
        assert denominator, r.name  # the fixture exercises every rate
        assert s[r.name] == kpis.ratio(len(numerator), len(denominator)), r.name
        assert len(numerator) == sum(s["counts"][n] for n in r.numerator), r.name
    median_cases = _listed(client, s["drilldown"][kpis.MEDIAN.name])
    assert len(median_cases) == s["counts"][kpis.MEDIAN.over]


@pytest.mark.parametrize("interval", ["week", "month"])
def test_every_metric_point_drills_down_to_its_numerator(city, many, client_for, interval):
    client = client_for(city.admin)
    for metric in kpis.METRICS:
        points = get(client_for, city.admin, "timeseries", grid=city.street.pk, metric=metric, interval=interval,
                     **SPAN).json()["points"]
        for p in points:
            expected = p["denominator"] if metric == kpis.MEDIAN.name else p["numerator"]
            assert len(_listed(client, p["drilldown"])) == expected, (metric, p["date"])
    ranked = get(client_for, city.admin, "grid-ranking", grid=city.street.pk, metric="satisfaction_rate",
                 **SPAN).json()["results"]
    assert ranked
    for row in ranked:
        satisfied = _listed(client, row["drilldown"])
        ratings = set(Case.objects.filter(id__in=satisfied).values_list("rating", flat=True))
        assert ratings <= {"satisfied", "basically"}, row["grid"]


def test_declarations_are_consistent():
    from gridcase.stats.models import CaseDailyRollup, CaseMonthlyRollup, CaseStreetDailyRollup

    for model in (CaseDailyRollup, CaseMonthlyRollup, CaseStreetDailyRollup):
        columns = {f.name for f in model._meta.get_fields()}
        assert set(kpis.COUNTER_NAMES) <= columns
    for r in kpis.RATES:
        assert set(r.numerator) | {r.denominator} <= set(kpis.COUNTER_NAMES), r.name
        assert r.drilldown is not None  # a case-list query selects the numerator's cases
    assert kpis.MEDIAN.over in kpis.COUNTER and len(set(kpis.METRICS)) == len(kpis.METRICS)
    with pytest.raises(ValueError):
        kpis.union_params(("resolved_in_micro_grid", "satisfied"))


def _rollup_rows():
    from gridcase.stats.models import (
        COUNTER_FIELDS,
        CaseRollupBucket,
        CaseStreetDailyBucket,
        CaseStreetDailyRollup,
        DepartmentDailyRollup,
        DepartmentRollupBucket,
    )

    dims = ("day", "grid_id", "dedicated_grid_id", "category_id", "source", "sensitive")
    daily = sorted(((*r[:-1], round(r[-1], 6)) for r in CaseDailyRollup.objects.values_list(
        *dims, *(n for n in COUNTER_FIELDS if n != "resolve_hours_sum"), "resolve_hours_sum")), key=str)
    hist = sorted(CaseRollupBucket.objects.values_list(*dims, "bucket", "count"), key=str)
    dept_dims = ("day", "department_id", "grid_id", "dedicated_grid_id", "sensitive")
    departments = sorted(DepartmentDailyRollup.objects.values_list(
        *dept_dims, "whistled", "reported_in", "reported_in_on_time", "replied", "scored", "score_sum"), key=str)
    dept_hist = sorted(DepartmentRollupBucket.objects.values_list(
        *(f"rollup__{d}" for d in dept_dims), "metric", "bucket", "count"), key=str)
    streets = sorted(((*r[:-1], round(r[-1], 6)) for r in CaseStreetDailyRollup.objects.values_list(
        "day", "street_id", "sensitive", *(n for n in COUNTER_FIELDS if n != "resolve_hours_sum"),
        "resolve_hours_sum")), key=str)
    street_hist = sorted(CaseStreetDailyBucket.objects.values_list("day", "street_id", "sensitive", "bucket", "count"),
                         key=str)
    return daily, hist, departments, dept_hist, streets, street_hist


def test_rollups_computed_by_the_database_equal_the_python_computation(city):
    """The rebuild's INSERT … SELECT … GROUP BY (PostgreSQL) writes the rows the case-by-case computation writes."""
    from gridcase.cases.models import CaseDepartment
    from gridcase.grids.models import Department

    _random_cases(city, 120, seed=11)
    dept = Department.objects.create(code="t-water", name="自来水公司", kind="water", area=city.street)
    for i, case in enumerate(Case.objects.order_by("id")[:40]):
        whistled = case.created_at + timedelta(hours=1)
        CaseDepartment.objects.create(
            case=case, department=dept, whistled_at=whistled, report_by=whistled + timedelta(hours=24),
            reported_in_at=whistled + timedelta(hours=i % 30) if i % 3 else None,
            replied_at=whistled + timedelta(hours=2 * i) if i % 4 == 0 else None, score=(i % 5) + 1 if i % 2 else None)
    first, last = rollup.local_day(Case.objects.earliest("created_at").created_at), \
        rollup.local_day(Case.objects.latest("created_at").created_at)
    tops = rollup.top_categories()
    rollup.recompute_range(first, last, tops)
    in_sql = _rollup_rows()
    rollup._delete_days(first, last)
    rollup._recompute_range_python(first, last, tops)
    in_python = _rollup_rows()
    assert all(in_sql)
    for part, (a, b) in enumerate(zip(in_sql, in_python, strict=True)):
        assert a == b, part


def test_a_bulk_rebuild_writes_the_same_rows_and_keeps_every_index(city):
    _random_cases(city, 60, seed=5)
    rollup.rebuild()
    plain = _rollup_rows()
    rollup.rebuild(bulk=True)  # the seeders' rebuild: indexes dropped meanwhile, built once after
    assert _rollup_rows() == plain
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'stats_casedailyrollup' "
                           "AND indexname = 'case_rollup_grid_day'")
            assert cursor.fetchone()[0] == 1
