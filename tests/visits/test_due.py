"""The round (`visits/due`) and the periodic due/overdue job."""

from datetime import timedelta

import pytest

from gridcase.grids.choices import Role
from gridcase.notifications.models import Notification
from gridcase.visits.due import run_due_job
from gridcase.visits.models import DueRun
from gridcase.visits.tasks import compute_due_visits

from .. import factories as f
from .conftest import at, log_visit

DUE = "/api/v1/visits/due/"


@pytest.fixture
def round_(city):
    """More elderly people in the worker's micro-grid, in two more buildings, to walk in order."""
    b2 = f.building(city.grid, "2栋")
    b10 = f.building(city.grid, "10栋")
    u2 = f.unit(b2, city.micro, "1单元")
    u10 = f.unit(b10, city.micro, "2单元")
    u10b = f.unit(b10, city.micro, "10单元")
    people = [
        f.resident(f.household(u10b, "101"), "孙大爷", tags=["elderly_alone"]),
        f.resident(f.household(u10, "1001"), "周奶奶", tags=["elderly_alone"]),
        f.resident(f.household(u10, "201"), "吴爷爷", tags=["elderly_alone"]),
        f.resident(f.household(u2, "302"), "郑阿姨", tags=["elderly_alone"]),
    ]
    return people


def names(response):
    return [(i["resident_name"], i["kind"]) for i in response.data["results"]]


def test_round_lists_the_callers_residents_in_walking_order(city, round_, client_for, today):
    day = today.days(2)  # every phone call is due today (plans started two days ago)
    response = client_for(city.worker).get(DUE)
    assert response.status_code == 200 and response.data["date"] == day.isoformat()
    assert names(response) == [
        ("王秀英", "phone"),  # 1栋 1单元 101
        ("郑阿姨", "phone"),  # 2栋 1单元 302
        ("吴爷爷", "phone"),  # 10栋 2单元 201
        ("周奶奶", "phone"),  # 10栋 2单元 1001
        ("孙大爷", "phone"),  # 10栋 10单元 101
    ]
    first = response.data["results"][0]
    assert first["building_name"] == "1栋" and first["unit_name"] == "1单元" and first["household_label"] == "1栋1单元101"
    assert first["tags"] == [{"code": "elderly_alone", "name": "独居老人"}]
    assert first["due_on"] == day.isoformat() and first["overdue_days"] == 0 and first["care_plan"]


def test_logging_a_call_takes_the_resident_off_todays_round(city, round_, client_for, today):
    day = today.days(2)
    log_visit(city.worker, city.resident, "phone", at(day))
    assert ("王秀英", "phone") not in names(client_for(city.worker).get(DUE))


def test_round_for_a_later_day_shows_overdue_days(city, client_for, today):
    start = today.get()
    response = client_for(city.worker).get(DUE, {"date": (start + timedelta(days=9)).isoformat()})
    by_kind = {i["kind"]: i for i in response.data["results"]}
    assert by_kind["phone"]["overdue_days"] == 7 and by_kind["home"]["overdue_days"] == 2


def test_sibling_worker_has_an_empty_round_and_cannot_walk_another_grid(city, round_, client_for, today):
    today.days(3)
    assert client_for(city.sibling_worker).get(DUE).data["results"] == []
    assert client_for(city.sibling_worker).get(DUE, {"within": city.micro.pk}).status_code == 404
    assert client_for(city.outsider).get(DUE, {"within": city.grid.pk}).status_code == 404


def test_grid_worker_and_secretary_see_a_grids_round_with_within(city, round_, client_for, today):
    today.days(3)
    for persona in (city.grid_worker, city.secretary, city.dispatcher, city.viewer):
        response = client_for(persona).get(DUE, {"within": city.grid.pk})
        assert len(response.data["results"]) == 5, persona
    # Their own round is empty: they are not responsible for these plans.
    assert client_for(city.grid_worker).get(DUE).data["results"] == []
    assert client_for(city.grid_worker).get(DUE, {"worker": city.worker.pk}).data["count"] == 5


@pytest.mark.parametrize("params", [{"date": "2026-13-01"}, {"date": "tomorrow"}, {"within": "x"}])
def test_bad_round_parameters_are_400(city, client_for, params):
    response = client_for(city.worker).get(DUE, params)
    assert response.status_code == 400 and response.data["code"] == "validation_error"


def test_round_query_count_does_not_grow_with_the_page(city, round_, client_for, django_assert_max_num_queries,
                                                       today):
    today.days(10)  # phone and home visits due for everybody: 10 stops
    client = client_for(city.worker)
    for size in (2, 10):
        with django_assert_max_num_queries(7):
            response = client.get(DUE, {"page_size": size})
        assert len(response.data["results"]) == size


