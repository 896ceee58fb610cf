"""Benchmark: what a street dispatcher's scope costs in SQL (case detail and case lists).

Prints, per endpoint: the length of the longest statement and of all statements together, the number of
queries, the server's median time, and PostgreSQL's planning and execution time of the longest statement
(EXPLAIN ANALYZE). Run against a seeded database (`manage.py seed demo` or `seed city`):

    DATABASE_URL=postgres://…/gridcase_demo python -m tests.benchmarks.scope [--repeat 30]
"""

import argparse
import os
import statistics
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridcase.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from gridcase.cases.models import Case  # noqa: E402
from gridcase.grids.models import Grid, Membership  # noqa: E402
from gridcase.grids.scoping import forget_scope  # noqa: E402


def explain(sql: str, params, repeat: int = 9) -> tuple[float, float]:
    """Median (planning ms, execution ms) of one statement."""
    planning, execution = [], []
    with connection.cursor() as cursor:
        for _ in range(repeat):
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
            plan = plan[0] if isinstance(plan, list) else plan
            planning.append(plan["Planning Time"])
            execution.append(plan["Execution Time"])
    return statistics.median(planning), statistics.median(execution)


class Statements:
    """Every statement's SQL with its parameters (CaptureQueriesContext has them interpolated only)."""

    def __init__(self):
        self.seen = []

    def __call__(self, execute, sql, params, many, context):
        self.seen.append((sql, params))
        return execute(sql, params, many, context)


def measure(client, user, url, repeat):
    timings = []
    for _ in range(repeat):
        forget_scope(user)
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    sqls = [q["sql"] for q in ctx.captured_queries]
    longest = max(sqls, key=len)
    planning = execution = 0.0
    if connection.vendor == "postgresql":
        forget_scope(user)
        statements = Statements()
        with connection.execute_wrapper(statements):
            client.get(url)
        sql, params = max(statements.seen, key=lambda s: len(s[0]) + len(str(s[1])))
        planning, execution = explain(sql, params)
    return {"median_ms": statistics.median(timings), "queries": len(sqls), "longest": len(longest),
            "total": sum(len(s) for s in sqls), "plan_ms": planning, "exec_ms": execution}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    settings.DEBUG = False
    m = (Membership.objects.filter(role="street_dispatcher", grid__level="street").select_related("user", "grid")
         .order_by("id").first())
    user, street = m.user, m.grid
    community = Grid.objects.filter(parent=street, level="community").order_by("id").first()
    in_scope = Case.objects.restrict(user).order_by("-id")
    case = in_scope.filter(grid__level="micro_grid").first() or in_scope.first()
    client = APIClient()
    client.force_authenticate(user)
    rows = [
        ("case detail", f"/api/v1/cases/{case.id}/"),
        ("case list", "/api/v1/cases/"),
        ("case list within street", f"/api/v1/cases/?within={street.id}"),
        ("case list within community", f"/api/v1/cases/?within={community.id}"),
        ("residents within community", f"/api/v1/residents/?within={community.id}"),
    ]
    print(f"database: {connection.vendor}; street dispatcher {user.username} on {street.name}; "
          f"{Grid.objects.count():,} grids, {Case.objects.count():,} cases")
    print(f"\n{'endpoint':<30} {'queries':>7} {'longest B':>10} {'total B':>9} {'median ms':>10} "
          f"{'plan ms':>8} {'exec ms':>8}")
    for label, url in rows:
        r = measure(client, user, url, args.repeat)
        print(f"{label:<30} {r['queries']:>7} {r['longest']:>10,} {r['total']:>9,} {r['median_ms']:>10.1f} "
              f"{r['plan_ms']:>8.2f} {r['exec_ms']:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
