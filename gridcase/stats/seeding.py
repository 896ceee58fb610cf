"""Seeding: the rollups are derived data, rebuilt after the cases seeders ran (and again after intake's)."""

import multiprocessing
import time
import traceback

from . import holds, rollup

# Scale from which the visit coverage and hold-time rollups are rebuilt in a forked process while this one rebuilds
# the case rollups (their own tables, read from visits and hops: nothing shared). Below, forking costs more.
PARALLEL_FROM = 0.2


def _side_rollups() -> dict:
    """The rollups that do not read cases: {kind: (rows, seconds)}."""
    from gridcase.visits import coverage  # noqa: PLC0415 (stats seeds after visits)

    out = {}
    for kind, rebuild in (("visit coverage", coverage.rebuild), ("hold times", holds.rebuild)):
        started = time.monotonic()
        out[kind] = (rebuild(), time.monotonic() - started)
    return out


def _in_child(send):
    from django.db import connections  # noqa: PLC0415

    from gridcase.core.seeding import detach_database  # noqa: PLC0415

    detach_database()
    try:
        send.send(("ok", _side_rollups(), ""))
    except Exception:  # noqa: BLE001 - reported by the parent, which fails the stats seeder with it
        send.send(("failed", {}, traceback.format_exc()))
    finally:
        connections.close_all()
        send.close()


def _rebuild(ctx):
    from django.db import connections  # noqa: PLC0415

    child = None
    if ctx.kind == "city" and ctx.scale >= PARALLEL_FROM:
        connections.close_all()  # the child inherits no open session (this process reopens its own)
        receive, send = multiprocessing.Pipe(duplex=False)
        child = multiprocessing.get_context("fork").Process(target=_in_child, args=(send,))
        child.start()
        send.close()
    started = time.monotonic()
    result = rollup.rebuild(bulk=ctx.kind == "city")
    ctx.count("case rollups", result["rows"])
    ctx.log(f"stats: rollups rebuilt ({result['days']} days, {result['rows']} rows) in {time.monotonic() - started:.1f}s")
    if child is None:
        side = _side_rollups()
    else:
        try:
            status, side, error = receive.recv()
        except EOFError:
            status, side, error = "failed", {}, "the process ended without an answer"
        child.join()
        if status != "ok":
            raise RuntimeError(f"the visit coverage and hold-time rollups failed:\n{error}")
    for kind, (rows, seconds) in side.items():
        ctx.count(kind, rows)
        ctx.log(f"stats: {kind} rollup rebuilt ({rows} rows) in {seconds:.1f}s"
                + (" (beside the case rollups)" if child is not None else ""))


def seed_demo(ctx):
    _rebuild(ctx)


def seed_city(ctx):
    _rebuild(ctx)
