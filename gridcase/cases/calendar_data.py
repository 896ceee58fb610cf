"""Filling the working calendar (CalendarDay / CalendarYear): from the chinese-calendar package, or from a
file transcribing the State Council's yearly notice (国务院办公厅关于某年部分节假日安排的通知).

File format (UTF-8), CSV with a header line, or JSON:

    # 2027 部分节假日安排 (lines starting with # are comments)
    date,kind,name
    2027-01-01,holiday,元旦
    2027-02-06..2027-02-13,holiday,春节
    2027-02-20,workday,春节

    [{"date": "2027-01-01", "kind": "holiday", "name": "元旦"}, ...]   (or {"days": [...]})

`date` is a day or an inclusive range `start..end`; `kind` is `holiday` (a day off, 放假/休) or `workday`
(a make-up working day on a Saturday or Sunday, 调休上班/班); `name` is optional. The file is the whole truth
for every year it mentions: importing replaces those years' days and marks them complete.
"""

import csv
import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from django.db import transaction

from . import workcalendar
from .models import CalendarDay, CalendarYear

KINDS = {
    "holiday": CalendarDay.Kind.HOLIDAY, "放假": CalendarDay.Kind.HOLIDAY, "休": CalendarDay.Kind.HOLIDAY,
    "workday": CalendarDay.Kind.WORKDAY, "上班": CalendarDay.Kind.WORKDAY, "班": CalendarDay.Kind.WORKDAY,
    "调休": CalendarDay.Kind.WORKDAY,
}
MAX_RANGE_DAYS = 31  # a longer range is a typo, not a holiday
MAX_BYTES = 1_000_000


class CalendarFileError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Day:
    date: date
    kind: str
    name: str


def _parse_date(text: str) -> date:
    value = date.fromisoformat(text.strip())
    if not 1949 <= value.year <= 2200:
        raise ValueError(text)
    return value


def _expand(where: str, raw_date, raw_kind, raw_name) -> tuple[list[Day], list[str]]:
    problems = []
    text = str(raw_date or "").strip()
    kind = KINDS.get(str(raw_kind or "").strip().lower())
    name = str(raw_name or "").strip()[:60]
    if kind is None:
        problems.append(f"{where}: kind {raw_kind!r} is neither 'holiday' nor 'workday'")
    try:
        first, _, last = text.partition("..")
        start = _parse_date(first)
        end = _parse_date(last) if last else start
    except ValueError:
        return [], problems + [f"{where}: date {text!r} is not YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD"]
    if end < start or (end - start).days >= MAX_RANGE_DAYS:
        return [], problems + [f"{where}: range {text!r} runs backwards or longer than {MAX_RANGE_DAYS} days"]
    if problems:
        return [], problems
    days = [Day(start + timedelta(days=i), kind, name) for i in range((end - start).days + 1)]
    for day in days:
        if kind == CalendarDay.Kind.WORKDAY and day.date.weekday() < 5:
            problems.append(f"{where}: {day.date} is a weekday; a make-up working day falls on a Saturday or Sunday")
    return days, problems


