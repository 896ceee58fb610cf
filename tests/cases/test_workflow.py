"""Every transition through the API, and the ways each is refused."""

import pytest
from django.utils import timezone

from gridcase.cases.models import CaseDepartment, CaseEvent, CaseHop, Category, ExtensionRequest
from gridcase.notifications.models import Notification

from .conftest import assert_replays


def status_of(case):
    case.refresh_from_db()
    return case.status


def test_full_life_of_a_case(city, make_case, act, settings, tmp_path):
    case = make_case()
    assert case.status == "reported" and case.owner_grid_id == city.micro.pk and case.version == 1
    assert act(city.secretary, case, "accept").json()["status"] == "accepted"
    body = act(city.secretary, case, "assign", assignee=city.worker.pk).json()
    assert body["status"] == "assigned" and body["assignee"] == city.worker.pk
    assert Notification.objects.filter(recipient=city.worker, kind="assigned", case_id=case.pk).count() == 1
    assert act(city.worker, case, "start").json()["status"] == "in_progress"
    body = act(city.worker, case, "resolve", note="已疏通").json()
    assert body["status"] == "resolved" and body["deadlines"]["verify_by"]
    assert act(city.grid_worker, case, "verify").json()["status"] == "verified"
    body = act(city.secretary, case, "close").json()
    assert body["status"] == "closed" and body["allowed_actions"] == ["reopen", "callback"]
    # Staff cannot rate on their own: only the resident's answer on a recorded call-back counts.
    assert act(city.secretary, case, "rate", rating="satisfied").status_code == 403
    body = act(city.secretary, case, "callback", rating="satisfied", called_at=timezone.now().isoformat(),
               comment="居民说已经好了").json()
    assert body["rating"] == "satisfied" and body["status"] == "closed" and body["rating_source"] == "callback"
    assert "callback" not in body["allowed_actions"]
    case.refresh_from_db()
    assert case.version == 8
    assert [e.action for e in CaseEvent.objects.filter(case=case)] == [
        "create", "accept", "assign", "start", "resolve", "verify", "close", "callback"]
    assert case.accepted_at and case.resolved_at and case.closed_at and case.first_response_at
    assert_replays(case)


def test_reject_needs_a_reason_and_writes_nothing_without_it(city, make_case, act):
    case = make_case()
    r = act(city.secretary, case, "reject")
    assert r.status_code == 400 and r.json()["code"] == "validation_error" and "reason" in r.json()["fields"]
    r = act(city.secretary, case, "reject", reason="   ")
    assert r.status_code == 400
    assert status_of(case) == "reported" and case.version == 1
    assert CaseEvent.objects.filter(case=case).count() == 1
    r = act(city.secretary, case, "reject", reason="不属于受理范围")
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert CaseHop.objects.get(case=case).end_action == "reject"
    assert_replays(case)


def test_wrong_status_is_invalid_transition(city, make_case, act):
    case = make_case()
    for action, data in [("start", {}), ("resolve", {"note": "x"}), ("verify", {}), ("close", {}),
                         ("rate", {"rating": "satisfied"}), ("reopen", {"reason": "x"})]:
        user = city.worker if action in ("start", "resolve") else city.secretary
        r = act(user, case, action, **data)
        # the worker is not the assignee yet: forbidden beats status for start/resolve
        assert r.status_code in (403, 409), (action, r.content)
        if r.status_code == 409:
            assert r.json()["code"] == "invalid_transition", action
    r = act(city.secretary, case, "close")
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    assert r.json()["current"]["status"] == "reported"
    assert status_of(case) == "reported"


