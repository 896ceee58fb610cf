"""Demo and benchmark cases: a year of cases with their events, hops, whistled departments and extensions.

Every case is played step by step with the live rules (simulation.py): the skip rule, copies and departments
whistled at creation (rules.py), each action's plan and the table's status (the workflow), and the SLA
sweep's marks and automatic escalations. This module only chooses the story — where, what, who acts, when,
in which words — and streams the rows with COPY (`copy_rows`), never saving them one by one. So a seeded case
and a live case with the same input end in the same state (tests/cases/test_seeding.py), and the
event-replay property holds for seeded cases too. (Over 400 lines for its data: the topics, paths, delays,
words and stories of the demo.)

`seed_demo(ctx)`: about 3,000 cases over the demo street's last twelve months, plus the seed's stories
(a parking dispute settled by deliberation, a leaking roof whistled to the housing office, illegal wiring
for e-bike charging coming back four times in one building — a hotspot, 未诉先办 — and a family dispute noticed by a
micro-grid worker), then the hotspot job. `seed_city(ctx)`: 1,000,000 cases
× scale over the city's micro-grids. Both skip when the tree already has cases.
"""

import math
import random
import time
from bisect import bisect_left
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from itertools import count
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Max

from gridcase.core.bulk import (
    CopyPipeline,
    CopyTable,
    SideLoad,
    analyze,
    bulk_mode,
    ensure_months,
    next_id,
    reset_sequence,
    restore_indexes,
)
from gridcase.grids import tree
from gridcase.grids.choices import Level, Role
from gridcase.grids.models import Building, Department, DepartmentMember, Grid, Household, Membership

from . import hotspots, rules
from .choices import Rating, SlaState, Source, Status
from .models import Case, CaseDepartment, CaseEvent, CaseHop, CaseNumberSequence, Category, ExtensionRequest
from .replicas import Replicas
from .services import code_suffix
from .simulation import (
    CASE_COLUMNS,
    DEPT_COLUMNS,
    EVENT_COLUMNS,
    EXTENSION_COLUMNS,
    FORWARD,
    HOP_COLUMNS,
    Ledger,
    Node,
    Player,
    Row,
)
from .sla import limits_for

TZ = ZoneInfo("Asia/Shanghai")
DEMO_CASES = 3000
CITY_CASES = 1_000_000

# What people report, by category: (category code, weight, titles, descriptions, usual scope).
TOPICS = [
    ("dispute_parking", 9, ["车位被长期占用", "消防通道停车纠纷", "私装地锁引发纠纷", "外来车辆占用小区车位"],
     ["居民反映车位被他人长期占用，双方多次争执。", "有车辆长期停在消防通道，邻居之间产生矛盾。"], "courtyard"),
    ("dispute_neighbour", 8, ["楼上噪音扰民", "邻居装修噪音纠纷", "楼道堆物引发邻里矛盾", "漏水殃及楼下邻居"],
     ["楼上住户夜间噪音较大，楼下老人休息受影响。", "邻居装修时间过早，双方发生口角。"], "building"),
    ("dispute_family", 5, ["赡养老人问题家庭矛盾", "兄弟分房纠纷", "夫妻争吵需调解"],
     ["网格员走访时发现家庭成员因赡养问题产生矛盾。", "家属反映家中老人赡养分工有争议，请求社区调解。"], "household"),
    ("dispute_property", 6, ["物业服务不到位", "物业费争议", "电梯长期故障物业不修"],
     ["居民对物业服务质量不满，拒交物业费。", "电梯停运一周，物业迟迟未维修。"], "courtyard"),
    ("safety_wiring", 7, ["飞线充电安全隐患", "楼上私拉电线给电动车充电", "院内私拉电线"],
     ["巡查发现有住户从窗口私拉电线为电动车充电，存在火灾隐患。"], "building"),
    ("safety_ebike", 6, ["电动车入户充电", "电动车停放楼道充电"],
     ["发现住户将电动车推入楼道和家中充电。"], "building"),
    ("safety_fire", 4, ["消防通道堵塞", "灭火器过期", "消防栓损坏"], ["巡查发现消防设施存在问题。"], "building"),
    ("safety_gas", 1, ["楼道燃气味", "燃气管道老化"], ["居民反映楼道内有燃气味，需尽快排查。"], "building"),
    ("env_stairwell", 9, ["楼道堆放杂物", "楼道堆放纸箱", "单元门口堆放废旧家具"],
     ["楼道内堆放大量杂物，影响通行和消防安全。"], "building"),
    ("env_drain", 7, ["下水道堵塞", "化粪池外溢", "雨水井堵塞积水"], ["下水道堵塞返水，气味难闻。"], "courtyard"),
    ("env_rubbish", 7, ["垃圾清运不及时", "垃圾桶满溢", "建筑垃圾乱堆"], ["垃圾桶满溢，周边卫生较差。"], "courtyard"),
    ("facility_leak", 8, ["屋顶漏水", "自来水管爆裂", "外墙渗水"], ["顶楼住户反映下雨时屋顶漏水，墙面发霉。"], "household"),
    ("facility_road", 4, ["小区路面破损", "井盖缺失", "人行道地砖松动"], ["路面坑洼，老人出行不便。"], "courtyard"),
    ("facility_lighting", 5, ["路灯不亮", "楼道感应灯损坏"], ["夜间照明不足，居民出行不安全。"], "courtyard"),
    ("livelihood_pension", 6, ["养老认证上门服务", "高龄老人养老金认证"], ["行动不便的老人需要上门办理养老资格认证。"],
     "household"),
    ("livelihood_subsidy", 4, ["低保申请咨询", "残疾人补贴申请", "高龄津贴申请"], ["居民咨询补贴申请办理流程。"],
     "household"),
    ("care_mental", 1, ["居民情绪异常需关注"], ["走访发现居民情绪波动较大，需专业人员介入。"], "household"),
    ("care_minor", 1, ["困境儿童需关爱"], ["发现未成年人无人照看。"], "household"),
    ("care_domestic_violence", 1, ["疑似家庭暴力"], ["邻居反映该户经常传出争吵和哭喊声。"], "household"),
    ("other", 2, ["其他事项"], ["居民反映的其他问题。"], ""),
]
SOURCES = [(Source.PATROL, 40), (Source.VISIT, 20), (Source.RESIDENT, 20), (Source.HOTLINE, 12),
           (Source.DEPARTMENT, 3), (Source.API, 5)]
