"""Visit coverage figures against a fixture computed by hand.

Period 1–14 November 2026; every plan started on 1 October. Residents and why they are (not) on time:

  A 王秀英  elderly_alone (home 7, phone 2)  micro     calls every 2 days, home visits 31 Oct, 7 and 14 Nov  → on time
  B 李建国  low_income (home monthly: 31 d)  sibling   one home visit on 20 Oct, 25 days before the 14th     → on time
  C 陈伯    disabled (home 14, phone 7)      sibling   home 25 Oct, next call 3 Nov: 9 days > 7            → late
  D 赵敏    low_income                        other     never visited since 1 Oct: 44 days > 31             → late
  E 钱叔    elderly_alone + veteran           micro     calls every 2 days, last home visit 28 Oct: 17 > 7 → late

  overall 5 residents, 2 on time; 八里庄社区 4/2, 和惠社区 1/0;
  elderly_alone 2/1, low_income 2/1, disabled 1/0, veteran 1/0.
"""

from datetime import date, timedelta

import pytest

from gridcase.grids.services import set_resident_tags
from gridcase.visits import coverage
from gridcase.visits.models import CarePlan

from .. import factories as f
from .. import persona
from .conftest import at, log_visit, tag

URL = "/api/v1/stats/visit-coverage/"
PERIOD = {"from": "2026-11-01", "to": "2026-11-14"}


def every(first: date, last: date, step: int):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=step)


@pytest.fixture
def history(request, city, today):
    """The residents and visits above: built once with the city snapshot (tests/persona.py), under the pinned
    clock (`today` is pinned before the snapshot is built)."""
    return persona.layer_value(request, "history") or build_history(city)


@persona.layer("history")
def build_history(city):
    c = f.resident(f.household(city.sibling_unit, "202"), "陈伯", tags=["disabled"])
    e = f.resident(f.household(city.unit, "102"), "钱叔", tags=["elderly_alone", "veteran"])
    set_resident_tags(city.sibling_resident, [tag("low_income")])
    set_resident_tags(city.other_resident, [tag("low_income")])
    CarePlan.objects.update(started_on=date(2026, 10, 1))
    # A bulk update bypasses the plan's service: the coverage rollup's rows are rewritten as the hourly job would.
    coverage.recompute(CarePlan.objects.values_list("resident_id", flat=True))
    for day in every(date(2026, 10, 31), date(2026, 11, 14), 2):
        log_visit(city.worker, city.resident, "phone", at(day))
        log_visit(city.worker, e, "phone", at(day))
    for day in (date(2026, 10, 31), date(2026, 11, 7), date(2026, 11, 14)):
        log_visit(city.worker, city.resident, "home", at(day, 7))
    log_visit(city.worker, e, "home", at(date(2026, 10, 28)))
    log_visit(city.sibling_worker, city.sibling_resident, "home", at(date(2026, 10, 20)))
    log_visit(city.sibling_worker, c, "home", at(date(2026, 10, 25)))
    log_visit(city.sibling_worker, c, "phone", at(date(2026, 11, 3)))
    log_visit(city.sibling_worker, c, "home", at(date(2026, 11, 12)))
    return {"C": c, "E": e}


def figures(rows, key):
    return {r[key]: (r["residents"], r["on_time"]) for r in rows}


def test_street_coverage_matches_the_hand_computed_figures(city, history, client_for):
    response = client_for(city.dispatcher).get(URL, {"grid": city.street.pk, **PERIOD})
    assert response.status_code == 200, response.data
    data = response.data
    assert {k: data["overall"][k] for k in ("residents", "on_time", "rate")} == {"residents": 5, "on_time": 2,
                                                                                  "rate": 0.4}
    assert figures(data["by_grid"], "grid") == {city.community.pk: (4, 2), city.other_community.pk: (1, 0)}
    assert figures(data["by_tag"], "tag") == {"elderly_alone": (2, 1), "low_income": (2, 1), "disabled": (1, 0),
                                              "veteran": (1, 0)}
    rates = {r["grid"]: r["rate"] for r in data["by_grid"]}
    assert rates == {city.community.pk: 0.5, city.other_community.pk: 0.0}


def test_community_and_micro_grid_views(city, history, client_for):
    data = client_for(city.secretary).get(URL, {"grid": city.community.pk, **PERIOD}).data
    assert figures([data["overall"]], "rate") == {0.5: (4, 2)}
    assert figures(data["by_grid"], "grid") == {city.grid.pk: (4, 2), city.dedicated.pk: (0, 0)}
    data = client_for(city.worker).get(URL, {"grid": city.micro.pk, **PERIOD}).data
    assert figures([data["overall"]], "rate") == {0.5: (2, 1)}
    assert figures(data["by_grid"], "grid") == {city.micro.pk: (2, 1)}