def test_stale_version_is_a_conflict_with_the_current_case(city, make_case, act, client_for):
    case = make_case()
    act(city.secretary, case, "accept")
    r = act(city.secretary, case, "assign", version=1, assignee=city.worker.pk)
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "conflict" and body["current"]["version"] == 2 and body["current"]["status"] == "accepted"
    r = client_for(city.secretary).post(f"/api/v1/cases/{case.pk}/assign/", {"assignee": city.worker.pk},
                                        format="json", HTTP_IF_MATCH="1")
    assert r.status_code == 412 and r.json()["code"] == "precondition_failed" and r.json()["current"]["version"] == 2
    r = client_for(city.secretary).post(f"/api/v1/cases/{case.pk}/assign/", {"assignee": city.worker.pk},
                                        format="json", HTTP_IF_MATCH='"2"')
    assert r.status_code == 200 and r.json()["version"] == 3
    r = client_for(city.secretary).post(f"/api/v1/cases/{case.pk}/start/", {}, format="json")
    assert r.status_code in (400, 403)


def test_missing_version_is_a_validation_error(city, make_case, client_for):
    case = make_case()
    r = client_for(city.secretary).post(f"/api/v1/cases/{case.pk}/accept/", {}, format="json")
    assert r.status_code == 400 and "version" in r.json()["fields"]
    assert status_of(case) == "reported"


