"""Moves carry everything (issue 9): a unit, a building or a micro-grid moved carries its households, residents and
care plans in one transaction; open cases follow or stay as the mover chooses; 三不破 is refused alike through the
API and the model; previews write nothing; scope after a move is checked through the API as both workers."""

import pytest
from django.core.exceptions import ValidationError

from gridcase.cases import services, workflow
from gridcase.cases.models import Case, CaseEvent, CaseHop, Category
from gridcase.core.models import AuditLog
from gridcase.grids.choices import Level, Role
from gridcase.grids.models import Building, Grid, Household, Resident, Unit
from gridcase.grids.scoping import forget_scope
from gridcase.visits.models import CarePlan

from .. import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def place(city):
    """Beside the city: a second general grid with one micro-grid and its worker; a care plan held by the worker;
    an open case at the unit, assigned to the worker."""
    from tests.cases.conftest import ensure_taxonomy

    ensure_taxonomy()
    g2 = f.grid("ST-BLZ-G02", "第二网格", Level.GRID, city.community)
    m3 = f.grid("ST-BLZ-G02-M03", "第三微网格", Level.MICRO_GRID, g2)
    w3 = f.member(f.UserFactory(username="worker3"), m3, Role.MICRO_GRID_WORKER)
    plan, _ = CarePlan.objects.get_or_create(resident=city.resident)
    CarePlan.objects.filter(pk=plan.pk).update(worker=city.worker, active=True)
    category = Category.objects.get(code="env_drain")
    case = services.create_case(city.grid_worker, {"category": category, "grid": city.micro, "title": "楼道堆物",
                                              "description": "1单元楼道堆物", "unit": city.unit}).case
    for name, actor, data in (("accept", city.secretary, {}), ("assign", city.secretary, {"assignee": city.worker.pk})):
        case = workflow.apply(case.pk, name, actor, data, version=case.version)
    return type("Place", (), {"g2": g2, "m3": m3, "w3": w3, "plan": plan, "case": case})


def move(client, kind, obj_id, to, **body):
    return client.post(f"/api/v1/{kind}/{obj_id}/move/", {"to": to, **body}, format="json")


# --- a unit to the neighbouring micro-grid ------------------------------------------------------------------------

def test_unit_moved_with_cases_following_carries_everything_and_scope_follows(city, place, client_for):
    old, new = client_for(city.worker), client_for(city.sibling_worker)
    assert old.get(f"/api/v1/residents/{city.resident.pk}/").status_code == 200
    assert new.get(f"/api/v1/residents/{city.resident.pk}/").status_code == 404

    r = move(client_for(city.secretary), "units", city.unit.pk, city.sibling_micro.pk, cases="follow")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["preview"] is False and body["kind"] == "unit"
    assert body["moved"]["households"] == 1 and body["moved"]["residents"] == 1
    assert body["moved"]["cases_followed"] == 1 and body["moved"]["cases_unassigned"] == 1
    grids = {g["id"]: g for g in body["grids"]}
    assert grids[city.micro.pk]["before"]["households"] == 1 and grids[city.micro.pk]["after"]["households"] == 0
    assert grids[city.sibling_micro.pk]["after"]["households"] == 2
    assert grids[city.micro.pk]["before"]["open_cases"] == 1 and grids[city.sibling_micro.pk]["after"]["open_cases"] == 1

    # Rows: households and residents on the new micro-grid; the plan back to the new micro-grid's workers.
    assert Unit.objects.get(pk=city.unit.pk).micro_grid_id == city.sibling_micro.pk
    assert Household.objects.get(pk=city.household.pk).grid_id == city.sibling_micro.pk
    assert Resident.objects.get(pk=city.resident.pk).grid_id == city.sibling_micro.pk
    assert CarePlan.objects.get(pk=place.plan.pk).worker_id is None
    case = Case.objects.get(pk=place.case.pk)
    assert (case.grid_id, case.owner_grid_id, case.assignee_id, case.status) == (
        city.sibling_micro.pk, city.sibling_micro.pk, None, "accepted")
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert event.action == "relocate" and event.payload["owner_grid"] == city.sibling_micro.pk
    assert event.version == case.version
    hops = list(CaseHop.objects.filter(case=case, kind="grid").order_by("id").values_list("grid_id", "end_action"))
    assert hops[-2:] == [(city.micro.pk, "relocate"), (city.sibling_micro.pk, "")]
    assert AuditLog.objects.filter(action="move", object_type="grids.unit", object_id=str(city.unit.pk)).count() == 1

    # Scope through the API: the old worker loses, the new one gains (resident, household, plan, case).
    assert old.get(f"/api/v1/residents/{city.resident.pk}/").status_code == 404
    assert old.get(f"/api/v1/households/{city.household.pk}/").status_code == 404
    assert old.get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert new.get(f"/api/v1/residents/{city.resident.pk}/").status_code == 200
    assert new.get(f"/api/v1/cases/{case.pk}/").status_code == 200
    plans = new.get("/api/v1/care-plans/").json()["results"]
    assert place.plan.pk in [p["id"] for p in plans]
    assert place.plan.pk not in [p["id"] for p in old.get("/api/v1/care-plans/").json()["results"]]


