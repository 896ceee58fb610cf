"""Demo and benchmark data for the grid tree, places, people, departments and accounts.

`seed_demo(ctx)`: one street (八里街道) with Balizhuang (八里庄社区: 17 general grids, 117 micro-grids,
16 dedicated grids, ~15,500 households, ~31,000 residents) and a smaller second community (和惠社区),
departments for whistles and a named login for every role. Idempotent: a second run finds the street
and creates nothing.

`seed_city(ctx)`: a synthetic city for benchmarks (at scale 1: a district, 12 streets, 120 communities,
10,800 micro-grids, ~630,000 residents) loaded in one transaction.

Both build the tree in memory (tree numbering computed by `tree.number_forest`, never by MPTT's
one-by-one inserts) and stream rows with `copy_rows` (COPY on PostgreSQL). Personal data is written
exactly as `Resident.phone` / `.id_number` would write it: encrypted, masked and hashed per row.
"""

import json
import math
import queue
import secrets
import threading
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import NOT_PROVIDED
from pypinyin.constants import PHRASES_DICT

from gridcase.core import crypto
from gridcase.core.seeding import DEMO_PASSWORD, analyze, copy_rows, next_id, reset_sequence

from . import tree
from .choices import Level, Role
from .models import Building, Department, DepartmentMember, Grid, Household, Membership, Resident, Tag, Unit
from .people import REGIONS, PeopleGenerator, chinese_number
from .pinyin import full_pinyin, initials

User = get_user_model()

DEMO_STREET_CODE = "CD-BL"
CITY_PREFIX = "CT"

# Departments a street can whistle (吹哨): (key, name, kind).
DEPARTMENTS = [
    ("police", "派出所", "police"),
    ("urban", "城管执法中队", "urban_management"),
    ("housing", "住建所", "housing"),
    ("water", "自来水公司", "water"),
    ("power", "供电所", "power"),
    ("gas", "燃气公司", "gas"),
    ("heat", "供热站", "heat"),
    ("market", "市场监管所", "market_regulation"),
]

COURTYARDS = [
    "八里小区", "建设北路38号院", "府青路12号院", "东篱苑", "锦华苑", "桃源居", "和美家园", "望平苑", "致强小区",
    "新鸿花园", "双林北支路院落", "猛追湾院落", "万年场小区", "杉板桥苑", "华林小区", "青龙苑", "二仙桥小区",
    "驷马桥院落", "踏水苑", "龙潭花园", "圣灯小区", "保和苑", "跳蹬河院落", "崔家店小区", "双桥子院落",
]

# Building shapes: (floors, rooms per floor per unit, units, weight). Old inner-city estates are mostly walk-ups.
BUILDING_SHAPES = [(6, 2, 3, 30), (7, 2, 2, 20), (6, 3, 4, 10), (11, 4, 2, 15), (18, 4, 2, 15), (26, 4, 3, 10)]
SMALL_BUILDING_SHAPES = [(6, 2, 2, 40), (7, 2, 2, 30), (6, 2, 3, 20), (11, 2, 2, 10)]
OCCUPANCY = 0.9

DEDICATED_BALIZHUANG = [
    ("school", "成华区八里小学"), ("school", "建设路中学"), ("school", "八里庄幼儿园"), ("school", "东郊职业技术学校"),
    ("hospital", "八里庄社区卫生服务中心"), ("hospital", "成华区第二人民医院"), ("hospital", "建设路口腔诊所"),
    ("hospital", "八里康养中心"),
    ("enterprise", "东郊记忆文创园"), ("enterprise", "八里物流园"), ("enterprise", "建设路电子商城"),
    ("enterprise", "府青路汽修城"),
    ("market", "八里农贸市场"), ("market", "建设路菜市场"), ("market", "双林夜市"), ("market", "八里庄超市"),
]
DEDICATED_KINDS = ["school", "hospital", "enterprise", "market"]