# Paths a case takes (weights); the timeline stops at "now", so recent cases are still open.
PATHS = [
    (["accept", "assign", "start", "resolve", "verify", "close", "rate"], 62),
    (["escalate", "accept", "assign", "start", "resolve", "verify", "close", "rate"], 8),
    (["accept", "escalate", "escalate", "assign", "start", "resolve", "verify", "close", "rate"], 2),
    (["accept", "whistle", "report_in", "reply", "score_department", "assign", "start", "resolve", "verify", "close",
      "rate"], 8),
    (["accept", "assign", "start", "resolve", "reopen", "start", "resolve", "verify", "close", "rate"], 5),
    (["reject"], 5),
    (["merge"], 3),
    (["accept", "assign", "start", "request_extension", "decide_extension", "resolve", "verify", "close"], 3),
    (["accept", "assign", "start", "resolve", "verify", "close"], 4),
]
# Typical delay before each step, in hours: (low, high), drawn log-uniformly.
DELAYS = {"accept": (0.1, 8), "assign": (0.05, 4), "start": (0.2, 24), "resolve": (1, 140), "verify": (0.5, 30),
          "close": (0.2, 16), "rate": (12, 96), "escalate": (1, 30), "whistle": (0.5, 8), "report_in": (0.3, 30),
          "reply": (3, 72), "score_department": (1, 24), "reject": (0.2, 8), "merge": (0.2, 6), "reopen": (2, 24),
          "request_extension": (4, 48), "decide_extension": (0.5, 8)}
# Which department a whistle for a category usually goes to.
WHISTLE_KIND = {"facility_leak": "housing", "dispute_parking": "urban_management", "safety_wiring": "power",
                "safety_ebike": "power", "safety_gas": "gas", "env_drain": "water", "env_rubbish": "urban_management",
                "care_domestic_violence": "police", "dispute_neighbour": "police"}
RESOLVE_NOTES = ["已上门处理完毕", "已协调物业整改到位", "经调解双方达成一致", "已清理完毕", "已维修完成", "已办理完毕"]
# What people write, by step.
WORDS = {"reject": "经核实不属于社区受理范围，已告知居民联系相关部门", "reopen": "复核未达到要求，重新办理",
         "escalate": "超出本级处置能力，提请上级协调", "whistle": "请协助处置", "reply": "已派员到现场处置",
         "request_extension": "需等待材料或配件，申请延期", "callback": "电话回访，居民对处理结果的答复已记录"}
EXTENSION_HOURS = Decimal("16.00")