def test_preview_runs_the_same_move_and_writes_nothing(city, place, client_for):
    before_events = CaseEvent.objects.count()
    r = move(client_for(city.secretary), "units", city.unit.pk, city.sibling_micro.pk, cases="follow", preview=True)
    assert r.status_code == 200, r.json()
    assert r.json()["preview"] is True and r.json()["moved"]["cases_followed"] == 1
    assert Unit.objects.get(pk=city.unit.pk).micro_grid_id == city.micro.pk
    assert Resident.objects.get(pk=city.resident.pk).grid_id == city.micro.pk
    assert Case.objects.get(pk=place.case.pk).owner_grid_id == city.micro.pk
    assert CaseEvent.objects.count() == before_events
    assert not AuditLog.objects.filter(action="move").exists()


def test_cases_that_stay_keep_their_owner(city, place, client_for):
    r = move(client_for(city.secretary), "units", city.unit.pk, city.sibling_micro.pk, cases="stay")
    assert r.status_code == 200
    case = Case.objects.get(pk=place.case.pk)
    assert (case.owner_grid_id, case.assignee_id) == (city.micro.pk, city.worker.pk)
    assert r.json()["moved"]["cases_followed"] == 0
    # The old worker still works the case that stayed with her.
    assert client_for(city.worker).get(f"/api/v1/cases/{case.pk}/").status_code == 200