# --------------------------------------------------------------------------------------------
# Plans: what to build, before any row is written.
# --------------------------------------------------------------------------------------------
@dataclass(eq=False)
class Node:
    code: str
    name: str
    level: str
    parent: "Node | None" = None
    kind: str = ""
    box: tuple = (30.66, 104.10, 30.67, 104.11)  # south, west, north, east
    households: int = 0  # micro-grids: households to place
    courtyard: str = ""  # general grids: the estate its buildings are named after
    shapes: list = field(default_factory=lambda: BUILDING_SHAPES)
    members: list = field(default_factory=list)  # (username, role, title)
    id: int | None = None


@dataclass
class Plan:
    nodes: list
    departments: list = field(default_factory=list)  # (code, name, kind, area Node, officer username)
    superusers: list = field(default_factory=list)
    id_regions: tuple = REGIONS


def split_box(box, n: int, index: int):
    """The index-th cell when `box` is cut into about-square cells (for boundaries and centroids)."""
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))
    s, w, no, e = box
    r, c = divmod(index, cols)
    dh, dw = (no - s) / rows, (e - w) / cols
    return (s + r * dh, w + c * dw, s + (r + 1) * dh, w + (c + 1) * dw)


def add_general_grids(plan, community, count, micro_counts, households, rng, username_of, shapes):
    """General grids with micro-grids under a community; `households(grid_no, micro_no)` sets the load."""
    # Estates (and so building names) are distinct within a community: 台账 name buildings that way.
    offset = rng.randrange(len(COURTYARDS))
    for g in range(1, count + 1):
        gbox = split_box(community.box, count, g - 1)
        courtyard = COURTYARDS[(g - 1 + offset) % len(COURTYARDS)]
        if g > len(COURTYARDS):
            courtyard += f"{(g - 1) // len(COURTYARDS) + 1}期"
        grid = Node(f"{community.code}-G{g:02d}", f"第{chinese_number(g)}网格", Level.GRID, community, box=gbox,
                    courtyard=courtyard, shapes=shapes)
        grid.members += username_of(g, None)
        plan.nodes.append(grid)
        micros = micro_counts[g - 1]
        for m in range(1, micros + 1):
            micro = Node(f"{grid.code}-M{m:02d}", f"{chinese_number(g)}网格{m}号微网格", Level.MICRO_GRID, grid,
                         box=split_box(gbox, micros, m - 1), households=households(g, m))
            micro.members += username_of(g, m)
            plan.nodes.append(micro)


def demo_plan(rng) -> Plan:
    street = Node(DEMO_STREET_CODE, "八里街道", Level.STREET, box=(30.655, 104.095, 30.685, 104.125))
    street.members += [("street", Role.STREET_DISPATCHER, "街道调度中心"), ("viewer", Role.VIEWER, "区级观察员")]
    plan = Plan(nodes=[street], superusers=["admin"])

    blz = Node(f"{DEMO_STREET_CODE}-BLZ", "八里庄社区", Level.COMMUNITY, street, box=split_box(street.box, 2, 0))
    blz.members.append(("secretary", Role.SECRETARY, "社区书记·总网格长"))
    plan.nodes.append(blz)
    # 117 micro-grids over 17 general grids: fifteen with 7 and two with 6.
    micro_counts = [7] * 15 + [6] * 2

    def blz_users(g, m):
        if m is None:
            if g == 1:
                return [("grid01", Role.GRID_WORKER, "专职网格员"), ("leader01", Role.GRID_LEADER, "网格长")]
            return [(f"g{g:02d}", Role.GRID_WORKER, "专职网格员")]
        if g == 1 and m <= 2:
            return [(f"micro01{m:02d}", Role.MICRO_GRID_WORKER, "微网格员")]
        return [(f"m{g:02d}{m:02d}", Role.MICRO_GRID_WORKER, "微网格员")]

    # 15,525 households over 117 micro-grids: ~133 each, a unit's worth more or less.
    add_general_grids(plan, blz, 17, micro_counts, lambda g, m: rng.randint(78, 123), rng, blz_users,
                      BUILDING_SHAPES)
    for i, (kind, name) in enumerate(DEDICATED_BALIZHUANG, start=1):
        node = Node(f"{blz.code}-D{i:02d}", name, Level.DEDICATED, blz, kind=kind,
                    box=split_box(blz.box, 16, i - 1))
        node.members.append((f"d{i:02d}", Role.GRID_WORKER, "专属网格员"))
        plan.nodes.append(node)

    hh = Node(f"{DEMO_STREET_CODE}-HH", "和惠社区", Level.COMMUNITY, street, box=split_box(street.box, 2, 1))
    hh.members.append(("secretary2", Role.SECRETARY, "社区书记·总网格长"))
    plan.nodes.append(hh)

    def hh_users(g, m):
        if m is None:
            return [(f"hh-g{g:02d}", Role.GRID_WORKER, "专职网格员")]
        return [(f"hh-m{g:02d}{m:02d}", Role.MICRO_GRID_WORKER, "微网格员")]

    add_general_grids(plan, hh, 3, [5, 5, 5], lambda g, m: rng.randint(50, 80), rng, hh_users, SMALL_BUILDING_SHAPES)
    # Officers named after their department for the ones the README lists (water, police), the rest too.
    plan.departments = [(f"bl-{key}", f"八里街道{name}" if key in ("police", "urban", "housing", "market") else name,
                         kind, street, key) for key, name, kind in DEPARTMENTS]
    return plan


