"""Who sees which visits and care plans: every persona of the `city` fixture, against one fixture."""

import pytest

from gridcase.grids.services import set_resident_tags

from .conftest import at, log_visit, plan_of, tag

VISITS = "/api/v1/visits/"
PLANS = "/api/v1/care-plans/"


@pytest.fixture
def logged(city, today):
    """One visit in the worker's micro-grid, one in the sibling's, one in the other community."""
    set_resident_tags(city.sibling_resident, [tag("disabled")])
    set_resident_tags(city.other_resident, [tag("low_income")])
    day = today.get()
    return {
        "micro": log_visit(city.worker, city.resident, "home", at(day)),
        "sibling": log_visit(city.sibling_worker, city.sibling_resident, "phone", at(day)),
        "other": log_visit(city.outsider, city.other_resident, "home", at(day)),
    }


SEES = {
    "worker": {"micro"},
    "sibling_worker": {"sibling"},
    "grid_worker": {"micro", "sibling"},
    "secretary": {"micro", "sibling"},
    "outsider": {"other"},
    "dispatcher": {"micro", "sibling", "other"},
    "viewer": {"micro", "sibling", "other"},
    "officer": set(),
    "admin": {"micro", "sibling", "other"},
}


@pytest.mark.parametrize("persona", sorted(SEES))
def test_visit_list_and_detail_follow_the_scope(city, logged, client_for, persona):
    client = client_for(getattr(city, persona))
    ids = {v["id"] for v in client.get(VISITS).data["results"]}
    assert ids == {logged[k].pk for k in SEES[persona]}
    for key, visit in logged.items():
        expected = 200 if key in SEES[persona] else 404
        assert client.get(f"{VISITS}{visit.pk}/").status_code == expected


@pytest.mark.parametrize("persona", sorted(SEES))
def test_care_plan_list_follows_the_scope(city, logged, client_for, persona):
    client = client_for(getattr(city, persona))
    residents = {p["resident"] for p in client.get(PLANS).data["results"]}
    by_key = {"micro": city.resident.pk, "sibling": city.sibling_resident.pk, "other": city.other_resident.pk}
    assert residents == {by_key[k] for k in SEES[persona]}


def test_anonymous_callers_see_nothing(city, logged, client_for):
    assert client_for(None).get(VISITS).status_code in (401, 403)
    assert client_for(None).get(PLANS).status_code in (401, 403)


def test_visit_filters(city, logged, client_for, today):
    client = client_for(city.secretary)
    ids = lambda params: {v["id"] for v in client.get(VISITS, params).data["results"]}  # noqa: E731
    assert ids({"worker": city.worker.pk}) == {logged["micro"].pk}
    assert ids({"resident": city.sibling_resident.pk}) == {logged["sibling"].pk}
    assert ids({"within": city.sibling_micro.pk}) == {logged["sibling"].pk}
    assert ids({"kind": "phone"}) == {logged["sibling"].pk}
    assert ids({"wellbeing": "attention"}) == set()
    day = today.get()
    assert ids({"visited_after": day.isoformat(), "visited_before": day.isoformat()}) == {
        logged["micro"].pk, logged["sibling"].pk}
    assert ids({"visited_after": day.replace(day=day.day + 1).isoformat()}) == set()
    assert client.get(VISITS, {"visited_after": "soon"}).status_code == 400
    # A grid outside the caller's scope yields nothing, never another community's visits.
    assert ids({"within": city.other_community.pk}) == set()


def test_care_plan_filters(city, logged, client_for):
    client = client_for(city.dispatcher)
    residents = lambda params: {p["resident"] for p in client.get(PLANS, params).data["results"]}  # noqa: E731
    assert residents({"tag": "disabled"}) == {city.sibling_resident.pk}
    assert residents({"tag": "disabled,low_income"}) == {city.sibling_resident.pk, city.other_resident.pk}
    assert residents({"within": city.community.pk}) == {city.resident.pk, city.sibling_resident.pk}
    assert residents({"worker": city.worker.pk}) == {city.resident.pk}
    assert residents({"resident": city.other_resident.pk}) == {city.other_resident.pk}


