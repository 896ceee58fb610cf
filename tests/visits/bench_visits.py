"""Median latency and query count of the visits endpoints on a loaded city (not a test; prints figures).

    DATABASE_URL=postgres://…/city python -m tests.visits.bench_visits [--repeat 20]
"""

import argparse
import os
import statistics
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridcase.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from gridcase.grids.models import Membership  # noqa: E402
from gridcase.grids.scoping import forget_scope  # noqa: E402
from gridcase.visits.models import CarePlan, CarePlanItem, Visit  # noqa: E402


def measure(user, url, repeat):
    client = APIClient()
    client.force_authenticate(user)
    timings, queries = [], []
    for _ in range(repeat):
        forget_scope(user)
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
        queries.append(len(ctx.captured_queries))
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return statistics.median(timings), max(timings), max(queries), response


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    today = timezone.localdate()
    print(f"{connection.vendor}: visits={Visit.objects.count():,} plans={CarePlan.objects.count():,} "
          f"items={CarePlanItem.objects.count():,}")
    busiest = (CarePlan.objects.filter(active=True, worker__isnull=True).values("resident__grid_id")
               .annotate(n=Count("id")).order_by("-n").first())
    worker = Membership.objects.filter(grid_id=busiest["resident__grid_id"], role="micro_grid_worker").first().user
    typical = Membership.objects.filter(role="micro_grid_worker").order_by("id").first().user
    street = Membership.objects.filter(role="street_dispatcher", grid__level="street").select_related("grid").first()
    rows = [
        ("ceiling: tag list", typical, "/api/v1/tags/"),
        ("visits/due, a typical worker", typical, "/api/v1/visits/due/"),
        (f"visits/due, busiest micro-grid ({busiest['n']} plans)", worker, "/api/v1/visits/due/"),
        ("visits list, worker", typical, "/api/v1/visits/"),
        ("care-plans list, street", street.user, f"/api/v1/care-plans/?within={street.grid_id}"),
        ("visit-coverage, street, this month", street.user,
         f"/api/v1/stats/visit-coverage/?grid={street.grid_id}&from={today.replace(day=1)}&to={today}"),
        ("visit-coverage, street, 90 days", street.user,
         f"/api/v1/stats/visit-coverage/?grid={street.grid_id}&from={today.fromordinal(today.toordinal() - 90)}"
         f"&to={today}"),
    ]
    for label, user, url in rows:
        median, worst, queries, response = measure(user, url, args.repeat)
        size = len(response.data.get("results", [])) if isinstance(response.data, dict) else ""
        extra = response.data.get("overall") if "coverage" in url else f"{size} rows"
        print(f"{label:<48} median {median:8.1f} ms  max {worst:8.1f} ms  queries {queries:2d}  {extra}")


if __name__ == "__main__":
    main()
