"""Create the next months' partitions of the monthly-partitioned tables (case events, hops, visits,
notifications); rows waiting in a table's default partition move into their month's new partition.

Idempotent: a second run reports nothing to do. Beat runs it daily (`ensure-partitions`); run it by hand
after a long downtime or with --ahead to prepare further. PostgreSQL only (elsewhere nothing is
partitioned). See gridcase/core/partitions.py.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from gridcase.core import partitions


class Command(BaseCommand):
    help = "Create the next months' partitions (and move rows out of the default partitions)."

    def add_arguments(self, parser):
        parser.add_argument("--ahead", type=int, default=partitions.MONTHS_AHEAD,
                            help="months after this one that must have a partition (default %(default)s)")

    def handle(self, *args, ahead, **options):
        if ahead < 0:
            raise CommandError("--ahead must be 0 or more")
        if not partitions.applies(connection):
            self.stdout.write("partitions: nothing to do (PostgreSQL only)")
            return
        with connection.cursor() as cursor:
            missing = [t for t in partitions.TABLES if not partitions.is_partitioned(cursor, t)]
        for table in missing:
            self.stdout.write(f"{table}: not partitioned (run migrate)")
        made = partitions.ensure(connection, ahead=ahead)
        for m in made:
            if m.busy:
                self.stdout.write(f"{m.partition}: not created, the table was busy (run again)")
                continue
            self.stdout.write(f"{m.partition}: created" + (f", {m.moved} row(s) moved from the default partition"
                                                          if m.moved else ""))
        created = [m for m in made if not m.busy]
        self.stdout.write(f"partitions: {len(created)} created" if made else "partitions: all in place")
        if len(created) < len(made):
            raise CommandError(f"{len(made) - len(created)} partition(s) not created: their table was busy")
