"""Lists and details answer in a constant number of queries, whatever the page size."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from gridcase.cases import workflow
from gridcase.cases.models import Case, Category

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


@pytest.mark.skipif(not settings.IS_POSTGRES, reason="the one-statement reads and writes are PostgreSQL's")
def test_a_report_and_each_step_of_its_handling_take_few_statements(city, client_for, django_assert_max_num_queries):
    """A case's create and each transition through the API, in statements, as production counts them (the
    caller's account read first, as authentication does, and a fresh user object per request: the scope is read
    each time). django-helpdesk's ticket create takes 24 statements."""
    category = Category.objects.get(code="env_drain")
    body = {"category": category.pk, "grid": city.micro.pk, "title": "下水道堵塞", "description": "楼下"}

    def post(user, url, data):
        return client_for(User.objects.get(pk=user.pk)).post(url, data, format="json")

    # the first case loads the working calendar, which the process then keeps; the category and the SLA policies
    # come from the process's copies outside a transaction (14 statements then), read here inside the test's own.
    # One of them draws the case's id first, so that the community's number row is locked only at the end.
    assert post(city.worker, "/api/v1/cases/", {**body, "client_key": "warm"}).status_code == 201
    with django_assert_max_num_queries(16):
        r = post(city.worker, "/api/v1/cases/", {**body, "client_key": "k1"})
    assert r.status_code == 201, r.content
    case = r.json()
    steps = [(city.secretary, "accept", {}, 10), (city.secretary, "assign", {"assignee": city.worker.pk}, 11),
             (city.worker, "start", {}, 9), (city.worker, "resolve", {"note": "已疏通"}, 12),
             (city.secretary, "verify", {}, 9), (city.secretary, "close", {}, 12)]
    for user, action, data, most in steps:
        with django_assert_max_num_queries(most):
            r = post(user, f"/api/v1/cases/{case['id']}/{action}/", {"version": case["version"], **data})
        assert r.status_code == 200, (action, r.content)
        case = r.json()
    assert case["status"] == "closed"


def test_one_case_read_in_one_query_carries_the_same_departments_as_the_prefetch(city, many_cases,
                                                                                 django_assert_num_queries):
    """`workflow.read_one` (PostgreSQL: the departments as JSON in the case's row) and a page's prefetch agree."""
    whistled = many_cases[10]
    fields = ["id", "department_id", "whistled_at", "whistled_by_id", "whistled_from_id", "report_by", "note",
              "reported_in_at", "score"]
    page = workflow.with_related(Case.objects.filter(pk=whistled.pk)).get()
    with django_assert_num_queries(1 if settings.IS_POSTGRES else 2):
        one = workflow.read_one(Case.objects.filter(pk=whistled.pk))
        links = list(one.case_departments.all())
        names = [link.department.name for link in links]
    expected = list(page.case_departments.all())
    assert links and [[getattr(x, f) for f in fields] for x in links] == [
        [getattr(x, f) for f in fields] for x in expected]
    assert names == [x.department.name for x in expected] and one.has_pending_extension == page.has_pending_extension
