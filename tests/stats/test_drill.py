"""Dashboards that drill: the rollups' time (`as_of`) on every case figure and in its drill-down, the list's count
(`with_count`), the previous period's figures, and rankings that rank only grids with enough volume."""

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from gridcase.stats import kpis, rollup
from gridcase.stats.models import RollupState
from gridcase.stats.params import TZ

from .. import persona
from .helpers import at, make_case
from .test_stats import build_week

pytestmark = pytest.mark.django_db
WEEK = {"from": "2026-03-01", "to": "2026-03-07"}


@pytest.fixture
def week(request, city):
    """The hand-computed week of test_stats.py, rolled up (the same snapshot layer)."""
    return persona.layer_value(request, "week") or build_week(city)


def get(client_for, user, path, **params):
    r = client_for(user).get(f"/api/v1/stats/{path}/", params)
    assert r.status_code == 200, r.json()
    return r.json()


def counted(client, url) -> int:
    r = client.get(url + "&with_count=true")
    assert r.status_code == 200, r.json()
    return r.json()["count"]


def test_every_figure_says_when_its_rollups_were_computed(city, week, client_for):
    ran = RollupState.objects.get(key=rollup.AS_OF_KEY).last_run_at
    s = get(client_for, city.secretary, "summary", grid=city.community.pk, **WEEK)
    assert s["as_of"] == ran.isoformat()
    for url in s["drilldown"].values():
        assert parse_qs(urlparse(url).query)["as_of"] == [ran.isoformat()]
    for path, extra in (("timeseries", {"metric": "total"}), ("grid-ranking", {}), ("departments", {})):
        assert get(client_for, city.secretary, path, grid=city.community.pk, **WEEK, **extra)["as_of"] == ran.isoformat()


def test_drilldown_counts_agree_with_the_figures_between_refreshes(city, client_for):
    """A case reported after the refresh is not in the figure: nor in the list the figure opens."""
    now = timezone.now()
    make_case(city.micro, now - timedelta(hours=2))
    make_case(city.sibling_micro, now - timedelta(hours=1), status="closed", responded=now - timedelta(minutes=50),
              resolved=now - timedelta(minutes=30), rating="satisfied")
    rollup.rebuild(now=now)
    today = timezone.localdate(now, TZ)
    period = {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}
    s = get(client_for, city.secretary, "summary", grid=city.community.pk, **period)
    assert s["total"] == 2
    make_case(city.micro, timezone.now())
    make_case(city.sibling_micro, timezone.now(), status="closed", responded=timezone.now(), resolved=timezone.now(),
              rating="satisfied")
    client = client_for(city.secretary)
    assert counted(client, s["drilldown"]["total"]) == s["total"] == 2
    assert counted(client, s["drilldown"]["by_status.reported"]) == s["by_status"]["reported"] == 1
    assert counted(client, s["drilldown"]["satisfaction_rate"]) == s["counts"]["satisfied"] == 1
    for rate, parts in s["parts"].items():  # each rate's two counts are its two lists'
        assert counted(client, s["drilldown"][rate]) == parts["numerator"], rate
        assert counted(client, s["drilldown"][f"{rate}_denominator"]) == parts["denominator"], rate
    # Without the moment, the list has moved on (the two new cases).
    assert counted(client, s["drilldown"]["total"].split("&as_of=")[0]) == 4
    ranked = get(client_for, city.secretary, "grid-ranking", grid=city.grid.pk, metric="total", min_volume=1,
                 **period)["results"]
    assert sum(r["total"] for r in ranked) == 2
    for row in ranked:
        assert counted(client, row["drilldown"]) == row["total"], row["grid"]


def test_as_of_moves_only_when_today_is_recomputed(city, week):
    before = RollupState.objects.get(key=rollup.AS_OF_KEY).last_run_at
    rollup.recompute_days({at("2026-03-02").date()})  # an old day: today's new cases are still not counted
    assert RollupState.objects.get(key=rollup.AS_OF_KEY).last_run_at == before
    rollup.recompute_days({rollup.local_day(timezone.now())})
    assert RollupState.objects.get(key=rollup.AS_OF_KEY).last_run_at > before


def test_previous_period_figures(city, week, client_for):
    # 8–14 March has nothing; 1–7 March is the hand-computed week: the previous period of 8–14 March.
    s = get(client_for, city.secretary, "summary", grid=city.community.pk, **{"from": "2026-03-08", "to": "2026-03-14"})
    prev = s["previous"]
    assert (prev["from"], prev["to"]) == ("2026-03-01", "2026-03-07")
    week_figures = get(client_for, city.secretary, "summary", grid=city.community.pk, **WEEK)
    assert prev["total"] == week_figures["total"] == 6
    for r in kpis.RATES:
        assert prev[r.name] == week_figures[r.name], r.name
    assert prev[kpis.MEDIAN.name] == week_figures[kpis.MEDIAN.name]
    assert s["total"] == 0 and s["response_rate"] is None


