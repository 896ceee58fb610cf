"""No 500, always JSON: hostile input answers a 4xx in the `{code, message, fields}` shape.

The list endpoints are discovered from the URL configuration (router and plain paths), so a list added
later is covered by the unknown-parameter and bad-cursor tests without touching this file.
"""

import base64
import json
from types import SimpleNamespace

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.pagination import CursorPagination
from rest_framework.test import APIClient

from gridcase.cases import services, workflow
from gridcase.cases.models import Category

pytestmark = pytest.mark.django_db

# GET endpoints about one thing rather than a list (route names, or a part of them): the API root's
# directory of links, who I am, the CSRF cookie, the public intake pages, one import's report download and
# the scoped file downloads.
SINGLE = {"api-root", "me", "auth-csrf", "intake", "intake-track", "import-report", "file"}


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def list_endpoints():
    """(route, view class, action) of every GET under /api/v1/ that lists or reports."""
    found = {}
    for route, pattern in _walk(get_resolver().url_patterns):
        if not route.startswith("api/v1/") or "(?P<format>" in route or r"\.(?P" in route:
            continue
        callback = pattern.callback
        cls = getattr(callback, "cls", None)
        if cls is None:
            continue
        actions = getattr(callback, "actions", None)
        if actions is not None:
            action = actions.get("get")
            if action is None or action == "retrieve":
                continue
        else:
            if "get" not in cls.http_method_names or not hasattr(cls, "get"):
                continue
            action = None
        name = pattern.name or ""
        if name in SINGLE or any(name.startswith(s) for s in ("intake", "file")):
            continue
        path = "/" + route.replace("^", "").replace("$", "")
        found[path] = SimpleNamespace(path=path, cls=cls, action=action, initkwargs=callback.initkwargs or {},
                                      basename=(callback.initkwargs or {}).get("basename"))
    return sorted(found.values(), key=lambda e: e.path)


LISTS = list_endpoints()


def test_discovery_finds_the_known_lists():
    paths = {e.path for e in LISTS}
    for known in ("/api/v1/cases/", "/api/v1/residents/", "/api/v1/visits/due/", "/api/v1/grids/tree/",
                  "/api/v1/stats/summary/", "/api/v1/notifications/", "/api/v1/categories/"):
        assert known in paths
    assert any("children" in p for p in paths) and any("events" in p for p in paths)


def concrete(endpoint, city, case):
    """The endpoint's path with a real id in place of `(?P<pk>…)`."""
    path = endpoint.path
    if "(?P<pk>" not in path:
        return path
    from .test_resources import _campaign, _meeting, _topic

    makers = {"grid": lambda: city.micro, "case": lambda: case, "user": lambda: city.worker,
              "notice": lambda: _notice(city), "activity": lambda: _activity(city),
              "campaign": lambda: _campaign(city, 1), "meeting": lambda: _meeting(city, 1),
              "topic": lambda: _topic(city, 1), "job": lambda: _job(city)}
    obj = makers[endpoint.basename]()
    start = path.index("(?P<pk>")
    end = path.index(")", start) + 1
    return path[:start] + str(obj.pk) + path[end:]



def _notice(city):
    from gridcase.notices.publishing import publish_notice

    return publish_notice(city.secretary, grid=city.micro, title="停水通知")


def _job(city):
    from gridcase.jobs.models import Job

    return Job.objects.create(kind="export", owner=city.dispatcher)


def _activity(city):
    from datetime import timedelta

    from gridcase.volunteers.models import Activity

    now = timezone.now()
    return Activity.objects.create(grid=city.micro, title="义诊", starts_at=now + timedelta(days=1),
                                   ends_at=now + timedelta(days=1, hours=2))

@pytest.fixture
def case(city):
    category = Category.objects.get(code="env_drain")
    return services.create_case(city.worker, {"category": category, "grid": city.micro, "title": "下水道堵塞",
                                              "description": "3栋门口下水道返水"}).case


@pytest.fixture
def drive(city):
    """Move a case through the workflow as the usual personas (no HTTP)."""

    def go(case, *names):
        steps = {"accept": (city.secretary, {}), "assign": (city.secretary, {"assignee": city.worker.pk}),
                 "start": (city.worker, {})}
        for name in names:
            user, data = steps[name]
            case.refresh_from_db()
            case = workflow.apply(case.pk, name, user, data, version=case.version)
        return case

    return go


@pytest.fixture
def act(client_for):
    def run(user, case, action, **data):
        case.refresh_from_db()
        return client_for(user).post(f"/api/v1/cases/{case.pk}/{action}/", {"version": case.version, **data},
                                     format="json")

    return run


def assert_error(response, status, code=None):
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) >= {"code", "message", "fields"}, body
    assert isinstance(body["message"], str) and body["message"]
    if code is not None:
        assert body["code"] == code, body
    return body


