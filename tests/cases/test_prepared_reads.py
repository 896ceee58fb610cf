"""A case's read is compiled once per caller and prepared on the connection (gridcase.core.statements): the answer
stays the caller's own — scope changes, edits and other callers are seen at once — and PostgreSQL stops planning
the statement on every request."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from gridcase.cases.models import Case
from gridcase.core import statements
from gridcase.grids.models import Membership

User = get_user_model()
postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="prepared statements: PostgreSQL")


def fresh(user):
    """A new user object per request, as in production (the scope is cached on the user for one request)."""
    return User.objects.get(pk=user.pk)


@postgres_only
def test_the_detail_statement_is_prepared_and_planned_once(city, make_case, client_for):
    case = make_case()
    for _ in range(8):
        r = client_for(fresh(city.secretary)).get(f"/api/v1/cases/{case.pk}/")
        assert r.status_code == 200 and r.json()["id"] == case.pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans FROM pg_prepared_statements "
                       "WHERE statement LIKE '%%FROM \"cases_case\"%%'")
        rows = cursor.fetchall()
    assert rows, "the case read was not prepared on this connection"
    # After five custom plans PostgreSQL keeps a generic one: later requests are not planned again.
    assert max(generic for _sql, generic in rows) >= 1


def test_a_changed_scope_is_seen_on_the_next_request(city, make_case, client_for):
    case = make_case()
    assert client_for(fresh(city.secretary)).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    Membership.objects.filter(user=city.secretary).delete()
    assert client_for(fresh(city.secretary)).get(f"/api/v1/cases/{case.pk}/").status_code == 404


def test_each_caller_gets_their_own_answer_from_one_compiled_read(city, make_case, client_for):
    case = make_case()
    mine = client_for(fresh(city.secretary)).get(f"/api/v1/cases/{case.pk}/")
    theirs = client_for(fresh(city.outsider)).get(f"/api/v1/cases/{case.pk}/")
    assert mine.status_code == 200 and theirs.status_code == 404
    # The allowed actions are the caller's; the worker reported it and holds the grid.
    worker = client_for(fresh(city.worker)).get(f"/api/v1/cases/{case.pk}/").json()
    assert worker["allowed_actions"] != mine.json()["allowed_actions"]


def test_an_edit_is_seen_by_the_next_read(city, make_case, client_for):
    case = make_case()
    c = client_for(fresh(city.secretary))
    assert c.get(f"/api/v1/cases/{case.pk}/").json()["title"] == case.title
    Case.objects.filter(pk=case.pk).update(title="改过的标题", version=case.version + 1)
    body = client_for(fresh(city.secretary)).get(f"/api/v1/cases/{case.pk}/").json()
    assert (body["title"], body["version"]) == ("改过的标题", case.version + 1)


@pytest.mark.parametrize("pk", ["99999999999999999999", "9223372036854775808", "0"])
def test_ids_no_case_can_have_answer_404(city, client_for, pk):
    r = client_for(city.secretary).get(f"/api/v1/cases/{pk}/")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


@postgres_only  # SQLite's compiler writes dates and times as text
def test_a_statement_with_a_time_in_it_is_refused(db):
    with pytest.raises(statements.NotPreparable):
        statements.Prepared(Case.objects.filter(pk=statements.MARKER_BASE, created_at__lt=timezone.now()), ("pk",))


@postgres_only  # SQLite's compiler writes dates and times as text
def test_a_day_chosen_by_the_request_is_a_slot_and_the_clock_is_still_refused(db):
    from datetime import date

    from gridcase.visits.models import CarePlanItem

    def due(day):
        return CarePlanItem.objects.filter(due_on__lte=day)

    counted = statements.Prepared(due(statements.DATE_MARKER_BASE), (), ("day",), count=True)
    assert counted.rows(day=date(2026, 1, 1)) == [(0,)]
    with pytest.raises(statements.NotPreparable):
        statements.Prepared(due(statements.DATE_MARKER_BASE).filter(last_contact_on__lt=timezone.localdate()),
                            (), ("day",))


def test_a_marker_that_is_not_in_the_statement_exactly_once_is_refused(db):
    twice = Case.objects.filter(pk=statements.MARKER_BASE) | Case.objects.filter(merged_into_id=statements.MARKER_BASE)
    with pytest.raises(statements.NotPreparable):
        statements.Prepared(twice, ("pk",))
    with pytest.raises(statements.NotPreparable):
        statements.Prepared(Case.objects.all(), ("pk",))


# --- the case list: a page of ids from a statement compiled once per caller and filter values ---------------------

def listed(user, query=""):
    r = Client_for_list(user).get(f"/api/v1/cases/?{query}")
    assert r.status_code == 200, r.content
    return [row["id"] for row in r.json()["results"]]


def Client_for_list(user):  # noqa: N802 - a fresh client and user per request, as production has
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(fresh(user))
    return client


def test_the_list_sees_a_new_case_and_pages_as_the_orm_does(city, make_case):
    cases = [make_case() for _ in range(5)]
    assert listed(city.secretary)[:5] == [c.pk for c in reversed(cases)]
    newer = make_case()
    assert listed(city.secretary)[0] == newer.pk  # the statement is kept; the rows are read afresh
    first = Client_for_list(city.secretary).get("/api/v1/cases/?page_size=2").json()
    second = Client_for_list(city.secretary).get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == [cases[3].pk, cases[2].pk]
    back = Client_for_list(city.secretary).get(second["previous"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in first["results"]]


def test_a_subtree_renumbered_by_a_new_grid_is_listed_right(city, make_case):
    from gridcase.grids.choices import Level
    from tests import factories as f

    mine = make_case(grid=city.micro)
    elsewhere = make_case(reporter=city.sibling_worker, grid=city.sibling_micro)
    query = f"within={city.micro.pk}"
    assert listed(city.admin, query) == [mine.pk]  # the whole city's scope: no place in the tree in its key
    # A new grid placed before ours shifts every later node's place in the tree.
    f.grid("ST-AAA", "新社区", Level.COMMUNITY, city.street)
    assert listed(city.admin, query) == [mine.pk]
    assert elsewhere.pk in listed(city.admin, f"within={city.grid.pk}")


def test_a_new_subcategory_is_listed_under_its_parent(city, make_case, category):
    from gridcase.cases import categories
    from gridcase.cases.models import Category

    top = category.parent
    assert listed(city.secretary, f"category={top.pk}") == []
    blocked = Category.objects.create(code="env_drain_blocked_list", name="下水道堵塞", parent=category)
    categories.forget()
    case = make_case(cat=blocked)
    assert listed(city.secretary, f"category={top.pk}") == [case.pk]


def test_bad_values_answer_400_every_time_and_the_clock_is_read_afresh(city, make_case):
    case = make_case()
    for _ in range(2):
        r = Client_for_list(city.secretary).get("/api/v1/cases/?status=bogus")
        assert r.status_code == 400 and "status" in r.json()["fields"]
    assert listed(city.secretary, "overdue=true") == []
    Case.objects.filter(pk=case.pk).update(sla_stage="accept", sla_red_at=timezone.now())
    assert listed(city.secretary, "overdue=true") == [case.pk]  # a list reading the clock is not compiled once
    assert listed(city.outsider, "overdue=true") == []


@postgres_only
def test_a_refused_statement_is_not_built_again(db):
    built = []

    def build():
        built.append(1)
        return Case.objects.filter(created_at__lt=timezone.now())  # the clock compiled in: refused

    for _ in range(3):
        with pytest.raises(statements.NotPreparable):
            statements.prepared(("test.refused", id(build)), build, slots=())
    assert len(built) == 1