def test_ranking_needs_a_minimum_volume_and_shows_it(city, week, client_for):
    rows = get(client_for, city.secretary, "grid-ranking", grid=city.community.pk, metric="on_time_rate",
               **WEEK)
    assert rows["min_volume"] == 10
    # The general grid resolved 3 cases (2 on time), the dedicated grid 1 (on time): neither has 10.
    by_grid = {r["grid"]: r for r in rows["results"]}
    assert (by_grid[city.grid.pk]["volume"], by_grid[city.dedicated.pk]["volume"]) == (3, 1)
    assert all(r["rank"] is None and r["ranked"] is False for r in rows["results"])
    assert [r["grid"] for r in rows["results"]] == [city.grid.pk, city.dedicated.pk]  # larger volume first
    rows = get(client_for, city.secretary, "grid-ranking", grid=city.community.pk, metric="on_time_rate",
               min_volume=2, **WEEK)["results"]
    # 100% on time over one case does not beat 67% over three: the dedicated grid is below the volume.
    assert [(r["grid"], r["rank"], r["ranked"]) for r in rows] == [(city.grid.pk, 1, True),
                                                                   (city.dedicated.pk, None, False)]
    client = client_for(city.secretary)
    assert counted(client, rows[0]["volume_drilldown"]) == rows[0]["volume"]
    assert counted(client, rows[0]["drilldown"]) == 2


def test_ranking_follows_the_period(city, week, client_for):
    march = get(client_for, city.secretary, "grid-ranking", grid=city.community.pk, metric="total", min_volume=0,
                **WEEK)["results"]
    one_day = get(client_for, city.secretary, "grid-ranking", grid=city.community.pk, metric="total", min_volume=0,
                  **{"from": "2026-03-04", "to": "2026-03-04"})["results"]
    assert {r["grid"]: r["total"] for r in march} == {city.grid.pk: 6, city.dedicated.pk: 1}
    assert {r["grid"]: r["total"] for r in one_day} == {city.grid.pk: 1, city.dedicated.pk: 1}


@pytest.mark.parametrize("params,field", [({"with_count": "yes"}, "with_count"), ({"as_of": "soon"}, "as_of")])
def test_bad_count_and_moment_are_400(city, client_for, params, field):
    r = client_for(city.secretary).get("/api/v1/cases/", params)
    assert r.status_code == 400 and field in r.json()["fields"], r.json()


def test_bad_min_volume_is_400(city, client_for):
    r = client_for(city.secretary).get("/api/v1/stats/grid-ranking/", {"min_volume": "-1"})
    assert r.status_code == 400 and "min_volume" in r.json()["fields"]


def test_count_is_one_query_more(city, week, client_for, django_assert_max_num_queries):
    client = client_for(city.secretary)
    url = f"/api/v1/cases/?within={city.community.pk}"
    client.get(url)  # the scope cached
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as plain:
        client.get(url)
    with django_assert_max_num_queries(len(plain.captured_queries) + 1):
        r = client.get(url + "&with_count=true")
    assert r.json()["count"] == 7


def test_drilldown_leaves_out_what_the_figures_cannot_count(city, client_for):
    """The street sees a sensitive case escalated to it (it owns it) in its case list, but the figures count
    sensitive cases only where the caller's role handles them: the drill-down (`in_figures`) agrees with them."""
    from gridcase.cases.models import Case

    make_case(city.micro, at("2026-03-02", "10:00"))
    escalated = make_case(city.micro, at("2026-03-02", "11:00"), cat="care_mental", owner=city.street)
    Case.objects.filter(pk=escalated.pk).update(sensitive=True)
    rollup.rebuild()
    s = get(client_for, city.dispatcher, "summary", grid=city.street.pk, **WEEK)
    client = client_for(city.dispatcher)
    assert s["total"] == 1
    assert counted(client, s["drilldown"]["total"]) == 1
    assert counted(client, s["drilldown"]["total"].replace("&in_figures=true", "")) == 2  # the list shows both
    # A secretary's holds handle sensitive cases: counted, and listed, alike.
    s = get(client_for, city.secretary, "summary", grid=city.community.pk, **WEEK)
    assert s["total"] == counted(client_for(city.secretary), s["drilldown"]["total"]) == 2


def test_drilldown_lists_the_cases_where_they_happened(city, client_for):
    """A figure counts the cases that happened in the subtree; the list `within` it also shows a case owned there
    that happened elsewhere (here: escalated to another community's grid after a move). The drill-down lists the
    figure's cases, so its count is the figure's."""
    make_case(city.micro, at("2026-03-02", "10:00"))
    make_case(city.other_micro, at("2026-03-03", "10:00"), owner=city.grid)  # owned inside, happened elsewhere
    rollup.rebuild()
    s = get(client_for, city.admin, "summary", grid=city.community.pk, **WEEK)
    client = client_for(city.admin)
    assert s["total"] == counted(client, s["drilldown"]["total"]) == 1
    assert counted(client, s["drilldown"]["total"].replace("&in_figures=true", "")) == 2
    street = get(client_for, city.dispatcher, "summary", grid=city.street.pk, **WEEK)
    assert street["total"] == counted(client_for(city.dispatcher), street["drilldown"]["total"]) == 2
