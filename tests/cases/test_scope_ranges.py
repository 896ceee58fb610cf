"""Scope as a tree range, applied once: `restrict()` and `?within=` give exactly the rows of the rule they
replace (ids listed grid by grid), as one condition, without lists of grid ids in the SQL."""

import itertools
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.utils import timezone

from gridcase.cases.models import Case, CaseDepartment, area_q
from gridcase.grids import scoping, tree
from gridcase.grids.choices import Role
from gridcase.grids.models import Building, Grid, Household, Membership, Resident
from gridcase.grids.roles import CASE_STAFF, SENSITIVE_ROLES
from tests import factories as f

User = get_user_model()
PERSONAS = ["worker", "sibling_worker", "grid_worker", "secretary", "outsider", "dispatcher", "viewer", "officer",
            "mixed", "two_places"]


@pytest.fixture
def personas(city):
    """The city's personas and two holding several grids with different roles."""
    mixed = f.member(f.UserFactory(username="mixed"), city.street, Role.STREET_DISPATCHER)
    f.member(mixed, city.other_grid, Role.GRID_WORKER)  # sensitive cases in one subtree only
    two_places = f.member(f.UserFactory(username="two_places"), city.micro, Role.MICRO_GRID_WORKER)
    f.member(two_places, city.other_community, Role.SECRETARY)
    city.mixed, city.two_places = mixed, two_places
    return city


@pytest.fixture
def world(personas, category):
    """Cases in every combination of grid, owner grid, dedicated grid and sensitivity, some assigned to, reported
    by or whistled to a persona."""
    city = personas
    grids = list(Grid.objects.order_by("id"))
    now = timezone.now()
    rows = []
    for i, (g, o, d, s) in enumerate(itertools.product(grids, grids, [None, city.dedicated, city.other_micro],
                                                       [False, True])):
        person = [None, city.worker, city.viewer, city.dispatcher, city.outsider][i % 5]
        rows.append(Case(number=f"T-{i}", title="t", category=category, grid=g, owner_grid=o, dedicated_grid=d,
                         sensitive=s, assignee=person if i % 3 == 0 else None,
                         reporter=person if i % 3 == 1 else None, created_at=now, updated_at=now))
    cases = Case.objects.bulk_create(rows)
    CaseDepartment.objects.bulk_create([CaseDepartment(case=c, department=city.department, whistled_at=now,
                                                       report_by=now) for c in cases[::7]])
    return city


def reference_visible(user, scope) -> set[int]:
    """The rule as it was written before ranges: the caller's grids as lists of ids."""
    spans = {g.pk: tree.span(g) for g in Grid.objects.all()}
    inside = lambda ps: {pk for pk, s in spans.items() if any(p.contains(s) for p in ps)}  # noqa: E731
    all_ids = inside(scope.spans)
    sens_ids = inside([h.span for h in scope.holds if h.role in SENSITIVE_ROLES])
    owners = {h.grid_id for h in scope.holds if h.role in CASE_STAFF}
    whistled = set(CaseDepartment.objects.filter(department_id__in=scope.department_ids).values_list("case_id",
                                                                                                      flat=True))
    seen = set()
    for c in Case.objects.all():
        area = {c.grid_id, c.owner_grid_id, c.dedicated_grid_id}
        if ((not c.sensitive and area & all_ids) or (c.sensitive and area & sens_ids)
                or (c.sensitive and c.owner_grid_id in owners) or user.pk in (c.assignee_id, c.reporter_id)
                or c.pk in whistled):
            seen.add(c.pk)
    return seen


def in_subtree(span) -> set[int]:
    ids = set(Grid.objects.filter(tree.subtree_q([span])).values_list("id", flat=True))
    return {c.pk for c in Case.objects.all() if {c.grid_id, c.owner_grid_id, c.dedicated_grid_id} & ids}


def one_condition(narrowed, stacked) -> bool:
    """The scope and the subtree make one condition in place of the scope's (never shorter when stacked), and it
    is still the queryset's restriction."""
    return sql_length(narrowed) <= sql_length(stacked) and narrowed.restriction() is not None


def sql_length(qs) -> int:
    try:
        return len(str(qs.query))
    except EmptyResultSet:  # a condition that matches nothing: no statement at all
        return 0


@pytest.mark.parametrize("persona", PERSONAS)
def test_cases_restricted_and_within_are_the_rule(world, persona):
    user = User.objects.get(pk=getattr(world, persona).pk)
    scope = scoping.scope_for(user)
    expected = reference_visible(user, scope)
    restricted = Case.objects.restrict(user)
    assert set(restricted.values_list("pk", flat=True)) == expected
    for grid in Grid.objects.all():
        span = tree.span(grid)
        narrowed = scoping.within(restricted, span)
        assert set(narrowed.values_list("pk", flat=True)) == expected & in_subtree(span), grid.code
        assert one_condition(narrowed, restricted.filter(area_q([span])))


@pytest.mark.parametrize("model, prefix", [(Resident, "grid__"), (Household, "grid__"), (Building, "grid__"),
                                           (Membership, "grid__"), (Grid, "")])
@pytest.mark.parametrize("persona", ["worker", "secretary", "dispatcher", "two_places", "mixed"])
def test_other_lists_within_are_the_scope_and_the_subtree(personas, persona, model, prefix):
    user = getattr(personas, persona)
    restricted = model.objects.restrict(user)
    for grid in Grid.objects.all():
        span = tree.span(grid)
        expected = set(restricted.filter(tree.subtree_q([span], prefix)).values_list("pk", flat=True))
        narrowed = scoping.within(restricted, span, prefix)
        assert set(narrowed.values_list("pk", flat=True)) == expected, grid.code
        assert one_condition(narrowed, restricted.filter(tree.subtree_q([span], prefix)))


def test_superuser_within_is_the_subtree(world):
    span = tree.span(world.community)
    everything = Case.objects.restrict(world.admin)
    assert set(scoping.within(everything, span).values_list("pk", flat=True)) == in_subtree(span)


def grid_id_lists(sql: str) -> list[str]:
    """`IN (…)` lists of three or more literal numbers in a statement (but a page's own case ids, by which the list
    reads the page's rows once it has found them: api.pagination.IdsFirstMixin)."""
    return re.findall(r"(?<!\"cases_case\"\.\"id\" )IN \((?:\d+, ){2,}\d+\)", sql)


def test_no_lists_of_grid_ids(world, client_for, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    extra = [f.grid(f"ST-BLZ-G01-M{i:02d}", f"微网格{i}", "micro_grid", world.grid) for i in range(3, 9)]
    assert extra
    case = Case.objects.filter(grid=world.micro, sensitive=False).first()
    client = client_for(world.dispatcher)
    for url in (f"/api/v1/cases/{case.pk}/", "/api/v1/cases/", f"/api/v1/cases/?within={world.community.pk}",
                f"/api/v1/residents/?within={world.community.pk}"):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200, url
        for q in ctx.captured_queries:
            if "grids_grid" in q["sql"] and "cases_casedepartment" not in q["sql"]:
                assert not grid_id_lists(q["sql"]), (url, q["sql"][:500])
