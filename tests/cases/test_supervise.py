"""Supervising a case (督办): a dispatcher or a secretary above the owner grid urges it on. The status stays;
an event with the comment is written; the owner grid's staff and the assignee are told once per supervision."""

import pytest

from gridcase.cases.models import CaseEvent
from gridcase.notifications.models import Notification

from .conftest import assert_replays

PERSONAS = ["worker", "sibling_worker", "grid_worker", "secretary", "outsider", "dispatcher", "viewer", "officer",
            "admin"]
# A case owned by the micro-grid: the community's secretary and the street's dispatcher are above it.
SUPERVISE = {"worker": 403, "sibling_worker": 404, "grid_worker": 403, "secretary": 200, "outsider": 404,
             "dispatcher": 200, "viewer": 403, "officer": 404, "admin": 200}


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_supervise_a_case_of_the_micro_grid(city, make_case, drive, act, client_for, persona):
    case = drive(make_case(), "accept", "assign")
    user = getattr(city, persona)
    r = act(user, case, "supervise", comment="请今天下班前处理完")
    assert r.status_code == SUPERVISE[persona], r.content
    case.refresh_from_db()
    assert case.version == (4 if SUPERVISE[persona] == 200 else 3) and case.status == "assigned"
    detail = client_for(user).get(f"/api/v1/cases/{case.pk}/")
    if detail.status_code == 200:
        assert ("supervise" in detail.json()["allowed_actions"]) == (SUPERVISE[persona] == 200)


def test_nobody_supervises_their_own_grid(city, make_case, act, client_for):
    case = make_case()
    assert act(city.worker, case, "escalate").status_code == 200  # → the grid
    assert act(city.grid_worker, case, "escalate").status_code == 200  # → the community
    case.refresh_from_db()
    assert case.owner_grid_id == city.community.pk
    r = act(city.secretary, case, "supervise", comment="加快办理")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert "supervise" not in client_for(city.secretary).get(f"/api/v1/cases/{case.pk}/").json()["allowed_actions"]
    assert act(city.dispatcher, case, "supervise", comment="加快办理").status_code == 200
    assert act(city.secretary, case, "escalate").status_code == 200  # → the street
    assert act(city.dispatcher, case, "supervise", comment="加快办理").status_code == 403
    assert act(city.admin, case, "supervise", comment="加快办理").status_code == 200


@pytest.mark.parametrize("steps", [(), ("accept",), ("accept", "assign"), ("accept", "assign", "start"),
                                   ("accept", "assign", "start", "resolve"),
                                   ("accept", "assign", "start", "resolve", "verify")])
def test_any_unfinished_case_can_be_supervised_and_keeps_its_status(city, make_case, drive, act, steps):
    case = drive(make_case(), *steps)
    before = case.status
    body = act(city.dispatcher, case, "supervise", comment="督促办理").json()
    assert body["status"] == before and body["version"] == case.version + 1
    assert_replays(case)


def test_finished_cases_cannot_be_supervised(city, make_case, drive, act):
    closed = drive(make_case(), "accept", "assign", "start", "resolve", "verify", "close")
    rejected = make_case(title="不属实")
    act(city.secretary, rejected, "reject", reason="不属实")
    for case in (closed, rejected):
        r = act(city.dispatcher, case, "supervise", comment="督促办理")
        assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
        assert not CaseEvent.objects.filter(case=case, action="supervise").exists()


def test_a_comment_is_required(city, make_case, act):
    case = make_case()
    for body in ({}, {"comment": "   "}, {"comment": ["x"]}):
        r = act(city.dispatcher, case, "supervise", **body)
        assert r.status_code == 400 and "comment" in r.json()["fields"], body
    assert not CaseEvent.objects.filter(case=case, action="supervise").exists()


def test_the_event_and_one_notice_per_person(city, make_case, drive, act):
    case = drive(make_case(), "accept", "assign")  # the worker handles it; the grid worker is the staff over it
    r = act(city.secretary, case, "supervise", comment="居民多次来电，请今天处理", version=case.version)
    assert r.status_code == 200
    event = CaseEvent.objects.get(case=case, action="supervise")
    assert (event.actor_id, event.from_status, event.to_status, event.comment) == (
        city.secretary.pk, "assigned", "assigned", "居民多次来电，请今天处理")
    assert event.payload["deadline"] and event.version == 4

    def told():
        rows = Notification.objects.filter(case_id=case.pk, title__startswith="督办")
        return sorted(rows.values_list("recipient__username", "kind"))

    assert told() == [("gridworker", "case_update"), ("worker", "case_update")]
    # the same request again (stale version): refused, nobody told twice
    assert act(city.secretary, case, "supervise", comment="再催", version=3).status_code == 409
    assert told() == [("gridworker", "case_update"), ("worker", "case_update")]
    # a second supervision is a second notice
    assert act(city.dispatcher, case, "supervise", comment="再催").status_code == 200
    assert len(told()) == 4
    assert_replays(case)


def test_the_request_body_is_documented(client_for, city):
    schema = client_for(city.admin).get("/api/schema/", {"format": "json"}).json()
    body = schema["paths"]["/api/v1/cases/{id}/supervise/"]["post"]["requestBody"]["content"]["application/json"]
    name = body["schema"]["$ref"].rsplit("/", 1)[-1]
    component = schema["components"]["schemas"][name]
    assert "comment" in component["properties"] and "comment" in component.get("required", [])
