"""Demo and city data for visits: a care plan for every key-population resident and a history of contacts.

Both seeders work on whatever tree the grids seeder loaded (`ctx.root`, else every grid), finding residents
by their tags and visitors by their Membership role, and touch only residents that have no plan yet, so a
second run adds nothing. Rows are streamed with COPY (`gridcase.core.bulk.copy_rows`); no signal or
save() runs, so the plan's items are computed here with the same cadence rules as `services.refresh_plan`.

- demo: about four months of history; most residents visited on time, some late, some overdue today; one
  resident whose wellbeing worsened (attention, then urgent: daily calls) and then recovered, and one who
  needs attention since yesterday (a daily call is due today).
- city: care plans and at least 2,000,000 × scale visits (the history is as long as it takes).
"""

import uuid
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from gridcase.core.bulk import (
    bulk_mode,
    copy_rows,
    ensure_months,
    keys_after,
    next_id,
    reset_sequence,
    restore_indexes,
)
from gridcase.grids import moves, tree
from gridcase.grids.choices import Role
from gridcase.grids.models import Grid, Membership, Resident
from gridcase.grids.roles import FIELD_WORKERS

from .cadence import next_due
from .choices import ESCALATED_EVERY_N_DAYS, ESCALATED_KIND, ESCALATING, SATISFIED_BY, ContactKind, Wellbeing
from .models import CadenceRule, CarePlan, CarePlanItem, Visit

TZ = ZoneInfo("Asia/Shanghai")
CITY_VISITS = 2_000_000
BULK_MODE_FROM = 100_000  # visits: from this many, indexes are dropped during the load and rebuilt after
FINDINGS = {
    Wellbeing.GOOD: ["精神状态良好，生活能自理", "身体无异常，家中整洁", "老人情绪稳定，按时服药", "已提醒注意用电安全",
                     "子女近期来探望过", "询问近况，一切正常", "已告知社区活动安排"],
    Wellbeing.ATTENTION: ["咳嗽较多，建议就医", "情绪低落，需多关心", "近期食欲不振", "腿脚不便，外出困难",
                          "家中卫生较差，需协助打扫"],
    Wellbeing.URGENT: ["在家摔倒，已联系家属和医生", "高烧不退，已拨打120"],
}
NEEDS = {Wellbeing.GOOD: [[], [], [], [], ["companionship"], ["benefits"]],
         Wellbeing.ATTENTION: [["medical"], ["meals"], ["cleaning"], ["companionship"], ["medical", "meals"]],
         Wellbeing.URGENT: [["medical"]]}

VISIT_COLUMNS = ["id", "client_uuid", "content_hash", "visitor_id", "resident_id", "household_id", "grid_id", "kind",
                 "visited_at", "visited_on", "wellbeing", "findings", "needs", "pension_certified", "photo",
                 "case_id", "created_at"]
PLAN_COLUMNS = ["id", "resident_id", "worker_id", "active", "started_on", "ended_on", "wellbeing", "escalated",
                "last_contact_at", "note", "created_at", "updated_at"]
ITEM_COLUMNS = ["id", "care_plan_id", "kind", "rule_days", "custom_days", "every_n_days", "last_contact_on",
                "due_on", "worker_notified_for", "leader_notified_for"]


def _db_dt(moment: datetime):
    # Aware datetimes: COPY sends them as they are; on SQLite copy_rows prepares each value per field.
    return moment


def _db_json(value):
    import json

    return json.dumps(value, ensure_ascii=False)


# The needs as stored (JSON), computed once per list rather than per visit.
NEEDS_JSON = {w: [(needs, _db_json(needs)) for needs in lists] for w, lists in NEEDS.items()}


def _residents_without_plan(root):
    """(resident id, household id, grid id, [tag ids]) of tagged residents in the tree with no plan yet."""
    through = Resident.tags.through
    qs = through.objects.filter(resident__is_active=True, resident__care_plan__isnull=True)
    if root is not None:
        qs = qs.filter(tree.subtree_q([tree.span(root)], "resident__grid__"))
    rows = qs.order_by("resident_id").values_list("resident_id", "resident__household_id", "resident__grid_id", "tag_id")
    people: dict[int, list] = {}
    for resident_id, household_id, grid_id, tag_id in rows.iterator(chunk_size=20_000):
        entry = people.get(resident_id)
        if entry is None:
            entry = people[resident_id] = [resident_id, household_id, grid_id, []]
        entry[3].append(tag_id)
    return list(people.values())


