"""`gridcase seed demo [--logins]` and `gridcase seed city --scale N [--force]`.

The grids part runs first (tree, places, people, departments, accounts); then, for every other app in
`gridcase.core.seeding.APP_ORDER`, `gridcase.<app>.seeding.seed_demo(ctx)` / `seed_city(ctx)` if that
module exists. Every seeder is idempotent for the demo, so `make run` can call this on every start.
"""

import importlib
import multiprocessing
import os
import random
import time
import traceback

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from gridcase.core.seeding import APP_ORDER, DEMO_PASSWORD, SeedContext, detach_database
from gridcase.grids import seeding

# A city's seeder run at the same time as another's, in a forked process (they write different tables):
# visits need only the people, not the cases.
ALONGSIDE = {"cases": "visits"}
ALONGSIDE_FROM = 0.2  # scale from which it pays (below, starting a process costs more than it saves)
ALONGSIDE_NICE = 10


def _alongside(send, seeder, ctx, app):
    """In the forked process: run the seeder, send back (status, seconds, rows by kind, error)."""
    from django.db import connections

    detach_database()
    # Second to the seeder it runs beside (the cases' play takes both cores; their writing leaves one mostly idle).
    os.nice(ALONGSIDE_NICE)
    ctx.phase, ctx.rows, ctx.phase_rows = app, {}, {}
    ctx.rng = random.Random(f"{ctx.seed}:{app}")  # its own draws, not a copy of the parent's
    started = time.monotonic()
    try:
        seeder(ctx)
        send.send(("ok", time.monotonic() - started, ctx.phase_rows.get(app, {}), ""))
    except Exception:
        send.send(("failed", time.monotonic() - started, {}, traceback.format_exc()))
    finally:
        connections.close_all()
        send.close()


def positive_float(value: str) -> float:
    try:
        scale = float(value)
    except ValueError:
        raise CommandError(f"--scale must be a number, not {value!r}")
    if not 0 < scale <= 100:
        raise CommandError("--scale must be above 0 and at most 100")
    return scale


