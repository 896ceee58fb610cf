"""Due dates from cadences. Pure functions: no database.

The rule, in words (what a worker sees in "due today"):

1. The next contact of a kind is due `every_n_days` after the last contact that counts for it (a home
   visit also counts as a phone call, see `choices.SATISFIED_BY`), or after the plan started when there
   has been no contact yet.
2. A cadence that is a whole number of 30-day months (30, 60, 90, …) is counted in calendar months: a
   monthly visit made on 31 January is due on 29 February in a leap year, 28 February otherwise, and one
   made on 15 March is due on 15 April. Shorter cadences are plain days, whatever the month.
3. Public holidays (法定节假日, from `chinese-calendar`): an in-person contact (home visit, outreach) with a
   cadence of a week or more whose due date falls on a public holiday is due on the next working day
   instead, counting the make-up working days (调休). Phone and video calls, short cadences (every few
   days) and raised (escalated) cadences never move: a daily call during the Spring Festival is still daily.
   Ordinary weekends do not move anything. Where the calendar has no data (years it does not cover), only
   the fixed-date holidays (1 January, 1 May, 1–3 October) are known.
"""

import calendar
from datetime import date, timedelta

from .choices import IN_PERSON

MONTH_DAYS = 30
HOLIDAY_SHIFT_MIN_DAYS = 7
_FIXED_HOLIDAYS = {(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)}


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_cadence(day: date, every_n_days: int) -> date:
    if every_n_days >= MONTH_DAYS and every_n_days % MONTH_DAYS == 0:
        return add_months(day, every_n_days // MONTH_DAYS)
    return day + timedelta(days=every_n_days)


def is_public_holiday(day: date) -> bool:
    """A statutory public holiday (not an ordinary weekend)."""
    import chinese_calendar

    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return (day.month, day.day) in _FIXED_HOLIDAYS
    return bool(on_holiday and name)


def is_workday(day: date) -> bool:
    import chinese_calendar

    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5 and (day.month, day.day) not in _FIXED_HOLIDAYS


def next_workday_after_holiday(day: date) -> date:
    for _ in range(30):  # the longest holiday is about 9 days; bounded anyway
        if not is_public_holiday(day) and is_workday(day):
            return day
        day += timedelta(days=1)
    return day


def may_move_off_holiday(kind: str, every_n_days: int, escalated: bool = False) -> bool:
    return kind in IN_PERSON and every_n_days >= HOLIDAY_SHIFT_MIN_DAYS and not escalated


def next_due(anchor: date, every_n_days: int, kind: str, escalated: bool = False) -> date:
    """The day a contact of `kind` is due when the last one counting for it was on `anchor`."""
    if every_n_days < 1:
        raise ValueError("a cadence is at least one day")
    due = add_cadence(anchor, every_n_days)
    if may_move_off_holiday(kind, every_n_days, escalated) and is_public_holiday(due):
        due = next_workday_after_holiday(due)
    return due


def on_time_allowance(every_n_days: int) -> int:
    """Longest gap in days that still counts as on time for coverage (a calendar month may have 31 days)."""
    if every_n_days >= MONTH_DAYS and every_n_days % MONTH_DAYS == 0:
        return every_n_days // MONTH_DAYS * 31
    return every_n_days
