"""Benchmark: server-side latency and SQL query count of the endpoints users wait on.

Runs in-process through Django's test client against the configured database (load it first with
`gridcase seed city --scale 1` on PostgreSQL), so figures are the server's own time without network.
A trivial endpoint (the tag list) is measured in the same run as the ceiling; each endpoint is also
given as a multiple of it. Nothing here asserts: it prints figures.

    DATABASE_URL=postgres://…/gridcase_city python -m tests.benchmarks.run [--repeat 30] [--json out.json]

Each endpoint also shows the size of its SQL (the largest statement, KB: a scope sent as id lists shows here) and
the time PostgreSQL spends planning its statements (`EXPLAIN (SUMMARY)` of each SELECT of the last request, summed).
`--growth postgres://…/gridcase_small` runs the same benchmark first against that (smaller) database in a
child process, then here, and prints each endpoint's median here over its median there: seed the small one
with `--scale 0.1` and this one with `--scale 1` for the growth ratio at 10× the data.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridcase.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from gridcase.grids.models import Grid, Membership, Tag  # noqa: E402
from gridcase.grids.scoping import forget_scope  # noqa: E402

User = get_user_model()


def first_user(role, level=None):
    qs = Membership.objects.filter(role=role)
    if level:
        qs = qs.filter(grid__level=level)
    m = qs.select_related("user", "grid").order_by("id").first()
    return (m.user, m.grid) if m else (None, None)


def planning(captured):
    """(largest statement in KB, planning time in ms summed over the SELECTs) of one request's statements."""
    sizes = [len(q["sql"].encode()) for q in captured]
    planned = 0.0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for q in captured:
                sql = q["sql"]
                if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                    continue
                try:
                    cursor.execute("EXPLAIN (SUMMARY, FORMAT JSON) " + sql)
                    planned += cursor.fetchone()[0][0]["Planning Time"]
                except Exception:  # noqa: BLE001 (a statement that cannot be explained alone: not counted)
                    pass
    return round(max(sizes, default=0) / 1024, 1), round(planned, 1)


def measure(client, user, url, repeat, method="get", data_fn=None):
    timings, queries, status = [], [], None
    captured = []
    for i in range(repeat):
        forget_scope(user)
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            if method == "get":
                response = client.get(url)
            else:
                target, body = data_fn(i)
                response = client.post(target, body, format="json")
            timings.append((time.perf_counter() - start) * 1000)
        queries.append(len(ctx.captured_queries))
        captured = ctx.captured_queries
        status = response.status_code
    timings.sort()
    statement_kb, plan_ms = planning(captured)
    return {
        "status": status,
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1 if len(timings) > 1 else 0], 1),
        "queries": max(queries),
        "statement_kb": statement_kb,
        "plan_ms": plan_ms,
        "response": response,
    }


def deep_cursor(client, user, url, pages):
    """Follow `next` `pages` times and return the URL of that page."""
    forget_scope(user)
    for _ in range(pages):
        body = client.get(url).json()
        if not body.get("next"):
            break
        url = body["next"].replace("http://testserver", "")
    return url