def test_a_later_visit_inside_the_period_can_still_be_late(city, history, client_for):
    # Shorten the period to end on 2 November: C's gap (25 Oct → 3 Nov) is still open on the 2nd, 8 days > 7.
    data = client_for(city.dispatcher).get(URL, {"grid": city.street.pk, "from": "2026-11-01",
                                                 "to": "2026-11-02"}).data
    assert figures(data["by_tag"], "tag")["disabled"] == (1, 0)
    # E's last home visit (28 Oct) is within 7 days of 1–2 November: on time in that short period.
    assert figures(data["by_tag"], "tag")["veteran"] == (1, 1)


def test_caller_without_grid_gets_their_widest_grid(city, history, client_for):
    data = client_for(city.secretary).get(URL, PERIOD).data
    assert data["grid"] == city.community.pk and data["overall"]["residents"] == 4


@pytest.mark.parametrize("persona", ["outsider", "sibling_worker", "officer"])
def test_grids_outside_the_scope_are_404(city, history, client_for, persona):
    response = client_for(getattr(city, persona)).get(URL, {"grid": city.micro.pk, **PERIOD})
    assert response.status_code == 404 and response.data["code"] == "not_found"


@pytest.mark.parametrize("params,code,field", [
    ({"from": "2026-11-14", "to": "2026-11-01"}, "invalid_period", "from"),
    ({"from": "yesterday"}, "validation_error", "from"),
    ({"grid": "x"}, "validation_error", "grid"),
    ({"from": "2020-01-01", "to": "2026-11-14"}, "invalid_period", "from"),  # over five years, as for every figure
])
def test_bad_periods_are_400(city, client_for, params, code, field):
    response = client_for(city.dispatcher).get(URL, params)
    assert response.status_code == 400 and response.data["code"] == code and field in response.data["fields"]


def test_coverage_query_count_is_constant(city, history, client_for, django_assert_max_num_queries):
    client = client_for(city.dispatcher)
    with django_assert_max_num_queries(7):
        response = client.get(URL, {"grid": city.street.pk, **PERIOD})
    assert response.status_code == 200, response.data
    for i in range(5):
        f.resident(f.household(city.unit, f"{700 + i}"), f"新{i}", tags=["elderly_80"])
    with django_assert_max_num_queries(7):
        response = client.get(URL, {"grid": city.street.pk, **PERIOD})
    assert response.status_code == 200, response.data


def test_every_figure_drills_down_to_its_care_plans(city, history, client_for):
    client = client_for(city.dispatcher)
    params = {"coverage_from": PERIOD["from"], "coverage_to": PERIOD["to"], "active": "true"}
    late = client.get("/api/v1/care-plans/", {**params, "coverage": "late"}).data["results"]
    on_time = client.get("/api/v1/care-plans/", {**params, "coverage": "on_time"}).data["results"]
    assert {p["resident_name"] for p in late} == {"陈伯", "赵敏", "钱叔"}
    assert {p["resident_name"] for p in on_time} == {"王秀英", "李建国"}
    # Narrowed like the figure it came from: the community's late low-income residents are none.
    narrowed = client.get("/api/v1/care-plans/", {**params, "coverage": "late", "within": city.community.pk,
                                                  "tag": "low_income"}).data["results"]
    assert narrowed == []
    # The secretary's drill-down never shows another community's residents.
    mine = client_for(city.secretary).get("/api/v1/care-plans/", {**params, "coverage": "late"}).data["results"]
    assert {p["resident_name"] for p in mine} == {"陈伯", "钱叔"}


def test_every_figure_carries_its_drilldown_with_the_same_count(city, history, client_for):
    """Each coverage figure (overall, per tag, per sub-grid) names the care-plan lists behind it: on time and
    late, whose counts (`with_count`) are the figure's."""
    for user, grid in ((city.dispatcher, city.street), (city.secretary, city.community)):
        client = client_for(user)
        data = client.get(URL, {"grid": grid.pk, **PERIOD}).data
        for row in [data["overall"], *data["by_tag"], *data["by_grid"]]:
            on_time = client.get(row["drilldown"] + "&with_count=true")
            late = client.get(row["late_drilldown"] + "&with_count=true")
            assert on_time.status_code == 200 and late.status_code == 200, (on_time.data, late.data)
            assert on_time.data["count"] == row["on_time"] == len(on_time.data["results"]), row
            assert late.data["count"] == row["residents"] - row["on_time"], row


