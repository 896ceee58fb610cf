"""Demo and benchmark data for the grid tree, places, people, departments and accounts.

`seed_demo(ctx)`: one street (八里街道) with Balizhuang (八里庄社区: 17 general grids, 117 micro-grids,
16 dedicated grids, ~15,500 households, ~31,000 residents) and a smaller second community (和惠社区),
departments for whistles and a named login for every role. Idempotent: a second run finds the street
and creates nothing.

`seed_city(ctx)`: a synthetic city for benchmarks (at scale 1: a district, 12 streets, 120 communities,
10,800 micro-grids, ~630,000 residents) loaded in one transaction.

Both build the tree in memory (tree numbering computed by `tree.number_forest`, never by MPTT's
one-by-one inserts) and stream rows with `gridcase.core.bulk` (COPY on PostgreSQL). Personal data is written
exactly as `Resident.phone` / `.id_number` would write it: encrypted, masked and hashed per row.

The package: `plans.py` (what to build), `loader.py` (one load, in one transaction) with `forest.py` (the
tree), `places.py` (buildings, units, households), `residents.py` (people) and `accounts.py` (departments,
logins). This module holds the entry points `gridcase seed` calls.
"""

from django.contrib.auth import get_user_model

from .. import moves
from ..choices import Role
from ..models import Department, Grid
from ..people import REGIONS
from .loader import Loader
from .plans import CITY_PREFIX, DEMO_STREET_CODE, city_plan, demo_plan

User = get_user_model()

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
    moves.fill_people()  # residents loaded by COPY: their community and street
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
    moves.fill_people()  # residents loaded by COPY: their community and street
    ctx.root = root
    ctx.prefix = prefix
    ctx.log("grids: " + ", ".join(f"{k} {v:,}" for k, v in loader.counts.items()))
    return root