def test_patch_of_a_units_micro_grid_is_the_same_move(city, place, client_for):
    r = client_for(city.secretary).patch(f"/api/v1/units/{city.unit.pk}/", {"micro_grid": city.sibling_micro.pk},
                                         format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["micro_grid"] == city.sibling_micro.pk
    assert Resident.objects.get(pk=city.resident.pk).grid_id == city.sibling_micro.pk
    assert Case.objects.get(pk=place.case.pk).owner_grid_id == city.micro.pk  # cases stay unless told


def test_a_unit_saved_elsewhere_carries_its_people(city, place):
    unit = Unit.objects.get(pk=city.unit.pk)
    unit.micro_grid = city.sibling_micro
    unit.full_clean()
    unit.save()  # admin's path: clean, then save
    assert Household.objects.get(pk=city.household.pk).grid_id == city.sibling_micro.pk
    assert Resident.objects.get(pk=city.resident.pk).grid_id == city.sibling_micro.pk


# --- 三不破, through the API and the model ------------------------------------------------------------------------

def test_unit_to_another_general_grids_micro_grid_is_refused_everywhere(city, place, client_for):
    c = client_for(city.secretary, language="en")
    for r in (move(c, "units", city.unit.pk, place.m3.pk),
              c.patch(f"/api/v1/units/{city.unit.pk}/", {"micro_grid": place.m3.pk}, format="json")):
        assert r.status_code == 400, r.json()
        assert r.json()["code"] == "unit_outside_building_grid"
        assert "general grid of the building" in r.json()["message"]
    unit = Unit.objects.get(pk=city.unit.pk)
    unit.micro_grid = place.m3
    with pytest.raises(ValidationError) as exc:
        unit.full_clean()
    assert exc.value.error_dict["micro_grid"][0].code == "unit_outside_building_grid"
    with pytest.raises(ValidationError):
        unit.save()
    assert Unit.objects.get(pk=city.unit.pk).micro_grid_id == city.micro.pk
    assert Resident.objects.get(pk=city.resident.pk).grid_id == city.micro.pk


def test_a_building_alone_to_another_general_grid_is_refused_by_the_model(city, place):
    building = Building.objects.get(pk=city.building.pk)
    building.grid = place.g2
    with pytest.raises(ValidationError) as exc:
        building.full_clean()
    assert exc.value.error_dict["grid"][0].code == "building_split"
    with pytest.raises(ValidationError):
        building.save()
    assert Building.objects.get(pk=city.building.pk).grid_id == city.grid.pk


def test_a_micro_grid_that_would_split_a_building_is_refused(city, place, client_for):
    r = move(client_for(city.dispatcher), "grids", city.sibling_micro.pk, place.g2.pk)
    assert r.status_code == 400
    assert r.json()["code"] == "building_split"
    r = client_for(city.dispatcher).patch(f"/api/v1/grids/{city.sibling_micro.pk}/", {"parent": place.g2.pk},
                                          format="json")
    assert r.status_code == 400 and r.json()["code"] == "building_split"
    grid = Grid.objects.get(pk=city.sibling_micro.pk)
    grid.parent = place.g2
    with pytest.raises(ValidationError):
        grid.full_clean()
    assert Grid.objects.get(pk=city.sibling_micro.pk).parent_id == city.grid.pk


def test_a_building_to_a_grid_with_several_micro_grids_needs_each_units_micro_grid(city, place, client_for):
    f.grid("ST-BLZ-G02-M04", "第四微网格", Level.MICRO_GRID, place.g2)
    r = move(client_for(city.secretary), "buildings", city.building.pk, place.g2.pk)
    assert r.status_code == 400 and r.json()["code"] == "unit_orphaned"
    assert Building.objects.get(pk=city.building.pk).grid_id == city.grid.pk


def test_a_micro_grid_cannot_go_under_a_community(city, place, client_for):
    r = move(client_for(city.dispatcher), "grids", city.sibling_micro.pk, city.community.pk)
    assert r.status_code == 400 and r.json()["code"] == "invalid_parent_level"


# --- a building, a micro-grid -----------------------------------------------------------------------------------

def test_building_moves_with_its_units_people_and_cases(city, place, client_for):
    r = move(client_for(city.secretary), "buildings", city.building.pk, place.g2.pk, cases="follow")
    assert r.status_code == 200, r.json()
    assert r.json()["moved"]["units"] == 2 and r.json()["moved"]["households"] == 2
    assert Building.objects.get(pk=city.building.pk).grid_id == place.g2.pk
    assert set(Unit.objects.filter(building=city.building).values_list("micro_grid_id", flat=True)) == {place.m3.pk}
    assert set(Resident.objects.filter(household__unit__building=city.building).values_list("grid_id", flat=True)) == {
        place.m3.pk}
    assert Case.objects.get(pk=place.case.pk).owner_grid_id == place.m3.pk
    w3 = client_for(place.w3)
    assert w3.get(f"/api/v1/residents/{city.sibling_resident.pk}/").status_code == 200
    assert client_for(city.sibling_worker).get(f"/api/v1/residents/{city.sibling_resident.pk}/").status_code == 404
    assert client_for(city.grid_worker).get(f"/api/v1/buildings/{city.building.pk}/").status_code == 404


def test_micro_grid_holding_whole_buildings_moves_with_them(city, place, client_for):
    m4 = f.grid("ST-BLZ-G01-M04", "第四微网格", Level.MICRO_GRID, city.grid)
    b2 = f.building(city.grid, "2栋")
    u = f.unit(b2, m4, "1单元")
    f.resident(f.household(u, "101"), "孙丽")
    category = Category.objects.get(code="env_drain")
    forget_scope(city.grid_worker)  # the tree grew since her scope was read
    case = services.create_case(city.grid_worker, {"category": category, "grid": m4, "title": "路灯坏了",
                                                   "description": "2栋门口"}).case
    workflow.apply(case.pk, "escalate", city.grid_worker, {}, version=case.version)
    assert Case.objects.get(pk=case.pk).owner_grid_id == city.grid.pk

    r = move(client_for(city.dispatcher), "grids", m4.pk, place.g2.pk, cases="follow")
    assert r.status_code == 200, r.json()
    assert Grid.objects.get(pk=m4.pk).parent_id == place.g2.pk
    assert Building.objects.get(pk=b2.pk).grid_id == place.g2.pk
    assert Case.objects.get(pk=case.pk).owner_grid_id == place.g2.pk
    assert client_for(place.w3).get(f"/api/v1/buildings/{b2.pk}/").status_code == 404  # M03's worker: not hers


def test_only_managers_of_both_grids_move_places(city, place, client_for):
    assert move(client_for(city.grid_worker), "units", city.unit.pk, city.sibling_micro.pk).status_code == 403
    assert move(client_for(city.outsider), "units", city.unit.pk, city.sibling_micro.pk).status_code == 404
    assert move(client_for(city.secretary), "units", city.unit.pk, city.other_micro.pk).json()["code"] == \
        "validation_error"  # a grid out of sight is not found
    assert Unit.objects.get(pk=city.unit.pk).micro_grid_id == city.micro.pk


def test_a_move_to_where_it_is_says_so(city, place, client_for):
    r = move(client_for(city.secretary), "units", city.unit.pk, city.micro.pk)
    assert r.status_code == 400 and r.json()["code"] == "no_change"


def test_bad_cases_choice_is_400(city, place, client_for):
    r = move(client_for(city.secretary), "units", city.unit.pk, city.sibling_micro.pk, cases="maybe")
    assert r.status_code == 400 and "cases" in r.json()["fields"]


# --- the redistricting simulator ----------------------------------------------------------------------------------

def test_redistricting_preview_adds_up_several_moves_and_keeps_nothing(city, place, client_for):
    b2 = f.building(city.grid, "2栋")
    u2 = f.unit(b2, city.micro, "1单元")
    f.resident(f.household(u2, "102"), "周红", tags=["elderly_alone"])
    r = client_for(city.secretary).post("/api/v1/grids/redistrict/", {"cases": "follow", "moves": [
        {"kind": "unit", "id": city.unit.pk, "to": city.sibling_micro.pk},
        {"kind": "building", "id": b2.pk, "to": place.m3.pk}]}, format="json")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["preview"] is True and len(body["moves"]) == 2
    grids = {g["id"]: g for g in body["grids"]}
    assert grids[city.micro.pk]["before"]["households"] == 2 and grids[city.micro.pk]["after"]["households"] == 0
    assert grids[city.micro.pk]["before"]["key_population"] == 2 and grids[city.micro.pk]["after"]["key_population"] == 0
    assert grids[place.m3.pk]["after"]["residents"] == 1 and len(grids[place.m3.pk]["workers"]) == 1
    assert grids[city.sibling_micro.pk]["after"]["open_cases"] == 1
    assert Unit.objects.get(pk=city.unit.pk).micro_grid_id == city.micro.pk
    assert Building.objects.get(pk=b2.pk).grid_id == city.grid.pk
    assert not AuditLog.objects.filter(action="move").exists()


def test_redistricting_names_the_refused_move(city, place, client_for):
    r = client_for(city.secretary).post("/api/v1/grids/redistrict/", {"moves": [
        {"kind": "unit", "id": city.unit.pk, "to": city.sibling_micro.pk},
        {"kind": "unit", "id": city.sibling_unit.pk, "to": place.m3.pk}]}, format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "unit_outside_building_grid" and "moves[1].micro_grid" in r.json()["fields"]


# --- the admin: the same rules, the people carried, the move audited -----------------------------------------------

def test_admin_moves_a_unit_with_its_people_and_refuses_three_unbroken(city, place, client):
    client.force_login(city.admin)
    url = f"/admin/grids/unit/{city.unit.pk}/change/"
    r = client.post(url, {"building": city.building.pk, "name": city.unit.name, "micro_grid": place.m3.pk})
    assert r.status_code == 200  # the form again, with the rule's message
    assert any(m in r.content.decode() for m in ("微网格必须属于该楼栋所在的网格", "general grid of the building"))
    assert Unit.objects.get(pk=city.unit.pk).micro_grid_id == city.micro.pk
    r = client.post(url, {"building": city.building.pk, "name": city.unit.name, "micro_grid": city.sibling_micro.pk})
    assert r.status_code == 302
    assert Resident.objects.get(pk=city.resident.pk).grid_id == city.sibling_micro.pk
    entry = AuditLog.objects.get(action="move", object_type="grids.unit")
    assert entry.extra["via"] == "admin" and entry.extra["after"] == city.sibling_micro.pk

    r = client.post(f"/admin/grids/building/{city.building.pk}/change/", {
        "grid": place.g2.pk, "code": city.building.code, "name": city.building.name, "address": ""})
    assert r.status_code == 200
    assert any(m in r.content.decode() for m in ("楼栋不能拆分", "A building cannot be split"))
    assert Building.objects.get(pk=city.building.pk).grid_id == city.grid.pk


def test_a_move_of_a_place_changed_meanwhile_is_a_conflict(city, place, client_for, monkeypatch):
    """Another move lands between this one's reading and its writing: 409, nothing of this one kept."""
    from gridcase.grids import moves

    m4 = f.grid("ST-BLZ-G01-M04", "第四微网格", Level.MICRO_GRID, city.grid)
    checked = moves.check_mover

    def and_meanwhile(*args):
        checked(*args)
        Unit.objects.filter(pk=city.unit.pk).update(micro_grid_id=m4.pk)  # someone else's move

    monkeypatch.setattr(moves, "check_mover", and_meanwhile)
    r = move(client_for(city.secretary), "units", city.unit.pk, city.sibling_micro.pk, cases="follow")
    assert r.status_code == 409
    assert Unit.objects.get(pk=city.unit.pk).micro_grid_id == m4.pk
    assert Resident.objects.get(pk=city.resident.pk).grid_id == city.micro.pk
    assert Case.objects.get(pk=place.case.pk).owner_grid_id == city.micro.pk


def test_admin_tree_drag_and_drop_cannot_split_a_building(city, place, client):
    """The grid tree's drag-and-drop in the admin goes through the same rules as any other move."""
    client.force_login(city.admin)
    client.post("/admin/grids/grid/", {"cmd": "move_node", "cut_item": city.sibling_micro.pk,
                                       "pasted_on": place.g2.pk, "position": "last-child"})
    assert Grid.objects.get(pk=city.sibling_micro.pk).parent_id == city.grid.pk
    # A micro-grid holding whole buildings may go: its buildings go along.
    m4 = f.grid("ST-BLZ-G01-M04", "第四微网格", Level.MICRO_GRID, city.grid)
    b2 = f.building(city.grid, "2栋")
    f.unit(b2, m4, "1单元")
    r = client.post("/admin/grids/grid/", {"cmd": "move_node", "cut_item": m4.pk, "pasted_on": place.g2.pk,
                                           "position": "last-child"})
    assert r.content.startswith(b"OK")
    assert Grid.objects.get(pk=m4.pk).parent_id == place.g2.pk
    assert Building.objects.get(pk=b2.pk).grid_id == place.g2.pk
    assert AuditLog.objects.filter(action="move", object_type="grids.grid", object_id=str(m4.pk)).exists()
