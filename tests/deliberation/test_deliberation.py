"""Deliberation (议事): the rules table, the whole flow through the API (topic from a parking case → consultation
with sign-in → decision with two actions turned into cases → cases closed → topic followed through), scope,
idempotent sign-in from an offline phone, and bad input (a vote after the close …)."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from gridcase.cases import services as case_services
from gridcase.cases import workflow
from gridcase.cases.models import Case, Category
from gridcase.deliberation import rules
from gridcase.deliberation.models import Attendee, Topic, TopicStatus, Vote

pytestmark = pytest.mark.django_db


# --- the rules table (no database) --------------------------------------------------------------------------------

def test_rules_table():
    assert rules.can("schedule", "open") and rules.target("schedule") == "deliberating"
    assert rules.can("decide", "deliberating") and not rules.can("decide", "decided")
    assert not rules.can("add_action", "deliberating") and rules.can("add_action", "decided")
    assert rules.followed_through(["closed", "closed"])
    assert not rules.followed_through(["closed", "assigned"]) and not rules.followed_through([])
    assert rules.close_refusal("decided", 1, "") == "open_actions"
    assert rules.close_refusal("decided", 0, "") is None
    assert rules.close_refusal("open", 0, "") == "note" and rules.close_refusal("open", 0, "重复议题") is None
    assert rules.close_refusal("closed", 0, "x") == "status"
    assert rules.close_refusal("followed_through", 0, "x") == "status"  # followed through is where it ends
    assert rules.allowed_moves("open", 0, 0) == ["schedule", "decide", "close"]
    assert rules.allowed_moves("decided", 2, 2) == ["add_action"]


# --- helpers ------------------------------------------------------------------------------------------------------

def parking_case(city):
    return case_services.create_case(city.worker, {
        "category": Category.objects.get(code="dispute_parking"), "grid": city.micro,
        "title": "港云里消防通道反复停车", "description": "居民多次反映车辆占用消防通道"}).case


def close_case(city, case):
    for name, user, data in [("accept", city.secretary, {}), ("assign", city.secretary, {"assignee": city.worker.pk}),
                             ("start", city.worker, {}), ("resolve", city.worker, {"note": "已完成"}),
                             ("verify", city.grid_worker, {}), ("close", city.secretary, {})]:
        case.refresh_from_db()
        if case.status == "closed":
            break
        if name in ("accept", "assign") and case.status not in ("reported", "accepted"):
            continue
        case = workflow.apply(case.pk, name, user, data, version=case.version)
    return case


def post(client, url, body, expect):
    r = client.post(url, body, format="json")
    assert r.status_code == expect, r.content
    return r.json()


def raise_from_case(city, client, case):
    return post(client, "/api/v1/topics/", {"title": "港云里停车难题", "origin": "case", "case": case.pk,
                                            "level": "grid", "grid": city.grid.pk,
                                            "residents_scope": "港云里1-3栋全体住户"}, 201)


def held_meeting(city, client, topic):
    start = timezone.now() - timedelta(hours=1)
    m = post(client, "/api/v1/meetings/", {"topic": topic["id"], "starts_at": start.isoformat(), "place_kind": "hall",
                                           "place": "社区红色议事厅", "agenda": "1. 通报情况\n2. 商议方案",
                                           "residents": [city.resident.pk, city.sibling_resident.pk],
                                           "users": [city.worker.pk]}, 201)
    return m


@pytest.fixture
def sec(city, client_for):
    return client_for(city.secretary)


# --- the whole flow -----------------------------------------------------------------------------------------------

def test_topic_from_a_parking_case_to_follow_through(city, sec, client_for):
    case = parking_case(city)
    topic = raise_from_case(city, sec, case)
    assert topic["status"] == "open" and topic["case_number"] == case.number and topic["origin"] == "case"
    # the case shows the link
    linked = sec.get(f"/api/v1/cases/{case.pk}/").json()["deliberation"]
    assert linked["raised"] == [{"id": topic["id"], "title": "港云里停车难题", "status": "open"}]
    assert sec.get("/api/v1/cases/").json()["results"][0]["deliberation"] is None  # not in lists

    meeting = held_meeting(city, sec, topic)
    assert meeting["invited"] == 3 and meeting["signed_in"] == 0
    assert sec.get(f"/api/v1/topics/{topic['id']}/").json()["status"] == "deliberating"
    invitee = next(a for a in meeting["attendees"] if a["resident"] == city.resident.pk)
    worker = client_for(city.worker)  # the micro-grid worker's phone at the door
    url = f"/api/v1/meetings/{meeting['id']}/"
    key = str(uuid.uuid4())
    first = post(worker, url + "sign_in/", {"attendee": invitee["id"], "sign_in_key": key}, 201)
    assert first["signed_in_at"]
    again = post(worker, url + "sign_in/", {"attendee": invitee["id"], "sign_in_key": key}, 200)  # offline replay
    assert again == first
    post(worker, url + "sign_in/", {"name": "王大爷（租户）", "sign_in_key": str(uuid.uuid4())}, 201)  # walk-in
    post(worker, url + "positions/", {"attendee": invitee["id"], "stance": "for", "text": "建议划线错时停车"}, 201)
    post(sec, url + "options/", {"label": "方案一：划定错时停车位"}, 201)
    body = post(sec, url + "options/", {"label": "方案二：维持现状"}, 201)
    option = body["options"][0]["id"]
    post(worker, url + "vote/", {"attendee": invitee["id"], "option": option}, 201)
    post(worker, url + "vote/", {"attendee": invitee["id"], "option": option}, 200)  # resent: the same vote
    m = sec.get(url).json()
    closed = post(sec, url + "close/", {"version": m["version"], "method": "vote"}, 200)
    assert closed["status"] == "closed" and closed["signed_in"] == 2
    assert closed["options"][0]["votes"] == 1

    t = sec.get(f"/api/v1/topics/{topic['id']}/").json()
    t = post(sec, f"/api/v1/topics/{topic['id']}/decide/", {"version": t["version"],
                                                            "decision": "划定错时停车位，清理消防通道"}, 200)
    assert t["status"] == "decided" and t["decision_method"] == "vote" and t["decided_in"] == meeting["id"]
    parking = Category.objects.get(code="dispute_parking").pk
    post(sec, f"/api/v1/topics/{topic['id']}/actions/", {"title": "施划错时停车位", "category": parking,
                                                         "assignee": city.worker.pk, "client_key": "a1"}, 201)
    t = post(sec, f"/api/v1/topics/{topic['id']}/actions/", {"title": "清理消防通道杂物", "category": parking,
                                                             "client_key": "a2"}, 201)
    again = post(sec, f"/api/v1/topics/{topic['id']}/actions/", {"title": "清理消防通道杂物", "category": parking,
                                                                 "client_key": "a2"}, 201)
    assert len(again["actions"]) == 2  # the resend made nothing new
    a1, a2 = t["actions"]
    assert a1["case_status"] == "assigned" and a1["case_assignee"] and a2["case_status"] == "reported"
    assert t["actions_open"] == 2 and "close" not in t["allowed_moves"]
    # the action's case shows where it came from, and went through the workflow's create (event, number)
    c1 = Case.objects.get(pk=a1["case"])
    assert c1.events.filter(action="create").exists()
    back = sec.get(f"/api/v1/cases/{c1.pk}/").json()["deliberation"]["action_of"]
    assert back["topic"] == topic["id"] and back["topic_title"] == "港云里停车难题"
    # refused while an action is open
    r = sec.post(f"/api/v1/topics/{topic['id']}/close/", {"version": t["version"]}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "open_actions"

    close_case(city, c1)
    assert Topic.objects.get(pk=topic["id"]).status == TopicStatus.DECIDED  # one action still open
    c2 = close_case(city, Case.objects.get(pk=a2["case"]))
    topic_row = Topic.objects.get(pk=topic["id"])
    assert topic_row.status == TopicStatus.FOLLOWED_THROUGH and topic_row.followed_through_at

    # a reopened case takes it back to decided; closed again, followed through again
    c2 = workflow.apply(c2.pk, "reopen", city.secretary, {"reason": "复查仍有杂物"}, version=c2.version)
    assert Topic.objects.get(pk=topic["id"]).status == TopicStatus.DECIDED
    close_case(city, c2)
    assert Topic.objects.get(pk=topic["id"]).status == TopicStatus.FOLLOWED_THROUGH

    stats = sec.get("/api/v1/topics/stats/").json()
    row = next(r for r in stats["grids"] if r["grid"] == city.grid.pk)
    assert (row["raised"], row["decided"], row["followed_through"]) == (1, 1, 1)
    pdf = sec.get(url + "minutes/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content[:4] == b"%PDF"


# --- bad input ----------------------------------------------------------------------------------------------------

@pytest.fixture
def closed_meeting(city, sec, client_for):
    topic = raise_from_case(city, sec, parking_case(city))
    meeting = held_meeting(city, sec, topic)
    url = f"/api/v1/meetings/{meeting['id']}/"
    invitee = meeting["attendees"][0]["id"]
    post(sec, url + "sign_in/", {"attendee": invitee}, 201)
    m = post(sec, url + "options/", {"label": "方案一"}, 201)
    m = post(sec, url + "close/", {"version": m["version"], "method": "consensus", "consensus": "一致同意方案一"}, 200)
    return topic, m, url


def test_a_vote_after_the_close_is_refused_and_nothing_is_saved(city, sec, closed_meeting):
    topic, m, url = closed_meeting
    signed = next(a for a in m["attendees"] if a["signed_in_at"])
    before = Vote.objects.count()
    r = sec.post(url + "vote/", {"attendee": signed["id"], "option": m["options"][0]["id"]}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "meeting_closed" and r.json()["message"]
    assert Vote.objects.count() == before
    en = sec.post(url + "vote/", {"attendee": signed["id"], "option": m["options"][0]["id"]}, format="json",
                  HTTP_ACCEPT_LANGUAGE="en")
    assert en.status_code == 409
    for path, body in [("options/", {"label": "方案三"}), ("positions/", {"speaker": "张三", "text": "补充"}),
                       ("close/", {"version": m["version"], "method": "consensus", "consensus": "再议"})]:
        r = sec.post(url + path, body, format="json")
        assert r.status_code == 409, (path, r.content)


def test_sign_in_after_the_close(city, sec, client_for, closed_meeting):
    topic, m, url = closed_meeting
    closed_at = timezone.datetime.fromisoformat(m["closed_at"])
    late = [a for a in m["attendees"] if not a["signed_in_at"]][0]
    worker = client_for(city.worker)
    # recorded on the phone while the meeting was open, sent afterwards: kept
    ok = worker.post(url + "sign_in/", {"attendee": late["id"], "sign_in_key": "k-offline",
                                        "signed_at": (closed_at - timedelta(minutes=5)).isoformat()}, format="json")
    assert ok.status_code == 201, ok.content
    r = worker.post(url + "sign_in/", {"name": "后来的人", "sign_in_key": "k-late"}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "meeting_closed"
    assert not Attendee.objects.filter(name="后来的人").exists()


def test_sign_in_key_for_someone_else_and_bad_bodies(city, sec, client_for):
    topic = raise_from_case(city, sec, parking_case(city))
    meeting = held_meeting(city, sec, topic)
    url = f"/api/v1/meetings/{meeting['id']}/"
    a, b = meeting["attendees"][0]["id"], meeting["attendees"][1]["id"]
    post(sec, url + "sign_in/", {"attendee": a, "sign_in_key": "same"}, 201)
    r = sec.post(url + "sign_in/", {"attendee": b, "sign_in_key": "same"}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    # the same person signed in again from a second phone: still once
    post(sec, url + "sign_in/", {"attendee": a, "sign_in_key": "other-phone"}, 200)
    assert Attendee.objects.filter(consultation_id=meeting["id"], signed_in_at__isnull=False).count() == 1
    for body in [{}, {"attendee": "x"}, {"attendee": 999999}, {"name": 12},
                 {"attendee": a, "signed_at": (timezone.now() + timedelta(days=1)).isoformat()}]:
        r = sec.post(url + "sign_in/", body, format="json")
        assert r.status_code == 400, (body, r.content)
        assert r.json()["code"] == "validation_error"
    # a vote by someone not signed in, for an option of another meeting
    m = post(sec, url + "options/", {"label": "方案一"}, 201)
    r = sec.post(url + "vote/", {"attendee": b, "option": m["options"][0]["id"]}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "not_signed_in"
    post(sec, url + "vote/", {"attendee": a, "option": m["options"][0]["id"]}, 201)
    m = post(sec, url + "options/", {"label": "方案二"}, 201)
    r = sec.post(url + "vote/", {"attendee": a, "option": m["options"][1]["id"]}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "already_voted"
    assert sec.post(url + "options/", {"label": "方案一"}, format="json").status_code == 409


def test_decide_needs_a_held_consultation_and_a_stale_version_conflicts(city, sec):
    topic = raise_from_case(city, sec, parking_case(city))
    r = sec.post(f"/api/v1/topics/{topic['id']}/decide/", {"version": topic["version"], "decision": "x"}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "no_consultation_held"
    r = sec.post(f"/api/v1/topics/{topic['id']}/decide/", {"version": topic["version"] + 5, "decision": "x"},
                 format="json")
    assert r.status_code == 409
    r = sec.post(f"/api/v1/topics/{topic['id']}/actions/", {"title": "x", "category": 1}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "not_decided"
    r = sec.post(f"/api/v1/topics/{topic['id']}/close/", {"version": topic["version"]}, format="json")
    assert r.status_code == 400 and "note" in r.json()["fields"]
    ok = post(sec, f"/api/v1/topics/{topic['id']}/close/", {"version": topic["version"], "note": "已另案处理"}, 200)
    assert ok["status"] == "closed"
    r = sec.post(f"/api/v1/topics/{topic['id']}/close/", {"version": ok["version"], "note": "x"}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"


def test_bad_topic_bodies(city, sec):
    for body in [{"title": "x", "level": "community", "grid": city.grid.pk},
                 {"title": "x", "level": "building"},
                 {"title": "x", "level": "grid", "grid": city.grid.pk, "origin": "case"},
                 {"title": "x", "level": "grid", "grid": city.grid.pk, "origin": "proposal"},
                 {"title": "", "level": "grid", "grid": city.grid.pk},
                 {"title": 5, "level": "grid", "grid": city.grid.pk}]:
        r = sec.post("/api/v1/topics/", body, format="json")
        assert r.status_code == 400, (body, r.content)
    ok = post(sec, "/api/v1/topics/", {"title": "加装电梯", "origin": "proposal", "proposer_name": "李阿姨",
                                       "level": "building", "building": city.building.pk}, 201)
    assert ok["grid"] == city.building.grid_id and ok["building_name"] == city.building.name
    assert Topic.objects.count() == 1


# --- scope --------------------------------------------------------------------------------------------------------

def test_scope(city, sec, client_for):
    case = parking_case(city)
    topic = raise_from_case(city, sec, case)
    meeting = held_meeting(city, sec, topic)
    outsider = client_for(city.outsider)
    assert outsider.get(f"/api/v1/topics/{topic['id']}/").status_code == 404
    assert outsider.get(f"/api/v1/meetings/{meeting['id']}/").status_code == 404
    assert outsider.get("/api/v1/topics/").json()["results"] == []
    r = outsider.post(f"/api/v1/meetings/{meeting['id']}/sign_in/", {"name": "x"}, format="json")
    assert r.status_code == 404
    assert outsider.get(f"/api/v1/meetings/{meeting['id']}/minutes/").status_code == 404
    assert outsider.get("/api/v1/topics/stats/").json()["total"]["raised"] == 0
    # a sibling micro-grid's worker does not see a grid-level topic; the micro-grid worker of a building-level
    # topic's building does
    sibling = client_for(city.sibling_worker)
    assert sibling.get(f"/api/v1/topics/{topic['id']}/").status_code == 404
    b = post(sec, "/api/v1/topics/", {"title": "楼道堆物", "level": "building", "building": city.building.pk}, 201)
    assert client_for(city.worker).get(f"/api/v1/topics/{b['id']}/").status_code == 200
    # a micro-grid worker signs in but does not decide
    worker = client_for(city.worker)
    r = worker.post(f"/api/v1/topics/{b['id']}/close/", {"version": b["version"], "note": "x"}, format="json")
    assert r.status_code == 403
    # a resident of another community cannot be invited (400, as if absent)
    r = sec.post(f"/api/v1/meetings/{meeting['id']}/invite/", {"residents": [city.other_resident.pk]}, format="json")
    assert r.status_code == 400
    # stats within a grid outside the scope
    assert sec.get("/api/v1/topics/stats/", {"within": city.other_grid.pk}).status_code == 404
    assert sec.get("/api/v1/topics/stats/", {"nonsense": 1}).status_code == 400


def test_attendee_phone_is_never_shown(city, sec):
    topic = raise_from_case(city, sec, parking_case(city))
    meeting = held_meeting(city, sec, topic)
    text = str(sec.get(f"/api/v1/meetings/{meeting['id']}/").content, "utf-8")
    assert city.resident.phone not in text and city.resident.name in text


def test_detail_query_counts(city, sec, django_assert_max_num_queries):
    topic = raise_from_case(city, sec, parking_case(city))
    meeting = held_meeting(city, sec, topic)
    with django_assert_max_num_queries(8):
        assert sec.get(f"/api/v1/topics/{topic['id']}/").status_code == 200
    with django_assert_max_num_queries(10):
        assert sec.get(f"/api/v1/meetings/{meeting['id']}/").status_code == 200
    with django_assert_max_num_queries(4):
        assert sec.get("/api/v1/topics/stats/").status_code == 200


def test_attendance_feeds_the_points_ledger_once(city, sec, client_for):
    from gridcase.points.models import PointEntry

    topic = raise_from_case(city, sec, parking_case(city))
    meeting = held_meeting(city, sec, topic)
    url = f"/api/v1/meetings/{meeting['id']}/sign_in/"
    resident = next(a for a in meeting["attendees"] if a["resident"] == city.resident.pk)
    staff = next(a for a in meeting["attendees"] if a["user"] == city.worker.pk)
    for body in ({"attendee": resident["id"], "sign_in_key": "r1"}, {"attendee": resident["id"], "sign_in_key": "r1"},
                 {"attendee": staff["id"], "sign_in_key": "s1"}, {"name": "路过的人", "sign_in_key": "g1"}):
        assert sec.post(url, body, format="json").status_code in (200, 201)
    rows = PointEntry.objects.filter(source_type="consultation", source_id=meeting["id"])
    assert sorted(rows.values_list("rule", flat=True)) == ["consultation_attendance", "resident_consultation"]
    assert rows.get(rule="resident_consultation").resident_id == city.resident.pk
    assert rows.get(rule="consultation_attendance").user_id == city.worker.pk


def test_invitable_residents_are_the_topics_area_with_name_and_place_only(city, sec, client_for):
    b = post(sec, "/api/v1/topics/", {"title": "楼道堆物", "level": "building", "building": city.building.pk}, 201)
    rows = sec.get(f"/api/v1/topics/{b['id']}/residents/").json()
    ids = {r["id"] for r in rows}
    assert city.resident.pk in ids and city.other_resident.pk not in ids
    assert set(rows[0]) == {"id", "name", "place"}
    assert sec.get(f"/api/v1/topics/{b['id']}/residents/", {"q": city.resident.name}).json()[0]["id"] == city.resident.pk
    assert client_for(city.outsider).get(f"/api/v1/topics/{b['id']}/residents/").status_code == 404
    assert sec.get(f"/api/v1/topics/{b['id']}/residents/", {"page": 2}).status_code == 400


def test_publish_the_decision_as_a_notice_once(city, sec, closed_meeting):
    from gridcase.notices.models import Notice

    topic, m, url = closed_meeting
    r = sec.post(f"/api/v1/topics/{topic['id']}/publish/", {}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "not_decided"
    t = sec.get(f"/api/v1/topics/{topic['id']}/").json()
    post(sec, f"/api/v1/topics/{topic['id']}/decide/", {"version": t["version"], "decision": "错时停车"}, 200)
    t = post(sec, f"/api/v1/topics/{topic['id']}/publish/", {"audience": "residents"}, 200)
    notice = Notice.objects.get(pk=t["notice_id"])
    assert notice.grid_id == city.grid.pk and "错时停车" in notice.body
    r = sec.post(f"/api/v1/topics/{topic['id']}/publish/", {}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "already_published"
    assert Notice.objects.count() == 1