# --- unknown query parameters ----------------------------------------------------------------------------------

@pytest.mark.parametrize("endpoint", LISTS, ids=[e.path for e in LISTS])
def test_unknown_query_parameter_is_refused_by_name(endpoint, city, case, client_for):
    path = concrete(endpoint, city, case)
    response = client_for(city.dispatcher, "en").get(path, {"bogus_param": "1"})
    body = assert_error(response, 400, "unknown_parameter")
    assert "bogus_param" in body["fields"] and "bogus_param" in body["message"]


def test_the_refusal_speaks_the_callers_language(city, client_for):
    zh = assert_error(client_for(city.dispatcher).get("/api/v1/cases/", {"bogus": "1"}), 400)
    assert zh["message"] == "不支持的查询参数：bogus。"
    en = assert_error(client_for(city.dispatcher, "en").get("/api/v1/cases/", {"created_after": "1899-01-01"}), 400)
    assert en["fields"]["created_after"] == ["Enter a date between 1900-01-01 and 2999-12-31."]


@pytest.mark.parametrize("path,param", [
    ("/api/v1/residents/", "grid"),            # residents filter by `within`, not `grid`
    ("/api/v1/visits/due/", "overdue"),        # the round has no `overdue`
    ("/api/v1/cases/1/events/", "status"),     # the case list's filters do not apply to its events
])
def test_the_reported_silent_parameters_are_refused(path, param, city, case, client_for):
    path = path.replace("/1/", f"/{case.pk}/")
    body = assert_error(client_for(city.dispatcher).get(path, {param: "1"}), 400, "unknown_parameter")
    assert param in body["fields"]


def test_cases_filter_by_dedicated_grid(city, case, client_for):
    category = Category.objects.get(code="env_drain")
    school = services.create_case(city.secretary, {"category": category, "grid": city.dedicated,
                                                   "title": "校门口积水", "description": "积水"}).case
    c = client_for(city.dispatcher)
    rows = c.get("/api/v1/cases/", {"dedicated_grid": city.dedicated.pk}).json()["results"]
    assert [r["id"] for r in rows] == [school.pk]
    assert c.get("/api/v1/cases/", {"dedicated_grid": city.micro.pk}).json()["results"] == []


def test_users_filter_within_a_grid(city, client_for):
    rows = client_for(city.secretary).get("/api/v1/users/", {"within": city.sibling_micro.pk}).json()["results"]
    assert {r["username"] for r in rows} == {"sibling"}


@pytest.mark.parametrize("path,params,field", [
    ("/api/v1/households/", {"unit": ""}, "unit"),
    ("/api/v1/households/", {"unit": "1.5"}, "unit"),
    ("/api/v1/residents/", {"is_active": "maybe"}, "is_active"),
    ("/api/v1/notifications/", {"unread": "362880"}, "unread"),
    ("/api/v1/grids/tree/", {"depth": "two"}, "depth"),
    ("/api/v1/stats/timeseries/", {"interval": "fortnight"}, "interval"),
])
def test_a_value_of_the_wrong_type_is_refused_not_ignored(path, params, field, city, client_for):
    body = assert_error(client_for(city.dispatcher).get(path, params), 400)
    assert field in body["fields"]


def test_a_4kb_query_string_answers_json(city, client_for):
    body = assert_error(client_for(city.dispatcher).get("/api/v1/cases/?q=" + "x" * 4096), 400, "query_too_long")
    assert body["fields"] == {}


def test_gunicorn_lets_a_4kb_request_line_reach_django(settings):
    """gunicorn's own limit (4094 bytes) would answer a 4 KB query string itself, in plain text."""
    import runpy

    conf = runpy.run_path(str(settings.BASE_DIR / "deploy" / "gunicorn.conf.py"))
    assert conf["limit_request_line"] >= 8190


# --- cursors and page sizes ------------------------------------------------------------------------------------

def _cursor(**tokens):
    from urllib.parse import urlencode

    return base64.b64encode(urlencode(tokens).encode()).decode()


def paginator_of(endpoint):
    kwargs = {k: v for k, v in endpoint.initkwargs.items() if hasattr(endpoint.cls, k)}
    view = endpoint.cls(**kwargs)
    return getattr(view, "paginator", None)


CURSOR_LISTS = [e for e in LISTS if isinstance(paginator_of(e), CursorPagination)]


def test_discovery_finds_the_cursor_lists():
    paths = {e.path for e in CURSOR_LISTS}
    assert "/api/v1/cases/" in paths and "/api/v1/notifications/" in paths
    assert "/api/v1/visits/due/" not in paths  # pages by number


