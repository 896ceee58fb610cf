"""The map (issue 9, item 5): point-in-polygon routing through one spatial index (resident intake, a worker's case
report, Open311 and the hotline share it), boundaries redrawn through the redistricting preview with 三不破, and the
rules a drawn boundary must keep — a 400 naming the rule, nothing half-moved."""

import time

import pytest
from django.core.cache import cache

from gridcase.cases.models import Case, Category
from gridcase.grids import geo
from gridcase.grids.models import Building, Grid, Unit
from gridcase.interop import routing

pytestmark = pytest.mark.django_db

# Two neighbouring micro-grids of 第一网格, about 100 m × 110 m each, sharing the edge lng = 104.101.
S, N = 30.660, 30.661


def box(w, e, s=S, n=N):
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


@pytest.fixture
def mapped(city):
    from tests.cases.conftest import ensure_taxonomy

    ensure_taxonomy()
    for g, b in ((city.micro, box(104.100, 104.101)), (city.sibling_micro, box(104.101, 104.102)),
                 (city.other_micro, box(104.200, 104.201))):
        Grid.objects.filter(pk=g.pk).update(boundary=b)
    Building.objects.filter(pk=city.building.pk).update(lat=30.6605, lng=104.1008)  # inside the first micro-grid
    geo.invalidate()
    return city


def redistrict(client, boundaries, **body):
    return client.post("/api/v1/grids/redistrict/", {"boundaries": [{"grid": g.pk, "boundary": b} for g, b in
                                                                    boundaries], **body}, format="json")


# --- routing ----------------------------------------------------------------------------------------------------

def test_a_point_is_routed_to_the_micro_grid_holding_it_within_the_area(mapped):
    city = mapped
    assert geo.grid_at(30.6605, 104.1005).pk == city.micro.pk
    assert geo.grid_at(30.6605, 104.1015).pk == city.sibling_micro.pk
    assert geo.grid_at(30.6605, 104.1010).pk == city.micro.pk  # on the shared edge: the lower id, every time
    assert geo.grid_at(30.6700, 104.1005) is None
    fresh = Grid.objects.in_bulk([city.community.pk, city.other_community.pk, city.grid.pk])  # spans as stored
    assert geo.grid_at(30.6605, 104.2005, fresh[city.community.pk]) is None  # another community's micro-grid
    assert geo.grid_at(30.6605, 104.2005, fresh[city.other_community.pk]).pk == city.other_micro.pk
    assert routing.grid_at(30.6605, 104.1015, fresh[city.grid.pk]).pk == city.sibling_micro.pk  # the adapters' name


def test_the_index_is_rebuilt_when_a_boundary_is_saved(mapped):
    city = mapped
    assert geo.grid_at(30.6605, 104.1035) is None
    sibling = Grid.objects.get(pk=city.sibling_micro.pk)
    sibling.boundary = box(104.101, 104.104)
    sibling.save()
    assert geo.grid_at(30.6605, 104.1035).pk == city.sibling_micro.pk


def test_a_worker_report_with_a_location_goes_to_the_micro_grid_under_the_named_grid(mapped, client_for):
    city = mapped
    category = Category.objects.get(code="env_drain")
    r = client_for(city.grid_worker).post("/api/v1/cases/", {
        "category": category.pk, "grid": city.grid.pk, "title": "井盖缺失",
        "location": {"lat": 30.6605, "lng": 104.1015}}, format="json")
    assert r.status_code == 201, r.json()
    case = Case.objects.get(pk=r.json()["id"])
    assert case.grid_id == city.sibling_micro.pk and case.lat == 30.6605


def test_a_resident_report_with_a_location_goes_to_the_micro_grid_holding_it(mapped, client_for):
    from tests.intake.test_intake import report, url

    cache.clear()
    city = mapped
    r = client_for(None).post(url(city.micro), report(location={"lat": 30.6605, "lng": 104.1015}), format="json")
    assert r.status_code == 201, r.json()
    assert Case.objects.order_by("-id").first().grid_id == city.sibling_micro.pk
    cache.clear()