def city_plan(rng, scale: float, prefix: str, regions) -> Plan:
    """At scale 1: 1 district, 12 streets, 120 communities × (10 general grids × 9 micro-grids + 3 dedicated)."""
    communities = max(1, round(120 * scale))
    streets = max(1, math.ceil(communities / 10))
    low = prefix.lower()
    district = Node(prefix, "成华区(合成)", Level.DISTRICT, box=(30.60, 104.03, 30.76, 104.19))
    district.members.append((f"{low}-viewer", Role.VIEWER, "区级观察员"))
    plan = Plan(nodes=[district], superusers=[f"{low}-admin"], id_regions=regions)
    per_street = math.ceil(communities / streets)
    community_tag = "C" if prefix == CITY_PREFIX else "C" + prefix[len(CITY_PREFIX):]
    c_no = 0
    for s in range(1, streets + 1):
        sbox = split_box(district.box, streets, s - 1)
        street = Node(f"{prefix}-S{s:02d}", f"第{chinese_number(s)}街道", Level.STREET, district, box=sbox)
        street.members.append((f"{low}-s{s:02d}", Role.STREET_DISPATCHER, "街道调度中心"))
        plan.nodes.append(street)
        plan.departments += [(f"{low}-s{s:02d}-{key}", f"{street.name}{name}", kind, street, f"{low}-s{s:02d}-{key}")
                             for key, name, kind in DEPARTMENTS]
        in_street = min(per_street, communities - c_no)
        for c in range(1, in_street + 1):
            c_no += 1
            # The last code segment is unique across the whole database (case numbers use it, 2026-C001-000123).
            community = Node(f"{street.code}-{community_tag}{c_no:03d}", f"{street.name}第{chinese_number(c)}社区", Level.COMMUNITY,
                             street, box=split_box(sbox, in_street, c - 1))
            cu = f"{low}-c{c_no:03d}"
            community.members.append((cu, Role.SECRETARY, "社区书记·总网格长"))
            plan.nodes.append(community)

            def users(g, m, cu=cu):
                if m is None:
                    return [(f"{cu}-g{g:02d}", Role.GRID_WORKER, "专职网格员")]
                return [(f"{cu}-m{g:02d}{m:02d}", Role.MICRO_GRID_WORKER, "微网格员")]

            add_general_grids(plan, community, 10, [9] * 10, lambda g, m: rng.randint(16, 30), rng, users,
                              SMALL_BUILDING_SHAPES)
            for d in range(1, 4):
                kind = DEDICATED_KINDS[(c_no + d) % len(DEDICATED_KINDS)]
                node = Node(f"{community.code}-D{d:02d}", f"{community.name}{d}号专属网格", Level.DEDICATED,
                            community, kind=kind, box=split_box(community.box, 3, d - 1))
                node.members.append((f"{cu}-d{d:02d}", Role.GRID_WORKER, "专属网格员"))
                plan.nodes.append(node)
    return plan


