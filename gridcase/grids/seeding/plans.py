"""What the demo and the city seeders build, decided before any row is written: the grid tree as `Node`s
with their members, boxes and household counts, the departments and the superusers (`Plan`)."""

import math
from dataclasses import dataclass, field

from ..choices import Level, Role
from ..people import REGIONS, chinese_number

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
