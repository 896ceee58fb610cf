"""The street rows (one per street and day: models.CaseStreetDailyRollup): a city's, district's or street's figures
read them where they give the same answer (`queries.by_street`), and those figures are exactly the ones the daily
rows (and the cases themselves) give: summary, time series and the ranking of streets, over periods with edge days
and whole months, with sensitive cases counted for some callers and not others, after a refresh and a grid's move."""

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gridcase.cases.models import Case, Category
from gridcase.grids import moves
from gridcase.grids.choices import Level, Role
from gridcase.grids.models import Grid
from gridcase.stats import queries, rollup
from gridcase.stats.models import CaseDailyRollup, CaseStreetDailyBucket, CaseStreetDailyRollup, RollupState
from tests import factories as f

from .helpers import at, make_case
from .test_stats import _direct, get

pytestmark = pytest.mark.django_db
PERIODS = [("2026-03-02", "2026-03-29"),  # edge days only
           ("2026-02-20", "2026-04-10")]  # a whole month (March) and edges
STREET_TABLE = CaseStreetDailyRollup._meta.db_table


class District:
    """A district beside the personas' street (a root of its own): two streets of one community, grid and
    micro-grid each, a school in the first; with a district administrator (sees sensitive cases in the district),
    a district viewer (sees none) and a reader who views the district but sees sensitive cases in one community
    only (holds below street level: the street rows cannot serve them)."""

    def __init__(self, city):
        self.district = f.grid("DX", "东区", Level.DISTRICT)
        self.streets, self.micros, self.communities = [], [], []
        for i in (1, 2):
            street = f.grid(f"DX-S{i}", f"东{i}街道", Level.STREET, self.district)
            community = f.grid(f"DX-S{i}-C1", f"东{i}社区", Level.COMMUNITY, street)
            grid = f.grid(f"DX-S{i}-C1-G1", f"东{i}网格", Level.GRID, community)
            self.micros.append(f.grid(f"DX-S{i}-C1-G1-M1", f"东{i}微网格", Level.MICRO_GRID, grid))
            self.streets.append(street)
            self.communities.append(community)
        self.school = f.grid("DX-S1-C1-D1", "东区小学", Level.DEDICATED, self.communities[0], kind="school")
        self.admin = f.member(f.UserFactory(username="district_admin"), self.district, Role.ADMIN)
        self.viewer = f.member(f.UserFactory(username="district_viewer"), self.district, Role.VIEWER)
        self.mixed = f.member(f.UserFactory(username="district_mixed"), self.district, Role.VIEWER)
        f.member(self.mixed, self.communities[1], Role.SECRETARY)


def _cases(city, d: District, n=160, seed=21):
    """Cases in every street (some in the school, some sensitive, one filed at the district itself), over
    February to April, with every status and enough resolutions for the median."""
    rng = random.Random(seed)
    grids = [city.micro, city.other_micro, *d.micros]
    base = at("2026-02-15")
    for i in range(n):
        created = base + timedelta(minutes=rng.randrange(0, 60 * 24 * 60))
        status = rng.choice(["reported", "accepted", "in_progress", "resolved", "verified", "closed", "rejected"])
        responded = created + timedelta(minutes=rng.randrange(5, 600)) if status != "reported" else None
        resolved = created + timedelta(minutes=rng.randrange(30, 60 * 24 * 6)) \
            if status in ("resolved", "verified", "closed") else None
        g = d.district if i == 0 else rng.choice(grids)
        case = make_case(g, created, status=status, responded=responded, resolved=resolved,
                         handle_by=created + timedelta(hours=rng.choice([24, 48, 72])),
                         rating=rng.choice(["", "satisfied", "dissatisfied"]) if status == "closed" else "",
                         escalations=rng.choice([0, 0, 1]),
                         dedicated=d.school if g == d.micros[0] and rng.random() < 0.3 else None,
                         cat=rng.choice(["env_drain", "safety_fire", "other"]),
                         source=rng.choice(["patrol", "resident"]))
        if rng.random() < 0.2:
            Case.objects.filter(pk=case.pk).update(sensitive=True)


@pytest.fixture
def district(city):
    d = District(city)
    _cases(city, d)
    rollup.rebuild()
    return d


def _figures(client_for, user, path, **params):
    """(the response through whatever rows the query layer picks, whether it read the street rows)."""
    with CaptureQueriesContext(connection) as ctx:
        r = get(client_for, user, path, **params)
        assert r.status_code == 200, r.json()
    return r.json(), any(STREET_TABLE in q["sql"] or "stats_casestreetdailybucket" in q["sql"]
                         for q in ctx.captured_queries)


def _without_street_rows(monkeypatch, client_for, user, path, **params):
    with monkeypatch.context() as m:
        m.setattr(queries, "by_street", lambda *a, **k: False)
        body, read = _figures(client_for, user, path, **params)
    assert not read
    return body