# --------------------------------------------------------------------------------------------
# Loading: rows computed in memory, streamed with COPY.
# --------------------------------------------------------------------------------------------
class Table:
    """Rows for one model: the columns we compute, plus every other column at its default.

    Another app may add a column to a model we load; it gets its field default (or NULL) instead of
    breaking the seed.
    """

    def __init__(self, model, attnames, now):
        self.model = model
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        self.columns = [by_attname[a].column for a in attnames]
        self.extra = ()
        extra_values = []
        for f in model._meta.concrete_fields:
            if f.attname in attnames:
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            elif getattr(f, "db_default", NOT_PROVIDED) is not NOT_PROVIDED and not f.has_default():
                continue  # the database fills it
            elif f.has_default():
                value = f.get_default()
            elif f.null:
                value = None
            else:
                raise RuntimeError(f"seed: {model.__name__}.{f.name} needs a value; update gridcase/grids/seeding.py")
            if isinstance(value, dict | list):
                value = json.dumps(value)
            self.columns.append(f.column)
            extra_values.append(value)
        self.extra = tuple(extra_values)

    def copy(self, rows) -> int:
        extra = self.extra
        if extra:
            rows = (tuple(r) + extra for r in rows)
        return copy_rows(self.model, self.columns, rows)

    def copy_raw(self, raw_connection, rows) -> int:
        """COPY on a psycopg connection directly (used from the pipeline's worker thread)."""
        extra, count = self.extra, 0
        cols = ", ".join(f'"{c}"' for c in self.columns)
        with raw_connection.cursor() as cursor:
            with cursor.copy(f'COPY "{self.model._meta.db_table}" ({cols}) FROM STDIN') as copy:
                for r in rows:
                    copy.write_row(tuple(r) + extra if extra else r)
                    count += 1
        return count


class CopyPipeline:
    """On PostgreSQL, COPY one batch in a worker thread while the main thread generates the next one.

    The server then inserts and indexes rows while Python computes (names, encryption) instead of each
    waiting for the other. The worker uses the same psycopg connection, hence the same transaction; the
    main thread does not touch the database until `close()` has drained the queue.
    Elsewhere (SQLite) batches are written in line.
    """

    def __init__(self):
        self.threaded = connection.vendor == "postgresql"
        self.counts: dict = {}
        self.error = None
        if self.threaded:
            connection.ensure_connection()
            self.raw = connection.connection
            self.queue = queue.Queue(maxsize=2)
            self.thread = threading.Thread(target=self.work, name="seed-copy", daemon=True)
            self.thread.start()

    def put(self, key, table, rows):
        if not self.threaded:
            self.counts[key] = self.counts.get(key, 0) + table.copy(rows)
            return
        if self.error is not None:
            raise self.error
        self.queue.put((key, table, rows))

    def work(self):
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is not None:
                continue  # drain; the main thread raises
            key, table, rows = item
            try:
                self.counts[key] = self.counts.get(key, 0) + table.copy_raw(self.raw, rows)
            except BaseException as exc:  # handed to the main thread
                self.error = exc

    def close(self):
        if self.threaded:
            self.queue.put(None)
            self.thread.join()
            self.threaded = False
        if self.error is not None:
            raise self.error
        return self.counts


class Ids:
    """Explicit primary keys, so parents and children can be written in one pass without reading back."""

    def __init__(self, *models):
        self.next = {m: next_id(m) for m in models}

    def take(self, model) -> int:
        value = self.next[model]
        self.next[model] = value + 1
        return value


class PersonalData:
    """The same columns Resident.phone / .id_number setters compute, for one clear value each."""

    @staticmethod
    def phone(value):
        if not value:
            return "", "", ""
        return crypto.encrypt(value), crypto.mask_phone(value), value[-4:]

    @staticmethod
    def id_number(value):
        if not value:
            return "", "", ""
        return crypto.encrypt(value), crypto.mask_id_number(value), crypto.keyed_hash(value)