class Command(BaseCommand):
    help = "Load demo data (one street, two communities, a login per role) or a synthetic city for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["demo", "city"])
        parser.add_argument("--logins", action="store_true", help="print the demo logins and their password")
        parser.add_argument("--scale", type=positive_float, default=1.0,
                            help="city size; 1 = 120 communities, 10,800 micro-grids, ~630,000 residents")
        parser.add_argument("--force", action="store_true",
                            help="city: append a new city although the database already holds grids")
        parser.add_argument("--seed", type=int, default=20240601, help="random seed (same seed, same data)")
        parser.add_argument("--grids-only", action="store_true", help="skip the other apps' seeders")
        parser.add_argument("--apps-only", action="store_true",
                            help="city: run only the other apps' seeders on the city already loaded")
        parser.add_argument("--only", default="", help="comma-separated apps whose seeders run (e.g. stats,intake)")

    def handle(self, *args, kind, logins, scale, force, seed, grids_only, apps_only, only, **options):
        ctx = SeedContext(kind=kind, scale=scale, seed=seed, stdout=self.stdout)
        ctx.phase = "grids"
        started = time.monotonic()
        try:
            if kind == "city" and apps_only:
                ctx.root = seeding.latest_city()
                if ctx.root is None:
                    raise RuntimeError("no city loaded yet: run `seed city` first")
                ctx.prefix = ctx.root.code
            elif kind == "demo":
                seeding.seed_demo(ctx)
            else:
                seeding.seed_city(ctx, force=force)
        except RuntimeError as exc:
            raise CommandError(str(exc))
        ctx.timings["grids"] = time.monotonic() - started
        self.stdout.write(f"grids: {ctx.timings['grids']:.1f}s")
        failed = [] if grids_only else self.run_app_seeders(ctx, {a.strip() for a in only.split(",") if a.strip()})
        if kind == "city":
            self.vacuum(ctx)
        total = time.monotonic() - started
        self.print_table(ctx, total)
        if logins and kind == "demo":
            self.print_logins()
        if failed:
            raise CommandError(f"seed {kind}: the grids and other seeders are loaded, but these failed: "
                               f"{', '.join(failed)} (rerun `seed {kind}{' --apps-only' if kind == 'city' else ''} "
                               f"--only {','.join(failed)}` once fixed)")
        self.stdout.write(self.style.SUCCESS(f"seed {kind}: done in {total:.1f}s"))

    def vacuum(self, ctx):
        """VACUUM the loaded city (PostgreSQL), as autovacuum would soon after: the visibility map of freshly
        copied tables is empty, so until then every index-only scan reads the heap and the planner, knowing it,
        walks the primary key instead of (street, id) — residents within a street by tag took 175 ms, 12 ms
        after. A few seconds for the whole city."""
        if connection.vendor != "postgresql" or connection.in_atomic_block:  # (a test's transaction: no VACUUM)
            return
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM")
        ctx.timings["vacuum"] = time.monotonic() - started
        self.stdout.write(f"vacuum: {ctx.timings['vacuum']:.1f}s")

    def run_app_seeders(self, ctx, only=frozenset()) -> list:
        """Each app's seeder in order; one that fails is reported and the next ones still run. For a city, an
        app of ALONGSIDE runs in a forked process at the same time as the one it names (they share no table)."""
        entry = "seed_demo" if ctx.kind == "demo" else "seed_city"
        failed = []
        apps = [a for a in APP_ORDER if a != "grids" and (not only or a in only)]
        alongside = {}  # app -> (process, pipe) running beside it
        for app in apps:
            partner = ALONGSIDE.get(app)
            if ctx.kind == "city" and partner in apps and ctx.scale >= ALONGSIDE_FROM:
                seeder = self.seeder_of(partner, entry, failed)
                if seeder is not None:
                    alongside[app] = (partner, *self.start_alongside(ctx, partner, seeder))
        for app in apps:
            if app in {a[0] for a in alongside.values()}:
                continue  # ran beside its partner
            try:
                module = importlib.import_module(f"gridcase.{app}.seeding")
            except ModuleNotFoundError as exc:
                if exc.name in (f"gridcase.{app}.seeding", f"gridcase.{app}"):
                    continue
                failed.append(app)
                self.stderr.write(f"{app}: cannot import its seeder:\n{traceback.format_exc()}")
                continue
            except Exception:
                failed.append(app)
                self.stderr.write(f"{app}: cannot import its seeder:\n{traceback.format_exc()}")
                continue
            seeder = getattr(module, entry, None)
            if seeder is None:
                continue
            t0 = time.monotonic()
            ctx.phase = app
            try:
                seeder(ctx)
            except Exception:
                failed.append(app)
                self.stderr.write(f"{app}: seeder failed:\n{traceback.format_exc()}")
            else:
                ctx.timings[app] = time.monotonic() - t0
                self.stdout.write(f"{app}: {ctx.timings[app]:.1f}s")
            if app in alongside:
                self.finish_alongside(ctx, *alongside[app], failed)
        return failed

    def seeder_of(self, app, entry, failed):
        try:
            module = importlib.import_module(f"gridcase.{app}.seeding")
        except Exception:
            failed.append(app)
            self.stderr.write(f"{app}: cannot import its seeder:\n{traceback.format_exc()}")
            return None
        return getattr(module, entry, None)

    def start_alongside(self, ctx, app, seeder):
        """Fork a process running `seeder` on its own database connection; its timing and rows come back."""
        from django.db import connections

        connections.close_all()  # the child starts with none to inherit (the parent reopens its own)
        receive, send = multiprocessing.Pipe(duplex=False)
        process = multiprocessing.get_context("fork").Process(target=_alongside, args=(send, seeder, ctx, app))
        process.start()
        send.close()
        self.stdout.write(f"{app}: running alongside")
        return process, receive

    def finish_alongside(self, ctx, app, process, receive, failed):
        try:
            status, seconds, rows, error = receive.recv()
        except EOFError:
            status, seconds, rows, error = "failed", 0, {}, "the process ended without an answer"
        process.join()
        if status != "ok":
            failed.append(app)
            self.stderr.write(f"{app}: seeder failed:\n{error}")
            return
        ctx.timings[app] = seconds
        ctx.phase_rows[app] = rows
        for what, n in rows.items():
            ctx.rows[what] = ctx.rows.get(what, 0) + n
        self.stdout.write(f"{app}: {seconds:.1f}s (alongside)")

    def print_table(self, ctx, total):
        """Each phase's wall time, the rows it wrote and rows per second (what it wrote, in detail)."""
        lines = [("phase", "seconds", "rows", "rows/s", "of which")]
        for phase, seconds in ctx.timings.items():
            detail = ctx.phase_rows.get(phase, {})
            rows = sum(detail.values())
            lines.append((phase, f"{seconds:.1f}", f"{rows:,}", f"{rows / seconds:,.0f}" if seconds and rows else "",
                          ", ".join(f"{k} {v:,}" for k, v in detail.items())))
        rows = sum(sum(d.values()) for d in ctx.phase_rows.values())
        lines.append(("total", f"{total:.1f}", f"{rows:,}", f"{rows / total:,.0f}" if total else "", ""))
        widths = [max(len(line[i]) for line in lines) for i in range(4)]
        self.stdout.write("")
        for i, line in enumerate(lines):
            cells = [line[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(line[1:4], widths[1:], strict=True))]
            self.stdout.write("  ".join(cells) + ("  " + line[4] if line[4] else ""))
            if i == 0 or i == len(lines) - 2:
                self.stdout.write("-" * (sum(widths) + 6))

    def print_logins(self):
        rows = seeding.demo_logins()
        widths = [max(len(r[i]) for r in rows + [("username", "role", "grid")]) for i in range(3)]
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD})")
        header = ("username", "role", "grid")
        self.stdout.write("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
        for r in rows:
            self.stdout.write("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
        self.stdout.write("Other workers: g02…g17 (grid workers), m0103…m1706 (micro-grid workers), d01…d16 "
                          "(dedicated grids), hh-g01…, hh-m0101… (和惠社区), urban/housing/power/gas/heat/market "
                          "(departments)")
