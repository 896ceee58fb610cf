"""Working time: 09:00–12:00 and 13:30–18:00 Asia/Shanghai on working days.

Working days are Monday–Friday, except the days in the `CalendarDay` table: public holidays (放假) and the
make-up working days on a weekend (调休, e.g. Saturday 2026-10-10 after National Day). The table is seeded
from `chinese_calendar`, filled each year from the State Council notice (`manage.py calendar import`) and
editable in the admin. A year with no data (no complete `CalendarYear` row) counts weekends only; `warnings()`
says so to /readyz and the console.

The table is read once per process into memory (no query per day or per deadline). Any change through the
ORM calls `invalidate()`, which drops this process's copy and bumps a version key in the shared cache;
other processes look at that key at most every `CHECK_EVERY` seconds and reload at most every `MAX_AGE`
seconds regardless. If the table cannot be read (database down, not migrated yet) the package's data is
used until it can.
"""

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import monotonic
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
PERIODS = ((time(9, 0), time(12, 0)), (time(13, 30), time(18, 0)))
DAY_SECONDS = sum((datetime.combine(date.min, e) - datetime.combine(date.min, s)).seconds for s, e in PERIODS)

VERSION_KEY = "gridcase:workcalendar:version"
CHECK_EVERY = 10.0  # seconds between looks at the shared version key
MAX_AGE = 300.0  # seconds after which a process reloads the table anyway
LOOKAHEAD = timedelta(days=31)  # next year's calendar is needed from 1 December (deadlines run into January)

log = logging.getLogger(__name__)


@dataclass
class Calendar:
    """One snapshot of the calendar: the days that break the Monday–Friday rule and the years covered."""

    days: dict  # date -> True (make-up working day) | False (holiday)
    years: frozenset  # years whose data is complete
    version: object = None
    from_table: bool = True
    loaded_at: float = field(default_factory=monotonic)
    _cum: list | None = None

    def is_workday(self, day: date) -> bool:
        special = self.days.get(day)
        return day.weekday() < 5 if special is None else special

    def cum(self) -> list:
        """Cumulative working seconds at the start of each day of the window, for O(log n) arithmetic."""
        if self._cum is None:
            total, cum = 0, []
            for i in range(_DAYS + 1):
                cum.append(total)
                if self.is_workday(_EPOCH + timedelta(days=i)):
                    total += DAY_SECONDS
            self._cum = cum
        return self._cum


_current: Calendar | None = None
_checked_at = 0.0
_lock = threading.Lock()


def _shared_version():
    from django.core.cache import cache

    try:
        return cache.get(VERSION_KEY)
    except Exception:  # noqa: BLE001 - a cache outage must not stop deadline arithmetic; MAX_AGE still applies
        return None


def _bump_shared_version():
    from django.core.cache import cache

    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, None)
    except Exception:  # noqa: BLE001
        log.warning("Could not publish a calendar change to the shared cache; other processes reload within %ss",
                    MAX_AGE)


def package_calendar() -> tuple[dict, dict, frozenset]:
    """What the installed chinese-calendar knows: ({date: is_workday}, {date: name}, years covered)."""
    from chinese_calendar import constants

    days = {d: False for d in constants.holidays} | {d: True for d in constants.workdays}
    names = {**constants.holidays, **constants.workdays}
    years = frozenset(range(min(constants.holidays).year, max(constants.holidays).year + 1))
    return days, names, years


def _load(version) -> Calendar:
    from django.db import transaction

    from .models import CalendarDay, CalendarYear

    try:
        # A savepoint: a missing table or a lost connection must not break the caller's transaction.
        with transaction.atomic():
            days = {d: kind == CalendarDay.Kind.WORKDAY for d, kind in CalendarDay.objects.values_list("date", "kind")}
            years = frozenset(CalendarYear.objects.filter(complete=True).values_list("year", flat=True))
        return Calendar(days, years, version)
    except Exception as exc:  # noqa: BLE001 - never fail a deadline because the table cannot be read
        log.warning("Working calendar table unreadable (%s); using the chinese-calendar package's data",
                    exc.__class__.__name__)
        days, _names, years = package_calendar()
        return Calendar(days, years, version, from_table=False)


def current_calendar() -> Calendar:
    """The calendar in force, from this process's copy when it is fresh."""
    global _current, _checked_at
    cal, now = _current, monotonic()
    if cal is not None and now - _checked_at < CHECK_EVERY:
        return cal
    with _lock:
        cal, version = _current, _shared_version()
        if cal is None or not cal.from_table or cal.version != version or now - cal.loaded_at >= MAX_AGE:
            cal = _current = _load(version)
        _checked_at = now
    return cal


def forget() -> None:
    """Drop this process's copy (the next computation reloads the table)."""
    global _current
    _current = None


def invalidate() -> None:
    """The table changed: reload here now and in every process (again once the transaction commits, so no
    process keeps a copy read before the commit)."""
    from django.db import transaction

    def publish():
        forget()
        _bump_shared_version()

    publish()
    try:
        transaction.on_commit(publish)
    except Exception:  # noqa: BLE001 - no usable connection: the immediate publish has done it
        pass


def is_workday(day: date) -> bool:
    return current_calendar().is_workday(day)


def missing_years(today: date | None = None) -> list[int]:
    """Years the SLA clock needs now (this one, and the next from December) that have no complete data."""
    from django.utils import timezone

    today = today or timezone.localdate()
    covered = current_calendar().years
    return [y for y in range(today.year, (today + LOOKAHEAD).year + 1) if y not in covered]


def warnings(today: date | None = None) -> list[dict]:
    """Operator warnings about the calendar, for /readyz and the console: `[{code, years, message}]`."""
    from django.utils.translation import gettext

    years = missing_years(today)
    if not years:
        return []
    message = gettext("No holiday calendar for %(years)s: deadlines in it count weekends only. Import the State "
                      "Council notice (manage.py calendar import) or enter the days in the admin.")
    return [{"code": "calendar_missing", "years": years,
             "message": message % {"years": ", ".join(map(str, years))}}]


def _periods(day: date):
    for start, end in PERIODS:
        yield datetime.combine(day, start, TZ), datetime.combine(day, end, TZ)


# The window of the cumulative table (Calendar.cum); outside it, the day-by-day walk.
_EPOCH = date(2015, 1, 1)
_DAYS = 365 * 25


_SECS = [(s.hour * 3600 + s.minute * 60, e.hour * 3600 + e.minute * 60) for s, e in PERIODS]


def _to_working(local: datetime) -> float | None:
    """Working seconds from the window's start to `local` (Asia/Shanghai); None outside the window."""
    i = (local.date() - _EPOCH).days
    if not 0 <= i < _DAYS:
        return None
    cum = current_calendar().cum()
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

    cum = current_calendar().cum()
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
    cal = current_calendar()
    remaining = timedelta(hours=float(hours))
    out_tz = start.tzinfo
    current = start.astimezone(TZ)
    day = current.date()
    if remaining <= timedelta(0):
        return start
    while True:
        if cal.is_workday(day):
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
    cal, total = current_calendar(), 0.0
    day = a.date()
    while day <= b.date():
        if cal.is_workday(day):
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