def _default_rules() -> dict[int, dict[str, int]]:
    rules: dict[int, dict[str, int]] = defaultdict(dict)
    for tag_id, kind, days in CadenceRule.objects.filter(community__isnull=True).values_list("tag_id", "kind",
                                                                                             "every_n_days"):
        rules[tag_id][kind] = days
    return rules


def _community_rules(root):
    """{(community grid id, tag id, kind): days} and {grid id: community id} for grids with own rules."""
    own = list(CadenceRule.objects.filter(community__isnull=False).select_related("community"))
    if not own:
        return {}, {}
    by_key = {(r.community_id, r.tag_id, r.kind): r.every_n_days for r in own}
    grid_to_community = {}
    for community in {r.community for r in own}:
        for gid in Grid.objects.filter(tree.subtree_q([tree.span(community)])).values_list("id", flat=True):
            grid_to_community[gid] = community.pk
    return by_key, grid_to_community


def _visitors(root):
    """{micro-grid id: user id} (first micro-grid worker) and {grid id: user id} of general-grid workers."""
    qs = Membership.objects.filter(role__in=FIELD_WORKERS)
    if root is not None:
        qs = qs.filter(tree.subtree_q([tree.span(root)], "grid__"))
    micro, general = {}, {}
    for grid_id, user_id, role in qs.order_by("id").values_list("grid_id", "user_id", "role"):
        (micro if role == Role.MICRO_GRID_WORKER else general).setdefault(grid_id, user_id)
    parents = dict(Grid.objects.filter(pk__in=list(micro)).values_list("id", "parent_id")) if micro else {}
    return micro, general, parents