def test_care_plan_detail_shows_cadences_and_responsible_worker(city, logged, client_for, today):
    plan = plan_of(city.resident)
    data = client_for(city.worker).get(f"{PLANS}{plan.pk}/").data
    assert data["responsible_workers"] == [{"id": city.worker.pk, "name": city.worker.first_name}]
    assert {i["kind"]: i["every_n_days"] for i in data["items"]} == {"home": 7, "phone": 2}
    assert data["tags"] == [{"code": "elderly_alone", "name": "独居老人"}]
    assert data["next_due_on"] == (today.get().replace(day=today.get().day + 2)).isoformat()


def test_patch_cadence_and_worker(city, logged, client_for, today):
    plan = plan_of(city.resident)
    client = client_for(city.grid_worker)
    response = client.patch(f"{PLANS}{plan.pk}/", {"cadences": {"home": 3}, "worker": city.grid_worker.pk},
                            format="json")
    assert response.status_code == 200, response.data
    items = {i["kind"]: i for i in response.data["items"]}
    assert items["home"]["every_n_days"] == 3 and items["home"]["custom_days"] == 3
    assert response.data["responsible_workers"][0]["id"] == city.grid_worker.pk
    # Back to the rules and the micro-grid's worker.
    response = client.patch(f"{PLANS}{plan.pk}/", {"cadences": {"home": None}, "worker": None}, format="json")
    assert {i["kind"]: i["every_n_days"] for i in response.data["items"]}["home"] == 7
    assert response.data["responsible_workers"][0]["id"] == city.worker.pk


@pytest.mark.parametrize("payload, field", [
    ({"cadences": {"home": 0}}, "cadences"),
    ({"cadences": {"home": -3}}, "cadences"),
    ({"cadences": {"teleport": 3}}, "cadences"),
    ({"cadences": {"home": "weekly"}}, "cadences"),
    ({"cadences": "daily"}, "cadences"),
    ({"worker": 999999}, "worker"),
])
def test_bad_care_plan_changes_are_400_and_change_nothing(city, logged, client_for, payload, field):
    plan = plan_of(city.resident)
    response = client_for(city.secretary).patch(f"{PLANS}{plan.pk}/", payload, format="json")
    assert response.status_code == 400 and field in response.data["fields"], response.data
    assert {i.kind: i.every_n_days for i in plan_of(city.resident).items.all()} == {"home": 7, "phone": 2}


def test_worker_of_another_community_cannot_be_made_responsible(city, logged, client_for):
    plan = plan_of(city.resident)
    response = client_for(city.secretary).patch(f"{PLANS}{plan.pk}/", {"worker": city.outsider.pk}, format="json")
    assert response.status_code == 400 and response.data["fields"]["worker"]


@pytest.mark.parametrize("persona, status", [("viewer", 403), ("dispatcher", 403), ("sibling_worker", 404),
                                             ("outsider", 404)])
def test_who_may_not_change_a_plan(city, logged, client_for, persona, status):
    plan = plan_of(city.resident)
    response = client_for(getattr(city, persona)).patch(f"{PLANS}{plan.pk}/", {"cadences": {"home": 3}},
                                                        format="json")
    assert response.status_code == status


@pytest.mark.parametrize("url", [VISITS, PLANS])
def test_list_query_count_is_constant(city, logged, client_for, django_assert_max_num_queries, url, today):
    from .. import factories as f

    for i in range(12):
        r = f.resident(f.household(city.unit, f"{500 + i}"), f"居民{i}", tags=["elderly_alone", "low_income"])
        log_visit(city.worker, r, "home", at(today.get()))
    client = client_for(city.secretary)
    for size in (3, 12):
        with django_assert_max_num_queries(9):
            response = client.get(url, {"page_size": size})
        assert len(response.data["results"]) == size
