"""Prometheus metrics (prometheus-client), served at `/metrics` to a scraper holding `METRICS_TOKEN`.

- `gridcase_request_seconds{route,method,status}`: request latency by URL route (the pattern, not the path, so
  `/api/v1/cases/<pk>/` is one series). Under gunicorn with several workers set `PROMETHEUS_MULTIPROC_DIR`
  (an empty folder per start; `deploy/gunicorn.conf.py` cleans up after a dead worker) so every worker's
  observations are summed.
- Read at scrape time from the database and the broker (cheap, indexed queries): `gridcase_queue_length{queue}`
  (Celery messages waiting per queue), `gridcase_outbox_backlog` (notification deliveries not sent yet) and
  `gridcase_outbox_oldest_seconds`, `gridcase_sla_sweep_lag_seconds` (how long the oldest breach the sweep has
  not marked yet has been due: 0 when the sweep keeps up), `gridcase_sla_breaches_open` (open cases past
  their breach instant), `gridcase_replica_lag_seconds`.
"""

import os
import re
import time

from django.conf import settings
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

REQUEST_SECONDS = Histogram("gridcase_request_seconds", "Time to answer a request, by URL route",
                            ["route", "method", "status"],
                            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
QUEUES = ("celery", "notifications", "sla", "rollups", "imports", "exports")


_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def route_of(request) -> str:
    """The URL pattern that answered: `/api/v1/cases/<pk>/` (DRF's regex routes read the same way)."""
    match = getattr(request, "resolver_match", None)
    if match is None or not match.route:
        return "unmatched"
    route = _GROUP.sub(r"<\1>", match.route).replace("^", "").replace("$", "").replace("\\", "")
    return "/" + route.lstrip("/")


class MetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        route = route_of(request)
        if route != "/metrics":
            REQUEST_SECONDS.labels(route, request.method, str(response.status_code)).observe(
                time.perf_counter() - started)
        return response


class StateCollector:
    """Gauges read when scraped."""

    def collect(self):
        from gridcase.cases import sweep
        from gridcase.cases.choices import SlaState
        from gridcase.notifications.models import Delivery

        from . import replica

        queue = GaugeMetricFamily("gridcase_queue_length", "Celery messages waiting, per queue", labels=["queue"])
        for name, length in queue_lengths().items():
            queue.add_metric([name], length)
        yield queue
        now = timezone.now()
        waiting = Delivery.objects.filter(state__in=[Delivery.State.PENDING, Delivery.State.SENDING])
        yield GaugeMetricFamily("gridcase_outbox_backlog", "Notification deliveries not sent yet",
                                value=waiting.count())
        oldest = waiting.order_by("notification__created_at").values_list("notification__created_at", flat=True).first()
        yield GaugeMetricFamily("gridcase_outbox_oldest_seconds", "Age of the oldest delivery not sent yet",
                                value=(now - oldest).total_seconds() if oldest else 0)
        overdue = sweep.due_for_red(now).order_by("sla_red_at").values_list("sla_red_at", flat=True).first()
        yield GaugeMetricFamily("gridcase_sla_sweep_lag_seconds",
                                "How long the oldest breach not yet marked by the SLA sweep has been due",
                                value=(now - overdue).total_seconds() if overdue else 0)
        from gridcase.cases.models import Case

        yield GaugeMetricFamily("gridcase_sla_breaches_open", "Open cases marked red (past their breach instant)",
                                value=Case.objects.filter(sla_state=SlaState.RED).exclude(sla_stage="").count())
        if replica.configured():
            try:
                lag = replica.lag()
            except Exception:  # noqa: BLE001 - an unreachable replica shows as a missing gauge
                lag = None
            if lag is not None:
                yield GaugeMetricFamily("gridcase_replica_lag_seconds", "Read replica lag", value=lag)


def queue_lengths() -> dict[str, int]:
    """Messages waiting in each Celery queue (Redis broker; an empty dict for other brokers)."""
    url = settings.CELERY_BROKER_URL or ""
    if not url.startswith(("redis://", "rediss://")):
        return {}
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    with client.pipeline(transaction=False) as pipe:
        for name in QUEUES:
            pipe.llen(name)
        return dict(zip(QUEUES, pipe.execute(), strict=True))


def exposition() -> tuple[bytes, str]:
    """The scrape's body: this process's (or, in multiprocess mode, every worker's) request latencies and
    the state gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_SECONDS)
    registry.register(StateCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST
