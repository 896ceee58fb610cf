"""List endpoints run a fixed number of queries whatever the page size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gridcase.grids.scoping import forget_scope
from tests import factories as f
from tests import persona

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "/api/v1/grids/": 5,
    "/api/v1/buildings/": 5,
    "/api/v1/units/": 5,
    "/api/v1/households/": 5,
    "/api/v1/residents/": 6,
    "/api/v1/residents/?tag=elderly_alone": 7,  # ids first, then the rows (api.pagination.IdsFirstCursorPagination)
    "/api/v1/memberships/": 5,
    "/api/v1/users/": 6,
    "/api/v1/departments/": 5,
    "/api/v1/grids/tree/?depth=3": 5,
}


@pytest.fixture
def populated(request, city):
    """Thirty of everything on the city: built once with the city snapshot (tests/persona.py)."""
    return city if persona.layer_value(request, "populated") is not None else build_populated(city)


@persona.layer("populated")
def build_populated(city):
    for i in range(30):
        b = f.building(city.grid, f"{i + 10}栋")
        u = f.unit(b, city.micro)
        hh = f.household(u, f"{i}01")
        f.resident(hh, f"居民{i}", phone=f"139{i:08d}", id_number=f"11010119500101{i:04d}", tags=["elderly_alone"])
        f.member(f.UserFactory(username=f"w{i}"), city.micro, "viewer")
        f.department(code=f"d{i}", name=f"部门{i}", area=city.street)
    return city


def count(client, url, user):
    forget_scope(user)  # as in a real request, where the user is loaded afresh
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response.json()


def sized(url, size):
    if "tree" in url:  # the tree does not page (page_size is refused there): its size is the depth
        return url.replace("depth=3", "depth=1" if size == "small" else "depth=3")
    return f"{url}{'&' if '?' in url else '?'}page_size={2 if size == 'small' else 60}"


@pytest.mark.parametrize("url", list(ENDPOINTS))
def test_query_count_does_not_grow_with_page_size(populated, client_for, url, django_assert_max_num_queries):
    c = client_for(populated.secretary)
    small, body_small = count(c, sized(url, "small"), populated.secretary)
    with django_assert_max_num_queries(ENDPOINTS[url]):
        big, body_big = count(c, sized(url, "big"), populated.secretary)
    assert big == small
    if "results" in body_big and "tree" not in url:
        assert len(body_big["results"]) > len(body_small["results"])