class World:
    """The tree, people and departments the simulation draws on, loaded once (ids only)."""

    def __init__(self, root):
        grids = Grid.objects.all()
        if root is not None:
            above = list(tree.ancestors(root).values_list("pk", flat=True))
            grids = grids.filter(tree.subtree_q([tree.span(root)])) | Grid.objects.filter(pk__in=above)
        rows = list(grids.values_list("id", "parent_id", "level", "code", "name", "centroid_lat", "centroid_lng"))
        self.ids = [r[0] for r in rows]
        self.parent = {r[0]: r[1] for r in rows}
        self.level = {r[0]: r[2] for r in rows}
        self.code = {r[0]: r[3] for r in rows}
        self.centroid = {r[0]: (r[5], r[6]) for r in rows}
        self.micros = [r[0] for r in rows if r[2] == Level.MICRO_GRID]
        self.dedicated_of = defaultdict(list)  # community -> dedicated grids
        for r in rows:
            if r[2] == Level.DEDICATED:
                self.dedicated_of[r[1]].append(r[0])
        self.staff = defaultdict(lambda: defaultdict(list))  # grid -> role -> [user]
        for grid_id, role, user_id in Membership.objects.filter(grid_id__in=self.ids).values_list(
                "grid_id", "role", "user_id").order_by("id"):
            self.staff[grid_id][role].append(user_id)
        self.households = defaultdict(list)  # micro-grid -> [(household, unit, building)]
        for hh, grid_id, unit, building in Household.objects.filter(grid_id__in=self.micros).values_list(
                "id", "grid_id", "unit_id", "unit__building_id").iterator(chunk_size=20000):
            bucket = self.households[grid_id]
            if len(bucket) < 40:  # a handful per micro-grid is enough to look real
                bucket.append((hh, unit, building))
        streets = {g for g in self.ids if self.level[g] == Level.STREET}
        self.departments = defaultdict(list)  # street (or None) -> [(dept, kind)]
        for dept_id, area_id, kind in Department.objects.values_list("id", "area_id", "kind"):
            if area_id is None or area_id in streets:
                self.departments[area_id].append((dept_id, kind))
        self.officers, self.departments_of = defaultdict(list), defaultdict(set)
        for dept_id, user_id in DepartmentMember.objects.values_list("department_id", "user_id"):
            self.officers[dept_id].append(user_id)
            self.departments_of[user_id].add(dept_id)
        cats = {c.code: c for c in Category.objects.all()}
        self.topics = [(cats[t[0]], *t[1:]) for t in TOPICS if t[0] in cats]
        if not self.topics:
            raise RuntimeError("no case categories to seed cases with: run `manage.py migrate` (it loads the taxonomy)")
        self.topic_weights = _cumulative([t[1] for t in self.topics])
        self.source_weights = _cumulative([w for _, w in SOURCES])
        self.path_weights = _cumulative([w for _, w in PATHS])
        self._limits, self._suffix, self._nodes, self._chains, self._whistled = {}, {}, {}, {}, {}

    def suffix(self, community):
        if community not in self._suffix:
            self._suffix[community] = code_suffix(Grid.objects.get(pk=community))
        return self._suffix[community]

    def node(self, grid_id) -> Node:
        if grid_id not in self._nodes:
            self._nodes[grid_id] = Node(grid_id, self.level[grid_id])
        return self._nodes[grid_id]

    def ancestors(self, grid_id) -> list:
        """The grid's ancestors as nodes, root first (the order of tree.ancestors)."""
        if grid_id not in self._chains:
            chain, node = [], self.parent.get(grid_id)
            while node is not None and node in self.level:
                chain.append(self.node(node))
                node = self.parent.get(node)
            self._chains[grid_id] = chain[::-1]
        return self._chains[grid_id]

    def skip_departments(self, category, priority, owner) -> list:
        """rules.skip_departments, remembered per (category, priority, owner)."""
        key = (category.pk, priority, owner.pk)
        if key not in self._whistled:
            self._whistled[key] = rules.skip_departments(category, priority, owner)
        return self._whistled[key]

    def ancestor(self, grid_id, level):
        node = grid_id
        while node is not None and self.level[node] != level:
            node = self.parent.get(node)
        return node

    def person(self, grid_id, *roles):
        """Someone holding one of `roles` on the grid or, failing that, on its nearest ancestor."""
        node = grid_id
        while node is not None:
            for role in roles:
                people = self.staff[node].get(role)
                if people:
                    return people[0]
            node = self.parent.get(node)
        return None

    def limits(self, category_id, priority, level, stage):
        key = (category_id, priority, level, stage)
        if key not in self._limits:
            self._limits[key] = limits_for(category_id, priority, level, stage)
        return self._limits[key]