class Loader:
    def __init__(self, ctx, plan: Plan):
        self.ctx, self.plan, self.rng = ctx, plan, ctx.rng
        self.now = ctx.now
        self.today = date.fromisoformat(ctx.now.date().isoformat())
        self.people = PeopleGenerator(self.rng, self.today, regions=plan.id_regions)
        self.ids = Ids(Grid, Building, Unit, Household, Resident, Resident.tags.through, User, Membership,
                       Department, DepartmentMember)
        self.tags = dict(Tag.objects.values_list("code", "id"))
        self.pinyin_cache: dict = {}
        self.counts: dict = {}

    def count(self, key, n):
        self.counts[key] = self.counts.get(key, 0) + n

    # grids -----------------------------------------------------------------------------
    def load_grids(self) -> list:
        grids = []
        for node in self.plan.nodes:
            node.id = self.ids.take(Grid)
        for node in self.plan.nodes:
            s, w, n, e = node.box
            boundary = None
            if node.level in (Level.STREET, Level.COMMUNITY, Level.GRID, Level.MICRO_GRID):
                boundary = {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}
            grids.append(Grid(id=node.id, code=node.code, name=node.name, level=node.level, kind=node.kind,
                              parent_id=node.parent.id if node.parent else None, boundary=boundary,
                              centroid_lat=round((s + n) / 2, 6), centroid_lng=round((w + e) / 2, 6),
                              qr_token=secrets.token_urlsafe(12), created_at=self.now, updated_at=self.now))
        tree.number_forest(grids, key_of=lambda g: g.id, parent_key_of=lambda g: g.parent_id,
                           first_tree_id=tree.next_tree_id(Grid))
        fields = [f for f in Grid._meta.concrete_fields]
        table = Table(Grid, [f.attname for f in fields], self.now)
        rows = []
        for g in grids:
            row = []
            for f in fields:
                value = getattr(g, f.attname)
                if f.name == "boundary" and value is not None:
                    value = json.dumps(value)
                row.append(value)
            rows.append(row)
        self.count("grids", table.copy(rows))
        reset_sequence(Grid)
        return grids

    # places and people -----------------------------------------------------------------
    def load_places_and_people(self):
        generals = [n for n in self.plan.nodes if n.level == Level.GRID]
        micros_of: dict = {}
        for n in self.plan.nodes:
            if n.level == Level.MICRO_GRID:
                micros_of.setdefault(n.parent.id, []).append(n)
        # Progress counts micro-grids (known in advance; households are drawn as we go).
        progress = self.ctx.progress("micro-grids filled", sum(len(v) for v in micros_of.values()))
        tables = {
            "building": Table(Building, ["id", "grid_id", "code", "name", "address", "lat", "lng",
                                         "created_at", "updated_at"], self.now),
            "unit": Table(Unit, ["id", "building_id", "name", "micro_grid_id", "created_at", "updated_at"], self.now),
            "household": Table(Household, ["id", "unit_id", "room", "grid_id", "note", "created_at", "updated_at"],
                               self.now),
            "resident": Table(Resident, [
                "id", "household_id", "grid_id", "name", "name_pinyin", "name_initials", "gender", "birth_date",
                "phone_encrypted", "phone_masked", "phone_last4", "id_number_encrypted", "id_number_masked",
                "id_number_hash", "relation", "is_active", "note", "created_at", "updated_at"], self.now),
            "tag": Table(Resident.tags.through, ["id", "resident_id", "tag_id"], self.now),
        }
        # Stream one batch of general grids at a time: bounded memory at any scale.
        batch: dict = {k: [] for k in tables}
        pipeline = CopyPipeline()
        try:
            for i, general in enumerate(generals):
                self.places_for_general(general, micros_of.get(general.id, []), batch, progress)
                if len(batch["resident"]) > 20_000 or i == len(generals) - 1:
                    for key, table in tables.items():
                        pipeline.put(key, table, batch[key])
                    batch = {k: [] for k in tables}
        finally:
            counts = pipeline.close()
        for key, n in counts.items():
            self.count(key, n)
        progress.finish()
        for model in (Building, Unit, Household, Resident, Resident.tags.through):
            reset_sequence(model)

    def places_for_general(self, general, micros, batch, progress):
        rng, now = self.rng, self.now
        shapes = general.shapes
        weights = [s[3] for s in shapes]
        micro_index, placed = 0, 0
        building_no = 0
        s, w, n, e = general.box
        while micro_index < len(micros):
            floors, per_floor, units, _ = rng.choices(shapes, weights)[0]
            building_no += 1
            building_id = self.ids.take(Building)
            lat, lng = rng.uniform(s, n), rng.uniform(w, e)
            bname = f"{general.courtyard}{building_no}栋"
            batch["building"].append((building_id, general.id, f"{general.code}-B{building_no:02d}", bname,
                                      f"{general.courtyard}{building_no}栋", round(lat, 6), round(lng, 6), now, now))
            for u in range(1, units + 1):
                if micro_index >= len(micros):
                    break
                micro = micros[micro_index]
                unit_id = self.ids.take(Unit)
                batch["unit"].append((unit_id, building_id, f"{u}单元", micro.id, now, now))
                for floor in range(1, floors + 1):
                    for r in range(1, per_floor + 1):
                        if rng.random() > OCCUPANCY:
                            continue
                        household_id = self.ids.take(Household)
                        batch["household"].append((household_id, unit_id, f"{floor}{r:02d}", micro.id, "", now, now))
                        self.household_members(household_id, micro.id, batch)
                        placed += 1
                if placed >= micro.households:
                    micro_index += 1
                    placed = 0
                    progress.advance()

    def household_members(self, household_id, grid_id, batch):
        """One household: a head, perhaps a spouse, children, an elderly parent; tags by age and chance."""
        rng, people = self.rng, self.people
        r = rng.random()
        size = 1 if r < 0.35 else 2 if r < 0.75 else 3 if r < 0.91 else 4 if r < 0.97 else 5
        head_gender = people.gender()
        head_age = people.age(minimum=22)
        surname = people.surname()
        members = [(head_gender, head_age, "户主", surname)]
        if size >= 2:
            spouse_age = max(20, min(99, head_age + rng.randint(-5, 5)))
            members.append(("female" if head_gender == "male" else "male", spouse_age, "配偶", None))
        for _ in range(max(0, size - 2)):
            if head_age < 58 and rng.random() < 0.25:
                members.append((people.gender(), min(99, head_age + rng.randint(24, 32)),
                                "父亲" if len(members) % 2 else "母亲", None))
                continue
            child_age = head_age - rng.randint(22, 36)
            if child_age < 0:
                child_age = rng.randint(0, 5)
            g = people.gender()
            members.append((g, child_age, "子" if g == "male" else "女", surname if rng.random() < 0.9 else None))
        low_income = rng.random() < 0.012
        alone = size == 1
        for gender, age, relation, family in members:
            if relation in ("父亲", "母亲"):
                gender = "male" if relation == "父亲" else "female"
            birth = people.birth_date(age)
            surname = family or people.surname()
            given = people.given_name(gender, birth.year)
            name = surname + given
            pinyin = self.pinyin_of(surname, given)
            phone = people.phone() if age >= 12 and rng.random() < 0.95 else ""
            id_number = people.id_number(birth, gender)
            resident_id = self.ids.take(Resident)
            batch["resident"].append((
                resident_id, household_id, grid_id, name, pinyin[0], pinyin[1], gender, birth,
                *PersonalData.phone(phone), *PersonalData.id_number(id_number),
                relation, True, "", self.now, self.now,
            ))
            for tag in self.tags_for(age, gender, alone, low_income):
                if tag in self.tags:
                    batch["tag"].append((self.ids.take(Resident.tags.through), resident_id, self.tags[tag]))

    def pinyin_of(self, surname, given):
        """full_pinyin(name), initials(name) as Resident.save computes them, from cached halves.

        Exact: the halves are joined only when no phrase of pypinyin's dictionary crosses the boundary
        (its segmentation is then the same); otherwise the whole name is converted (and cached).
        """
        key = (surname, given)
        cached = self.pinyin_cache.get(key)
        if cached is not None:
            return cached
        name = surname + given
        b = len(surname)
        if any(name[i:j] in PHRASES_DICT for i in range(b) for j in range(b + 1, len(name) + 1)):
            value = (full_pinyin(name), initials(name))
        else:
            s, g = self.pinyin_part(surname), self.pinyin_part(given)
            value = (s[0] + g[0], (s[1] + g[1])[:20])
        self.pinyin_cache[key] = value
        return value

    def pinyin_part(self, text):
        cached = self.pinyin_cache.get(text)
        if cached is None:
            cached = self.pinyin_cache[text] = (full_pinyin(text), initials(text))
        return cached

    def tags_for(self, age, gender, alone, low_income):
        rng = self.rng
        if alone and age >= 65 and rng.random() < 0.85:
            yield "elderly_alone"
        if age >= 80:
            yield "elderly_80"
        if rng.random() < (0.03 if age >= 60 else 0.012):
            yield "disabled"
        if age >= 18 and rng.random() < 0.003:
            yield "mental_disorder"
        if age < 16 and rng.random() < 0.02:
            yield "children_difficulty"
        if low_income:
            yield "low_income"
        if gender == "male" and 40 <= age <= 85 and rng.random() < 0.02:
            yield "veteran"
        if age >= 60 and not alone and rng.random() < 0.01:
            yield "left_behind"

    # departments and accounts ------------------------------------------------------------
    def load_departments_and_users(self):
        now = self.now
        password = make_password(DEMO_PASSWORD)  # one hash for every demo account: hashing is slow on purpose
        existing = set(User.objects.values_list("username", flat=True))
        users, memberships, departments, officers = [], [], [], []
        user_ids: dict = {}

        def user(username, display, superuser=False):
            if username in user_ids or username in existing:
                return user_ids.get(username)
            uid = self.ids.take(User)
            user_ids[username] = uid
            users.append((uid, password, None, superuser, username, display, "", f"{username}@demo.gridcase.local",
                          superuser, True, now))
            return uid

        for username in self.plan.superusers:
            user(username, "系统管理员", superuser=True)
        for node in self.plan.nodes:
            for username, role, title in node.members:
                uid = user(username, self.people.name(self.people.gender(), 1975))
                if uid:
                    memberships.append((self.ids.take(Membership), uid, node.id, role, title, now, now))
        for code, name, kind, area, officer in self.plan.departments:
            dept_id = self.ids.take(Department)
            departments.append((dept_id, code, name, kind, area.id, "028-8" + f"{self.rng.randrange(10 ** 7):07d}",
                                now, now))
            uid = user(officer, self.people.name(self.people.gender(), 1980))
            if uid:
                officers.append((self.ids.take(DepartmentMember), uid, dept_id, True, now, now))
        user_table = Table(User, ["id", "password", "last_login", "is_superuser", "username", "first_name",
                                  "last_name", "email", "is_staff", "is_active", "date_joined"], now)
        self.count("users", user_table.copy(users))
        self.count("memberships", Table(Membership, ["id", "user_id", "grid_id", "role", "title", "created_at",
                                                     "updated_at"], now).copy(memberships))
        self.count("departments", Table(Department, ["id", "code", "name", "kind", "area_id", "phone", "created_at",
                                                     "updated_at"], now).copy(departments))
        self.count("department members", Table(DepartmentMember, ["id", "user_id", "department_id", "is_head",
                                                                  "created_at", "updated_at"], now).copy(officers))
        for model in (User, Membership, Department, DepartmentMember):
            reset_sequence(model)

    def run(self):
        with transaction.atomic():
            grids = self.load_grids()
            self.load_places_and_people()
            self.load_departments_and_users()
        analyze()
        root = next(g for g in grids if g.parent_id is None)
        return Grid.objects.get(pk=root.pk)