@pytest.mark.parametrize("endpoint", CURSOR_LISTS, ids=[e.path for e in CURSOR_LISTS])
@pytest.mark.parametrize("cursor", [_cursor(p="abc"), _cursor(p="1e999"), _cursor(p="9" * 30), _cursor(o="-1"),
                                    _cursor(r="x"), "%%%not-base64"], ids=["text", "float", "huge", "negative-offset",
                                                                            "bad-reverse", "garbage"])
def test_a_bad_cursor_answers_400_on_every_cursor_list(endpoint, cursor, city, case, client_for):
    path = concrete(endpoint, city, case)
    body = assert_error(client_for(city.dispatcher).get(path, {"cursor": cursor}), 400, "validation_error")
    assert "cursor" in body["fields"]


@pytest.mark.parametrize("size", ["0", "-1", "201", "100000", "abc", "1.5", ""])
def test_absurd_page_sizes_are_refused(size, city, client_for):
    body = assert_error(client_for(city.dispatcher).get("/api/v1/cases/", {"page_size": size}), 400)
    assert "page_size" in body["fields"]


def test_a_good_cursor_still_pages(city, client_for):
    c = client_for(city.dispatcher)
    first = c.get("/api/v1/grids/", {"page_size": 2}).json()
    second = c.get(first["next"]).json()
    assert second["results"] and {g["id"] for g in first["results"]}.isdisjoint(g["id"] for g in second["results"])


def test_the_round_pages_by_number_and_refuses_a_missing_page(city, client_for):
    c = client_for(city.worker)
    assert c.get("/api/v1/visits/due/", {"page": "1"}).status_code == 200
    assert "page" in assert_error(c.get("/api/v1/visits/due/", {"page": "0"}), 400)["fields"]
    assert "page" in assert_error(c.get("/api/v1/visits/due/", {"page": "99"}), 400)["fields"]


# --- bodies --------------------------------------------------------------------------------------------------

def test_deeply_nested_json_answers_400(city, client_for):
    c = client_for(city.worker)
    response = c.post("/api/v1/cases/", data="[" * 100_000, content_type="application/json")
    assert_error(response, 400, "malformed_request")


@pytest.mark.parametrize("hours", ["NaN", "Infinity", "-Infinity", "sNaN", "1e999", True])
def test_request_extension_with_no_number_of_hours_answers_400(hours, city, case, drive, act):
    case = drive(case, "accept", "assign", "start")
    response = act(city.worker, case, "request_extension", hours=hours, reason="雨天无法施工")
    body = assert_error(response, 400)
    assert "hours" in body["fields"]


def test_nan_as_a_json_number_answers_400(city, case, drive, client_for):
    case = drive(case, "accept", "assign", "start")
    response = client_for(city.worker).post(f"/api/v1/cases/{case.pk}/request_extension/",
                                            data=f'{{"version": {case.version}, "hours": NaN, "reason": "x"}}',
                                            content_type="application/json")
    assert_error(response, 400, "malformed_request")


def test_a_13mb_body_answers_413(city, client_for):
    body = json.dumps({"title": "x" * (13 * 1024 * 1024)})
    response = client_for(city.worker).post("/api/v1/cases/", data=body, content_type="application/json")
    assert_error(response, 413, "too_large")


def test_a_13mb_form_answers_413(city, client_for):
    response = client_for(city.worker).post("/api/v1/cases/", data="title=" + "x" * (13 * 1024 * 1024),
                                            content_type="application/x-www-form-urlencoded")
    assert_error(response, 413, "too_large")


def test_a_note_longer_than_the_schema_allows_is_refused_even_with_trailing_spaces(city, case, client_for):
    response = client_for(city.secretary).post(f"/api/v1/cases/{case.pk}/accept/",
                                               {"version": case.version, "note": "好" * 1990 + " " * 20},
                                               format="json")
    assert "note" in assert_error(response, 400)["fields"]


@pytest.mark.parametrize("assignee", [1.5, True, "3.0"])
def test_an_id_that_is_not_a_whole_number_is_refused(assignee, city, case, drive, act):
    case = drive(case, "accept")
    body = assert_error(act(city.secretary, case, "assign", assignee=assignee), 400)
    assert "assignee" in body["fields"]


@pytest.mark.parametrize("value", [0.0, 1, "yes", "on"])
def test_a_boolean_is_true_or_false(value, city, client_for):
    response = client_for(city.secretary).patch(f"/api/v1/residents/{city.resident.pk}/", {"is_active": value},
                                                format="json")
    assert "is_active" in assert_error(response, 400)["fields"]
    city.resident.refresh_from_db()
    assert city.resident.is_active


def test_an_empty_page_number_is_refused(city, client_for):
    assert "page" in assert_error(client_for(city.worker).get("/api/v1/visits/due/?page="), 400)["fields"]


