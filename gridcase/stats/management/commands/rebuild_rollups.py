"""`gridcase rebuild_rollups`: drop the case and department rollups and recompute every day from the cases."""

import time

from django.core.management.base import BaseCommand

from gridcase.stats import rollup


class Command(BaseCommand):
    help = "Rebuild the dashboard rollups from the cases (every day that has cases)."

    def handle(self, *args, **options):
        started = time.monotonic()
        result = rollup.rebuild()
        self.stdout.write(self.style.SUCCESS(
            f"rollups: {result['days']} days, {result['rows']} rows in {time.monotonic() - started:.1f}s"))