def _same(monkeypatch, client_for, user, path, expect_streets=True, **params) -> dict:
    """The figures through the street rows equal those through the daily and monthly rows, to the last field."""
    body, read = _figures(client_for, user, path, **params)
    assert read == expect_streets, (path, params)
    assert body == _without_street_rows(monkeypatch, client_for, user, path, **params)
    return body


def _readers(city, d):
    """(user, grid params) pairs that the street rows serve: the whole city, the district, a street."""
    return [(city.admin, {}), (city.admin, {"grid": d.district.pk}), (d.admin, {}), (d.viewer, {}),
            (d.admin, {"grid": d.streets[1].pk}), (city.dispatcher, {})]


@pytest.mark.parametrize("period", PERIODS)
def test_summary_through_street_rows_equals_daily_rows_and_cases(city, district, client_for, monkeypatch, period):
    span = {"from": period[0], "to": period[1]}
    for user, params in _readers(city, district):
        s = _same(monkeypatch, client_for, user, "summary", **params, **span)
        assert s["total"] > 0 and s["median_hours_to_resolve"] is not None
    first, last = at(period[0]).date(), at(period[1]).date()
    city_wide = _same(monkeypatch, client_for, city.admin, "summary", **span)
    assert city_wide["total"] == _direct(None, first, last)[0]["created"]  # every case, sensitive ones included
    d = Grid.objects.get(pk=district.district.pk)
    in_district = _direct(d, first, last)[0]
    assert _same(monkeypatch, client_for, district.admin, "summary", **span)["total"] == in_district["created"]
    # The district viewer sees no sensitive case: their figures leave them out.
    hidden = Case.objects.filter(sensitive=True, grid__tree_id=d.tree_id, created_at__gte=at(period[0]),
                                 created_at__lt=at(period[1]) + timedelta(days=1)).count()
    assert hidden > 0
    assert _same(monkeypatch, client_for, district.viewer, "summary", **span)["total"] == in_district["created"] - hidden


@pytest.mark.parametrize("period", PERIODS)
def test_what_the_street_rows_cannot_tell_falls_back(city, district, client_for, monkeypatch, period):
    span = {"from": period[0], "to": period[1]}
    safety = Category.objects.get(code="safety")
    # A category or source: the street rows have neither.
    s = _same(monkeypatch, client_for, city.admin, "summary", expect_streets=False, category=safety.pk, **span)
    first, last = at(period[0]).date(), at(period[1]).date()
    start, end = at(period[0]), at(period[1]) + timedelta(days=1)
    assert s["total"] == Case.objects.filter(created_at__gte=start, created_at__lt=end,
                                             category__parent=safety).count()
    _same(monkeypatch, client_for, city.admin, "grid-ranking", expect_streets=False, source="resident", **span)
    # Sensitive cases seen in one community only: a street's row cannot tell which of its cases lie there.
    mixed = _same(monkeypatch, client_for, district.mixed, "summary", expect_streets=False, **span)
    d = Grid.objects.get(pk=district.district.pk)
    community = Grid.objects.get(pk=district.communities[1].pk)
    cohort = Case.objects.filter(created_at__gte=start, created_at__lt=end, grid__tree_id=d.tree_id)
    seen = cohort.filter(sensitive=True, grid__tree_id=community.tree_id, grid__lft__gte=community.lft,
                         grid__lft__lte=community.rght).count()
    assert mixed["total"] == cohort.filter(sensitive=False).count() + seen
    assert mixed["total"] == _direct(d, first, last)[0]["created"] - cohort.filter(sensitive=True).count() + seen
    # A street's children are communities: its ranking reads the daily rows.
    _same(monkeypatch, client_for, city.admin, "grid-ranking", expect_streets=False, grid=district.streets[0].pk,
          min_volume=1, **span)


@pytest.mark.parametrize("metric", ["total", "resolution_rate", "median_hours_to_resolve"])
@pytest.mark.parametrize("interval", ["day", "week", "month"])
def test_timeseries_through_street_rows(city, district, client_for, monkeypatch, metric, interval):
    span = {"from": PERIODS[1][0], "to": PERIODS[1][1]}
    for user, params in _readers(city, district)[:4]:
        points = _same(monkeypatch, client_for, user, "timeseries", metric=metric, interval=interval, **params,
                       **span)["points"]
        assert any(p["value"] for p in points)


