"""A month of demo points, through the declared rules (rules.award and the hooks' own conditions):

- the last 30 days of case events (resolved on time, satisfied ratings, red deadlines, residents' reports closed)
  and visits (on time) are played through the same handlers the live hooks run (`signals.case_event`,
  `signals.visit_saved`), so the ledger is what the live system would have written; campaign answers wrote theirs
  already (campaigns' seeder); overdue visits through the sweep;
- residents' credit: the community grants points to some residents for taking part, a small points shop (rewards
  with stock) and two redemptions at the desk (shop.redeem).

Idempotent: the ledger's constraints make a second run add nothing; the shop is created once.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from gridcase.cases.models import CaseEvent
from gridcase.grids.models import Grid, Resident
from gridcase.visits.models import CarePlanItem, Visit

from . import rules, shop, signals, sweeps
from .models import Reward

REWARDS = [("洗衣液", "1 瓶", 30, 20), ("大米 5kg", "", 80, 10), ("理发券", "社区理发室", 20, 30), ("保温杯", "", 120, 3)]


def seed_demo(ctx):
    since = timezone.now() - timedelta(days=30)
    written = 0
    with transaction.atomic():
        events = CaseEvent.objects.filter(at__gte=since, action__in=["resolve", "rate", "callback", "sla_red", "close"])
        for event in events.select_related("actor").order_by("id").iterator(chunk_size=500):
            signals.case_event(CaseEvent, event, True)
            written += 1
        # The visits in bulk, with the hook's own condition (signals.on_time) and writer's rules (award_many).
        due = {(r, k): d for r, k, d in CarePlanItem.objects.filter(care_plan__active=True, due_on__isnull=False)
               .values_list("care_plan__resident_id", "kind", "due_on")}
        visits = (Visit.objects.filter(visited_at__gte=since, visitor__isnull=False, resident__isnull=False)
                  .select_related("visitor", "grid").order_by("id"))
        rows = [(v, v.visitor, v.grid, v.visited_at) for v in visits.iterator(chunk_size=2000)
                if signals.on_time(v.visited_on, due.get((v.resident_id, v.kind)))]
        visits_written = rules.award_many("visit_on_time", rows)
    sweeps.deduct_overdue_visits()
    community = Grid.objects.filter(code__endswith="-BLZ", level="community").order_by("id").first()
    secretary = get_user_model().objects.filter(username="secretary").first()
    if community is None or secretary is None:
        ctx.log("points: the demo community or secretary is missing; no shop")
        return
    if not Reward.objects.filter(community=community).exists():
        for name, description, price, stock in REWARDS:
            Reward.objects.create(community=community, name=name, description=description, price=price, stock=stock)
    from gridcase.grids import tree

    residents = list(Resident.objects.filter(tree.subtree_q([tree.span(community)], "grid__"), is_active=True)
                     .order_by("id")[:40])
    for i, resident in enumerate(residents):
        rules.award("resident_grant", resident, resident, grid=resident.grid, points=20 + 10 * (i % 8),
                    at=since + timedelta(days=i % 28), suffix="demo", note="参加楼道清理志愿活动", by=secretary)
    rewards = list(Reward.objects.filter(community=community).order_by("price"))
    for i, resident in enumerate(residents[:2]):
        shop.redeem(secretary, rewards[i].pk, resident, f"demo-redemption-{i}")
    ctx.log(f"points: {written} case events played through the hooks, {visits_written} visits on time; "
            f"{len(residents)} residents credited, {len(rewards)} rewards")
