"""`/healthz`: the process answers. `/readyz`: the database and the Celery broker answer,
and stored personal data decrypts with the configured field keys. `/metrics`: Prometheus, for a scraper
sending `Authorization: Bearer <METRICS_TOKEN>` (404 while no token is configured)."""

import hmac

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse

from gridcase.celery import app as celery_app
from gridcase.core import crypto, metrics, replica


def healthz(request):
    return JsonResponse({"status": "ok"})


def readyz(request):
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - report any failure as not ready
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["broker"] = f"error: {exc.__class__.__name__}"
    if checks["database"] == "ok":
        # A wrong or missing field key shows here before anyone opens a resident (sampled, cheap).
        try:
            checks["encryption"] = crypto.health()
        except Exception as exc:  # noqa: BLE001
            checks["encryption"] = f"error: {exc.__class__.__name__}"
    ready = all(v == "ok" for v in checks.values())
    warnings = []
    if checks["database"] == "ok":
        from gridcase.cases.workcalendar import warnings as calendar_warnings

        warnings += calendar_warnings()
    details = {}
    if replica.configured():  # reported, never gating: the primary alone still serves every request
        details["replica_lag_seconds"], replica_warnings = replica.status()
        warnings += replica_warnings
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks, "warnings": warnings,
                         **({"details": details} if details else {})}, status=200 if ready else 503)


def prometheus(request):
    token = settings.METRICS_TOKEN
    if not token:
        return JsonResponse({"code": "not_found", "message": "metrics are off (set METRICS_TOKEN)"}, status=404)
    given = request.META.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return JsonResponse({"code": "forbidden", "message": "a valid metrics token is required"}, status=403)
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)
