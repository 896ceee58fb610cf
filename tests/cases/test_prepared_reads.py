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


def test_a_statement_with_a_time_in_it_is_refused(db):
    with pytest.raises(statements.NotPreparable):
        statements.Prepared(Case.objects.filter(pk=statements.MARKER_BASE, created_at__lt=timezone.now()), ("pk",))


def test_a_marker_that_is_not_in_the_statement_exactly_once_is_refused(db):
    twice = Case.objects.filter(pk=statements.MARKER_BASE) | Case.objects.filter(merged_into_id=statements.MARKER_BASE)
    with pytest.raises(statements.NotPreparable):
        statements.Prepared(twice, ("pk",))
    with pytest.raises(statements.NotPreparable):
        statements.Prepared(Case.objects.all(), ("pk",))