# --- the rollup the figures are read from ---------------------------------------------------------------------------

PERIODS = [(date(2026, 11, 1), date(2026, 11, 14)), (date(2026, 11, 1), date(2026, 11, 2)), (date(2026, 11, 5),
           date(2026, 11, 5)), (date(2026, 10, 1), date(2026, 11, 16)), (date(2026, 10, 20), date(2026, 11, 3))]


def same_as_raw(city):
    """Every figure from the rollup equals the raw computation from the visits, for the street, a community, a
    micro-grid and everywhere, over periods long, short and one day."""
    from gridcase.grids.models import Grid
    from gridcase.grids.scoping import Scope
    from gridcase.stats.params import Period

    everyone = Scope(user_id=None, is_global=True)
    for name in ("street", "community", "other_community", "micro", None):
        grid = Grid.objects.get(pk=getattr(city, name).pk) if name else None  # fresh tree numbering (moves)
        for first, last in PERIODS:
            period = Period(first, last)
            assert coverage.visit_coverage(everyone, grid, period) == \
                coverage.visit_coverage(everyone, grid, period, raw=True), (grid, first, last)


def test_rollup_figures_equal_the_raw_computation_after_visit_writes(city, history, client_for):
    same_as_raw(city)
    overall = client_for(city.dispatcher).get(URL, {"grid": city.street.pk, **PERIOD}).data["overall"]
    assert (overall["residents"], overall["on_time"]) == (5, 2)
    # D (never visited since 1 October, monthly) gets a home visit logged for 31 October: 30 days after the plan's
    # start, 14 before the period's end, so D is on time at once, without waiting for the hourly job. C's extra
    # call on 31 October does not close C's later gap (3 → 12 November, 9 days > 7): still late.
    log_visit(city.sibling_worker, history["C"], "phone", at(date(2026, 10, 31)))
    log_visit(city.admin, city.other_resident, "home", at(date(2026, 10, 31)))
    same_as_raw(city)
    overall = client_for(city.dispatcher).get(URL, {"grid": city.street.pk, **PERIOD}).data["overall"]
    assert (overall["residents"], overall["on_time"]) == (5, 3)


def test_the_hourly_refresh_catches_visits_stored_around_the_service(city, history, client_for, today):
    from gridcase.visits.models import Visit

    today.days(1)
    coverage.refresh()
    today.days(1)  # a day later: only what was stored since the last run is recomputed
    # A visit written straight to the table (an import, a bulk load): the figures lag until the hourly job.
    d = city.other_resident
    Visit.objects.create(visitor=city.admin, resident=d, household=d.household, grid=d.grid, kind="home",
                         visited_at=at(date(2026, 10, 31)), wellbeing="good")
    stale = client_for(city.dispatcher).get(URL, {"grid": city.street.pk, **PERIOD}).data["overall"]["on_time"]
    assert coverage.refresh() == {"residents": 1}
    fresh = client_for(city.dispatcher).get(URL, {"grid": city.street.pk, **PERIOD}).data["overall"]["on_time"]
    assert (stale, fresh) == (2, 3)
    same_as_raw(city)


def test_rollup_rows_follow_a_unit_moved_to_another_micro_grid(city, history, client_for):
    response = client_for(city.secretary).post(f"/api/v1/units/{city.unit.pk}/move/",
                                               {"to": city.sibling_micro.pk}, format="json")
    assert response.status_code == 200, response.data
    moved = client_for(city.secretary).get(URL, {"grid": city.sibling_micro.pk, **PERIOD}).data["overall"]
    assert moved["residents"] == 4  # 李建国 and 陈伯 were there already; 王秀英 and 钱叔 came with their unit
    same_as_raw(city)


def test_rollup_rows_follow_a_grid_moved_to_another_community(city, history, client_for):
    from gridcase.grids import moves
    from gridcase.grids.models import Grid

    moves.move_grid(city.admin, Grid.objects.get(pk=city.other_grid.pk), Grid.objects.get(pk=city.community.pk))
    same_as_raw(city)  # the street, both communities (one now empty) and each sub-grid's figures
    moved = client_for(city.dispatcher).get(URL, {"grid": city.other_community.pk, **PERIOD}).data["overall"]
    assert moved["residents"] == 0