def export_rate(user, params, limit):
    """The XLSX export as the request or the job writes it (gridcase.reports.exports): rows per second, end to end
    (the scoped, filtered query read through a server-side cursor, cells neutralised, the workbook zipped)."""
    from itertools import islice  # noqa: PLC0415

    from gridcase.reports import exports  # noqa: PLC0415

    export = exports.build("cases", user, params)
    export.rows = islice(export.rows, limit)
    started, cpu = time.perf_counter(), time.process_time()
    with exports.to_tempfile(export) as out:
        size = out.seek(0, 2)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    rows = min(export.count, limit)
    # Wall time includes the database's share and any wait for a busy machine; CPU time is this process's alone.
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds) if seconds else None,
            "cpu_seconds": round(cpu, 2), "rows_per_cpu_s": round(rows / cpu) if cpu else None,
            "mb": round(size / 1e6, 1)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--export-rows", type=int, default=100_000, help="rows of the timed XLSX export (at most)")
    parser.add_argument("--growth", metavar="DATABASE_URL",
                        help="a smaller database (e.g. --scale 0.1): run there first, print each median here over there")
    parser.add_argument("--only", action="append", default=[],
                        help="measure only the endpoints whose label contains this (repeatable; the ceiling always)")
    args = parser.parse_args()
    smaller = None
    if args.growth:
        with tempfile.NamedTemporaryFile(suffix=".json") as fh:
            child = [sys.executable, "-m", "tests.benchmarks.run", "--repeat", str(args.repeat), "--json", fh.name,
                     "--export-rows", "1000"]
            print("the smaller database first:")
            subprocess.run(child, check=True, env={**os.environ, "DATABASE_URL": args.growth})
            with open(fh.name) as small:
                smaller = json.load(small)
        print("\nthis database:")
    settings.DEBUG = False
    from gridcase.cases.models import Case  # noqa: PLC0415

    counts = {
        "grids": Grid.objects.count(),
        "micro_grids": Grid.objects.filter(level="micro_grid").count(),
        "residents": __import__("gridcase.grids.models", fromlist=["Resident"]).Resident.objects.count(),
        "cases": Case.objects.count(),
    }
    try:
        from gridcase.visits.models import Visit  # noqa: PLC0415

        counts["visits"] = Visit.objects.count()
    except Exception:  # noqa: BLE001
        pass
    print(f"database: {connection.vendor}; " + ", ".join(f"{k}={v:,}" for k, v in counts.items()))

    worker, micro = first_user("micro_grid_worker", "micro_grid")
    secretary, community = first_user("secretary", "community")
    street_user, street = first_user("street_dispatcher", "street")
    tag = Tag.objects.get(code="elderly_alone")
    rows = []

    def run(label, user, url, label_url=None, **kw):
        if args.only and rows and not any(o in label for o in args.only):
            return {"status": None, "median_ms": 0, "response": None}
        client = APIClient()
        client.force_authenticate(user)
        result = measure(client, user, url, args.repeat, **kw)
        rows.append((label, label_url or url, result))
        return result

    run("ceiling: tag list (trivial)", worker, "/api/v1/tags/")
    run("residents within community & tag", secretary, f"/api/v1/residents/?within={community.id}&tag={tag.code}")
    run("residents within street & tag", street_user, f"/api/v1/residents/?within={street.id}&tag={tag.code}")
    run("care plans within community & tag", secretary, f"/api/v1/care-plans/?within={community.id}&tag={tag.code}")
    run("care plans within street & tag", street_user, f"/api/v1/care-plans/?within={street.id}&tag={tag.code}")
    run("worker's case queue", worker, "/api/v1/cases/?assignee=me")
    run("cases in my micro-grid", worker, f"/api/v1/cases/?within={micro.id}")
    c = APIClient()
    c.force_authenticate(street_user)
    deep = "/api/v1/cases/?page_size=50"
    if not args.only or any(o in "filtered case list, 40 pages deep" for o in args.only):
        deep = deep_cursor(c, street_user, f"/api/v1/cases/?within={street.id}&status=closed&page_size=50", 40)
    run("filtered case list, 40 pages deep", street_user, deep)
    case = Case.objects.filter(grid__in=Grid.objects.filter(pk=micro.pk)).order_by("-id").first() or \
        Case.objects.order_by("-id").first()
    if case:
        run("case detail", street_user, f"/api/v1/cases/{case.id}/")
    # One transition: accept a different reported case each time, as the street dispatcher.
    reported = list(Case.objects.restrict(street_user).filter(status="reported").order_by("-id")
                    .values_list("id", "version")[: args.repeat])
    wanted = not args.only or any(o in "transition: accept" for o in args.only)
    if reported and wanted:
        client = APIClient()
        client.force_authenticate(street_user)
        result = measure(client, street_user, None, len(reported), method="post",
                         data_fn=lambda i: (f"/api/v1/cases/{reported[i][0]}/accept/", {"version": reported[i][1]}))
        rows.append((f"transition: accept ({len(reported)} cases)", "/api/v1/cases/{id}/accept/", result))
    elif wanted:
        print("no reported case in the street: transition not measured")
    run("visits due today (worker)", worker, "/api/v1/visits/due/")
    # The dashboard: every panel one load asks for (the browser asks them side by side), the list a figure opens
    # (counted, as the console asks it), and the whole city's figures for a city-wide reader.
    dashboard = [
        run("visit coverage (street)", street_user, f"/api/v1/stats/visit-coverage/?grid={street.id}"),
        summary := run("stats summary (street)", street_user, f"/api/v1/stats/summary/?grid={street.id}"),
        run("grid ranking (street)", street_user, f"/api/v1/stats/grid-ranking/?grid={street.id}"),
        run("stats timeseries (street)", street_user, f"/api/v1/stats/timeseries/?grid={street.id}"),
        run("stats departments (street)", street_user, f"/api/v1/stats/departments/?grid={street.id}"),
        run("hold times (street)", street_user, f"/api/v1/stats/hold-times/?grid={street.id}"),
    ]
    if summary["status"] == 200:
        drill = summary["response"].json()["drilldown"]["total"] + "&with_count=true"
        run("a figure's drill-down, counted (street)", street_user, drill, label_url="/api/v1/cases/?<figure>&with_count=true")
    city_reader = User.objects.filter(is_superuser=True).order_by("id").first()
    if city_reader:
        run("stats summary (whole city)", city_reader, "/api/v1/stats/summary/")
        run("grid ranking (whole city)", city_reader, "/api/v1/stats/grid-ranking/")

    exported = export_rate(street_user, {"within": [str(street.id)]}, args.export_rows if not args.only else 100)

    ceiling = rows[0][2]["median_ms"] or 1
    print(f"\n{'endpoint':<38} {'status':>6} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'× ceiling':>10} "
          f"{'max stmt KB':>12} {'plan ms':>8}")
    out = []
    for label, url, r in rows:
        ratio = r["median_ms"] / ceiling
        print(f"{label:<38} {r['status']:>6} {r['median_ms']:>10} {r['p95_ms']:>8} {r['queries']:>8} {ratio:>10.1f} "
              f"{r['statement_kb']:>12} {r['plan_ms']:>8}")
        out.append({"endpoint": label, "url": url, **{k: v for k, v in r.items() if k != "response"},
                    "x_ceiling": round(ratio, 2)})
    medians = [r["median_ms"] for r in dashboard] if not args.only else [0]
    print(f"\ndashboard (street, {len(dashboard)} panels): slowest panel {max(medians)} ms, "
          f"all panels one after another {round(sum(medians), 1)} ms (median of each)")
    print(f"export (cases within the street, XLSX): {exported['rows']:,} rows in {exported['seconds']} s = "
          f"{exported['rows_per_s']:,} rows/s ({exported['rows_per_cpu_s']:,} rows per CPU second of the process), "
          f"{exported['mb']} MB")
    if smaller is not None:
        there = {r["endpoint"]: r for r in smaller["results"]}
        print(f"\ngrowth: this database ({counts.get('cases', 0):,} cases) against the smaller one "
              f"({smaller['counts'].get('cases', 0):,} cases), median here / median there")
        print(f"{'endpoint':<38} {'there ms':>9} {'here ms':>8} {'ratio':>6}")
        for r in out:
            small = there.get(r["endpoint"])
            if small and small["median_ms"]:
                print(f"{r['endpoint']:<38} {small['median_ms']:>9} {r['median_ms']:>8} "
                      f"{r['median_ms'] / small['median_ms']:>6.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"counts": counts, "results": out, "export": exported,
                       "dashboard": {"panels": len(dashboard), "slowest_ms": max(medians), "sum_ms": round(sum(medians), 1)}},
                      fh, indent=2, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