# --- redrawing through the redistricting preview ------------------------------------------------------------------

def test_redraw_preview_moves_the_buildings_gained_and_writes_nothing(mapped, client_for):
    city = mapped
    drawn = [(city.micro, box(104.100, 104.1005)), (city.sibling_micro, box(104.1005, 104.102))]
    r = redistrict(client_for(city.secretary), drawn)
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["preview"] is True
    assert [m["kind"] for m in body["moves"]] == ["building"] and body["moves"][0]["id"] == city.building.pk
    grids = {g["id"]: g for g in body["grids"]}
    assert grids[city.micro.pk]["before"]["households"] == 1 and grids[city.micro.pk]["after"]["households"] == 0
    assert grids[city.sibling_micro.pk]["after"]["households"] == 2
    assert {b["id"] for b in body["boundaries"]} == {city.micro.pk, city.sibling_micro.pk}
    # Nothing written, and the index still answers from the stored boundaries.
    assert Grid.objects.get(pk=city.micro.pk).boundary == box(104.100, 104.101)
    assert Unit.objects.get(pk=city.unit.pk).micro_grid_id == city.micro.pk
    assert geo.grid_at(30.6605, 104.1008).pk == city.micro.pk


def test_redraw_applied_moves_units_and_routing_follows(mapped, client_for):
    city = mapped
    drawn = [(city.micro, box(104.100, 104.1005)), (city.sibling_micro, box(104.1005, 104.102))]
    r = redistrict(client_for(city.secretary), drawn, preview=False, cases="follow")
    assert r.status_code == 200, r.json()
    assert Unit.objects.get(pk=city.unit.pk).micro_grid_id == city.sibling_micro.pk
    micro = Grid.objects.get(pk=city.micro.pk)
    assert sorted(map(tuple, micro.boundary["coordinates"][0][:4])) == [(104.1, S), (104.1, N), (104.1005, S),
                                                                         (104.1005, N)]
    assert micro.centroid_lng == pytest.approx(104.10025)
    assert geo.grid_at(30.6605, 104.1008).pk == city.sibling_micro.pk


def test_a_building_left_outside_every_boundary_keeps_its_units(mapped, client_for):
    city = mapped
    r = redistrict(client_for(city.secretary), [(city.micro, box(104.100, 104.1005))])
    assert r.status_code == 200, r.json()
    assert r.json()["moves"] == [] and r.json()["outside"] == [{"id": city.building.pk, "name": city.building.name}]


@pytest.mark.parametrize("boundary, code", [
    (box(104.100, 104.101) | {"type": "LineString"}, "boundary_invalid"),
    ({"type": "Polygon", "coordinates": [[[104.1, 30.66], [104.101, 30.66], [104.1, 30.66]]]}, "boundary_invalid"),
    ({"type": "Polygon", "coordinates": [[[104.1, 30.66], [104.101, "x"], [104.1, 30.661], [104.1, 30.66]]]},
     "boundary_invalid"),
    # a bow tie: the ring crosses itself
    ({"type": "Polygon", "coordinates": [[[104.100, 30.660], [104.101, 30.661], [104.101, 30.660], [104.100, 30.661],
                                          [104.100, 30.660]]]}, "boundary_self_intersects"),
    (box(104.100, 104.1015), "boundary_overlaps_sibling"),
])
def test_a_bad_boundary_is_a_400_naming_the_rule_and_nothing_moves(mapped, client_for, boundary, code):
    city = mapped
    r = redistrict(client_for(city.secretary, "en"), [(city.micro, boundary)], preview=False)
    assert r.status_code == 400, r.json()
    assert r.json()["code"] == code and "boundaries[0].boundary" in r.json()["fields"]
    assert Grid.objects.get(pk=city.micro.pk).boundary == box(104.100, 104.101)
    if code == "boundary_overlaps_sibling":
        assert city.sibling_micro.name in r.json()["message"]
    if code == "boundary_self_intersects":
        assert "crosses itself" in r.json()["message"]
        zh = redistrict(client_for(city.secretary), [(city.micro, boundary)]).json()["message"]
        assert "交叉" in zh or "相交" in zh or zh != r.json()["message"]


