"""Lists and details answer in a constant number of queries, whatever the page size."""

import pytest
from django.contrib.auth import get_user_model

from gridcase.cases.models import Category

from .. import persona
from ..conftest import api_client
from .conftest import actor, case_maker, driver

User = get_user_model()


@pytest.fixture
def many_cases(request, city):
    """Thirty cases in several stages: built once with the city snapshot (tests/persona.py)."""
    return persona.layer_value(request, "many_cases") or build_many_cases(city)


@persona.layer("many_cases")
def build_many_cases(city):
    make_case, drive, act = case_maker(city, Category.objects.get(code="env_drain")), driver(city), actor(api_client)
    cats = list(Category.objects.filter(parent__isnull=False, sensitive=False)[:5])
    cases = [make_case(cat=cats[i % len(cats)], title=f"事件{i}") for i in range(30)]
    for c in cases[:10]:
        drive(c, "accept", "assign")
    for c in cases[10:14]:
        c = drive(c, "accept")
        act(city.secretary, c, "whistle", departments=[city.department.pk])
    act(city.worker, cases[0], "request_extension", hours=4, reason="x")
    make_case(reporter=city.secretary, cat=Category.objects.get(code="care_minor"), title="敏感")
    return cases


@pytest.mark.parametrize("persona", ["secretary", "worker", "officer", "admin"])
def test_list_query_count_does_not_grow_with_the_page(city, many_cases, client_for, django_assert_max_num_queries,
                                                      persona):
    counts = []
    for size in (3, 30):
        # a fresh user object per request, as in production (the scope is cached per request on the user)
        c = client_for(User.objects.get(pk=getattr(city, persona).pk))
        with django_assert_max_num_queries(8) as ctx:
            r = c.get("/api/v1/cases/", {"page_size": size, "status": "reported,accepted,assigned"})
        assert r.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_detail_and_events_query_counts(city, many_cases, client_for, django_assert_max_num_queries):
    c = client_for(city.secretary)
    with django_assert_max_num_queries(8):
        r = c.get(f"/api/v1/cases/{many_cases[0].pk}/")
    assert r.status_code == 200 and r.json()["has_pending_extension"] is True
    with django_assert_max_num_queries(8):
        assert c.get(f"/api/v1/cases/{many_cases[0].pk}/events/").status_code == 200
