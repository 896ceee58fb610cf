"""Who may see and do what, per persona (the `city` fixture): in scope, sibling grid, outsider, and the rest."""

import pytest

from gridcase.cases.models import Category
from gridcase.core.models import AuditLog

PERSONAS = ["worker", "sibling_worker", "grid_worker", "secretary", "outsider", "dispatcher", "viewer", "officer",
            "admin"]

# A case reported in the worker's micro-grid: who sees it (200) and who does not (404).
SEES = {"worker": 200, "sibling_worker": 404, "grid_worker": 200, "secretary": 200, "outsider": 404,
        "dispatcher": 200, "viewer": 200, "officer": 404, "admin": 200}
# Accepting it: staff at or above the micro-grid; the micro-grid worker and the viewer may look but not act.
ACCEPT = {"worker": 403, "sibling_worker": 404, "grid_worker": 200, "secretary": 200, "outsider": 404,
          "dispatcher": 200, "viewer": 403, "officer": 404, "admin": 200}
# Whistling departments: leaders only (secretary, dispatcher, admin).
WHISTLE = {"worker": 403, "sibling_worker": 404, "grid_worker": 403, "secretary": 200, "outsider": 404,
           "dispatcher": 200, "viewer": 403, "officer": 404, "admin": 200}
# Reporting a case in the micro-grid.
REPORT = {"worker": 201, "sibling_worker": 400, "grid_worker": 201, "secretary": 201, "outsider": 400,
          "dispatcher": 201, "viewer": 403, "officer": 400, "admin": 201}


@pytest.mark.parametrize("persona", PERSONAS)
def test_detail_and_list_visibility(city, make_case, client_for, persona):
    case = make_case()
    user = getattr(city, persona)
    c = client_for(user)
    assert c.get(f"/api/v1/cases/{case.pk}/").status_code == SEES[persona]
    ids = [row["id"] for row in c.get("/api/v1/cases/").json()["results"]]
    assert (case.pk in ids) == (SEES[persona] == 200)
    assert c.get(f"/api/v1/cases/{case.pk}/events/").status_code == SEES[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_accept_matrix(city, make_case, act, persona):
    case = make_case()
    r = act(getattr(city, persona), case, "accept")
    assert r.status_code == ACCEPT[persona], r.content
    case.refresh_from_db()
    assert case.status == ("accepted" if ACCEPT[persona] == 200 else "reported")


@pytest.mark.parametrize("persona", PERSONAS)
def test_whistle_matrix(city, make_case, act, drive, persona):
    case = drive(make_case(), "accept")
    r = act(getattr(city, persona), case, "whistle", departments=[city.department.pk])
    assert r.status_code == WHISTLE[persona], r.content


@pytest.mark.parametrize("persona", PERSONAS)
def test_report_matrix(city, client_for, category, persona):
    r = client_for(getattr(city, persona)).post("/api/v1/cases/", {
        "category": category.pk, "grid": city.micro.pk, "title": "楼道灯坏了"}, format="json")
    assert r.status_code == REPORT[persona], r.content
    if r.status_code == 400:
        assert "grid" in r.json()["fields"]  # a grid outside the caller's tree does not exist for them


@pytest.mark.parametrize("persona", PERSONAS)
def test_allowed_actions_match_what_the_server_accepts(city, make_case, client_for, act, persona):
    case = make_case()
    user = getattr(city, persona)
    r = client_for(user).get(f"/api/v1/cases/{case.pk}/")
    assert r.status_code == SEES[persona], r.content
    if SEES[persona] == 404:
        # No actions offered (the case does not exist for them), and none accepted either.
        assert act(user, case, "accept").status_code == 404
        case.refresh_from_db()
        assert case.status == "reported"
        return
    allowed = r.json()["allowed_actions"]
    assert ("accept" in allowed) == (ACCEPT[persona] == 200)
    assert ("escalate" in allowed) == (persona in ("worker", "grid_worker", "secretary", "dispatcher", "admin"))


def test_department_officer_sees_exactly_the_cases_whistled_to_them(city, make_case, act, drive, client_for):
    whistled, other = drive(make_case(), "accept"), make_case()
    act(city.secretary, whistled, "whistle", departments=[city.department.pk])
    ids = [row["id"] for row in client_for(city.officer).get("/api/v1/cases/").json()["results"]]
    assert ids == [whistled.pk]
    assert client_for(city.officer).get(f"/api/v1/cases/{other.pk}/").status_code == 404


def test_sensitive_cases_are_hidden_from_roles_that_do_not_handle_them_and_reads_are_audited(
        city, make_case, client_for):
    case = make_case(reporter=city.secretary, cat=Category.objects.get(code="care_mental"), title="情绪异常")
    for persona, expected in [("worker", 404), ("sibling_worker", 404), ("viewer", 404), ("dispatcher", 404),
                              ("outsider", 404), ("grid_worker", 200), ("secretary", 200), ("admin", 200)]:
        r = client_for(getattr(city, persona)).get(f"/api/v1/cases/{case.pk}/")
        assert r.status_code == expected, persona
        listed = [row["id"] for row in client_for(getattr(city, persona)).get("/api/v1/cases/").json()["results"]]
        assert (case.pk in listed) == (expected == 200), persona
    reads = AuditLog.objects.filter(action="read_sensitive", object_id=str(case.pk))
    # grid worker, secretary, admin: one detail read and one list read each
    assert reads.count() == 6
    assert set(reads.values_list("actor_id", flat=True)) == {city.grid_worker.pk, city.secretary.pk, city.admin.pk}


def test_dedicated_grid_case_is_seen_by_school_and_micro_grid(city, client_for, category):
    from gridcase.grids.choices import Role
    from gridcase.grids.models import Membership

    from ..factories import UserFactory

    school_worker = UserFactory(username="school")
    Membership.objects.create(user=school_worker, grid=city.dedicated, role=Role.GRID_WORKER)
    r = client_for(city.secretary).post("/api/v1/cases/", {
        "category": category.pk, "grid": city.dedicated.pk, "unit": city.unit.pk, "title": "校门口积水"},
        format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["grid"] == city.micro.pk and body["dedicated_grid"] == city.dedicated.pk
    for user in (school_worker, city.worker):
        assert client_for(user).get(f"/api/v1/cases/{body['id']}/").status_code == 200
    assert client_for(city.sibling_worker).get(f"/api/v1/cases/{body['id']}/").status_code == 404


def test_reporter_keeps_seeing_their_own_report(city, make_case, client_for):
    case = make_case(reporter=city.worker)
    case.owner_grid = city.community
    case.grid = city.sibling_micro
    case.save()
    assert client_for(city.worker).get(f"/api/v1/cases/{case.pk}/").status_code == 200


def test_anonymous_gets_401(client_for, city, make_case):
    case = make_case()
    r = client_for(None).get(f"/api/v1/cases/{case.pk}/")
    assert r.status_code in (401, 403)
