"""One grid-and-period parser for every figure: the case statistics and visit coverage take the same `grid`,
`from` and `to`, with the same defaults, limits and errors (gridcase.stats.params)."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from gridcase.core.errors import ValidationFailed
from gridcase.stats import params

pytestmark = pytest.mark.django_db
ENDPOINTS = ("summary", "visit-coverage")


def get(client, path, **query):
    return client.get(f"/api/v1/stats/{path}/", query)


@pytest.mark.parametrize("query", [
    {"from": "2026-03-08", "to": "2026-03-01"},
    {"from": "2020-01-01", "to": "2026-01-01"},
    {"from": "2026-13-01"},
    {"to": "yesterday"},
    {"from": "1800-01-01", "to": "1801-01-01"},
    {"grid": "abc"},
])
def test_both_refuse_the_same_periods_alike(city, client_for, query):
    client = client_for(city.secretary)
    answers = [get(client, path, **query) for path in ENDPOINTS]
    assert {r.status_code for r in answers} == {400}
    (code,) = {r.json()["code"] for r in answers}
    assert code in ("validation_error", "invalid_period")
    (fields,) = {tuple(sorted(r.json()["fields"])) for r in answers}
    assert fields and set(fields) <= {"from", "to", "grid"}


def test_both_default_to_the_last_30_days_of_the_callers_widest_grid(city, client_for):
    today = timezone.localdate(timezone=params.TZ)
    client = client_for(city.secretary)
    summary, coverage = (get(client, path).json() for path in ENDPOINTS)
    assert summary["to"] == coverage["to"] == today.isoformat()
    assert summary["from"] == coverage["from"] == (today - timedelta(days=29)).isoformat()
    assert summary["grid"]["id"] == coverage["grid"] == city.community.pk


def test_both_take_a_period_of_up_to_five_years(city, client_for):
    # Visit coverage used to stop at one year, the statistics at five: the limits are one now.
    client = client_for(city.dispatcher)
    for path in ENDPOINTS:
        r = get(client, path, **{"from": "2022-01-01", "to": "2026-11-14"})
        assert r.status_code == 200, (path, r.json())
        assert r.json()["from"] == "2022-01-01"


@pytest.mark.parametrize("persona", ["outsider", "sibling_worker"])
def test_both_hide_grids_outside_the_scope(city, client_for, persona):
    client = client_for(getattr(city, persona))
    for path in ENDPOINTS:
        r = get(client, path, grid=city.micro.pk)
        assert r.status_code == 404 and r.json()["code"] == "not_found", path


def test_make_period_defaults_and_limits():
    today = date(2026, 3, 31)
    assert params.make_period(None, None, today) == params.Period(date(2026, 3, 2), today)
    assert params.make_period(None, date(2026, 1, 30)).first == date(2026, 1, 1)
    assert params.make_period(date(2026, 1, 1), date(2026, 1, 1)).days == 1
    longest = today - timedelta(days=params.MAX_DAYS - 1)
    assert params.make_period(longest, today).days == params.MAX_DAYS
    with pytest.raises(ValidationFailed) as bad:
        params.make_period(longest - timedelta(days=1), today)
    assert bad.value.code == "invalid_period"
    with pytest.raises(ValidationFailed) as bad:
        params.make_period(date(2026, 4, 1), today, names=("coverage_from", "coverage_to"))
    assert bad.value.code == "invalid_period" and "coverage_from" in bad.value.fields