def _cumulative(weights):
    out, total = [], 0
    for w in weights:
        total += w
        out.append(total)
    return out


def _pick(rng, items, cumulative):
    return items[bisect_left(cumulative, rng.random() * cumulative[-1])]


def _delay(rng, action):
    lo, hi = DELAYS[action]
    return timedelta(hours=math.exp(rng.uniform(math.log(lo), math.log(hi))))


class Simulator:
    """Chooses each case's story — where, what, who acts, when, in which words — and plays it with the live rules
    (simulation.Player: the skip rule, the workflow's plans and the table, the SLA sweep); returns its rows."""

    def __init__(self, world, rng, now, first_extension_id=1):
        self.w, self.rng, self.now = world, rng, now
        self.sequences = defaultdict(int)  # (community, year) -> last number
        self.last_in_grid = {}  # micro-grid -> an earlier case still counted (merge target)
        self.extension_ids = count(first_extension_id)
        self.complete = True

    def case(self, case_id, created_at, story=None):
        """One case's rows: (case, events, hops, department links, extension requests). A story may fix the
        grid, topic, source, path, priority, words, rating and the `delays` (hours) before each step."""
        rng, w = self.rng, self.w
        story = story or {}
        micro = story.get("grid") or rng.choice(w.micros)
        community = w.ancestor(micro, Level.COMMUNITY) or w.ancestor(micro, Level.STREET) or micro
        general = w.ancestor(micro, Level.GRID) or micro
        topic = story.get("topic") or _pick(rng, w.topics, w.topic_weights)
        category, _, titles, descriptions, scope = topic
        source = story.get("source") or _pick(rng, [s for s, _ in SOURCES], w.source_weights)
        path = list(story.get("path") or _pick(rng, [p for p, _ in PATHS], w.path_weights))
        priority = story.get("priority") or category.default_priority
        if rng.random() < 0.08 and priority == "normal":
            priority = "high"
        micro_worker = w.person(micro, Role.MICRO_GRID_WORKER)
        grid_worker = w.person(general, Role.GRID_WORKER, Role.GRID_LEADER)
        secretary = w.person(community, Role.SECRETARY)
        reporter = story.get("reporter") or {
            Source.PATROL: grid_worker if rng.random() < 0.4 else micro_worker, Source.VISIT: micro_worker,
            Source.RESIDENT: None, Source.HOTLINE: None, Source.DEPARTMENT: None, Source.API: None}[source]
        reporter_name = {Source.RESIDENT: "居民扫码上报", Source.HOTLINE: "12345热线", Source.DEPARTMENT: "职能部门",
                         Source.API: "城市运行平台"}.get(source, "")
        dedicated = None
        if w.dedicated_of.get(community) and rng.random() < 0.06:
            dedicated = rng.choice(w.dedicated_of[community])
        place = rng.choice(w.households[micro]) if w.households.get(micro) and rng.random() < 0.7 else None
        place = story.get("place") or place  # drawn all the same: a story's place leaves the other draws as they were
        lat, lng = w.centroid.get(micro, (None, None))
        if lat is not None:
            lat, lng = lat + rng.uniform(-0.0008, 0.0008), lng + rng.uniform(-0.0008, 0.0008)
        c = {
            "id": case_id,
            "number": self.number(community, created_at),
            "title": story.get("title") or rng.choice(titles),
            "description": story.get("description") or rng.choice(descriptions), "category_id": category.pk,
            "scope": scope, "priority": priority, "sensitive": category.sensitive, "grid_id": micro,
            "owner_grid_id": micro, "dedicated_grid_id": dedicated,
            "building_id": place[2] if place else None, "unit_id": place[1] if place else None,
            "household_id": place[0] if place and scope == "household" else None, "resident_id": None,
            "lat": lat, "lng": lng, "source": source, "reporter_id": reporter, "reporter_name": reporter_name,
            "assignee_id": None, "merged_into_id": None, "status": Status.REPORTED, "version": 1, "client_key": "",
            "accept_by": None, "handle_by": None, "verify_by": None, "sla_stage": "", "sla_yellow_at": None,
            "sla_red_at": None, "sla_state": SlaState.OK, "rating": "", "rating_comment": "", "rating_source": "",
            "callback_at": None,
            "created_at": created_at, "updated_at": created_at, "first_response_at": None, "accepted_at": None,
            "assigned_at": None, "started_at": None, "resolved_at": None, "verified_at": None, "closed_at": None,
            "rated_at": None, "escalation_count": 0, "reopen_count": 0,
        }
        row = Row(w.node, **c)
        ledger = Ledger(case_id, self.extension_ids)
        play = Player(row, ledger, w.ancestors, w.limits)
        play.open(category, w.node(micro), w.skip_departments)
        people = SimpleNamespace(micro_worker=micro_worker, grid_worker=grid_worker, secretary=secretary,
                                 street=w.ancestor(micro, Level.STREET), story=story, path=path, category=category)
        merge_target = self.last_in_grid.get(micro)
        delays = list(story.get("delays") or [])
        t = created_at
        self.complete = True  # False when "now" cut the story short (the case is still open)
        while path:
            name = path.pop(0)
            if name == "merge" and merge_target is None:
                name = "reject"
            t += timedelta(hours=delays.pop(0)) if delays else _delay(rng, name)
            if t > self.now:
                self.complete = False
                break
            play.sweep(t)
            for _ in FORWARD:  # back on the usual path first (an escalated case is assigned again)
                steps = play.route(name)
                if not steps or not self.act(play, steps[0], t, people, merge_target) or len(steps) == 1:
                    break
                t += _delay(rng, steps[1])
                if t > self.now:
                    self.complete = False
                    path.clear()
                    break
                play.sweep(t)
        play.sweep(self.now)
        if row.status not in (Status.MERGED, Status.REJECTED):
            self.last_in_grid[micro] = SimpleNamespace(pk=case_id, number=row.number)
        return (row.values(), play.events, [tuple(h) for h in ledger.hops], [tuple(r) for r in ledger.links.values()],
                [tuple(e) for e in ledger.extensions])

    def number(self, community, created_at) -> str:
        """The next case number of the community in the year of `created_at` (cases are played in time order)."""
        year = created_at.astimezone(TZ).year
        self.sequences[(community, year)] += 1
        return f"{year}-{self.w.suffix(community)}-{self.sequences[(community, year)]:06d}"

    def act(self, play, name, t, p, merge_target):
        """Choose who runs `name` and with what, as people do; refrain where the live rules would refuse."""
        c, w, rng, links = play.case, self.w, self.rng, play.ledger.links
        staff = self._staff_for(c, p.grid_worker, p.secretary)
        lead = w.person(c.owner_grid_id, Role.SECRETARY, Role.STREET_DISPATCHER)
        checker = staff if staff != c.assignee_id else lead
        if name in ("accept", "assign", "reject", "merge"):
            inputs = {"reject": {"reason": WORDS["reject"]}, "merge": {"into": merge_target}}.get(name, {})
            if name == "assign":
                worker = p.micro_worker if c.owner_grid.level == Level.MICRO_GRID else None
                inputs = {"assignee": worker or p.grid_worker}
            return play.run(name, staff, t, **inputs)
        if name in ("start", "resolve", "request_extension"):
            inputs = {"resolve": {"note": p.story.get("resolve_note") or rng.choice(RESOLVE_NOTES)},
                      "request_extension": {"hours": EXTENSION_HOURS, "reason": WORDS["request_extension"]}}
            if name == "request_extension" and (play.ledger.pending_extension() or not c.sla_stage):
                return False
            return play.run(name, c.assignee_id or staff, t, **inputs.get(name, {}))
        if name in ("verify", "close", "reopen"):
            return play.run(name, lead if name == "close" else checker, t,
                            **({"reason": WORDS["reopen"]} if name == "reopen" else {}))
        if name == "rate":
            if not p.story.get("rating") and rng.random() > 0.65:
                return False  # not every resident answers the callback
            rating = p.story.get("rating") or rng.choices(
                [Rating.SATISFIED, Rating.BASICALLY, Rating.DISSATISFIED], [82, 14, 4])[0]
            if rating == Rating.DISSATISFIED:
                p.path.extend(["start", "resolve", "verify", "close"])  # handled again after the callback
            if c.source == Source.RESIDENT:  # the resident rates through the tracking code
                return play.run("rate", None, t, rating=rating)
            # Staff-reported: staff phone the resident (回访) and record the answer with the call's time.
            return play.run("callback", staff, t, rating=rating, called_at=t, comment=WORDS["callback"])
        if name == "escalate":
            target = play.escalation_target()
            actor = w.person(c.owner_grid_id, Role.MICRO_GRID_WORKER, Role.GRID_WORKER, Role.SECRETARY)
            return target is not None and play.run(name, actor, t, target=target, reason=WORDS["escalate"])
        if name == "whistle":
            options = [(d, k) for d, k in w.departments.get(p.street) or w.departments.get(None) or []
                       if d not in links]
            if not options:
                return False
            wanted = WHISTLE_KIND.get(p.category.code)
            dept = next((d for d, k in options if k == wanted), None) or rng.choice(options)[0]
            return play.run(name, lead, t, departments=[dept], report_by=t + timedelta(hours=24),
                            note=WORDS["whistle"])
        if name in ("report_in", "reply"):
            done = 7 if name == "report_in" else 9  # reported_in_at, replied_at
            waiting = [d for d, link in links.items() if link[done] is None and w.officers.get(d)]
            if not waiting:
                return False
            officer = w.officers[waiting[0]][0]
            mine = [d for d in waiting if d in w.departments_of[officer]]
            return play.run(name, officer, t, departments=mine,
                            **({"note": WORDS["reply"]} if name == "reply" else {}))
        if name == "score_department":
            dept = next((d for d, link in links.items() if link[7] or link[9]), None)
            score = rng.choices([5, 4, 3, 2], [50, 35, 12, 3])[0]
            return dept is not None and play.run(name, lead, t, department=dept, score=score)
        if name == "decide_extension":
            pending = play.ledger.pending_extension()
            return pending is not None and play.run(name, lead, t, extension=pending, approve=True)
        raise ValueError(f"no story for {name!r}")

    def _staff_for(self, c, grid_worker, secretary):
        level = self.w.level[c.owner_grid_id]
        if level in (Level.MICRO_GRID, Level.GRID, Level.DEDICATED):
            return grid_worker or secretary
        if level == Level.COMMUNITY:
            return secretary
        return self.w.person(c.owner_grid_id, Role.STREET_DISPATCHER) or secretary