def test_one_compiled_round_serves_every_day_and_page(city, round_, client_for, today):
    """The round's statements are compiled once per caller (PostgreSQL: the day is a slot of the prepared
    statement, the page in its key); each day still gets its own stops, each page its own slice."""
    day = today.days(2)
    client = client_for(city.worker)

    def walk(**params):
        response = client.get(DUE, params)
        assert response.status_code == 200, response.content
        return response.data

    assert walk(date=(day - timedelta(days=1)).isoformat())["results"] == []
    assert walk()["count"] == 5
    later = (day + timedelta(days=9)).isoformat()
    whole = walk(date=later, page_size=20)
    assert whole["count"] == 10 and {i["kind"] for i in whole["results"]} == {"phone", "home"}
    pages = [walk(date=later, page_size=4, page=n) for n in (1, 2, 3)]
    assert [i["care_plan"] for p in pages for i in p["results"]] == [i["care_plan"] for i in whole["results"]]
    assert [len(p["results"]) for p in pages] == [4, 4, 2] and all(p["count"] == 10 for p in pages)


# The job --------------------------------------------------------------------------------------------------

def overdue_notices(user):
    return list(Notification.objects.filter(recipient=user, kind="visit_overdue").order_by("id")
                .values_list("dedupe_key", flat=True))


def test_job_reports_overdue_to_the_worker_then_after_grace_to_the_leader(city, today):
    leader = f.member(f.UserFactory(username="leader"), city.grid, Role.GRID_LEADER)
    start = today.get()
    r = city.resident.pk
    # Phone due start+2. On start+3 it is one day overdue: the worker hears, the leader not yet.
    run_due_job(start + timedelta(days=3))
    assert overdue_notices(city.worker) == [f"visit-overdue:{r}:phone:{start + timedelta(days=2)}"]
    assert overdue_notices(leader) == []
    assert Notification.objects.filter(recipient=city.worker, kind="visit_due").count() == 1
    # Two days overdue: the grid leader is told too (not the grid worker, there is a leader).
    run_due_job(start + timedelta(days=4))
    assert overdue_notices(leader) == [f"visit-overdue-leader:{r}:phone:{start + timedelta(days=2)}"]
    assert overdue_notices(city.grid_worker) == []
    assert len(overdue_notices(city.worker)) == 1


def test_job_is_idempotent(city, today):
    day = today.get() + timedelta(days=10)
    first = run_due_job(day)
    count = Notification.objects.count()
    second = run_due_job(day)
    assert Notification.objects.count() == count
    assert (second.due_today, second.overdue) == (first.due_today, first.overdue)
    assert DueRun.objects.get(day=day).runs == 2


def test_job_catches_up_after_downtime(city, today):
    start = today.get()
    # Nothing ran for ten days: one run reports both overdue contacts to the worker and, with no grid
    # leader on the grid, to the grid worker.
    run = compute_due_visits((start + timedelta(days=10)).isoformat())
    assert run["overdue"] == 2
    r = city.resident.pk
    assert set(overdue_notices(city.worker)) == {f"visit-overdue:{r}:phone:{start + timedelta(days=2)}",
                                                 f"visit-overdue:{r}:home:{start + timedelta(days=7)}"}
    assert len(overdue_notices(city.grid_worker)) == 2


def test_after_a_visit_the_next_due_date_is_reported_afresh(city, today):
    start = today.get()
    run_due_job(start + timedelta(days=3))
    today.days(3)
    log_visit(city.worker, city.resident, "phone", at(start + timedelta(days=3)))
    run_due_job(start + timedelta(days=4))  # new phone due date start+5: not overdue yet
    assert len(overdue_notices(city.worker)) == 1
    run_due_job(start + timedelta(days=6))
    assert overdue_notices(city.worker)[-1].endswith(f"phone:{start + timedelta(days=5)}")


def test_ended_plans_are_not_reported(city, today):
    from gridcase.grids.services import set_resident_tags

    set_resident_tags(city.resident, [])
    run = run_due_job(today.get() + timedelta(days=10))
    assert run.overdue == 0 and not Notification.objects.filter(kind="visit_overdue").exists()


def test_beat_runs_the_due_job_hourly():
    from celery import current_app

    from gridcase.beat import BEAT_SCHEDULE

    entry = BEAT_SCHEDULE["compute-due-visits"]
    assert entry["schedule"] <= 3600 and entry["options"]["expires"] < entry["schedule"]
    import gridcase.visits.tasks  # noqa: F401

    assert entry["task"] in current_app.tasks


def test_each_stop_shows_its_residents_tags_in_order_and_a_new_tag_at_once(city, round_, client_for, today):
    """The stops' tags come from one statement compiled once for any page (statements.prefetch_many): every tag of
    each resident, in the tags' order, each resident its own, and a tag given later is on the next round."""
    from gridcase.grids.models import Tag

    today.days(3)
    sun, wu = round_[0], round_[2]
    disabled = Tag.objects.get_or_create(code="disabled", defaults={"name": "残疾人"})[0]
    sun.tags.add(disabled)
    client = client_for(city.worker)

    def tags():
        stops = client.get(DUE).data["results"]
        return {s["resident_name"]: [t["code"] for t in s["tags"]] for s in stops}

    first = tags()
    expected = [t.code for t in Tag.objects.filter(code__in=["elderly_alone", "disabled"]).order_by("id")]
    assert len(expected) == 2 and first["孙大爷"] == expected and first["吴爷爷"] == ["elderly_alone"]
    wu.tags.add(disabled)
    assert tags()["吴爷爷"] == expected