# --------------------------------------------------------------------------------------------
# Entry points used by `gridcase seed`.
# --------------------------------------------------------------------------------------------
DEMO_LOGINS = [
    ("admin", "admin (superuser)", ""),
    ("street", Role.STREET_DISPATCHER, DEMO_STREET_CODE),
    ("viewer", Role.VIEWER, DEMO_STREET_CODE),
    ("secretary", Role.SECRETARY, f"{DEMO_STREET_CODE}-BLZ"),
    ("secretary2", Role.SECRETARY, f"{DEMO_STREET_CODE}-HH"),
    ("leader01", Role.GRID_LEADER, f"{DEMO_STREET_CODE}-BLZ-G01"),
    ("grid01", Role.GRID_WORKER, f"{DEMO_STREET_CODE}-BLZ-G01"),
    ("micro0101", Role.MICRO_GRID_WORKER, f"{DEMO_STREET_CODE}-BLZ-G01-M01"),
    ("micro0102", Role.MICRO_GRID_WORKER, f"{DEMO_STREET_CODE}-BLZ-G01-M02"),
    ("water", "department officer", "bl-water"),
    ("police", "department officer", "bl-police"),
]


def demo_logins():
    """(username, role, grid or department name) for the README's table, read from the database."""
    names = dict(Grid.objects.filter(code__in=[g for _, _, g in DEMO_LOGINS]).values_list("code", "name"))
    names |= dict(Department.objects.filter(code__in=["bl-water", "bl-police"]).values_list("code", "name"))
    out = []
    for username, role, where in DEMO_LOGINS:
        label = Role(role).label if role in Role.values else role
        out.append((username, str(label), f"{names.get(where, where)} ({where})" if where else "—"))
    return out


