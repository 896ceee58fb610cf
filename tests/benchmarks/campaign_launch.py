"""Benchmark: launching a city campaign — 300,000 household tasks — as the background job does it.

Builds (once, kept for reruns) a synthetic street of 10 communities × 10 general grids × 10 micro-grids, each
micro-grid with 3 buildings × 2 units × 50 households and one worker (300,000 households), then times
`gridcase.campaigns.launching.run` on a new campaign over the street (counting, batched INSERT … SELECT with
routing, progress after each batch, one notification per worker), the progress-by-grid query and a worker's
task list; a second run of the job must add nothing. Nothing asserts but the target: under 60 s. Prints figures.

Run against a scratch PostgreSQL database (its tables are written):
    DATABASE_URL=postgres://…/gridcase_bench python manage.py migrate
    DATABASE_URL=postgres://…/gridcase_bench python -m tests.benchmarks.campaign_launch [--households-per-unit 50]
"""

import argparse
import json
import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridcase.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from gridcase.campaigns import launching, progress  # noqa: E402
from gridcase.campaigns.models import Campaign, CampaignTask  # noqa: E402
from gridcase.core import bulk  # noqa: E402
from gridcase.grids import tree  # noqa: E402
from gridcase.grids.choices import Level, Role  # noqa: E402
from gridcase.grids.models import Building, Grid, Household, Membership, Unit  # noqa: E402

PREFIX = "BENCH"
SIDE = 10  # communities per street, grids per community, micro-grids per grid


def build(per_unit: int) -> Grid:
    street = Grid.objects.filter(code=PREFIX).first()
    if street is not None:
        return street
    started = time.monotonic()
    nodes = [Grid(code=PREFIX, name="压测街道", level=Level.STREET)]
    for c in range(SIDE):
        nodes.append(Grid(code=f"{PREFIX}-C{c:02d}", name=f"社区{c}", level=Level.COMMUNITY))
        for g in range(SIDE):
            nodes.append(Grid(code=f"{PREFIX}-C{c:02d}-G{g:02d}", name=f"网格{c}-{g}", level=Level.GRID))
            for m in range(SIDE):
                nodes.append(Grid(code=f"{PREFIX}-C{c:02d}-G{g:02d}-M{m:02d}", name=f"微网格{c}-{g}-{m}",
                                  level=Level.MICRO_GRID))
    by_code = {n.code: n for n in nodes}

    def parent_code(n):
        return n.code.rsplit("-", 1)[0] if "-" in n.code else None

    tree.number_forest(nodes, lambda n: n.code, parent_code, first_tree_id=tree.next_tree_id(Grid))
    with transaction.atomic():
        first = bulk.next_id(Grid)
        for i, n in enumerate(nodes):
            n.pk = first + i
        for n in nodes:
            p = parent_code(n)
            n.parent_id = by_code[p].pk if p else None
        Grid.objects.bulk_create(nodes, batch_size=2000)
        bulk.reset_sequence(Grid)
        micros = [n for n in nodes if n.level == Level.MICRO_GRID]
        User = get_user_model()
        users = User.objects.bulk_create([User(username=f"bench-{m.code.lower()}") for m in micros], batch_size=2000)
        Membership.objects.bulk_create([Membership(user=u, grid=m, role=Role.MICRO_GRID_WORKER)
                                        for u, m in zip(users, micros, strict=True)], batch_size=2000)
        buildings, units = [], []
        for m in micros:
            general = by_code[parent_code(m)]
            for b in range(3):
                buildings.append(Building(grid_id=general.pk, code=f"{m.code}-B{b}", name=f"{m.code[-7:]}-{b}栋"))
        Building.objects.bulk_create(buildings, batch_size=5000)
        for bld in buildings:
            micro = by_code[bld.code.rsplit("-", 1)[0]]
            for u in range(2):
                units.append(Unit(building=bld, micro_grid_id=micro.pk, name=f"{u + 1}单元"))
        Unit.objects.bulk_create(units, batch_size=5000)
        now = timezone.now()
        rows = ((u.pk, f"{floor}{room:02d}", u.micro_grid_id, "", now, now)
                for u in units for floor in range(1, per_unit // 5 + 1) for room in range(1, 6))
        n = bulk.copy_rows(Household, ["unit_id", "room", "grid_id", "note", "created_at", "updated_at"], rows)
    bulk.analyze([Grid, Building, Unit, Household, Membership])
    print(f"built: {len(nodes)} grids, {len(buildings)} buildings, {len(units)} units, {n} households "
          f"in {time.monotonic() - started:.1f}s")
    return Grid.objects.get(code=PREFIX)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--households-per-unit", type=int, default=50)
    parser.add_argument("--json")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("run against PostgreSQL")
    street = build(args.households_per_unit)
    today = timezone.localdate()
    campaign = Campaign.objects.create(name="压测：楼道充电排查", grid=street, target="household", starts_on=today,
                                       ends_on=today, checklist=[{"key": "charging", "text": "楼道充电",
                                                                  "type": "yes_no", "required": True}])
    Campaign.objects.filter(pk=campaign.pk).update(status="launching", launch_requested_at=timezone.now())
    started = time.monotonic()
    result = launching.run(campaign.pk)
    seconds = time.monotonic() - started
    campaign.refresh_from_db()
    again = time.monotonic()
    Campaign.objects.filter(pk=campaign.pk).update(status="launching")
    rerun = launching.run(campaign.pk)
    rerun_seconds = time.monotonic() - again
    admin = get_user_model().objects.filter(is_superuser=True).first() or get_user_model().objects.create_superuser(
        "bench-admin", password="x-bench-Only-1")
    t0 = time.monotonic()
    report = progress.by_grid(campaign, street, admin)
    progress_ms = (time.monotonic() - t0) * 1000
    worker = Membership.objects.filter(grid__code__startswith=PREFIX, role=Role.MICRO_GRID_WORKER).first().user
    t0 = time.monotonic()
    mine = list(CampaignTask.objects.filter(campaign=campaign, worker=worker).order_by(
        "building__code", "unit__name", "household__room", "id")[:100])
    list_ms = (time.monotonic() - t0) * 1000
    figures = {"tasks": campaign.tasks_created, "launch_seconds": round(seconds, 2),
               "tasks_per_second": round(campaign.tasks_created / seconds), "rerun_added": rerun["created"] -
               campaign.tasks_created, "rerun_seconds": round(rerun_seconds, 2),
               "progress_ms": round(progress_ms, 1), "progress_total": report["totals"]["total"],
               "worker_list_ms": round(list_ms, 1), "worker_tasks_first_page": len(mine),
               "under_a_minute": seconds < 60, "job": result}
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh, indent=2)
    Campaign.objects.filter(pk=campaign.pk).delete()


if __name__ == "__main__":
    main()
