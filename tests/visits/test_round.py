"""The round as the worker walks it (`visits/round/`): one stop per resident, overdue first, progress."""

from datetime import timedelta

import pytest

from gridcase.cases import services as case_services
from gridcase.cases.models import Category
from gridcase.core.models import AuditLog
from tests.cases.conftest import ensure_taxonomy

from .. import factories as f
from .conftest import at, log_visit

ROUND = "/api/v1/visits/round/"


@pytest.fixture
def street(city):
    """Three more elderly people in the worker's micro-grid, in buildings to walk in order."""
    b2 = f.building(city.grid, "2栋")
    b10 = f.building(city.grid, "10栋")
    u2 = f.unit(b2, city.micro, "1单元")
    u10 = f.unit(b10, city.micro, "2单元")
    return {
        "zhou": f.resident(f.household(u10, "1001"), "周奶奶", tags=["elderly_alone"]),
        "wu": f.resident(f.household(u10, "201"), "吴爷爷", tags=["elderly_alone"]),
        "zheng": f.resident(f.household(u2, "302"), "郑阿姨", tags=["elderly_alone"]),
    }


def stops(response):
    return [(s["resident_name"], s["state"], [d["kind"] for d in s["due"]]) for s in response.data["results"]]


def test_one_stop_per_resident_with_every_kind_due_overdue_first(city, street, client_for, today):
    start = today.get()
    today.days(9)  # phone calls overdue for everybody, home visits due for the first resident
    # Two of them were called two days ago: their call is not overdue any more.
    for r in (street["wu"], street["zheng"]):
        log_visit(city.worker, r, "phone", at(start + timedelta(days=7)))
    response = client_for(city.worker).get(ROUND)
    assert response.status_code == 200
    names = [s[0] for s in stops(response)]
    assert len(names) == len(set(names)), "one row per resident"
    first = response.data["results"][0]
    assert first["resident_name"] == "王秀英" and first["state"] == "overdue"
    assert {d["kind"] for d in first["due"]} == {"phone", "home"}
    states = [s["state"] for s in response.data["results"]]
    assert states == sorted(states, key=["overdue", "today", "done"].index)


def test_visits_today_count_as_done_and_stay_on_the_round(city, street, client_for, today):
    day = today.days(2)  # every phone call due today
    client = client_for(city.worker)
    before = client.get(ROUND).data
    assert before["total"] == 4 and before["done"] == 0
    log_visit(city.worker, street["zheng"], "phone", at(day))
    after = client.get(ROUND).data
    assert after["total"] == 4 and after["done"] == 1
    last = after["results"][-1]
    assert last["resident_name"] == "郑阿姨" and last["state"] == "done" and last["visited_today"]
    assert last["due"] == [] and last["last_visits"][0]["kind"] == "phone"
    # Walking order among the rest (all due today): 1栋, then 10栋 2单元 201, then 1001.
    assert [s["resident_name"] for s in after["results"][:3]] == ["王秀英", "吴爷爷", "周奶奶"]


def test_stop_carries_phone_household_and_open_cases_and_audits_the_phones(city, street, client_for, today):
    today.days(2)
    ensure_taxonomy()
    category = Category.objects.get(code="env_drain")
    case_services.create_case(city.worker, {"category": category, "grid": city.micro, "title": "楼道灯坏",
                                            "description": "三楼", "resident": city.resident})
    f.resident(city.resident.household, "王小明", relation="子")
    response = client_for(city.worker).get(ROUND)
    stop = next(s for s in response.data["results"] if s["resident_name"] == "王秀英")
    assert stop["phone"] == "13812345678" and stop["phone_revealed"]
    assert [m["name"] for m in stop["household_members"]] == ["王小明"]
    assert [c["title"] for c in stop["open_cases"]] == ["楼道灯坏"]
    assert stop["building_name"] == "1栋" and stop["tags"][0]["name"] == "独居老人"
    assert AuditLog.objects.filter(actor=city.worker, action="reveal", object_id=str(city.resident.pk)).exists()


def test_other_workers_have_their_own_round(city, street, client_for, today):
    today.days(3)
    assert client_for(city.sibling_worker).get(ROUND).data["total"] == 0
    assert client_for(city.outsider).get(ROUND).data["results"] == []


@pytest.mark.parametrize("params", [{"date": "2026-13-01"}, {"within": "1"}])
def test_bad_parameters_are_400(city, client_for, params):
    response = client_for(city.worker).get(ROUND, params)
    assert response.status_code == 400


def test_query_count_does_not_grow_with_the_round(city, street, client_for, django_assert_max_num_queries, today):
    day = today.days(10)
    client = client_for(city.worker)
    with django_assert_max_num_queries(12) as small:
        client.get(ROUND)
    b = f.building(city.grid, "20栋")
    u = f.unit(b, city.micro, "1单元")
    for i in range(6):
        r = f.resident(f.household(u, f"{i + 1}01"), f"老人{i}", tags=["elderly_alone"])
        log_visit(city.worker, r, "phone", at(day))  # done today: still on the round
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(ROUND)
    assert response.data["total"] == 10
