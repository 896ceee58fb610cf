"""Working time: 09:00–12:00 and 13:30–18:00 Asia/Shanghai on working days.

Working days come from `chinese_calendar`, which knows public holidays and their make-up working days
(调休, e.g. Saturday 2026-10-10 after National Day). Outside the years it covers, Monday–Friday.
"""

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

TZ = ZoneInfo("Asia/Shanghai")
PERIODS = ((time(9, 0), time(12, 0)), (time(13, 30), time(18, 0)))
DAY_SECONDS = sum((datetime.combine(date.min, e) - datetime.combine(date.min, s)).seconds for s, e in PERIODS)


@lru_cache(maxsize=4096)
def is_workday(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # year not covered by the installed data
        return day.weekday() < 5


def _periods(day: date):
    for start, end in PERIODS:
        yield datetime.combine(day, start, TZ), datetime.combine(day, end, TZ)


# Cumulative working seconds at the start of each day of a window, for O(log n) arithmetic in bulk loads.
_EPOCH = date(2015, 1, 1)
_DAYS = 365 * 20
_cum: list[int] = []


def _table():
    if not _cum:
        total = 0
        for i in range(_DAYS + 1):
            _cum.append(total)
            if is_workday(_EPOCH + timedelta(days=i)):
                total += DAY_SECONDS
    return _cum


_SECS = [(s.hour * 3600 + s.minute * 60, e.hour * 3600 + e.minute * 60) for s, e in PERIODS]


def _to_working(local: datetime) -> float | None:
    """Working seconds from the window's start to `local` (Asia/Shanghai); None outside the window."""
    i = (local.date() - _EPOCH).days
    if not 0 <= i < _DAYS:
        return None
    cum = _table()
    base = cum[i]
    if cum[i + 1] == base:  # not a working day
        return float(base)
    sec = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    done = 0.0
    for a, b in _SECS:
        if sec >= b:
            done += b - a
        elif sec > a:
            done += sec - a
    return base + done


def _from_working(w: float) -> datetime | None:
    """The earliest instant with `w` working seconds since the window's start."""
    from bisect import bisect_left

    cum = _table()
    i = bisect_left(cum, w) - 1  # last day starting strictly before w (w > cum[i])
    if i < 0:
        i = 0
    if i >= _DAYS:
        return None
    left = w - cum[i]
    day = _EPOCH + timedelta(days=i)
    for a, b in _SECS:
        if left <= b - a:
            sec = a + left
            return datetime.combine(day, time(0, 0), TZ) + timedelta(seconds=sec)
        left -= b - a
    return None


def add_working_hours(start: datetime, hours: float) -> datetime:
    """The instant `hours` of working time after `start` (an aware datetime); returned in `start`'s zone."""
    if hours > 0:
        w = _to_working(start.astimezone(TZ))
        if w is not None:
            end = _from_working(w + float(hours) * 3600)
            if end is not None:
                return end.astimezone(start.tzinfo)
    return _add_working_hours_slow(start, hours)


def _add_working_hours_slow(start: datetime, hours: float) -> datetime:
    remaining = timedelta(hours=float(hours))
    out_tz = start.tzinfo
    current = start.astimezone(TZ)
    day = current.date()
    if remaining <= timedelta(0):
        return start
    while True:
        if is_workday(day):
            # Whole free day: skip it in one step.
            if current <= datetime.combine(day, PERIODS[0][0], TZ) and remaining > timedelta(seconds=DAY_SECONDS):
                remaining -= timedelta(seconds=DAY_SECONDS)
            else:
                for p_start, p_end in _periods(day):
                    if current >= p_end:
                        continue
                    begin = max(current, p_start)
                    available = p_end - begin
                    if remaining <= available:
                        return (begin + remaining).astimezone(out_tz)
                    remaining -= available
                    current = p_end
        day += timedelta(days=1)
        current = datetime.combine(day, time(0, 0), TZ)


def working_seconds_between(start: datetime, end: datetime) -> float:
    """Working time between two instants, in seconds (0 when end <= start)."""
    if end <= start:
        return 0.0
    a, b = start.astimezone(TZ), end.astimezone(TZ)
    total = 0.0
    day = a.date()
    while day <= b.date():
        if is_workday(day):
            for p_start, p_end in _periods(day):
                lo, hi = max(a, p_start), min(b, p_end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total


def shift_hours(instant: datetime, hours: float, working: bool) -> datetime:
    """Move `instant` by `hours` (negative: earlier), counted in working time where `working`."""
    hours = float(hours)
    if hours >= 0:
        return add_hours(instant, hours, working)
    if working:
        w = _to_working(instant.astimezone(TZ))
        if w is not None:
            earlier = _from_working(max(w + hours * 3600, 0.0))
            if earlier is not None:
                return earlier.astimezone(instant.tzinfo)
    return instant + timedelta(hours=hours)


def add_hours(start: datetime, hours: float, working: bool) -> datetime:
    return add_working_hours(start, hours) if working else start + timedelta(hours=float(hours))
