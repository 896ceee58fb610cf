"""Every grid-side endpoint is scoped: lists show only the caller's subtrees, detail outside answers 404."""

import pytest

pytestmark = pytest.mark.django_db

LISTS = ["grids", "buildings", "units", "households", "residents", "memberships", "users"]


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_micro_grid_worker_sees_only_their_micro_grid(city, client_for):
    c = client_for(city.worker)
    assert ids(c.get("/api/v1/residents/")) == {city.resident.id}
    assert ids(c.get("/api/v1/households/")) == {city.household.id}
    assert ids(c.get("/api/v1/units/")) == {city.unit.id}
    assert ids(c.get("/api/v1/grids/")) == {city.micro.id}
    # The building holding their unit is visible, the other community's is not.
    assert ids(c.get("/api/v1/buildings/")) == {city.building.id}


def test_secretary_sees_their_community_not_the_other(city, client_for):
    c = client_for(city.secretary)
    assert ids(c.get("/api/v1/residents/")) == {city.resident.id, city.sibling_resident.id}
    grid_ids = ids(c.get("/api/v1/grids/"))
    assert city.community.id in grid_ids and city.dedicated.id in grid_ids
    assert city.other_community.id not in grid_ids and city.street.id not in grid_ids


def test_street_dispatcher_sees_everything_in_the_street(city, client_for):
    c = client_for(city.dispatcher)
    assert ids(c.get("/api/v1/residents/")) == {city.resident.id, city.sibling_resident.id, city.other_resident.id}


@pytest.mark.parametrize("resource,attr", [
    ("residents", "other_resident"), ("households", "other_household"), ("grids", "other_micro"),
    ("grids", "other_community"), ("residents", "sibling_resident"),
])
def test_detail_outside_scope_is_404(city, client_for, resource, attr):
    obj = getattr(city, attr)
    response = client_for(city.worker).get(f"/api/v1/{resource}/{obj.id}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("resource", LISTS)
def test_every_list_is_scoped_for_the_outsider(city, client_for, resource):
    """The other community's secretary sees nothing of Balizhuang on any list."""
    c = client_for(city.outsider)
    response = c.get(f"/api/v1/{resource}/")
    assert response.status_code == 200
    blz = {
        "grids": {city.community.id, city.micro.id, city.grid.id},
        "buildings": {city.building.id},
        "units": {city.unit.id, city.sibling_unit.id},
        "households": {city.household.id, city.sibling_household.id},
        "residents": {city.resident.id, city.sibling_resident.id},
        "memberships": set(),
        "users": {city.worker.id, city.secretary.id},
    }[resource]
    assert not (ids(response) & blz)


def test_memberships_scoped(city, client_for):
    rows = client_for(city.secretary).get("/api/v1/memberships/").json()["results"]
    usernames = {r["username"] for r in rows}
    assert {"worker", "sibling", "gridworker", "secretary"} <= usernames
    assert "outsider" not in usernames and "dispatcher" not in usernames


def test_anonymous_gets_401_with_code(client, db):
    response = client.get("/api/v1/residents/")
    assert response.status_code in (401, 403)
    assert response.json()["code"] in ("not_authenticated", "forbidden")


def test_within_filter_expands_subtree(city, client_for):
    c = client_for(city.dispatcher)
    assert ids(c.get(f"/api/v1/residents/?within={city.community.id}")) == {city.resident.id, city.sibling_resident.id}
    assert ids(c.get(f"/api/v1/residents/?within={city.micro.id}")) == {city.resident.id}
    assert ids(c.get(f"/api/v1/grids/?within={city.grid.id}")) == {city.grid.id, city.micro.id, city.sibling_micro.id}


def test_within_outside_scope_gives_nothing(city, client_for):
    assert ids(client_for(city.worker).get(f"/api/v1/residents/?within={city.other_community.id}")) == set()


def test_resident_search_by_name_pinyin_initials_and_phone_tail(city, client_for):
    c = client_for(city.secretary)
    assert ids(c.get("/api/v1/residents/?q=王秀")) == {city.resident.id}
    assert ids(c.get("/api/v1/residents/?q=wxy")) == {city.resident.id}
    assert ids(c.get("/api/v1/residents/?q=wangxiu")) == {city.resident.id}
    assert ids(c.get("/api/v1/residents/?q=1111")) == {city.sibling_resident.id}
    assert ids(c.get("/api/v1/residents/?q=zzz")) == set()


def test_resident_tag_filter(city, client_for):
    c = client_for(city.dispatcher)
    assert ids(c.get("/api/v1/residents/?tag=elderly_alone")) == {city.resident.id}
    assert ids(c.get(f"/api/v1/residents/?tag=elderly_alone&within={city.other_community.id}")) == set()


def test_resident_list_pages_newest_first_each_resident_once(city, client_for):
    """The list reads a page's ids, then their rows (api.pagination.IdsFirstCursorPagination): walking the cursor
    still gives every tagged resident of the street once, newest first, each with its household and tags."""
    from tests import factories as f

    for i in range(7):
        b = f.building(city.grid, f"翻页{i}栋")
        hh = f.household(f.unit(b, city.micro), f"{i}02")
        f.resident(hh, f"翻页{i}", tags=["elderly_alone"])
    c = client_for(city.dispatcher)
    url, seen = f"/api/v1/residents/?tag=elderly_alone&within={city.street.id}&page_size=3", []
    while url:
        body = c.get(url).json()
        assert len(body["results"]) <= 3
        for row in body["results"]:
            assert row["household"] and "elderly_alone" in [t["code"] if isinstance(t, dict) else t
                                                             for t in row["tags"]]
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == 8


@pytest.mark.parametrize("url", [
    "/api/v1/residents/?within=3126628262453176172544",
    "/api/v1/care-plans/?worker=3126628262453176172544",
    "/api/v1/grids/?parent=99999999999999999999999",
    "/api/v1/cases/?assignee=99999999999999999999999",
])
def test_numbers_out_of_range_never_crash(city, client_for, url):
    """PostgreSQL compares them as numerics (nothing matches); SQLite cannot bind them (a clear 400)."""
    response = client_for(city.secretary, language="en").get(url)
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert response.json()["code"] == "validation_error"
    else:
        assert response.json()["results"] == []