@pytest.mark.parametrize("period", PERIODS)
def test_ranking_of_the_city_and_of_a_district(city, district, client_for, monkeypatch, period):
    span = {"from": period[0], "to": period[1], "min_volume": 1}
    first, last = at(period[0]).date(), at(period[1]).date()
    for metric in ("total", "on_time_rate", "median_hours_to_resolve"):
        roots = _same(monkeypatch, client_for, city.admin, "grid-ranking", metric=metric, **span)["results"]
        assert {r["grid"] for r in roots} == {district.district.pk, city.street.pk}
        streets = _same(monkeypatch, client_for, district.admin, "grid-ranking", metric=metric,
                        **span)["results"]
        assert [r["grid"] for r in sorted(streets, key=lambda r: r["grid"])] == [s.pk for s in district.streets]
        _same(monkeypatch, client_for, district.viewer, "grid-ranking", metric=metric, **span)
    for r in roots:
        assert r["total"] == _direct(Grid.objects.get(pk=r["grid"]), first, last)[0]["created"]
    # The case filed at the district itself counts for the district, in none of its streets.
    district_total = next(r["total"] for r in roots if r["grid"] == district.district.pk)
    assert sum(r["total"] for r in streets) == district_total - Case.objects.filter(
        grid=district.district, created_at__gte=at(period[0]), created_at__lt=at(period[1]) + timedelta(days=1)
    ).count()


def _street_rows():
    counters = ("created", "resolved", "st_closed", "escalated")
    return (sorted((*r[:-1], round(r[-1], 6)) for r in CaseStreetDailyRollup.objects.values_list(
                "day", "street_id", "sensitive", *counters, "resolve_hours_sum")),
            sorted(CaseStreetDailyBucket.objects.values_list("day", "street_id", "sensitive", "bucket", "count")))


def test_street_rows_are_the_daily_rows_summed(city, district):
    rows, hist = _street_rows()
    assert rows and hist
    expected: dict = {}
    for day, street, grid, sensitive, created in CaseDailyRollup.objects.values_list(
            "day", "street_id", "grid_id", "sensitive", "created"):
        key = (day, street or grid, sensitive)
        expected[key] = expected.get(key, 0) + created
    assert {(d, s, sens): n for d, s, sens, n, *_rest in rows} == expected
    assert district.district.pk in {s for _d, s, *_rest in rows}  # the district's own case, under the district
    # A refresh of some days (the day by day path) writes the rows the rebuild (one statement) wrote.
    rollup.recompute_days({at("2026-03-05").date(), at("2026-03-06").date(), at("2026-04-01").date()})
    assert _street_rows() == (rows, hist)


def test_a_changed_case_moves_the_city_figure_after_the_refresh(city, district, client_for, monkeypatch):
    span = {"from": PERIODS[0][0], "to": PERIODS[0][1]}
    before = _same(monkeypatch, client_for, city.admin, "summary", **span)
    case = Case.objects.filter(status="in_progress", created_at__gte=at("2026-03-03"),
                               created_at__lt=at("2026-03-29"), grid__in=district.micros).first()
    RollupState.objects.filter(key="cases").update(last_run_at=timezone.now() - timedelta(minutes=1))
    Case.objects.filter(pk=case.pk).update(status="resolved", resolved_at=case.created_at + timedelta(hours=3),
                                           updated_at=timezone.now())
    rollup.refresh()
    after = _same(monkeypatch, client_for, city.admin, "summary", **span)
    assert after["by_status"]["resolved"] == before["by_status"]["resolved"] + 1
    assert after["by_status"]["in_progress"] == before["by_status"]["in_progress"] - 1
    assert after["counts"]["resolved"] == before["counts"]["resolved"] + 1


def test_a_grid_moved_to_another_street_takes_its_street_rows_along(city, district, client_for, monkeypatch):
    span = {"from": PERIODS[1][0], "to": PERIODS[1][1], "min_volume": 1}
    moved = Grid.objects.get(pk=district.micros[1].parent_id)  # the second street's general grid
    before = {r["grid"]: r["total"] for r in _same(monkeypatch, client_for, district.admin, "grid-ranking",
                                                   **span)["results"]}
    moves.move_grid(city.admin, moved, Grid.objects.get(pk=district.communities[0].pk))
    after = {r["grid"]: r["total"] for r in _same(monkeypatch, client_for, district.admin, "grid-ranking",
                                                  **span)["results"]}
    first, second = (s.pk for s in district.streets)
    assert after[second] == 0 < before[second]
    assert after[first] == before[first] + before[second]
    assert _street_rows()[0] == _rebuilt_street_rows()


def _rebuilt_street_rows():
    rollup.rebuild()
    return _street_rows()[0]


def test_city_summary_query_count(city, district, client_for, django_assert_max_num_queries):
    client = client_for(type(city.admin).objects.get(pk=city.admin.pk))
    # scope, the counters and histogram of the period and of the previous one, the rollups' time
    with django_assert_max_num_queries(8):
        r = client.get("/api/v1/stats/summary/", {"from": PERIODS[1][0], "to": PERIODS[1][1]})
    assert r.status_code == 200
