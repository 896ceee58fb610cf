"""Working time across Chinese public holidays and make-up working days (调休), from the calendar table
(seeded from chinese_calendar, imported from the State Council notice, edited in the admin)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from gridcase.cases import workcalendar
from gridcase.cases.models import CalendarDay, CalendarYear
from gridcase.cases.workcalendar import add_hours, add_working_hours, is_workday, working_seconds_between

SH = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_calendar():
    """Each test reads the table as its transaction sees it (the process keeps a copy between calls)."""
    workcalendar.forget()
    yield
    workcalendar.forget()


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


# --- The calendar as data (issue 7, item 11) -----------------------------------------------------------------

# Illustrative 2027 days in the import format, standing in for the State Council notice in these tests.
NOTICE_2027 = """# 2027 (test data, not the official notice)
date,kind,name
2027-01-01..2027-01-03,holiday,元旦
2027-02-06..2027-02-13,holiday,春节
2027-02-14,workday,春节
2027-02-20,workday,春节
"""


def import_notice(tmp_path, text=NOTICE_2027, name="notice.csv", *extra):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    call_command("calendar", "import", str(path), *extra)
    return path


def test_the_table_is_seeded_from_the_package():
    import chinese_calendar

    assert CalendarYear.objects.filter(source="package", complete=True).values_list("year", flat=True).last() == 2026
    assert CalendarDay.objects.get(date=date(2026, 10, 10)).kind == "workday"
    assert CalendarDay.objects.get(date=date(2026, 10, 1)).kind == "holiday"
    # The table says what the package says on every day it covers.
    day = date(2015, 1, 1)
    while day.year <= 2026:
        assert is_workday(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_2027_without_data_counts_weekends_only_and_warns():
    assert not CalendarYear.objects.filter(year=2027).exists()
    # New Year's Day 2027 (a Friday) and the Spring Festival count as working days: the honest fallback.
    assert add_working_hours(at(2026, 12, 31, 17, 0), 2) == at(2027, 1, 1, 10, 0)
    assert add_working_hours(at(2027, 2, 5, 17, 0), 2) == at(2027, 2, 8, 10, 0)
    assert workcalendar.missing_years(date(2026, 12, 2)) == [2027]
    assert workcalendar.missing_years(date(2026, 6, 1)) == []  # next year is not needed before December
    [warning] = workcalendar.warnings(date(2027, 3, 1))
    assert warning["code"] == "calendar_missing" and warning["years"] == [2027] and "2027" in warning["message"]


def test_an_imported_notice_moves_2027_deadlines_past_the_holidays(tmp_path, capsys):
    import_notice(tmp_path)
    assert "imported 2027: 11 holidays, 2 make-up working days" in capsys.readouterr().out
    assert add_working_hours(at(2026, 12, 31, 17, 0), 2) == at(2027, 1, 4, 10, 0)
    assert add_working_hours(at(2027, 2, 5, 17, 0), 2) == at(2027, 2, 14, 10, 0)  # Sunday 02-14 is 调休
    assert not is_workday(date(2027, 2, 8)) and is_workday(date(2027, 2, 20))
    assert CalendarYear.objects.get(year=2027).source == "import"
    assert workcalendar.warnings(date(2026, 12, 2)) == []


def test_importing_again_replaces_the_year(tmp_path):
    import_notice(tmp_path)
    import_notice(tmp_path, '[{"date": "2027-02-10", "kind": "holiday", "name": "春节"}]', "fix.json")
    assert list(CalendarDay.objects.filter(date__year=2027).values_list("date", flat=True)) == [date(2027, 2, 10)]
    assert is_workday(date(2027, 1, 1))
    assert CalendarDay.objects.filter(date__year=2026).count() > 20  # other years untouched


@pytest.mark.parametrize("text, problem", [
    ("date,kind,name\n2027-01-01,vacation,元旦\n", "line 2: kind 'vacation'"),
    ("date,kind,name\n2027-02-15,workday,春节\n", "2027-02-15 is a weekday"),
    ("date,kind,name\n2027-02-13..2027-02-06,holiday,春节\n", "runs backwards"),
    ("date,kind,name\n2027-01-01,holiday,\n2027-01-01,holiday,\n", "line 3: 2027-01-01 is already given at line 2"),
    ("date,kind,name\n2027-13-01,holiday,\n", "is not YYYY-MM-DD"),
    ("day,what\n2027-01-01,holiday\n", "header must be 'date,kind,name'"),
    ('{"days": 3}', "JSON must be a list"),
])
def test_a_bad_file_is_refused_whole_with_its_problems(tmp_path, text, problem):
    bad_then_good = text + "2027-10-01,holiday,国庆节\n" if text.startswith("date,") else text
    with pytest.raises(CommandError) as failure:
        import_notice(tmp_path, bad_then_good)
    assert problem in str(failure.value)
    assert not CalendarDay.objects.filter(date__year=2027).exists()


def test_a_dry_run_writes_nothing(tmp_path, capsys):
    import_notice(tmp_path, NOTICE_2027, "notice.csv", "--dry-run")
    assert "is valid (2027: 11 holidays, 2 make-up working days)" in capsys.readouterr().out
    assert not CalendarDay.objects.filter(date__year=2027).exists()


def test_sync_adds_missing_package_years_and_keeps_imported_ones(tmp_path, capsys):
    CalendarDay.objects.filter(date__year=2025).delete()
    CalendarYear.objects.filter(year=2025).delete()
    CalendarDay.objects.filter(date=date(2026, 10, 1)).delete()  # an administrator's edit to a package year
    import_notice(tmp_path, "date,kind,name\n2024-05-01,holiday,劳动节\n")  # a year replaced by an import
    assert is_workday(date(2025, 10, 1))

    call_command("calendar", "sync")
    assert "synced from chinese-calendar: 2025" in capsys.readouterr().out
    assert not is_workday(date(2025, 10, 1)) and is_workday(date(2025, 9, 28))  # 2025-09-28 Sunday is 调休
    assert is_workday(date(2026, 10, 1))  # present years are not touched by a plain sync
    call_command("calendar", "sync", "--replace")
    assert not is_workday(date(2026, 10, 1))  # ... --replace rewrites package years
    assert CalendarDay.objects.filter(date__year=2024).count() == 1  # ... but never an imported one
    call_command("calendar", "status")
    out = capsys.readouterr().out
    assert "2024  import   complete     1 holidays" in out and "2026  package" in out


def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "x")
    client.force_login(admin)
    return client


def test_an_admin_edit_changes_the_next_deadline_at_once(client, django_user_model):
    client = admin_client(client, django_user_model)
    start = at(2026, 9, 28, 17, 0)  # Monday
    assert add_working_hours(start, 2) == at(2026, 9, 29, 10, 0)  # the calendar is now cached in this process

    response = client.post("/admin/cases/calendarday/add/", {"date": "2026-09-29", "kind": "holiday",
                                                            "name": "台风停工"})
    assert response.status_code == 302, response.content[:2000]
    assert add_working_hours(start, 2) == at(2026, 9, 30, 10, 0)

    day = CalendarDay.objects.get(date=date(2026, 9, 29))
    response = client.post(f"/admin/cases/calendarday/{day.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert add_working_hours(start, 2) == at(2026, 9, 29, 10, 0)


def test_the_admin_refuses_a_make_up_day_on_a_weekday(client, django_user_model):
    client = admin_client(client, django_user_model)
    response = client.post("/admin/cases/calendarday/add/", {"date": "2027-02-15", "kind": "workday", "name": ""})
    assert response.status_code == 200 and "2027-02-15" not in str(CalendarDay.objects.values_list("date"))
    assert not CalendarDay.objects.filter(date=date(2027, 2, 15)).exists()


def test_an_admin_can_enter_a_year_by_hand_and_the_warning_goes(client, django_user_model):
    client = admin_client(client, django_user_model)
    assert workcalendar.missing_years(date(2026, 12, 2)) == [2027]
    response = client.post("/admin/cases/calendaryear/add/", {"year": "2027", "source": "admin", "complete": "on"})
    assert response.status_code == 302
    assert workcalendar.missing_years(date(2026, 12, 2)) == []


def test_another_process_change_is_picked_up_through_the_shared_version(monkeypatch):
    from django.core.cache import cache

    start = at(2026, 9, 28, 17, 0)
    assert add_working_hours(start, 2) == at(2026, 9, 29, 10, 0)
    # Another process writes the table and publishes a new version; this process's copy is still cached.
    CalendarDay.objects.bulk_create([CalendarDay(date=date(2026, 9, 29), kind="holiday")])
    assert add_working_hours(start, 2) == at(2026, 9, 29, 10, 0)
    cache.set(workcalendar.VERSION_KEY, "from-another-process", None)
    monkeypatch.setattr(workcalendar, "_checked_at", 0.0)  # CHECK_EVERY seconds later
    assert add_working_hours(start, 2) == at(2026, 9, 30, 10, 0)


def test_deadlines_cost_no_query_per_day_once_loaded(django_assert_num_queries):
    add_working_hours(at(2026, 1, 5, 9, 0), 1)
    with django_assert_num_queries(0):
        for day in range(0, 365, 3):
            start = at(2026, 1, 1, 10, 0) + timedelta(days=day)
            add_working_hours(start, 45)
            working_seconds_between(start, start + timedelta(days=40))
        add_working_hours(at(2031, 12, 30, 17, 0), 300)  # beyond the fast table too


def test_far_years_never_crash_and_count_weekends_only():
    friday = at(2030, 2, 1, 17, 0)  # in the Spring Festival of 2030, which no table knows yet
    assert add_working_hours(friday, 2) == at(2030, 2, 4, 10, 0)
    assert working_seconds_between(at(2030, 2, 1, 9, 0), at(2030, 2, 8, 18, 0)) == 6 * 7.5 * 3600
    assert add_working_hours(at(2045, 6, 2, 17, 0), 2) == at(2045, 6, 5, 10, 0)  # past the fast table


def test_readyz_warns_about_a_missing_year_and_stays_up(client):
    from django.utils import timezone

    this_year = timezone.localdate().year
    CalendarYear.objects.filter(year=this_year).delete()
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "ok"
    [warning] = [w for w in body["warnings"] if w["code"] == "calendar_missing"]
    assert this_year in warning["years"]


def test_readyz_has_no_calendar_warning_when_the_years_are_known(client, tmp_path):
    from django.utils import timezone

    today = timezone.localdate()
    for year in range(today.year, (today + workcalendar.LOOKAHEAD).year + 1):
        CalendarYear.objects.get_or_create(year=year)
    body = client.get("/readyz").json()
    assert not [w for w in body["warnings"] if w["code"] == "calendar_missing"]


def test_system_status_shows_the_warning_to_those_who_run_the_system(city, client_for):
    from django.utils import timezone

    CalendarYear.objects.filter(year=timezone.localdate().year).delete()
    year = str(timezone.localdate().year)
    for user in (city.secretary, city.dispatcher, city.admin):
        body = client_for(user).get("/api/v1/system/status/").json()
        assert body["warnings"][0]["code"] == "calendar_missing", user
        assert "节假日安排" in body["warnings"][0]["message"] and year in body["warnings"][0]["message"]
    english = client_for(city.secretary, "en").get("/api/v1/system/status/").json()
    assert english["warnings"][0]["message"].startswith(f"No holiday calendar for {year}")
    for user in (city.worker, city.viewer, city.officer):
        assert client_for(user).get("/api/v1/system/status/").json() == {"warnings": []}
    assert client_for(None).get("/api/v1/system/status/").status_code in (401, 403)