def seed_demo(ctx):
    """The demo street; returns its root grid. Does nothing when the street is already there."""
    existing = Grid.objects.filter(code=DEMO_STREET_CODE).first()
    ctx.root = existing
    if existing is not None:
        ctx.log(f"grids: demo street {DEMO_STREET_CODE} already loaded, nothing to do")
        return existing
    loader = Loader(ctx, demo_plan(ctx.rng))
    root = loader.run()
    ctx.root = root
    ctx.log("grids: " + ", ".join(f"{k} {v:,}" for k, v in loader.counts.items()))
    return root


def next_city_prefix() -> str:
    n = 1
    while Grid.objects.filter(code=CITY_PREFIX if n == 1 else f"{CITY_PREFIX}{n}").exists():
        n += 1
    return CITY_PREFIX if n == 1 else f"{CITY_PREFIX}{n}"


def latest_city():
    """The root of the most recently loaded city, if any."""
    return Grid.objects.filter(parent__isnull=True, code__startswith=CITY_PREFIX).order_by("-id").first()


def seed_city(ctx, force: bool = False):
    """A synthetic city under a new district. Refuses a database holding grids unless `force` (then appends)."""
    if Grid.objects.exists() and not force:
        raise RuntimeError("refused: this database already holds grids (a demo or a city); "
                           "use --force to append a new city beside them")
    prefix = next_city_prefix()
    index = 1 if prefix == CITY_PREFIX else int(prefix[len(CITY_PREFIX):])
    # Each city starts its ID numbers in another region code than the demo and earlier cities.
    regions = REGIONS[index % len(REGIONS):] + REGIONS[:index % len(REGIONS)]
    plan = city_plan(ctx.rng, ctx.scale, prefix, regions)
    if not User.objects.filter(username="admin").exists():
        plan.superusers.append("admin")
    loader = Loader(ctx, plan)
    root = loader.run()
    ctx.root = root
    ctx.prefix = prefix
    ctx.log("grids: " + ", ".join(f"{k} {v:,}" for k, v in loader.counts.items()))
    return root
