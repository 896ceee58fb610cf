"""Due dates across month ends, year ends and Chinese public holidays (pure functions, no database)."""

from datetime import date

import pytest

from gridcase.visits.cadence import add_cadence, is_public_holiday, next_due, on_time_allowance


@pytest.mark.parametrize("last, days, expected", [
    (date(2026, 1, 31), 30, date(2026, 2, 28)),   # monthly from the 31st: end of February
    (date(2028, 1, 31), 30, date(2028, 2, 29)),   # leap year
    (date(2026, 3, 31), 30, date(2026, 4, 30)),   # 30-day month
    (date(2026, 3, 15), 30, date(2026, 4, 15)),   # same day next month
    (date(2026, 11, 30), 90, date(2027, 2, 28)),  # quarterly across the year end
    (date(2026, 1, 30), 7, date(2026, 2, 6)),     # weekly crosses the month end in days
    (date(2026, 2, 27), 2, date(2026, 3, 1)),     # every 2 days over the end of February
    (date(2025, 12, 31), 1, date(2026, 1, 1)),    # daily over the year end
])
def test_cadence_crosses_month_and_year_ends(last, days, expected):
    assert add_cadence(last, days) == expected


def test_home_visit_due_on_national_day_moves_to_next_workday():
    # A weekly home visit last made on 24 September 2026 falls due on 1 October (National Day, 1–7 Oct).
    assert is_public_holiday(date(2026, 10, 1))
    assert next_due(date(2026, 9, 24), 7, "home") == date(2026, 10, 8)


def test_home_visit_due_in_spring_festival_moves_past_the_whole_holiday():
    # Spring Festival 2026: 15–23 February; 28 February is a make-up working Saturday.
    assert next_due(date(2026, 2, 9), 7, "home") == date(2026, 2, 24)


def test_phone_calls_and_short_cadences_never_move():
    assert next_due(date(2026, 9, 29), 2, "phone") == date(2026, 10, 1)
    assert next_due(date(2026, 9, 30), 1, "phone", escalated=True) == date(2026, 10, 1)
    # A home visit every 3 days is too frequent to skip a week of holiday.
    assert next_due(date(2026, 9, 28), 3, "home") == date(2026, 10, 1)
    # Video calls are not in person either.
    assert next_due(date(2026, 9, 24), 7, "video") == date(2026, 10, 1)


def test_ordinary_weekend_does_not_move_a_home_visit():
    # 21 November 2026 is a Saturday, not a public holiday.
    assert next_due(date(2026, 11, 14), 7, "home") == date(2026, 11, 21)


def test_new_year_holiday_uses_the_make_up_working_day():
    # 1–3 January 2026 are holidays; Sunday 4 January is a make-up working day (调休).
    assert next_due(date(2025, 12, 25), 7, "home") == date(2026, 1, 4)


def test_year_beyond_the_calendar_knows_fixed_date_holidays():
    # chinese-calendar has no data for 2027: 1 October is still a holiday, the 4th a Monday.
    assert next_due(date(2027, 9, 24), 7, "home") == date(2027, 10, 4)


def test_zero_cadence_is_refused():
    with pytest.raises(ValueError):
        next_due(date(2026, 1, 1), 0, "home")


def test_monthly_allowance_for_coverage_is_31_days():
    assert on_time_allowance(30) == 31
    assert on_time_allowance(90) == 93
    assert on_time_allowance(7) == 7
