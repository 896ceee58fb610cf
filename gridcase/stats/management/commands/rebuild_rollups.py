"""`gridcase rebuild_rollups`: drop the case, department and hold-time rollups and recompute every day from the
cases and their hops."""

import time

from django.core.management.base import BaseCommand

from gridcase.stats import holds, rollup


class Command(BaseCommand):
    help = "Rebuild the dashboard rollups from the cases (every day that has cases)."

    def handle(self, *args, **options):
        started = time.monotonic()
        result = rollup.rebuild()
        held = holds.rebuild()
        self.stdout.write(self.style.SUCCESS(
            f"rollups: {result['days']} days, {result['rows']} rows, hold times {held} rows "
            f"in {time.monotonic() - started:.1f}s"))