# --- unknown paths and Django's own errors -------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/v1/cases/abc/", "/api/v1/cases/1/nope/", "/api/v2/",
                                  "/api/v1/grids/1/children/x/"])
@pytest.mark.parametrize("signed_in", [True, False])
def test_an_unknown_api_path_answers_json_404(path, signed_in, city, client_for):
    c = client_for(city.worker) if signed_in else APIClient()
    assert_error(c.get(path), 404, "not_found")
    assert_error(c.post(path, {}, format="json"), 404, "not_found")


def test_pages_outside_the_api_keep_django_pages(client, db):
    response = client.get("/admin/nope/")
    assert response.status_code in (302, 404)
    assert not response["Content-Type"].startswith("application/json")


def test_too_many_form_fields_answer_json(city, case, client_for, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    boundary = "BoUnDaRy"
    parts = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\n1\r\n' for i in range(50))
    response = client_for(city.worker).post(f"/api/v1/cases/{case.pk}/attachments/",
                                            data=parts + f"--{boundary}--\r\n",
                                            content_type=f"multipart/form-data; boundary={boundary}")
    assert_error(response, 400, "malformed_request")


# --- dates ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path,params,field", [
    ("/api/v1/cases/", {"created_after": "1899-12-31T00:00:00"}, "created_after"),
    ("/api/v1/cases/", {"created_before": "0001-01-01T00:00:00Z"}, "created_before"),
    ("/api/v1/visits/", {"visited_after": "1899-12-31"}, "visited_after"),
    ("/api/v1/visits/", {"visited_before": "0001-01-01T00:00:00"}, "visited_before"),
    ("/api/v1/care-plans/", {"coverage": "late", "coverage_from": "1800-01-01"}, "coverage_from"),
    ("/api/v1/visits/due/", {"date": "1899-01-01"}, "date"),
    ("/api/v1/stats/visit-coverage/", {"from": "1899-12-01"}, "from"),
    ("/api/v1/stats/summary/", {"from": "0001-01-01"}, "from"),
    ("/api/v1/stats/timeseries/", {"to": "1850-02-01"}, "to"),
])
def test_dates_before_1900_are_refused(path, params, field, city, client_for):
    body = assert_error(client_for(city.dispatcher, "en").get(path, params), 400)
    assert field in body["fields"]
    assert "1900" in " ".join(body["fields"][field])


def test_a_visit_dated_before_1900_is_refused(city, client_for):
    response = client_for(city.worker).post("/api/v1/visits/", {
        "client_uuid": "5b0f7a8e-7a0b-4c53-9a53-2f3f5f0f0001", "resident": city.resident.pk, "kind": "home",
        "visited_at": "1899-12-31T10:00:00+08:00", "wellbeing": "good"}, format="json")
    assert "visited_at" in assert_error(response, 400)["fields"]


def test_dates_from_1900_are_taken(city, client_for):
    c = client_for(city.dispatcher)
    assert c.get("/api/v1/cases/", {"created_after": "1900-01-02T00:00:00Z"}).status_code == 200
    assert c.get("/api/v1/visits/", {"visited_after": "1900-01-02"}).status_code == 200


# --- messages ------------------------------------------------------------------------------------------------

def test_an_out_of_scope_reference_names_the_id(city, client_for):
    response = client_for(city.worker, "en").post("/api/v1/visits/", {
        "client_uuid": "5b0f7a8e-7a0b-4c53-9a53-2f3f5f0f0002", "resident": city.other_resident.pk, "kind": "home",
        "visited_at": timezone.now().isoformat(), "wellbeing": "good"}, format="json")
    body = assert_error(response, 400)
    text = " ".join(body["fields"]["resident"])
    assert str(city.other_resident.pk) in text and "%(" not in text and "{" not in text


def test_a_wrongly_typed_reference_names_the_type(city, client_for):
    response = client_for(city.worker, "en").post("/api/v1/visits/", {
        "client_uuid": "5b0f7a8e-7a0b-4c53-9a53-2f3f5f0f0003", "resident": {"id": 1}, "kind": "home",
        "visited_at": timezone.now().isoformat(), "wellbeing": "good"}, format="json")
    text = " ".join(assert_error(response, 400)["fields"]["resident"])
    assert "dict" in text and "%(" not in text and "{" not in text


def test_workflow_still_answers_the_same_shape(city, case, client_for):
    """A stale version still carries the current case (409) and the messages stay in the caller's language."""
    response = client_for(city.secretary, "en").post(f"/api/v1/cases/{case.pk}/accept/", {"version": 99},
                                                     format="json")
    body = assert_error(response, 409, "conflict")
    assert body["current"]["id"] == case.pk
    assert workflow.load(case.pk, None).status == "reported"
