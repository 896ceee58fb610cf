"""Residents and care plans carry their micro-grid's community and street (and plans their micro-grid), so lists
within a street or community by tag read one index in id order. The copies stay true through the registry's
moves, a resident moving household and the bulk loads; the lists answer the same people as the tree says, with a
fixed number of queries."""

import pytest

from gridcase.grids import moves, tree
from gridcase.grids.models import Grid, Resident
from gridcase.grids.scoping import forget_scope, scope_for
from gridcase.visits.models import CarePlan

pytestmark = pytest.mark.django_db


def area(resident):
    r = Resident.objects.get(pk=resident.pk)
    return r.grid_id, r.community_id, r.street_id


def plan_area(resident):
    p = CarePlan.objects.get(resident_id=resident.pk)
    return p.grid_id, p.community_id, p.street_id


def listed(client, path):
    body = client.get(path).json()
    return {row["id"] if "resident" not in row else row["resident"] for row in body["results"]}


def test_a_new_resident_and_plan_carry_the_micro_grid_community_and_street(city):
    assert area(city.resident) == (city.micro.pk, city.community.pk, city.street.pk)
    assert area(city.other_resident) == (city.other_micro.pk, city.other_community.pk, city.street.pk)
    CarePlan.objects.get_or_create(resident=city.resident)
    assert plan_area(city.resident) == (city.micro.pk, city.community.pk, city.street.pk)


def test_a_general_grid_moved_to_another_community_carries_its_people(city, client_for):
    plan, _ = CarePlan.objects.get_or_create(resident=city.resident)
    CarePlan.objects.filter(pk=plan.pk).update(active=True)
    r = client_for(city.admin).post(f"/api/v1/grids/{city.grid.pk}/move/", {"to": city.other_community.pk},
                                    format="json")
    assert r.status_code == 200, r.json()
    assert area(city.resident) == (city.micro.pk, city.other_community.pk, city.street.pk)
    assert area(city.sibling_resident)[1] == city.other_community.pk
    assert plan_area(city.resident) == (city.micro.pk, city.other_community.pk, city.street.pk)

    # The lists follow: the other community's secretary now sees them by tag, this one's no longer.
    forget_scope(city.outsider)
    forget_scope(city.secretary)
    theirs, ours = client_for(city.outsider), client_for(city.secretary)
    path = "/api/v1/residents/?tag=elderly_alone&within={}"
    assert city.resident.pk in listed(theirs, path.format(city.other_community.pk))
    assert city.resident.pk not in listed(ours, path.format(city.community.pk))
    assert city.resident.pk in listed(theirs, f"/api/v1/care-plans/?tag=elderly_alone&within={city.other_community.pk}")
    assert city.resident.pk not in listed(ours, f"/api/v1/care-plans/?within={city.community.pk}")


def test_a_resident_moving_into_another_community_carries_the_plan(city, client_for):
    CarePlan.objects.get_or_create(resident=city.resident)
    r = client_for(city.admin).post(f"/api/v1/residents/{city.resident.pk}/status/",
                                    {"status": "active", "household": city.other_household.pk}, format="json")
    assert r.status_code == 200, r.json()
    assert area(city.resident) == (city.other_micro.pk, city.other_community.pk, city.street.pk)
    assert plan_area(city.resident) == (city.other_micro.pk, city.other_community.pk, city.street.pk)


def test_rows_loaded_around_save_are_filled_by_the_seeders_helper(city):
    plan, _ = CarePlan.objects.get_or_create(resident=city.resident)
    Resident.objects.filter(pk=city.resident.pk).update(community=None, street=None)
    CarePlan.objects.filter(pk=plan.pk).update(grid=None, community=None, street=None)
    moves.fill_people()
    assert area(city.resident) == (city.micro.pk, city.community.pk, city.street.pk)
    assert plan_area(city.resident) == (city.micro.pk, city.community.pk, city.street.pk)


@pytest.mark.parametrize("who, within", [("dispatcher", "street"), ("secretary", "community"),
                                         ("dispatcher", "community"), ("grid_worker", "micro"),
                                         ("secretary", "other_community")])
def test_lists_within_by_tag_answer_what_the_tree_says(city, client_for, who, within,
                                                       django_assert_max_num_queries):
    for r in (city.resident, city.sibling_resident, city.other_resident):
        r.tags.set(city.resident.tags.all())
        CarePlan.objects.get_or_create(resident=r)
    user = getattr(city, who)
    node = Grid.objects.get(pk=getattr(city, within).pk)  # the persona's instance may hold an older span
    forget_scope(user)
    scope = scope_for(user)
    expected = {r.pk for r in Resident.objects.filter(tree.subtree_q(scope.spans, "grid__"))
                .filter(tree.subtree_q([tree.span(node)], "grid__"), tags__code="elderly_alone")}
    forget_scope(user)
    client = client_for(user)
    with django_assert_max_num_queries(9):
        residents = client.get(f"/api/v1/residents/?tag=elderly_alone&within={node.pk}")
    assert residents.status_code == 200
    assert {row["id"] for row in residents.json()["results"]} == expected
    with django_assert_max_num_queries(12):
        plans = client.get(f"/api/v1/care-plans/?tag=elderly_alone&within={node.pk}")
    assert {row["resident"] for row in plans.json()["results"]} == expected
