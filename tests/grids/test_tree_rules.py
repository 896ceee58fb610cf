"""The structural rules of the grid tree (三不破), enforced alike in the API, admin forms and models."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from gridcase.grids import tree
from gridcase.grids.choices import Level
from gridcase.grids.models import Grid, Unit

from . import helpers

pytestmark = pytest.mark.django_db


def post_grid(client, **data):
    return client.post("/api/v1/grids/", data, format="json")


def test_dispatcher_creates_a_general_grid_under_a_community(city, client_for):
    c = client_for(city.dispatcher)
    r = post_grid(c, code="ST-BLZ-G02", name="第二网格", level="grid", parent=city.community.id)
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["path"] == ["八里街道", "八里庄社区"]
    new = Grid.objects.get(code="ST-BLZ-G02")
    assert tree.is_inside(new, Grid.objects.get(pk=city.community.pk))


@pytest.mark.parametrize("level,parent_attr", [
    ("micro_grid", "community"),  # a micro-grid sits under a general grid only
    ("grid", "street"),           # a general grid sits under a community only
    ("community", "community"),
    ("dedicated", "grid"),
])
def test_wrong_parent_level_is_refused_with_a_clear_message(city, client_for, level, parent_attr):
    c = client_for(city.admin, language="en")
    r = post_grid(c, code="X-1", name="x", level=level, parent=getattr(city, parent_attr).id)
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "validation_error"
    assert "parent" in body["fields"]
    assert "must sit under" in body["message"]
    assert not Grid.objects.filter(code="X-1").exists()


def test_messages_follow_accept_language(city, client_for):
    r = post_grid(client_for(city.admin, language="zh-hans"), code="X-2", name="x", level="micro_grid",
                  parent=city.community.id)
    assert r.status_code == 400
    assert "必须位于" in r.json()["message"]


def test_moving_a_grid_under_its_own_descendant_is_refused(city, client_for):
    c = client_for(city.admin)
    # A street may sit under a district; put the street under a district we create, then try a cycle.
    r = c.patch(f"/api/v1/grids/{city.grid.id}/", {"parent": city.grid.id}, format="json")
    assert r.status_code == 400
    district = Grid.objects.create(code="D", name="区", level=Level.DISTRICT)
    city.street.parent = district
    city.street.save()
    r = c.patch(f"/api/v1/grids/{district.id}/", {"level": "district", "parent": None}, format="json")
    assert r.status_code == 200


def test_cycle_refused_by_model_clean(city):
    city.community.parent = city.micro
    with pytest.raises(ValidationError):
        city.community.full_clean()


def test_duplicate_code_is_400_not_500(city, client_for):
    r = post_grid(client_for(city.admin), code=city.micro.code, name="dup", level="micro_grid", parent=city.grid.id)
    assert r.status_code == 400
    assert "code" in r.json()["fields"]


def test_unknown_parent_id_is_400(city, client_for):
    r = post_grid(client_for(city.admin), code="X-3", name="x", level="micro_grid", parent=999999)
    assert r.status_code == 400
    assert "parent" in r.json()["fields"]


def test_malformed_json_is_400_with_code(city, client_for):
    c = client_for(city.admin)
    r = c.generic("POST", "/api/v1/grids/", "{not json", content_type="application/json")
    assert r.status_code == 400
    assert r.json()["code"] == "malformed_request"


def test_micro_grid_worker_cannot_create_grids(city, client_for):
    r = post_grid(client_for(city.worker), code="X-4", name="x", level="micro_grid", parent=city.grid.id)
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"


def test_secretary_cannot_create_grid_in_other_community(city, client_for):
    # Secretaries do not restructure the tree; dispatchers of another street could not either.
    r = post_grid(client_for(city.outsider), code="X-5", name="x", level="micro_grid", parent=city.grid.id)
    assert r.status_code == 403


def test_unit_must_belong_to_a_micro_grid_of_the_buildings_general_grid(city, client_for):
    c = client_for(city.secretary)
    r = c.post("/api/v1/units/", {"building": city.building.id, "name": "3单元", "micro_grid": city.other_micro.id},
               format="json")
    assert r.status_code == 400
    assert "micro_grid" in r.json()["fields"]
    r = c.post("/api/v1/units/", {"building": city.building.id, "name": "3单元", "micro_grid": city.micro.id},
               format="json")
    assert r.status_code == 201
    bad = Unit(building=city.building, name="4单元", micro_grid=city.grid)
    with pytest.raises(ValidationError):
        bad.full_clean()


def test_admin_form_applies_the_same_rule(city, admin_client):
    response = admin_client.post("/admin/grids/grid/add/", {
        "code": "X-6", "name": "x", "level": "micro_grid", "parent": city.community.id, "kind": "",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
    })
    assert response.status_code == 200  # form re-displayed with the error
    assert not Grid.objects.filter(code="X-6").exists()


def test_children_ancestors_and_tree(city, client_for):
    c = client_for(city.dispatcher)
    children = c.get(f"/api/v1/grids/{city.community.id}/children/").json()["results"]
    assert {g["code"] for g in children} == {"ST-BLZ-G01", "ST-BLZ-D01"}
    ancestors = c.get(f"/api/v1/grids/{city.micro.id}/ancestors/").json()["results"]
    assert [g["code"] for g in ancestors] == ["ST", "ST-BLZ", "ST-BLZ-G01"]
    t = c.get(f"/api/v1/grids/tree/?root={city.community.id}&depth=1").json()["results"]
    assert len(t) == 1 and t[0]["code"] == "ST-BLZ"
    assert {x["code"] for x in t[0]["children"]} == {"ST-BLZ-G01", "ST-BLZ-D01"}
    assert all(x["children"] == [] for x in t[0]["children"])
    deeper = c.get(f"/api/v1/grids/tree/?root={city.community.id}&depth=2").json()["results"]
    g01 = next(x for x in deeper[0]["children"] if x["code"] == "ST-BLZ-G01")
    assert {x["code"] for x in g01["children"]} == {"ST-BLZ-G01-M01", "ST-BLZ-G01-M02"}
    assert c.get("/api/v1/grids/tree/?depth=abc").status_code == 400
    assert client_for(city.worker).get(f"/api/v1/grids/tree/?root={city.community.id}").status_code == 404


def test_grid_detail_shape(city, client_for):
    body = client_for(city.worker).get(f"/api/v1/grids/{city.micro.id}/").json()
    assert {"id", "code", "name", "level", "parent", "path", "children_count"} <= set(body)
    assert body["path"] == ["八里街道", "八里庄社区", "第一网格"]
    assert body["parent"] == city.grid.id


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_tree_inserts_keep_the_numbering_valid():
    """Two admins adding grids at once: the advisory lock serialises MPTT renumbering."""
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    street = Grid.objects.create(code="S", name="街道", level=Level.STREET)
    communities = [Grid.objects.create(code=f"S-C{i}", name=f"社区{i}", level=Level.COMMUNITY, parent=street)
                   for i in range(2)]
    errors = []

    def add(n, community):
        from django.db import connections

        try:
            for k in range(6):
                parent = Grid.objects.get(pk=community.pk)
                Grid.objects.create(code=f"{parent.code}-G{n}{k}", name=f"网格{n}{k}", level=Level.GRID, parent=parent)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=add, args=(n, communities[n % 2])) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    helpers.assert_tree_consistent(Grid)
    assert Grid.objects.filter(level=Level.GRID).count() == 24
