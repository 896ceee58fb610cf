"""Seeding: the rollups are derived data, rebuilt after the cases seeders ran (and again after intake's)."""

import time

from . import holds, rollup


def _rebuild(ctx):
    from gridcase.visits import coverage  # noqa: PLC0415 (stats seeds after visits)

    started = time.monotonic()
    result = rollup.rebuild(bulk=ctx.kind == "city")
    ctx.count("case rollups", result["rows"])
    ctx.log(f"stats: rollups rebuilt ({result['days']} days, {result['rows']} rows) in {time.monotonic() - started:.1f}s")
    started = time.monotonic()
    gaps = coverage.rebuild()
    ctx.count("visit coverage", gaps)
    ctx.log(f"stats: visit coverage rollup rebuilt ({gaps} rows) in {time.monotonic() - started:.1f}s")
    started = time.monotonic()
    held = holds.rebuild()
    ctx.count("hold times", held)
    ctx.log(f"stats: hold times rollup rebuilt ({held} rows) in {time.monotonic() - started:.1f}s")


def seed_demo(ctx):
    _rebuild(ctx)


def seed_city(ctx):
    _rebuild(ctx)
