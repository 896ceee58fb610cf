"""Declarative API resource tests: one `Resource` per viewset, the scope matrix generated from it.

A declaration says how to put one object of the resource in the in-scope persona's area (`make`), what a
create and an update send, and the query budget of its list. From it, `matrix()` generates

    list · detail · create · update · delete  ×  in_scope · sibling · outsider

as requests from three personas of the city (`personas`, by default the community secretary, the sibling
micro-grid's worker and the other community's secretary) on an object that lies in the in-scope area:
the in-scope persona lists, reads, creates, updates and deletes it; the sibling and the outsider do not see it
(404 by id, absent from lists) and cannot create one there (a reference outside their area is a 400). A
resource that differs says so in `expect` (e.g. `shared=True`: every caller sees the same rows). An operation
the viewset does not route is refused for everyone (405, or 404 where no such URL exists, or 403 first for a
caller without the viewset's role). For `list`, `expect` gives "listed", "hidden" or a refusal's status.

`query_counts()` generates one test per resource: its list, with three pages' worth of rows made by `make`,
stays within `max_queries` (`django_assert_max_num_queries`). `viewset_routes()` lists every viewset of the API
router from the URL resolver (not from a hand-kept list), so `tests/test_resources.py` can check that each
has a declaration.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

OPERATIONS = ("list", "detail", "create", "update", "delete")
WHO = ("in_scope", "sibling", "outsider")
# The viewset action behind each operation, and the HTTP method it uses.
ACTIONS = {"list": ("list", "get"), "detail": ("retrieve", "get"), "create": ("create", "post"),
           "update": ("partial_update", "patch"), "delete": ("destroy", "delete")}
DEFAULT = {
    "list": {"in_scope": "listed", "sibling": "hidden", "outsider": "hidden"},
    "detail": {"in_scope": 200, "sibling": 404, "outsider": 404},
    "create": {"in_scope": 201, "sibling": 400, "outsider": 400},
    "update": {"in_scope": 200, "sibling": 404, "outsider": 404},
    "delete": {"in_scope": 204, "sibling": 404, "outsider": 404},
}
SHARED = {
    "list": {"in_scope": "listed", "sibling": "listed", "outsider": "listed"},
    "detail": {"in_scope": 200, "sibling": 200, "outsider": 200},
}
PAGE = 5  # the list query budget is checked with page_size=PAGE over 3 × PAGE rows


@dataclass(frozen=True)
class Resource:
    route: str  # the router prefix: /api/v1/<route>/
    make: Callable  # make(city, i) -> the i-th object, in the in-scope persona's area
    max_queries: int  # the list's query budget (three pages' worth of rows, one page asked)
    create: Callable | None = None  # create(city) -> the body of a new object in the in-scope area
    update: Callable | None = None  # update(city, obj) -> a PATCH body
    personas: dict = field(default_factory=lambda: {"in_scope": "secretary", "sibling": "sibling_worker",
                                                    "outsider": "outsider"})
    shared: bool = False  # every caller sees the same rows (reference data)
    expect: dict = field(default_factory=dict)  # {(operation, who): status or "listed"/"hidden"}
    params: dict = field(default_factory=dict)  # query parameters of the list

    def expected(self, operation, who, routed):
        if (operation, who) in self.expect:
            return self.expect[(operation, who)]
        if not routed:
            return "not routed"
        if self.shared and operation in SHARED:
            return SHARED[operation][who]
        return DEFAULT[operation][who]


def viewset_routes() -> dict:
    """{router prefix: (viewset class, {viewset action names})} for every viewset the API's URLs reach."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found: dict = {}

    def walk(patterns):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            elif isinstance(p, URLPattern):
                cls, actions = getattr(p.callback, "cls", None), getattr(p.callback, "actions", None)
                if cls is None or actions is None:
                    continue  # a plain view
                prefix = str(p.pattern).lstrip("^").split("/")[0].split("\\.")[0]
                entry = found.setdefault(prefix, (cls, set()))
                entry[1].update(actions.values())

    walk(get_resolver().url_patterns)
    return found


def _rows(response):
    body = response.json()
    return body["results"] if isinstance(body, dict) and "results" in body else body


def _run(resource, operation, who, city, client_for):
    routes = viewset_routes()
    assert resource.route in routes, f"/api/v1/{resource.route}/ is not routed"
    action, method = ACTIONS[operation]
    routed = action in routes[resource.route][1]
    expected = resource.expected(operation, who, routed)
    client = client_for(getattr(city, resource.personas[who]))
    obj = resource.make(city, 0)
    base = f"/api/v1/{resource.route}/"
    detail = f"{base}{obj.pk}/"
    model = type(obj)
    before_row, before_count = model.objects.filter(pk=obj.pk).values().first(), model.objects.count()
    if operation == "list":
        response = client.get(base, resource.params)
    elif operation == "detail":
        response = client.get(detail)
    elif operation == "create":
        response = client.post(base, resource.create(city) if resource.create and routed else {}, format="json")
    elif operation == "update":
        response = client.patch(detail, resource.update(city, obj) if resource.update and routed else {},
                                format="json")
    else:
        response = client.delete(detail)
    if expected == "not routed":
        # Refused: 405 (or 404 where no such URL exists); 403 first for a caller without the viewset's role.
        assert response.status_code in (403, 404, 405), (response.status_code, response.content)
        return
    if operation == "list" and expected in ("listed", "hidden"):
        assert response.status_code == 200, response.content
        ids = {row["id"] for row in _rows(response)}
        assert (obj.pk in ids) == (expected == "listed"), (expected, ids)
        return
    assert response.status_code == expected, response.content
    if operation == "delete":
        assert model.objects.filter(pk=obj.pk).exists() == (expected != 204)
    elif operation == "update" and expected != 200:
        assert model.objects.filter(pk=obj.pk).values().first() == before_row  # unchanged by a refused write
    elif operation == "create":
        if expected == 201:
            assert model.objects.filter(pk=response.json()["id"]).exists()
        else:
            assert model.objects.count() == before_count  # nothing saved, then rolled back or not


def matrix(resources):
    """One test per resource × operation × persona (ids `<route>-<operation>-<who>`)."""
    cases = [pytest.param(r, op, who, id=f"{r.route}-{op}-{who}") for r in resources for op in OPERATIONS
             for who in WHO]

    @pytest.mark.parametrize("resource,operation,who", cases)
    def test_scope_matrix(resource, operation, who, city, client_for):
        _run(resource, operation, who, city, client_for)

    return test_scope_matrix


def query_counts(resources):
    """One test per resource: the list asked for one page out of three pages' worth of rows stays within
    the declared budget."""

    @pytest.mark.parametrize("resource", [pytest.param(r, id=r.route) for r in resources])
    def test_list_query_count(resource, city, client_for, django_assert_max_num_queries):
        from gridcase.grids.scoping import forget_scope

        user = getattr(city, resource.personas["in_scope"])
        made = [resource.make(city, i) for i in range(3 * PAGE)]
        client = client_for(user)
        params = {**resource.params}
        if viewset_routes()[resource.route][0].pagination_class is not None:
            params["page_size"] = PAGE
        forget_scope(user)  # as in a request, where the user is loaded afresh
        with django_assert_max_num_queries(resource.max_queries):
            response = client.get(f"/api/v1/{resource.route}/", params)
        assert response.status_code == 200, response.content
        assert _rows(response), "the list shows none of the rows made for it"
        assert len(made) == 3 * PAGE

    return test_list_query_count