class History:
    """Generates one resident's contacts and remembers what the plan's items need."""

    def __init__(self, ctx, today: date, now: datetime):
        self.rng, self.today, self.now = ctx.rng, today, now
        self.visit_id = next_id(Visit)

    def contacts(self, cadences: dict[str, int], start: date, profile: str):
        """[(day, kind)] from `start` to yesterday (or earlier for an overdue resident)."""
        rng = self.rng
        stop = self.today
        if profile == "overdue":
            stop = self.today - timedelta(days=rng.randint(3, 12))
        out = []
        for kind, every in cadences.items():
            day = start + timedelta(days=rng.randint(0, max(0, every - 1)))
            while day < stop:
                out.append((day, kind))
                if profile == "late" and rng.random() < 0.25:
                    gap = every + rng.randint(1, max(1, every // 2 + 1))
                else:
                    gap = max(1, every - (rng.random() < 0.3 and every > 2))
                day += timedelta(days=gap)
        out.sort()
        return out

    def rows(self, resident, contacts, visitor_id, story=None):
        """Visit rows; `story` overrides wellbeing per day ({day: wellbeing})."""
        rng = self.rng
        for day, kind in contacts:
            wellbeing = (story or {}).get(day)
            if wellbeing is None:
                wellbeing = Wellbeing.GOOD if rng.random() < 0.97 else Wellbeing.ATTENTION
                if wellbeing == Wellbeing.ATTENTION and day >= self.today - timedelta(days=3):
                    wellbeing = Wellbeing.GOOD  # escalations belong to the stories, not to chance
            hour = rng.randint(9, 17) if kind != ContactKind.PHONE else rng.randint(8, 19)
            moment = datetime.combine(day, time(hour, rng.randint(0, 59)), tzinfo=TZ)
            if moment > self.now:
                continue
            needs = rng.choice(NEEDS_JSON[wellbeing])
            self.visit_id += 1
            yield from self._row(resident, visitor_id, day, kind, moment, wellbeing, needs)
            if story is None and wellbeing == Wellbeing.ATTENTION and day + timedelta(days=1) < self.today:
                # A worrying visit by chance is followed by a call the next day that finds things better.
                nxt = datetime.combine(day + timedelta(days=1), time(10, rng.randint(0, 59)), tzinfo=TZ)
                self.visit_id += 1
                yield from self._row(resident, visitor_id, nxt.date(), ContactKind.PHONE, nxt, Wellbeing.GOOD,
                                     NEEDS_JSON[Wellbeing.GOOD][0])

    def _row(self, resident, visitor_id, day, kind, moment, wellbeing, needs):
        """`needs`: (list, its JSON) from NEEDS_JSON."""
        rng = self.rng
        resident_id, household_id, grid_id, _tags = resident
        # Seeded facts are never resent by a phone: no content hash, a random client_uuid (version 4, as
        # uuid.UUID(int=…, version=4) sets it).
        bits = (rng.getrandbits(128) & ~(0xc000 << 48 | 0xf000 << 64)) | (0x8000 << 48 | 0x4000 << 64)
        yield (self.visit_id - 1, uuid.UUID(int=bits), "", visitor_id, resident_id,
               household_id, grid_id, kind, _db_dt(moment), day, wellbeing, rng.choice(FINDINGS[wellbeing]),
               needs[1], kind == ContactKind.HOME and rng.random() < 0.02, "", None, _db_dt(moment))


def _plan_state(cadences, contacts_by_kind, latest, start):
    """(escalated, {kind: (rule days, every, last contact, due)}) as refresh_plan computes them."""
    escalated = latest is not None and latest[1] in ESCALATING
    items = {}
    for kind in ContactKind.values:
        rule = cadences.get(kind)
        raised = escalated and kind == ESCALATED_KIND
        every = ESCALATED_EVERY_N_DAYS if raised else rule
        if every is None:
            continue
        seen = [contacts_by_kind[k] for k in SATISFIED_BY[kind] if k in contacts_by_kind]
        last = max(seen) if seen else None
        anchor = max(last, start) if last else start
        items[kind] = (rule, every, last, next_due(anchor, every, kind, escalated=raised))
    return escalated, items


def _cadences(resident, defaults, own, grid_to_community):
    result: dict[str, int] = {}
    community = grid_to_community.get(resident[2])
    for tag_id in resident[3]:
        for kind, days in defaults.get(tag_id, {}).items():
            days = own.get((community, tag_id, kind), days) if community else days
            result[kind] = min(days, result.get(kind, days))
        if community:
            for (c, t, kind), days in own.items():
                if c == community and t == tag_id:
                    result[kind] = min(days, result.get(kind, days))
    return result


def seed_plans_and_visits(ctx, *, history_days=None, target_visits=None, stories=True, label="visits"):
    """Plans and histories for every tagged resident without a plan under ctx.root. Returns counts."""
    root = getattr(ctx, "root", None)
    now = ctx.now
    today = now.astimezone(TZ).date()
    residents = _residents_without_plan(root)
    if not residents:
        ctx.log(f"{label}: every key-population resident already has a care plan, nothing to do")
        return {"plans": 0, "visits": 0}
    defaults = _default_rules()
    own, grid_to_community = _community_rules(root)
    micro, general, parents = _visitors(root)
    cadences = [_cadences(r, defaults, own, grid_to_community) for r in residents]
    if target_visits:
        rate = sum(sum(1 / d for d in c.values()) for c in cadences) or 1
        history_days = min(1460, max(30, int(target_visits * 1.08 / rate) + 1))
    start = today - timedelta(days=history_days)
    rng = ctx.rng
    gen = History(ctx, today, now)
    first_visit_id = gen.visit_id
    plan_id, item_id = next_id(CarePlan), next_id(CarePlanItem)
    plans, items = [], []
    expected = int(sum(sum(history_days / d for d in c.values()) for c in cadences))
    progress = ctx.progress(f"{label}: visits", expected)
    # Stories for the demo: the first elderly resident worsens then recovers; the second is unwell since yesterday.
    story_for: dict[int, dict] = {}
    if stories:
        elderly = [i for i, c in enumerate(cadences) if c.get(ContactKind.PHONE, 99) <= 2][:2]
        if elderly:
            # Unwell on a call, found fallen at home three days later (urgent), daily calls, recovered a week on.
            d0 = today - timedelta(days=12)
            days = {d0 + timedelta(days=k): Wellbeing.ATTENTION for k in range(7)}
            days[d0 + timedelta(days=3)] = Wellbeing.URGENT
            days[d0 + timedelta(days=7)] = Wellbeing.GOOD
            extra = [(d0 + timedelta(days=k), ContactKind.PHONE) for k in (0, 1, 2, 4, 5, 6)]
            extra += [(d0 + timedelta(days=3), ContactKind.HOME), (d0 + timedelta(days=7), ContactKind.HOME)]
            story_for[elderly[0]] = {"days": days, "extra": extra}
        if len(elderly) > 1:
            y = today - timedelta(days=1)
            story_for[elderly[1]] = {"days": {y: Wellbeing.ATTENTION}, "extra": [(y, ContactKind.HOME)]}

    def stream():
        nonlocal plan_id, item_id
        for index, resident in enumerate(residents):
            c = cadences[index]
            resident_id, household_id, grid_id, _tags = resident
            visitor = micro.get(grid_id) or general.get(parents.get(grid_id))
            r = rng.random()
            profile = "overdue" if r < 0.08 else "late" if r < 0.25 else "diligent"
            story = story_for.get(index)
            if story:
                profile = "diligent"
            contacts = gen.contacts(c, start, profile)
            if story:
                cut = min(story["days"])
                contacts = [x for x in contacts if x[0] < cut] + sorted(story["extra"])
                contacts = sorted(contacts + gen.contacts(c, max(story["days"]) + timedelta(days=1), "diligent"))
            last_by_kind, latest, n = {}, None, 0
            for row in gen.rows(resident, contacts, visitor, story["days"] if story else None):
                n += 1
                day, kind, wellbeing, moment = row[9], row[7], row[10], row[8]
                if kind not in last_by_kind or day > last_by_kind[kind]:
                    last_by_kind[kind] = day
                if latest is None or moment >= latest[0]:
                    latest = (moment, wellbeing)
                yield row
            progress.advance(n)
            escalated, state = _plan_state(c, last_by_kind, latest, start)
            last_at = None
            if latest is not None:
                last_at = latest[0]
            plans.append((plan_id, resident_id, None, True, start, None, latest[1] if latest else "", escalated,
                          last_at, "", _db_dt(now), _db_dt(now)))
            for kind, (rule, every, last, due) in state.items():
                items.append((item_id, plan_id, kind, rule, None, every, last, due, None, None))
                item_id += 1
            plan_id += 1

    ensure_months(["visits_visit"], datetime.combine(start, time(0), tzinfo=TZ), now)
    with transaction.atomic():
        # A big load drops the visits' indexes and rebuilds them once, and adds the client_uuid keys in one go.
        dropped = bulk_mode([Visit]) if expected >= BULK_MODE_FROM else []
        with keys_after(Visit, first_visit_id):
            visits = copy_rows(Visit, VISIT_COLUMNS, stream())
        restore_indexes(dropped)
        progress.finish()
        copy_rows(CarePlan, PLAN_COLUMNS, plans)
        copy_rows(CarePlanItem, ITEM_COLUMNS, items)
        moves.fill_people()  # the new plans' grid, community and street, copied from their residents
        for model in (Visit, CarePlan, CarePlanItem):
            reset_sequence(model)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Visit, CarePlan, CarePlanItem):
                cursor.execute(f'ANALYZE "{model._meta.db_table}"')
    if stories:
        _open_cases_for_urgent(ctx, first_visit_id)
    ctx.count("visits", visits)
    ctx.count("care plans", len(plans))
    ctx.count("cadences", len(items))
    ctx.log(f"{label}: {len(plans):,} care plans, {len(items):,} cadences, {visits:,} visits "
            f"over {history_days} days")
    return {"plans": len(plans), "visits": visits, "days": history_days}


def _open_cases_for_urgent(ctx, first_visit_id):
    """Urgent visits open a case (as `services.record_visit` does); the demo's seeded ones too."""
    from .services import open_case_from_visit

    urgent = Visit.objects.filter(pk__gte=first_visit_id, wellbeing=Wellbeing.URGENT, case__isnull=True,
                                  visitor__isnull=False).select_related("visitor", "resident", "household__unit__building",
                                                                        "grid")
    for visit in urgent:
        try:
            with transaction.atomic():
                case_id = open_case_from_visit(visit, {})
                if case_id:
                    Visit.objects.filter(pk=visit.pk).update(case_id=case_id)
        except Exception as exc:  # noqa: BLE001 - a demo without cases is still a demo
            ctx.log(f"visits: no case for urgent visit {visit.pk}: {exc}")


def seed_demo(ctx):
    return seed_plans_and_visits(ctx, history_days=120, stories=True, label="visits")


def seed_city(ctx):
    target = int(CITY_VISITS * ctx.scale)
    return seed_plans_and_visits(ctx, target_visits=target, stories=False, label="visits (city)")
