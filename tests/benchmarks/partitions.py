"""Benchmark: the partition migration on a city-scale database, and what a time range reads afterwards.

Runs the real migrations (cases 0008, visits 0006, notifications 0004: `gridcase.core.partitions.convert`)
on a seeded PostgreSQL database and prints per table: rows, partitions made, seconds; then per table a
one-month query before and after (EXPLAIN ANALYZE: the partitions read and the execution time), and one run
of the daily job. A database seeded with today's code is partitioned already: the script first migrates
back to the plain tables (the migrations' reverse, `unconvert`, timed too), so the upgrade of a database
of the release before runs at full size. Asserts nothing. The database is changed: run it on a copy
(`createdb -T gridcase_city gridcase_city_copy`), never on a database others measure.

    DATABASE_URL=postgres://…/gridcase_city_copy python -m tests.benchmarks.partitions
"""

import os
import re
import time
from datetime import datetime

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridcase.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.migrations.recorder import MigrationRecorder  # noqa: E402

from gridcase.core import partitions  # noqa: E402

MIGRATIONS = [("cases", "0008_partition_events_hops"), ("visits", "0006_partition_visits"),
              ("notifications", "0004_partition_notifications")]
BEFORE = [("cases", "0007_attachment_client_key"), ("visits", "0005_patrol_photo"),
          ("notifications", "0003_alter_notification_kind")]  # the release before the partitions


def one(query, params=()):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchone()


def busiest_month(table, column):
    """The last complete month with rows (local months), as (start, end) instants."""
    (last,) = one(f'SELECT max("{column}") FROM "{table}"')
    if last is None:
        return None
    month = partitions.add_months(partitions.month_of(last), -1)
    return partitions.bound(month), partitions.bound(partitions.add_months(month, 1))


def explain(table, column, lo, hi):
    """(partitions read, execution ms, rows) of a one-month count."""
    with connection.cursor() as cursor:
        cursor.execute(f'EXPLAIN (ANALYZE, COSTS OFF) SELECT count(*) FROM "{table}" '
                       f'WHERE "{column}" >= %s AND "{column}" < %s', [lo, hi])
        lines = [row[0] for row in cursor.fetchall()]
    scanned = sorted({m for line in lines for m in re.findall(rf"on ({re.escape(table)}\w*)", line)})
    ms = next(float(re.search(r"([\d.]+) ms", line)[1]) for line in lines if line.startswith("Execution Time"))
    (count,) = one(f'SELECT count(*) FROM "{table}" WHERE "{column}" >= %s AND "{column}" < %s', [lo, hi])
    return scanned, ms, count, lines


def timed_calls(name, timings):
    """Wrap partitions.<name> so each table's call is timed into `timings`; returns the undo."""
    original = getattr(partitions, name)

    def timed(conn, table, **kwargs):
        start = time.perf_counter()
        result = original(conn, table, **kwargs)
        timings[table] = (time.perf_counter() - start, result)
        return result

    setattr(partitions, name, timed)
    return lambda: setattr(partitions, name, original)


def migrate(app, name):
    start = time.perf_counter()
    call_command("migrate", app, name, verbosity=0)
    print(f"migrate {app} {name}: {time.perf_counter() - start:.1f} s")


def main():
    if connection.vendor != "postgresql":
        raise SystemExit("PostgreSQL only")
    print(f"database {settings.DATABASES['default']['NAME']}, {datetime.now():%Y-%m-%d %H:%M}")
    rows_before = {table: one(f'SELECT count(*) FROM "{table}"')[0] for table in partitions.TABLES}

    if any(partitions.is_partitioned(connection.cursor(), t) for t in partitions.TABLES):
        print("\nthe way back (the migrations' reverse) to the plain tables of the release before:")
        back = {}
        undo = timed_calls("unconvert", back)
        try:
            for app, name in BEFORE:
                migrate(app, name)
        finally:
            undo()
        for table, (seconds, result) in back.items():
            print(f"  {table:28} {result.get('rows', 0):>12,} rows {seconds:>8.1f} s")

    months = {}
    print()
    for table, column in partitions.TABLES.items():
        months[table] = busiest_month(table, column)
        if months[table]:
            scanned, ms, count, _ = explain(table, column, *months[table])
            print(f"before  {table:28} one month ({count:,} rows): {ms:9.1f} ms, reads {', '.join(scanned)}")

    print("\nthe upgrade (the migrations forward):")
    timings = {}
    undo = timed_calls("convert", timings)
    try:
        applied = MigrationRecorder(connection).applied_migrations()
        for app, name in MIGRATIONS:
            if (app, name) in applied:
                print(f"{app}.{name}: already applied")
                continue
            migrate(app, name)
        start = time.perf_counter()
        call_command("migrate", verbosity=0)  # whatever came after them
        print(f"migrate (the rest): {time.perf_counter() - start:.1f} s")
    finally:
        undo()
    print()
    print(f"{'table':28} {'rows':>12} {'partitions':>10} {'seconds':>8} {'rows/s':>9}")
    for table, (seconds, result) in timings.items():
        rows = result.get("rows", rows_before[table]) if result else rows_before[table]
        made = result.get("partitions", 0) if result else 0
        print(f"{table:28} {rows:>12,} {made:>10} {seconds:>8.1f} {rows / seconds if seconds else 0:>9,.0f}")
    print()
    for table, column in partitions.TABLES.items():
        (after,) = one(f'SELECT count(*) FROM "{table}"')
        print(f"rows {table}: {rows_before[table]:,} before, {after:,} after")
        if months[table]:
            scanned, ms, count, lines = explain(table, column, *months[table])
            print(f"after   {table:28} one month ({count:,} rows): {ms:9.1f} ms, reads {', '.join(scanned)}")
            print("        " + "\n        ".join(lines))
    start = time.perf_counter()
    made = partitions.ensure(connection)
    print(f"\ndaily job: {len(made)} partition(s) made in {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
