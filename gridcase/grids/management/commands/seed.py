"""`gridcase seed demo [--logins]` and `gridcase seed city --scale N [--force]`.

The grids part runs first (tree, places, people, departments, accounts); then, for every other app in
`gridcase.core.seeding.APP_ORDER`, `gridcase.<app>.seeding.seed_demo(ctx)` / `seed_city(ctx)` if that
module exists. Every seeder is idempotent for the demo, so `make run` can call this on every start.
"""

import importlib
import time

from django.core.management.base import BaseCommand, CommandError

from gridcase.core.seeding import APP_ORDER, DEMO_PASSWORD, SeedContext
from gridcase.grids import seeding


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

    def handle(self, *args, kind, logins, scale, force, seed, grids_only, apps_only, **options):
        ctx = SeedContext(kind=kind, scale=scale, seed=seed, stdout=self.stdout)
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
        if not grids_only:
            self.run_app_seeders(ctx)
        total = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"seed {kind}: done in {total:.1f}s"))
        if logins and kind == "demo":
            self.print_logins()

    def run_app_seeders(self, ctx):
        entry = "seed_demo" if ctx.kind == "demo" else "seed_city"
        for app in APP_ORDER:
            if app == "grids":
                continue
            try:
                module = importlib.import_module(f"gridcase.{app}.seeding")
            except ModuleNotFoundError as exc:
                if exc.name in (f"gridcase.{app}.seeding", f"gridcase.{app}"):
                    continue
                raise
            seeder = getattr(module, entry, None)
            if seeder is None:
                continue
            t0 = time.monotonic()
            seeder(ctx)
            ctx.timings[app] = time.monotonic() - t0
            self.stdout.write(f"{app}: {ctx.timings[app]:.1f}s")

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