def test_a_shared_edge_drawn_by_hand_is_not_an_overlap(mapped, client_for):
    city = mapped
    slightly = box(104.100, 104.1010000005)  # a few centimetres over the neighbour's edge
    r = redistrict(client_for(city.secretary), [(city.micro, slightly)])
    assert r.status_code == 200, r.json()


def test_a_building_gained_across_general_grids_breaks_the_rule(mapped, client_for):
    city = mapped
    Building.objects.filter(grid=city.other_grid).update(lat=30.6605, lng=104.1030)
    r = redistrict(client_for(city.dispatcher), [(city.sibling_micro, box(104.101, 104.104))], preview=False)
    assert r.status_code == 400 and r.json()["code"] == "unit_outside_building_grid"
    assert Grid.objects.get(pk=city.sibling_micro.pk).boundary == box(104.101, 104.102)


def test_only_managers_of_the_grid_redraw_it(mapped, client_for):
    city = mapped
    drawn = [(city.micro, box(104.100, 104.1008))]
    assert redistrict(client_for(city.worker), drawn).status_code == 403
    assert redistrict(client_for(city.outsider), drawn).status_code == 400  # not found in their scope
    assert redistrict(client_for(city.secretary), drawn).status_code == 200


# --- the map's data ---------------------------------------------------------------------------------------------

def test_map_answers_the_grids_and_buildings_in_scope(mapped, client_for, django_assert_max_num_queries):
    city = mapped
    client = client_for(city.secretary)
    with django_assert_max_num_queries(12):
        r = client.get("/api/v1/grids/map/")
    assert r.status_code == 200, r.json()
    body = r.json()
    ids = {g["id"] for g in body["grids"]}
    assert {city.micro.pk, city.sibling_micro.pk} <= ids and city.other_micro.pk not in ids
    micro = next(g for g in body["grids"] if g["id"] == city.micro.pk)
    assert micro["boundary"] == box(104.100, 104.101) and micro["workers"]
    assert [b["id"] for b in body["buildings"]] == [city.building.pk]
    assert body["tiles"] is None and body["truncated"] is False
    assert client.get("/api/v1/grids/map/", {"root": city.other_community.pk}).status_code == 404
    assert client.get("/api/v1/grids/map/", {"nope": 1}).status_code == 400


def test_map_tiles_come_from_the_setting(mapped, client_for, settings):
    settings.MAP_TILES = "https://tiles.example.org/{z}/{x}/{y}.png"
    r = client_for(mapped.secretary).get("/api/v1/grids/map/")
    assert r.json()["tiles"]["url"] == settings.MAP_TILES


def test_index_lookup_is_fast(mapped):
    geo.grid_at(30.6605, 104.1005)
    started = time.perf_counter()
    for _ in range(200):
        geo.grid_id_at(30.6605, 104.1005)
    assert (time.perf_counter() - started) / 200 < 0.01


def test_a_boundary_written_on_the_grid_keeps_the_same_rules(mapped, client_for):
    city = mapped
    client = client_for(city.dispatcher, "en")
    r = client.patch(f"/api/v1/grids/{city.micro.pk}/", {"boundary": box(104.100, 104.1015)}, format="json")
    assert r.status_code == 400 and "boundary" in r.json()["fields"], r.json()
    assert city.sibling_micro.name in r.json()["fields"]["boundary"][0]
    r = client.patch(f"/api/v1/grids/{city.micro.pk}/", {"boundary": box(104.100, 104.1008)}, format="json")
    assert r.status_code == 200, r.json()
    assert geo.grid_at(30.6605, 104.1009) is None