def _created_times(rng, now, count, days=365):
    """Report times over the last `days`, mostly in the daytime, sorted (numbers follow time)."""
    out = []
    start = now - timedelta(days=days)
    span = (now - start).total_seconds()
    for _ in range(count):
        t = start + timedelta(seconds=rng.random() * span)
        local = t.astimezone(TZ)
        if local.hour < 7 or local.hour > 21:
            t += timedelta(hours=rng.choice([9, 10, 11, 12]))
        if t >= now:
            t = now - timedelta(minutes=rng.randint(5, 600))
        out.append(t)
    out.sort()
    return out


def _stories(world, rng):
    """The seed's named cases, on the demo's first community and its first micro-grids."""
    first_micro = sorted(world.micros, key=lambda g: world.code[g])[:3]
    if not first_micro:
        return []
    topics = {t[0].code: t for t in world.topics}
    m1, m2, m3 = (first_micro * 3)[:3]
    # 未诉先办: e-bike charging over a wire from a window (飞线充电) keeps coming back in one building of m1; the
    # hotspot job finds it (hotspots.run at the end of seed_demo) and the secretary can open a preventive case.
    wiring_at = world.households[m1][0] if world.households.get(m1) else None
    place = (None, wiring_at[1], wiring_at[2]) if wiring_at else None
    building = Building.objects.filter(pk=wiring_at[2]).values_list("name", flat=True).first() if wiring_at else None
    building = building or "2栋"
    wiring = {"grid": m1, "topic": topics["safety_wiring"], "place": place, "priority": "high"}
    return [
        {**wiring, "source": Source.PATROL, "days_ago": 26, "title": f"{building}住户从窗口飞线给电动车充电",
         "description": f"巡查发现{building}有住户从窗口垂下电线给楼下电动车充电，已现场劝导拆除。",
         "path": ["accept", "assign", "start", "resolve", "verify", "close"]},
        {**wiring, "source": Source.RESIDENT, "days_ago": 17, "title": f"{building}楼下又有人飞线充电",
         "description": f"居民扫码反映{building}楼下又出现私拉电线给电动车充电，夜里一直充着，担心起火。",
         "path": ["accept", "assign", "start", "resolve", "verify", "close"]},
        {**wiring, "source": Source.HOTLINE, "days_ago": 9, "title": f"{building}一楼私拉电线充电",
         "description": f"12345热线转来：{building}一楼住户私拉电线穿过楼道给电动车充电。",
         "path": ["accept", "assign", "start", "resolve"]},
        {"grid": m2, "topic": topics["dispute_parking"], "source": Source.PATROL, "days_ago": 40,
         "title": "八里小区3栋前消防通道停车纠纷",
         "description": "3栋住户长期在消防通道停车，与1栋住户多次争执，双方情绪激烈。",
         "path": ["accept", "assign", "start", "resolve", "verify", "close", "rate"],
         "resolve_note": "组织院落居民议事协商会（议事协商），商定划线停车、错时共享车位方案，双方签字认可。",
         "rating": Rating.SATISFIED},
        {"grid": m1, "topic": topics["facility_leak"], "source": Source.RESIDENT, "days_ago": 12,
         "title": "7栋顶楼屋顶漏水", "description": "7栋顶楼住户反映连续降雨后屋顶漏水，卧室墙面大面积发霉。",
         "path": ["escalate", "accept", "whistle", "report_in", "reply", "score_department", "assign", "start"]},
        {**wiring, "source": Source.PATROL, "days_ago": 3,
         "title": f"{building}住户飞线充电", "description": f"巡查发现{building}3楼住户从窗口私拉电线给电动车充电（飞线充电）。",
         "path": ["accept", "assign", "start", "resolve"]},
        {"grid": m3, "topic": topics["dispute_family"], "source": Source.VISIT, "days_ago": 2,
         "title": "独居老人子女赡养纠纷",
         "description": "微网格员入户走访时发现王大爷与子女因赡养问题发生争吵，老人情绪低落。",
         "path": ["accept", "assign", "start"]},
    ]