def parse(text: str, filename: str = "") -> list[Day]:
    """The days of a calendar file (see the module's docstring); CalendarFileError lists every problem."""
    stripped = text.lstrip("\ufeff").strip()
    rows: list[tuple[str, object, object, object]] = []
    if filename.lower().endswith(".json") or stripped[:1] in ("[", "{"):
        try:
            data = json.loads(stripped)
        except ValueError as exc:
            raise CalendarFileError([f"not valid JSON: {exc}"]) from None
        if isinstance(data, dict):
            data = data.get("days")
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise CalendarFileError(["JSON must be a list of {date, kind, name} objects (or {\"days\": [...]})"])
        rows = [(f"item {i}", item.get("date"), item.get("kind"), item.get("name")) for i, item in enumerate(data, 1)]
    else:
        lines = [(n, line) for n, line in enumerate(stripped.splitlines(), 1)
                 if line.strip() and not line.lstrip().startswith("#")]
        if not lines:
            raise CalendarFileError(["the file has no rows"])
        header = [h.strip().lower() for h in next(csv.reader([lines[0][1]]))]
        if "date" not in header or "kind" not in header:
            raise CalendarFileError([f"line {lines[0][0]}: the header must be 'date,kind,name'"])
        for number, line in lines[1:]:
            row = dict(zip(header, next(csv.reader([line])), strict=False))
            rows.append((f"line {number}", row.get("date"), row.get("kind"), row.get("name")))
    days, problems, seen = [], [], {}
    for where, raw_date, raw_kind, raw_name in rows:
        found, wrong = _expand(where, raw_date, raw_kind, raw_name)
        problems += wrong
        for day in found:
            if day.date in seen:
                problems.append(f"{where}: {day.date} is already given at {seen[day.date]}")
            seen.setdefault(day.date, where)
            days.append(day)
    if problems:
        raise CalendarFileError(problems)
    if not days:
        raise CalendarFileError(["the file has no days"])
    return days


def read_file(path) -> list[Day]:
    path = Path(path)
    if path.stat().st_size > MAX_BYTES:
        raise CalendarFileError([f"{path.name} is larger than {MAX_BYTES} bytes"])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CalendarFileError([f"{path.name} is not UTF-8 text"]) from None
    return parse(text, path.name)


def _replace_years(days: list[Day], years: set[int], source: str) -> None:
    CalendarDay.objects.filter(date__year__in=years).delete()
    CalendarDay.objects.bulk_create([CalendarDay(date=d.date, kind=d.kind, name=d.name) for d in days])
    for year in years:
        CalendarYear.objects.update_or_create(year=year, defaults={"source": source, "complete": True})


@transaction.atomic
def import_days(days: list[Day]) -> list[int]:
    """Make `days` the whole calendar of the years they fall in; returns those years."""
    years = sorted({d.date.year for d in days})
    _replace_years(days, set(years), CalendarYear.Source.IMPORT)
    workcalendar.invalidate()
    return years


@transaction.atomic
def sync_from_package(replace: bool = False) -> list[int]:
    """Add the years chinese-calendar knows and the table lacks; with `replace`, also rewrite the years that
    came from the package (never those imported or entered by an administrator). Returns the years written."""
    special, names, years = workcalendar.package_calendar()
    present = dict(CalendarYear.objects.values_list("year", "source"))
    todo = {y for y in years if y not in present or (replace and present[y] == CalendarYear.Source.PACKAGE)}
    if not todo:
        return []
    kind = {True: CalendarDay.Kind.WORKDAY, False: CalendarDay.Kind.HOLIDAY}
    days = [Day(d, kind[w], names.get(d, "")) for d, w in sorted(special.items()) if d.year in todo]
    _replace_years(days, todo, CalendarYear.Source.PACKAGE)
    workcalendar.invalidate()
    return sorted(todo)


def status() -> list[dict]:
    """One row per year in the table: year, source, complete, holidays, make-up working days."""
    from django.db.models import Count, Q
    from django.db.models.functions import ExtractYear

    counts = {row["y"]: row for row in CalendarDay.objects.annotate(y=ExtractYear("date")).values("y").annotate(
        holidays=Count("id", filter=Q(kind=CalendarDay.Kind.HOLIDAY)),
        workdays=Count("id", filter=Q(kind=CalendarDay.Kind.WORKDAY)))}
    rows = [{"year": y.year, "source": y.source, "complete": y.complete,
             "holidays": counts.get(y.year, {}).get("holidays", 0), "workdays": counts.get(y.year, {}).get("workdays", 0)}
            for y in CalendarYear.objects.all()]
    listed = {r["year"] for r in rows}
    rows += [{"year": y, "source": "", "complete": False, "holidays": c["holidays"], "workdays": c["workdays"]}
             for y, c in counts.items() if y not in listed]
    return sorted(rows, key=lambda r: r["year"])
