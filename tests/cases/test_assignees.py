"""The assign picker (`GET /cases/{id}/assignees/`): exactly the people `assign` accepts, with their load."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from gridcase.grids.choices import Role
from gridcase.visits.models import CarePlan, CarePlanItem
from tests import factories as f

User = get_user_model()


def picker(client_for, user, case, **params):
    return client_for(user).get(f"/api/v1/cases/{case.pk}/assignees/", params)


def test_every_person_listed_is_accepted_and_everyone_else_refused(city, make_case, act, drive, client_for):
    case = drive(make_case(), "accept")
    r = picker(client_for, city.secretary, case)
    assert r.status_code == 200, r.content
    body = r.json()
    listed = [p["id"] for p in body["results"]]
    assert body["count"] == len(listed) and body["next"] is None
    # the micro-grid's own worker first
    assert listed[0] == city.worker.pk and body["results"][0]["own_worker"] is True
    assert {city.worker.pk, city.grid_worker.pk, city.secretary.pk} <= set(listed)
    for outsider in (city.sibling_worker, city.outsider, city.viewer, city.officer):
        assert outsider.pk not in listed
    refused = [u for u in User.objects.exclude(pk__in=listed)]
    assert refused
    for user in refused:
        r = act(city.secretary, case, "assign", assignee=user.pk)
        assert r.status_code == 400 and r.json()["code"] == "assignee_outside_grid", user.username
    for pk in listed:
        r = act(city.secretary, case, "assign", assignee=pk)
        assert r.status_code == 200, (pk, r.content)
        assert r.json()["assignee"] == pk


def test_an_inactive_member_is_neither_listed_nor_accepted(city, make_case, act, drive, client_for):
    case = drive(make_case(), "accept")
    gone = f.member(f.UserFactory(username="gone"), city.micro, Role.MICRO_GRID_WORKER)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    assert gone.pk not in [p["id"] for p in picker(client_for, city.secretary, case).json()["results"]]
    assert act(city.secretary, case, "assign", assignee=gone.pk).json()["code"] == "assignee_outside_grid"


def test_load_figures_and_search_by_pinyin(city, make_case, act, drive, client_for):
    city.worker.first_name = "仝小鹊"  # a name the factories' random Chinese names do not produce
    city.worker.save(update_fields=["first_name"])
    case = drive(make_case(), "accept")
    other = drive(make_case(), "accept")
    act(city.secretary, other, "assign", assignee=city.worker.pk)
    plan, _ = CarePlan.objects.update_or_create(resident=city.resident, defaults={"worker": None, "active": True})
    CarePlanItem.objects.filter(care_plan=plan).delete()
    CarePlanItem.objects.create(care_plan=plan, kind="home", every_n_days=30,
                                due_on=timezone.localdate() - timedelta(days=1))
    people = {p["id"]: p for p in picker(client_for, city.secretary, case).json()["results"]}
    me = people[city.worker.pk]
    assert me["open_cases"] == 1 and me["display_name"] == "仝小鹊"
    assert me["due_visits"] == (1 if city.resident.grid_id == city.micro.pk else 0)
    assert people[city.secretary.pk]["open_cases"] == 0
    assert [p["id"] for p in picker(client_for, city.secretary, case, q="gridw").json()["results"]] == [
        city.grid_worker.pk]
    for q in ("txq", "TXQ", "tongxiaoq", "小鹊"):
        found = picker(client_for, city.secretary, case, q=q).json()["results"]
        assert [p["id"] for p in found] == [city.worker.pk], q
    assert picker(client_for, city.secretary, case, q="zzzz").json()["results"] == []


def test_who_may_ask(city, make_case, drive, client_for):
    case = drive(make_case(), "accept")
    assert picker(client_for, city.outsider, case).status_code == 404
    assert picker(client_for, city.worker, case).status_code == 403
    assert picker(client_for, city.secretary, case, bogus=1).json()["code"] == "unknown_parameter"


def test_fixed_query_count(city, make_case, drive, client_for, django_assert_max_num_queries):
    case = drive(make_case(), "accept")
    client = client_for(city.secretary)
    with django_assert_max_num_queries(12) as few:
        assert client.get(f"/api/v1/cases/{case.pk}/assignees/").status_code == 200
    for i in range(15):
        f.member(f.UserFactory(username=f"extra{i}"), city.micro if i % 2 else city.grid, Role.MICRO_GRID_WORKER)
    with django_assert_max_num_queries(len(few.captured_queries)):
        r = client.get(f"/api/v1/cases/{case.pk}/assignees/")
    assert r.status_code == 200 and r.json()["count"] >= 18
