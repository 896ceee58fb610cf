"""Demo deliberations, through the same services the live code uses (nothing re-decided here):

- 港云里停车难: a parking case reported by the micro-grid worker → a topic raised from it → a consultation in the
  community's red deliberation hall (红色议事厅) ten days ago with residents signed in, positions, two options and a
  vote → the decision with two follow-up actions filed as cases, handled and closed → the topic followed through;
  the parking case itself closed; the decision published as a notice when the notices app is there.
- 楼道堆物清理: a building-level topic with a consultation tomorrow at the building door (the phone's sign-in list).
- 加装电梯: a resident's proposal, just raised.

Idempotent: nothing is done when the first topic is already there.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.utils import timezone

from gridcase.cases import services as case_services
from gridcase.cases import workflow
from gridcase.cases.models import Category
from gridcase.grids.models import Building, Grid, Resident

from . import services
from .models import Consultation, Topic

STORY = "港云里停车难"


def _apply(case, action, user, data=None):
    case.refresh_from_db()
    return workflow.apply(case.pk, action, user, data or {}, version=case.version)


def _handle(case, worker, checker, closer, note):
    """Accept (if needed), assign to `worker`, start, resolve, verify by someone else, close."""
    case.refresh_from_db()
    if case.status == "reported":
        case = _apply(case, "accept", closer)
    if case.status == "accepted":
        case = _apply(case, "assign", closer, {"assignee": worker.pk})
    case = _apply(case, "start", worker)
    case = _apply(case, "resolve", worker, {"note": note})
    case = _apply(case, "verify", checker)
    return _apply(case, "close", closer)


def seed_demo(ctx):
    if Topic.objects.filter(title=STORY).exists():
        ctx.log("deliberation: the demo topics are already there, nothing to do")
        return
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=["secretary", "grid01", "micro0101", "leader01"])}
    grid = Grid.objects.filter(code__endswith="-BLZ-G01").order_by("id").first()
    micro = Grid.objects.filter(code__endswith="-BLZ-G01-M01").order_by("id").first()
    if len(users) < 4 or grid is None or micro is None:
        ctx.log("deliberation: the demo street's logins or grids are missing, nothing to do")
        return
    sec, grid01, micro0101, leader = users["secretary"], users["grid01"], users["micro0101"], users["leader01"]
    building = Building.objects.filter(units__micro_grid=micro).order_by("id").first()
    residents = list(Resident.objects.filter(household__unit__building=building).order_by("id")[:8]) if building else []
    parking = Category.objects.get(code="dispute_parking")
    now = timezone.now()
    local = timezone.localtime(now, ZoneInfo("Asia/Shanghai"))

    # The case it came from: cars blocking the fire lane, again.
    case = case_services.create_case(micro0101, {
        "category": parking, "grid": micro, "building": building, "title": "港云里消防通道反复被私家车占用",
        "description": "港云里1-3栋之间的消防通道晚间常被私家车占用，居民多次争执，物业劝离无效。",
        "client_key": "demo-deliberation-parking"}, now=now - timedelta(days=16)).case
    topic = services.raise_topic(sec, {
        "title": STORY, "origin": "case", "case": case, "level": "grid", "grid": grid,
        "description": "港云里车位少、车辆多，消防通道和楼道口长期被占，停车纠纷反复发生。提请居民议事会协商停车方案。",
        "residents_scope": f"港云里（{building.name if building else ''}及相邻楼栋）全体住户"})
    start = (local - timedelta(days=10)).replace(hour=19, minute=0, second=0, microsecond=0)
    meeting = services.schedule(sec, {
        "topic": topic, "starts_at": start, "place_kind": "hall", "place": "社区红色议事厅",
        "agenda": "1. 网格员通报消防通道占用情况\n2. 居民代表发言\n3. 讨论停车方案\n4. 表决",
        "residents": residents, "users": [grid01, micro0101, leader]})
    attendees = list(meeting.attendees.order_by("id"))
    signed = [a for a in attendees if a.kind == "staff"] + [a for a in attendees if a.kind == "resident"][:6]
    for i, a in enumerate(signed):
        services.sign_in(micro0101, meeting.pk, {"attendee": a.pk, "sign_in_key": f"demo-{meeting.pk}-{a.pk}",
                                                 "signed_at": start + timedelta(minutes=i)}, now=now)
    services.sign_in(micro0101, meeting.pk, {"name": "物业经理 周强", "sign_in_key": f"demo-{meeting.pk}-pm",
                                             "signed_at": start + timedelta(minutes=9)}, now=now)
    speakers = [a for a in signed if a.kind == "resident"]
    for a, stance, text in zip(speakers, ["for", "against", "suggestion", "for"], [
        "夜间可以在小区外侧路边错时停车，白天让出来。",
        "外侧路边离家远，老人接送不方便，不同意全部移出去。",
        "消防通道必须画禁停线、装阻车桩，这一条没有商量。",
        "同意错时停车，建议物业统一登记车辆、发停车证。"], strict=False):
        services.add_position(micro0101, meeting.pk, {"attendee": a.pk, "stance": stance, "text": text})
    one = services.add_option(sec, meeting.pk, "方案一：消防通道施划禁停线并装阻车桩，夜间在外侧路边错时停车")
    two = services.add_option(sec, meeting.pk, "方案二：维持现状，由物业加强劝离")
    for i, a in enumerate(speakers):
        services.vote(micro0101, meeting.pk, a.pk, (two if i == 1 else one).pk)
    meeting.refresh_from_db()
    services.close_meeting(sec, meeting.pk, {"version": meeting.version, "method": "vote"})
    topic.refresh_from_db()
    services.decide(sec, topic.pk, {"version": topic.version, "consultation": meeting.pk, "decision":
                                    "采纳方案一：消防通道施划禁停黄线并安装阻车桩；夜间19时至次日7时在小区外侧路边错时停车，"
                                    "物业统一登记车辆并发放停车证。"})
    # The story's dates: raised two weeks ago, decided at the consultation (the services stamp "now").
    Topic.objects.filter(pk=topic.pk).update(created_at=now - timedelta(days=14),
                                             decided_at=start + timedelta(hours=2))
    Consultation.objects.filter(pk=meeting.pk).update(closed_at=start + timedelta(hours=2))
    a1 = services.add_action(sec, topic.pk, {"title": "施划消防通道禁停黄线、安装阻车桩", "category": parking,
                                             "grid": micro, "assignee": micro0101, "client_key": "demo-1"})
    a2 = services.add_action(sec, topic.pk, {"title": "物业登记车辆并发放错时停车证", "category": parking,
                                             "grid": grid, "assignee": grid01, "client_key": "demo-2"})
    _handle(a1.case, micro0101, grid01, sec, "禁停黄线已施划，阻车桩4根已安装。")
    _handle(a2.case, grid01, leader, sec, "物业已登记车辆56辆，发放错时停车证。")
    _handle(case, micro0101, grid01, sec, "经居民议事协商形成错时停车方案并已落实，消防通道恢复畅通。")
    try:
        services.publish_decision(sec, topic.pk, {"audience": "residents"})
    except Exception as exc:  # the notices app may be absent or refuse: the story stands without the notice
        ctx.log(f"deliberation: decision not published as a notice ({exc})")

    # A building-level topic with a consultation tomorrow: the phone's sign-in list.
    if building is not None:
        clutter = services.raise_topic(sec, {
            "title": "楼道堆物清理", "origin": "staff", "level": "building", "building": building,
            "description": "楼道堆放纸箱、旧家具，存在消防隐患，商议清理办法和日常管理公约。",
            "residents_scope": f"{building.name}全体住户"})
        services.schedule(sec, {
            "topic": clutter, "starts_at": (local + timedelta(days=1)).replace(hour=19, minute=30, second=0,
                                                                              microsecond=0),
            "place_kind": "building_door", "place": f"{building.name}门口", "agenda": "1. 现状通报\n2. 商议清理办法",
            "residents": residents, "users": [micro0101]})
    services.raise_topic(grid01, {"title": "老旧楼栋加装电梯", "origin": "proposal", "proposer_name": "李桂芳",
                                  "level": "grid", "grid": grid,
                                  "description": "居民提议为多层住宅加装电梯，费用分摊方式待议。",
                                  "residents_scope": "港云里多层住宅住户"})
    ctx.log(f"deliberation: 3 topics, {STORY} followed through")
