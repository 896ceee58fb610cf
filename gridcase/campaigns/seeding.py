"""Demo campaigns, through the live rules (launching.run, answers.answer: routing, problems opening cases, points):

- 消防安全入户排查: over every household of 一网格1号微网格, last month, answered by the workers during its period (a missing
  smoke alarm or a blocked stairwell opens a case), then closed — a finished campaign.
- 楼道电动车充电专项排查: over every household of 八里庄社区, started five days ago and ending in nine; the first
  micro-grid's worker has answered part of theirs (a "yes" opens a case), the rest are not yet done — a running
  campaign on the console and on micro0101's phone.

About 200 answers go through the live service (each a transaction with its points and, for a problem, a case).

Idempotent: nothing is done when the first campaign is already there.
"""

import uuid
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from gridcase.grids.models import Grid

from . import answers, launching
from .models import Campaign, CampaignStatus, CampaignTask

FIRE = "消防安全入户排查"
EBIKE = "楼道电动车充电专项排查"

FIRE_CHECKLIST = [
    {"key": "smoke_alarm", "text": "是否安装烟感报警器", "type": "yes_no", "required": True,
     "problem": {"equals": False}, "category": "safety_fire"},
    {"key": "stairwell", "text": "楼道是否堆放杂物", "type": "yes_no", "required": True,
     "problem": {"equals": True}, "category": "env_stairwell"},
    {"key": "extinguishers", "text": "家中灭火器数量", "type": "number", "required": False},
    {"key": "note", "text": "备注", "type": "text", "required": False},
]
EBIKE_CHECKLIST = [
    {"key": "charging", "text": "楼道内是否有电动车充电（飞线）", "type": "yes_no", "required": True,
     "problem": {"equals": True}, "category": "safety_ebike"},
    {"key": "exit", "text": "安全出口", "type": "choice", "choices": ["畅通", "堵塞"], "required": True,
     "problem": {"equals": "堵塞"}, "category": "env_stairwell"},
    {"key": "bikes", "text": "楼道停放电动车数量", "type": "number", "required": False},
    {"key": "photo", "text": "现场照片", "type": "photo", "required": False},
]


def _launch(campaign, by):
    launching.request_launch(by, campaign)
    launching.run(campaign.pk)
    campaign.refresh_from_db()
    return campaign


def _answer_all(ctx, campaign, tasks, fallback, start, days, make_answers):
    """Each task answered by its worker (or `fallback`) at a time inside the period, through answers.answer."""
    done = 0
    for i, task in enumerate(tasks):
        actor = task.worker or fallback
        when = start + timedelta(days=ctx.rng.uniform(0, days), hours=ctx.rng.uniform(9, 17))
        when = min(when, timezone.now() - timedelta(minutes=5))
        answers.answer(actor, task.pk, {"client_uuid": uuid.UUID(int=ctx.rng.getrandbits(128)),
                                        "answers": make_answers(i), "answered_at": when})
        done += 1
    return done


def seed_demo(ctx):
    if Campaign.objects.filter(name=FIRE).exists():
        ctx.log("campaigns: the demo campaigns are already there, nothing to do")
        return
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["secretary", "grid01", "street"])}
    community = Grid.objects.filter(code__endswith="-BLZ", level="community").order_by("id").first()
    grid = Grid.objects.filter(code__endswith="-BLZ-G01-M01").order_by("id").first()
    if len(users) < 3 or community is None or grid is None:
        ctx.log("campaigns: the demo street's logins or grids are missing, nothing to do")
        return
    rng, today, tz = ctx.rng, timezone.localdate(), timezone.get_current_timezone()

    # A finished campaign: last month, every household of the first micro-grid answered, then closed.
    starts = today - timedelta(days=35)
    fire = _launch(Campaign.objects.create(
        name=FIRE, description="入冬前入户检查烟感报警器和楼道堆物。", grid=grid, target="household",
        checklist=FIRE_CHECKLIST, starts_on=starts, ends_on=starts + timedelta(days=14), owner=users["secretary"],
        created_by=users["secretary"]), users["secretary"])
    tasks = list(CampaignTask.objects.filter(campaign=fire).select_related("worker").order_by("id"))
    start = datetime.combine(starts, time(0), tz)

    def fire_answers(i):
        return {"smoke_alarm": rng.random() > 0.06, "stairwell": rng.random() < 0.05,
                "extinguishers": rng.choice([0, 1, 1, 2])}

    n = _answer_all(ctx, fire, tasks, users["grid01"], start, 13, fire_answers)
    Campaign.objects.filter(pk=fire.pk).update(status=CampaignStatus.CLOSED)

    # A running campaign over the community: the first micro-grid's worker is part-way through.
    starts = today - timedelta(days=5)
    ebike = _launch(Campaign.objects.create(
        name=EBIKE, description="排查楼道内电动车充电、飞线和安全出口堵塞，发现问题即时立案整改。", grid=community,
        target="household", checklist=EBIKE_CHECKLIST, starts_on=starts, ends_on=today + timedelta(days=9),
        owner=users["street"], created_by=users["secretary"]), users["secretary"])
    mine = list(CampaignTask.objects.filter(campaign=ebike, grid__code__endswith="-BLZ-G01-M01")
                .select_related("worker").order_by("id"))
    some = [t for t in mine if rng.random() < 0.6]

    def ebike_answers(i):
        return {"charging": rng.random() < 0.08, "exit": "堵塞" if rng.random() < 0.03 else "畅通",
                "bikes": rng.choice([0, 0, 1, 2, 3])}

    m = _answer_all(ctx, ebike, some, users["grid01"], datetime.combine(starts, time(0), tz), 5, ebike_answers)
    ctx.log(f"campaigns: {FIRE} ({fire.tasks_created} tasks, {n} answered, closed); "
            f"{EBIKE} ({ebike.tasks_created} tasks, {m} answered so far)")