def copy_tables(now) -> dict:
    """The tables a case's rows go to, by the key of its rows (case, events, hops, department links, extensions)."""
    return {"cases": CopyTable(Case, CASE_COLUMNS, now), "events": CopyTable(CaseEvent, EVENT_COLUMNS, now),
            "hops": CopyTable(CaseHop, HOP_COLUMNS, now), "departments": CopyTable(CaseDepartment, DEPT_COLUMNS, now),
            "extensions": CopyTable(ExtensionRequest, EXTENSION_COLUMNS, now)}


def load(ctx, root, total, label):
    world = World(root)
    if not world.micros:
        ctx.log("cases: no micro-grids to put cases in, nothing to do")
        return 0
    rng, now = ctx.rng, ctx.now
    sim = Simulator(world, rng, now, next_id(ExtensionRequest))
    first_id = next_id(Case)
    times = _created_times(rng, now, total)
    stories = _stories(world, rng) if ctx.kind == "demo" else []
    story_at = [(now - timedelta(days=s["days_ago"], hours=rng.randint(1, 6)), s) for s in stories]
    progress = ctx.progress(label, total + len(stories))
    tables = copy_tables(now)
    batch = {key: [] for key in tables}

    if ctx.kind == "city" and total >= REPLICATE_FROM:
        cases = _replicated(ctx, sim, times, first_id, tables)
    else:
        merged = sorted([(t, None) for t in times] + story_at, key=lambda x: x[0])
        cases = (sim.case(case_id, created_at, story)
                 for case_id, (created_at, story) in enumerate(merged, start=first_id))
    # Events and hops go to monthly partitions: each month of the year loaded gets its own first.
    ensure_months(["cases_caseevent", "cases_casehop"], min([times[0], *(t for t, _ in story_at)]), now)
    with transaction.atomic():
        big = total >= BULK_MODE_FROM
        # The events (nine rows a case) on a second connection beside the rest: PostgreSQL parses each
        # connection's COPY on its own core.
        side = SideLoad([CaseEvent]) if big and connection.vendor == "postgresql" else None
        try:
            dropped = bulk_mode([Case, CaseHop, CaseDepartment] if side else [Case, CaseEvent, CaseHop,
                                                                               CaseDepartment]) if big else []
            # The server stores one batch (COPY, in a thread per connection) while the next is played.
            pipeline = CopyPipeline(side, ("events",))
            clock = [time.monotonic()]
            try:
                cases_in_batch = batch["cases"]
                for row, ev, hp, dp, ex in cases:
                    cases_in_batch.append(row)
                    if type(row) is bytes:  # COPY text (replicas.lines): one per table
                        batch["events"].append(ev)
                        if hp:
                            batch["hops"].append(hp)
                        if dp:
                            batch["departments"].append(dp)
                        if ex:
                            batch["extensions"].append(ex)
                    else:
                        batch["events"] += ev
                        if hp:
                            batch["hops"] += hp
                        if dp:
                            batch["departments"] += dp
                        if ex:
                            batch["extensions"] += ex
                    if len(cases_in_batch) >= 20_000:
                        for key, table in tables.items():
                            pipeline.put(key, table, batch[key])
                        progress.advance(len(cases_in_batch))
                        batch = {key: [] for key in tables}
                        cases_in_batch = batch["cases"]
                for key, table in tables.items():
                    pipeline.put(key, table, batch[key])
                progress.advance(len(cases_in_batch))
            finally:
                clock.append(time.monotonic())
                counts = {key: 0 for key in tables} | pipeline.close()
                clock.append(time.monotonic())
            if side is not None:
                side.restore_beside(lambda: restore_indexes(dropped))
                side.finish()
            else:
                restore_indexes(dropped)
        except BaseException:
            if side is not None:
                side.abort()
            raise
        clock.append(time.monotonic())
        for model in (Case, CaseEvent, CaseHop, CaseDepartment, ExtensionRequest):
            reset_sequence(model)
        for (community, year), last in sim.sequences.items():
            seq, _ = CaseNumberSequence.objects.get_or_create(community_id=community, year=year)
            current = CaseNumberSequence.objects.filter(pk=seq.pk).aggregate(m=Max("last"))["m"] or 0
            CaseNumberSequence.objects.filter(pk=seq.pk).update(last=max(current, last))
    progress.finish()
    analyze([Case, CaseEvent, CaseHop, CaseDepartment, ExtensionRequest])
    clock.append(time.monotonic())
    ctx.log("cases: " + ", ".join(f"{what} {b - a:.1f}s" for what, a, b in zip(
        ("played and written", "last COPY", "indexes", "numbers and statistics"), clock, clock[1:], strict=False)))
    ctx.log("cases: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    if pipeline.busy:
        ctx.log("cases: connections busy writing " + ", ".join(f"{k} {v:.1f}s" for k, v in pipeline.busy.items()))
    for key in ("cases", "events", "hops"):
        ctx.count(key, counts[key])
    return counts["cases"]


BULK_MODE_FROM = 100_000
# A city of at least this many cases plays part of them and tells each played story again whole days earlier or
# later (replicas.py): up to REPLICAS more times within REPLICA_WEEKS weeks; the last FRESH_DAYS are all played.
REPLICATE_FROM = 20_000
REPLICAS = 40
REPLICA_WEEKS = 44
FRESH_DAYS = 14
VERIFY_EVERY = 500  # one replica in this many is played in full and compared


def _replicated(ctx, sim, times, first_id, tables):
    """The city's cases in time order, played or replicas of played ones (replicas.py): planned first, then
    written with their ids, numbers and references — on PostgreSQL as COPY text made from each played case's
    rows formatted once, in worker processes (Replicas.written)."""
    rng, now = ctx.rng, ctx.now
    player = Simulator(sim.w, random.Random(rng.getrandbits(64)), now)
    reps = Replicas(sim, player, CASE_COLUMNS, REPLICAS, REPLICA_WEEKS, now - timedelta(days=FRESH_DAYS), VERIFY_EVERY,
                    tables)
    started = time.monotonic()
    schedule = reps.plan(times, lambda t: t.astimezone(TZ).date(), rng)
    ctx.log(f"cases: {reps.played:,} stories played with the live rules for {len(schedule):,} cases "
            f"in {time.monotonic() - started:.1f}s")
    if connection.vendor == "postgresql":
        yield from reps.written(schedule, first_id)
    else:
        for case_id, (at, _, tpl, days) in enumerate(schedule, start=first_id):
            yield reps.rows(tpl, case_id, at, days)
    ctx.log(f"cases: {reps.made - reps.replicas + reps.replayed:,} played with the live rules, "
            f"{reps.replicas:,} replicas of them whole days away "
            f"({reps.verified:,} written cases played in full again and found equal)")


def _has_cases(root) -> bool:
    qs = Case.objects.all()
    if root is not None:
        ids = Grid.objects.filter(tree.subtree_q([tree.span(root)])).values("id")
        qs = qs.filter(grid_id__in=ids)
    return qs.exists()


def seed_demo(ctx):
    """A realistic year of cases for the demo street (skipped when it already has cases)."""
    root = getattr(ctx, "root", None) or Grid.objects.filter(level=Level.STREET).order_by("id").first()
    if root is None:
        ctx.log("cases: no street loaded, nothing to do")
        return
    if _has_cases(root):
        ctx.log("cases: the demo street already has cases, nothing to do")
    else:
        load(ctx, root, max(1, round(DEMO_CASES * ctx.scale)), "cases (demo)")
    # The hotspot job over what was seeded (idempotent: a second seed changes nothing).
    ctx.log(f"cases: {hotspots.run(ctx.now)}")


def seed_city(ctx):
    """1,000,000 × scale cases over the city, with their events, hops and whistled departments."""
    root = getattr(ctx, "root", None)
    if root is None:
        ctx.log("cases: no city loaded, nothing to do")
        return
    if _has_cases(root):
        ctx.log("cases: the city already has cases, nothing to do")
        return
    load(ctx, root, max(1, round(CITY_CASES * ctx.scale)), "cases (city)")
