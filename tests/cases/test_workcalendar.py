"""Working time across Chinese public holidays and make-up working days (调休), from chinese_calendar."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gridcase.cases.workcalendar import add_hours, add_working_hours, is_workday, working_seconds_between

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=SH)


def test_the_2026_calendar_is_known():
    # National Day 2026-10-01..07 is off; Saturday 2026-10-10 is a make-up working day.
    assert not any(is_workday(at(2026, 10, d).date()) for d in range(1, 8))
    assert is_workday(at(2026, 10, 10).date()) and at(2026, 10, 10).weekday() == 5
    assert not is_workday(at(2026, 10, 17).date())


@pytest.mark.parametrize("start, hours, expected", [
    (at(2026, 9, 29, 10, 0), 2, at(2026, 9, 29, 12, 0)),        # plain morning
    (at(2026, 9, 29, 11, 30), 1, at(2026, 9, 29, 14, 0)),       # lunch break 12:00–13:30 is not counted
    (at(2026, 9, 29, 20, 0), 1, at(2026, 9, 30, 10, 0)),        # evening report: clock starts next morning
    (at(2026, 9, 30, 17, 0), 2, at(2026, 10, 8, 10, 0)),        # across the whole National Day holiday
    (at(2026, 10, 3, 9, 0), 7.5, at(2026, 10, 8, 18, 0)),       # reported during the holiday
    (at(2026, 10, 9, 17, 0), 2, at(2026, 10, 10, 10, 0)),       # Saturday 10-10 is a make-up working day
    (at(2026, 10, 16, 17, 0), 2, at(2026, 10, 19, 10, 0)),      # an ordinary weekend is skipped
    (at(2026, 9, 28, 9, 0), 22.5, at(2026, 9, 30, 18, 0)),      # three full working days
    (at(2026, 9, 28, 9, 0), 30, at(2026, 10, 8, 18, 0)),        # four working days, holiday in between
])
def test_add_working_hours(start, hours, expected):
    assert add_working_hours(start, hours) == expected


def test_result_keeps_the_callers_timezone():
    start = at(2026, 9, 30, 17, 0).astimezone(ZoneInfo("UTC"))
    end = add_working_hours(start, 2)
    assert end.tzinfo == ZoneInfo("UTC") and end == at(2026, 10, 8, 10, 0)


def test_calendar_hours_ignore_holidays():
    assert add_hours(at(2026, 9, 30, 17, 0), 2, working=False) == at(2026, 9, 30, 19, 0)
    assert add_hours(at(2026, 9, 30, 17, 0), 2, working=True) == at(2026, 10, 8, 10, 0)


def test_working_time_between_is_the_inverse():
    start = at(2026, 9, 30, 17, 0)
    for hours in (0.5, 1, 2, 7.5, 12, 40):
        end = add_working_hours(start, hours)
        assert working_seconds_between(start, end) == pytest.approx(hours * 3600)
    assert working_seconds_between(at(2026, 10, 1, 9), at(2026, 10, 7, 18)) == 0
    assert working_seconds_between(at(2026, 10, 2), at(2026, 10, 1)) == 0


def test_years_outside_the_data_fall_back_to_weekdays():
    monday = datetime(2099, 6, 1, 9, 0, tzinfo=SH)
    assert monday.weekday() == 0
    assert add_working_hours(monday + timedelta(days=4, hours=8.5), 1) == monday + timedelta(days=7, minutes=30)


def test_fast_table_agrees_with_day_by_day_walk():
    import random

    from gridcase.cases.workcalendar import _add_working_hours_slow

    rng = random.Random(7)
    for _ in range(3000):
        start = at(2026, 1, 1) + timedelta(minutes=rng.randrange(0, 365 * 24 * 60), seconds=rng.randrange(60))
        hours = rng.choice([0.25, 0.5, 1, 2, 3, 4.5, 7.5, 8, 15, 22.5, 37.5, 75, 150]) * rng.choice([1, 1, 0.37])
        assert add_working_hours(start, hours) == _add_working_hours_slow(start, hours), (start, hours)