def test_malformed_json_is_a_clear_400(city, make_case, client_for):
    case = make_case()
    c = client_for(city.secretary)
    r = c.post(f"/api/v1/cases/{case.pk}/accept/", "{not json", content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "malformed_request"
    r = c.post(f"/api/v1/cases/{case.pk}/accept/", "[1, 2]", content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] in ("malformed_request", "validation_error")
    r = c.post("/api/v1/cases/", "[]", content_type="application/json")
    assert r.status_code == 400
    assert status_of(case) == "reported"


def test_assign_only_to_someone_working_in_the_owner_grid(city, make_case, act, drive):
    case = drive(make_case(), "accept")
    for outsider in (city.sibling_worker, city.outsider, city.viewer, city.officer):
        r = act(city.secretary, case, "assign", assignee=outsider.pk)
        assert r.status_code == 400, outsider.username
        assert r.json()["code"] == "assignee_outside_grid"
    r = act(city.secretary, case, "assign", assignee=999999)
    assert r.status_code == 400
    assert status_of(case) == "accepted" and case.assignee_id is None
    # staff above the owner grid may take it themselves
    assert act(city.secretary, case, "assign", assignee=city.grid_worker.pk).status_code == 200
    # and it can be reassigned while not started
    assert act(city.secretary, case, "assign", assignee=city.worker.pk).json()["assignee"] == city.worker.pk


def test_only_the_assignee_starts_and_resolves(city, make_case, act, drive):
    case = drive(make_case(), "accept", "assign")
    assert act(city.sibling_worker, case, "start").status_code == 404
    assert act(city.grid_worker, case, "start").status_code == 403
    assert act(city.worker, case, "start").status_code == 200
    r = act(city.worker, case, "resolve")
    assert r.status_code == 400 and "note" in r.json()["fields"]
    assert act(city.secretary, case, "resolve", note="x").status_code == 403
    assert act(city.worker, case, "resolve", note="ok").status_code == 200


def test_resolver_cannot_verify_own_work(city, make_case, act, drive):
    case = drive(make_case(), "accept", "assign", "start", "resolve", assignee=city.grid_worker)
    r = act(city.grid_worker, case, "verify")
    assert r.status_code == 403
    assert act(city.secretary, case, "verify").status_code == 200


def test_reopen_after_failed_check_goes_back_to_the_assignee(city, make_case, act, drive):
    case = drive(make_case(), "accept", "assign", "start", "resolve")
    assert act(city.grid_worker, case, "reopen").status_code == 400
    body = act(city.grid_worker, case, "reopen", reason="仍在返水").json()
    assert body["status"] == "assigned" and body["assignee"] == city.worker.pk and body["reopen_count"] == 1
    assert Notification.objects.filter(recipient=city.worker, kind="reopened").count() == 1
    assert_replays(case)


def test_dissatisfied_rating_reopens_a_closed_case(city, make_case, act, drive):
    case = drive(make_case(), "accept", "assign", "start", "resolve", "verify", "close")
    r = act(city.secretary, case, "callback", rating="terrible", called_at=timezone.now().isoformat(), comment="x")
    assert r.status_code == 400
    body = act(city.secretary, case, "callback", rating="dissatisfied", called_at=timezone.now().isoformat(),
               comment="还是堵").json()
    assert body["status"] == "assigned" and body["rating"] == "dissatisfied" and body["closed_at"] is None
    assert CaseHop.objects.filter(case=case, kind="grid", ended_at__isnull=True).count() == 1
    assert Notification.objects.filter(recipient=city.worker, kind="reopened").exists()
    case = drive(case, "start", "resolve", "verify", "close")
    assert act(city.secretary, case, "callback", rating="basically", called_at=timezone.now().isoformat(),
               comment="基本满意").json()["rating"] == "basically"
    assert act(city.secretary, case, "callback", rating="satisfied", called_at=timezone.now().isoformat(),
               comment="满意").status_code == 409
    assert_replays(case)


def test_escalate_moves_up_one_level_at_a_time(city, make_case, act, drive):
    case = drive(make_case(), "accept", "assign")
    body = act(city.worker, case, "escalate", reason="需要网格协调").json()
    assert body["owner_grid"] == city.grid.pk and body["status"] == "accepted" and body["assignee"] is None
    # the micro-grid worker no longer holds the case but still sees it
    r = act(city.worker, case, "escalate")
    assert r.status_code == 403
    assert act(city.grid_worker, case, "escalate").json()["owner_grid"] == city.community.pk
    assert act(city.secretary, case, "escalate").json()["owner_grid"] == city.street.pk
    r = act(city.dispatcher, case, "escalate")
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    hops = list(CaseHop.objects.filter(case=case, kind="grid").order_by("id"))
    assert [h.grid_id for h in hops] == [city.micro.pk, city.grid.pk, city.community.pk, city.street.pk]
    assert [h.end_action for h in hops] == ["escalate", "escalate", "escalate", ""]
    assert Notification.objects.filter(recipient=city.dispatcher, kind="escalated", case_id=case.pk).count() == 1
    assert_replays(case)


def test_escalate_a_reported_case_keeps_it_reported(city, make_case, act):
    case = make_case()
    body = act(city.worker, case, "escalate").json()
    assert body["status"] == "reported" and body["owner_grid"] == city.grid.pk


def test_whistle_report_in_reply_and_score(city, make_case, act, drive, client_for):
    case = drive(make_case(), "accept")
    assert client_for(city.officer).get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert act(city.grid_worker, case, "whistle", departments=[city.department.pk]).status_code == 403
    r = act(city.secretary, case, "whistle", departments=[])
    assert r.status_code == 400
    r = act(city.secretary, case, "whistle", departments=[city.department.pk], report_by="2000-01-01T00:00:00Z")
    assert r.status_code == 400 and "report_by" in r.json()["fields"]
    body = act(city.secretary, case, "whistle", departments=[city.department.pk], note="请派人查看管网").json()
    assert body["departments"][0]["id"] == city.department.pk and body["departments"][0]["reported_in_at"] is None
    assert Notification.objects.filter(recipient=city.officer, kind="whistle").count() == 1
    r = act(city.secretary, case, "whistle", departments=[city.department.pk])
    assert r.status_code == 400
    # the officer now sees the case and may report in, then reply
    detail = client_for(city.officer).get(f"/api/v1/cases/{case.pk}/").json()
    assert detail["allowed_actions"] == ["report_in", "reply"]
    assert act(city.secretary, case, "score_department", department=city.department.pk, score=5).status_code == 409
    assert act(city.officer, case, "report_in").status_code == 200
    assert act(city.officer, case, "report_in").status_code == 409
    assert act(city.secretary, case, "report_in").status_code == 403
    assert act(city.officer, case, "reply").status_code == 400
    assert act(city.officer, case, "reply", note="已派维修班组").status_code == 200
    r = act(city.secretary, case, "score_department", department=city.department.pk, score=9)
    assert r.status_code == 400
    assert act(city.secretary, case, "score_department", department=city.department.pk, score=4,
               comment="响应及时").status_code == 200
    link = CaseDepartment.objects.get(case=case)
    assert link.reported_in_at and link.replied_at and link.score == 4 and link.reply == "已派维修班组"
    assert link.reported_in_at <= link.replied_at
    hop = CaseHop.objects.get(case=case, kind="department")
    assert hop.end_action == "reply" and hop.ended_at == link.replied_at
    # the officer cannot do grid work
    assert act(city.officer, case, "assign", assignee=city.worker.pk).status_code == 403
    assert_replays(case)


def test_extension_request_and_decision(city, make_case, act, drive):
    case = drive(make_case(), "accept", "assign", "start")
    before = case.handle_by
    assert act(city.worker, case, "request_extension", hours=0, reason="x").status_code == 400
    assert act(city.worker, case, "request_extension", hours=8).status_code == 400
    assert act(city.worker, case, "decide_extension", approve=True).status_code == 403
    assert act(city.secretary, case, "decide_extension", approve=True).status_code == 409
    body = act(city.worker, case, "request_extension", hours=8, reason="等待配件").json()
    assert body["has_pending_extension"] is True and "decide_extension" not in body["allowed_actions"]
    assert act(city.worker, case, "request_extension", hours=8, reason="again").status_code == 409
    assert act(city.secretary, case, "decide_extension", approve="maybe").status_code == 400
    body = act(city.secretary, case, "decide_extension", approve=True).json()
    case.refresh_from_db()
    assert case.handle_by > before and body["has_pending_extension"] is False
    ext = ExtensionRequest.objects.get(case=case)
    assert ext.state == "approved" and ext.old_deadline == before and ext.new_deadline == case.handle_by
    act(city.worker, case, "request_extension", hours=4, reason="再等等")
    handle_by = case.handle_by
    assert act(city.grid_worker, case, "decide_extension", approve=False).status_code == 200
    case.refresh_from_db()
    assert case.handle_by == handle_by
    assert list(ExtensionRequest.objects.filter(case=case).values_list("state", flat=True)) == ["approved", "refused"]


def test_merge_into_another_case(city, make_case, act):
    first, dup = make_case(), make_case(title="同一处下水道")
    assert act(city.secretary, dup, "merge").status_code == 400
    assert act(city.secretary, dup, "merge", into=dup.pk).status_code == 400
    assert act(city.secretary, dup, "merge", into=999999).status_code == 400
    body = act(city.secretary, dup, "merge", into=first.pk).json()
    assert body["status"] == "merged" and body["merged_into"] == first.pk and body["allowed_actions"] == []
    assert_replays(dup)


def test_sensitive_case_needs_the_secretary_to_close(city, make_case, act, drive, client_for):
    cat = Category.objects.get(code="care_domestic_violence")
    case = make_case(reporter=city.grid_worker, cat=cat, title="疑似家暴")
    assert case.sensitive
    assert client_for(city.worker).get(f"/api/v1/cases/{case.pk}/").status_code == 404
    case = drive(case, "accept", "assign", "start", "resolve")
    # once assigned, the micro-grid worker handles (and sees) it
    assert client_for(city.worker).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    assert act(city.grid_worker, case, "verify").status_code == 200
    r = act(city.grid_worker, case, "close")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    detail = client_for(city.grid_worker).get(f"/api/v1/cases/{case.pk}/").json()
    assert "close" not in detail["allowed_actions"]
    assert act(city.secretary, case, "close").json()["status"] == "closed"


@pytest.mark.parametrize("action", ["nonsense", "create"])
def test_unknown_action_is_404(city, make_case, client_for, action):
    case = make_case()
    r = client_for(city.secretary).post(f"/api/v1/cases/{case.pk}/{action}/", {"version": 1}, format="json")
    assert r.status_code in (404, 405)
