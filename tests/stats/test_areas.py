"""Every rollup row carries its grid's community and street (stats.areas): written with the rows, kept true when a
grid moves to another community, and the dashboards read a street or community by that one value, never by a list
of its grids' ids."""

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gridcase.cases.models import Case, CaseHop
from gridcase.grids import moves
from gridcase.grids.models import Grid
from gridcase.stats import areas, holds, rollup
from gridcase.stats.models import CaseDailyRollup, HoldRollup
from gridcase.stats.params import Period
from tests import factories as f

from .helpers import fixture
from .test_stats import _direct, _random_cases, get

pytestmark = pytest.mark.django_db
MARCH = {"from": "2026-02-20", "to": "2026-04-10"}


def _hops(city):
    """One ended hop per case (its grid held it for a few hours, ended today), so the hold-time rollup has rows."""
    now = timezone.now()
    for i, case in enumerate(Case.objects.order_by("id")):
        CaseHop.objects.create(case=case, kind="grid", grid=case.grid, grid_level=case.grid.level,
                               start_action="create", started_at=now - timedelta(hours=3 + i % 5),
                               ended_at=now - timedelta(hours=1), end_action="escalate")


def _rebuilt(city):
    fixture(city)
    _random_cases(city, 60, seed=3)
    _hops(city)
    rollup.rebuild()
    holds.rebuild()


def test_every_rollup_row_carries_its_grids_community_and_street(city):
    _rebuilt(city)
    for model in areas.models_in_area():
        rows = list(model.objects.values_list("grid_id", "community_id", "street_id"))
        expected = areas.of({g for g, _c, _s in rows})
        assert all((c, s) == expected[g] for g, c, s in rows), model.__name__
    micro_rows = CaseDailyRollup.objects.filter(grid=city.micro)
    assert set(micro_rows.values_list("community_id", "street_id")) == {(city.community.pk, city.street.pk)}
    assert set(HoldRollup.objects.filter(grid=city.other_micro).values_list("community_id", "street_id")) == \
        {(city.other_community.pk, city.street.pk)}


def test_a_grid_moved_to_another_community_takes_its_rows_along(city, client_for):
    _rebuilt(city)
    moves.move_grid(city.admin, Grid.objects.get(pk=city.other_grid.pk), Grid.objects.get(pk=city.community.pk))
    for name in ("community", "other_community", "street"):
        grid = Grid.objects.get(pk=getattr(city, name).pk)  # fresh tree numbering
        s = get(client_for, city.admin, "summary", grid=grid.pk, **MARCH).json()
        assert s["total"] == _direct(grid, date(2026, 2, 20), date(2026, 4, 10))[0]["created"], name
    assert set(CaseDailyRollup.objects.filter(grid=city.other_micro).values_list("community_id", flat=True)) == \
        {city.community.pk}
    community = Grid.objects.get(pk=city.community.pk)
    today = timezone.localdate()
    hops = {r["level"]: r["hops"] for r in holds.hold_times(community, Period(today - timedelta(days=1), today))[
        "results"]}
    assert hops == {"micro_grid": Case.objects.count()}  # every case's hop: their micro-grids are all there now
    ranking = get(client_for, city.admin, "grid-ranking", grid=city.street.pk, **MARCH).json()["results"]
    assert {r["grid"]: r["total"] for r in ranking}[city.other_community.pk] == 0


def grid_id_lists(sql: str) -> list[str]:
    """`IN (…)` lists of three or more literal numbers in a statement."""
    return re.findall(r"IN \((?:\d+, ){2,}\d+\)", sql)


@pytest.mark.parametrize("path", ["summary", "timeseries", "grid-ranking", "departments", "hold-times",
                                  "visit-coverage"])
def test_a_street_or_community_is_read_by_its_id_not_its_grids(city, client_for, path):
    for i in range(3, 9):
        f.grid(f"ST-BLZ-G01-M{i:02d}", f"微网格{i}", "micro_grid", city.grid)
    _rebuilt(city)
    for grid in (city.street, city.community):
        with CaptureQueriesContext(connection) as ctx:
            r = get(client_for, city.dispatcher, path, grid=grid.pk, **MARCH)
            assert r.status_code == 200, r.json()
        for q in ctx.captured_queries:
            assert not grid_id_lists(q["sql"]), (path, q["sql"][:500])
            if grid == city.street:  # its rows and its communities' by their copied ids: no tree in the statement
                assert "grids_grid" not in q["sql"] or "stats_" not in q["sql"], (path, q["sql"][:500])
