"""Operations: request ids in every log line (and the Celery tasks a request queues), JSON logs in UTC,
Prometheus metrics behind a token."""

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from gridcase.cases.models import Case
from gridcase.core import requestid
from gridcase.core.requestid import JsonFormatter, RequestIdFilter

pytestmark = pytest.mark.django_db


def test_a_request_answers_with_its_id_and_keeps_a_well_formed_one_from_the_proxy(client):
    given = client.get("/healthz", HTTP_X_REQUEST_ID="nginx-3f2a9c1d0b")
    assert given["X-Request-ID"] == "nginx-3f2a9c1d0b"
    made = client.get("/healthz", HTTP_X_REQUEST_ID="<script>")  # not an id: a new one is made
    assert made["X-Request-ID"] != "<script>" and len(made["X-Request-ID"]) == 32


def test_log_lines_are_json_in_utc_with_the_request_id():
    record = logging.LogRecord("gridcase.cases", logging.WARNING, __file__, 1, "事件 %s 超时", ("2026-001",), None)
    token = requestid.request_id.set("abc123def456")
    try:
        RequestIdFilter().filter(record)
    finally:
        requestid.request_id.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "事件 2026-001 超时" and line["level"] == "WARNING"
    assert line["request_id"] == "abc123def456" and line["time"].endswith("Z")


def test_a_task_queued_by_a_request_logs_with_that_requests_id(settings):
    from celery import Celery
    from celery.signals import before_task_publish

    app = Celery("probe", broker="memory://", set_as_current=False)  # (current_app stays gridcase's)
    seen = {}

    @app.task(name="probe.echo")
    def echo():
        return requestid.current()

    def publish(headers=None, **kwargs):
        seen.update(headers or {})

    before_task_publish.connect(publish, weak=False)
    try:
        token = requestid.request_id.set("req-0123456789")
        try:
            echo.apply_async()
        finally:
            requestid.request_id.reset(token)
    finally:
        before_task_publish.disconnect(publish)
    assert seen.get("request_id") == "req-0123456789"
    # In the worker the header becomes the task's context (task_prerun), so its log lines carry it.
    result = echo.apply(headers={"request_id": "req-0123456789"})
    assert result.get() == "req-0123456789"
    assert requestid.current() == ""  # and is gone after the task


def test_metrics_need_the_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    settings.METRICS_TOKEN = "s3cret-scraper-token"
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403


def test_metrics_show_latency_by_route_the_outbox_and_the_sla_sweep_lag(city, client, client_for, settings):
    settings.METRICS_TOKEN = "s3cret-scraper-token"
    client_for(city.worker).get(f"/api/v1/residents/{city.resident.id}/")
    from gridcase.cases.models import Category
    from tests.cases.conftest import case_maker

    case = case_maker(city, Category.objects.filter(children__isnull=True).first())()
    Case.objects.filter(pk=case.pk).update(sla_red_at=timezone.now() - timedelta(minutes=5), sla_stage="accept")
    body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scraper-token").content.decode()
    assert 'gridcase_request_seconds_count{method="GET",route="/api/v1/residents/<pk>/",status="200"}' in body
    lag = next(line for line in body.splitlines() if line.startswith("gridcase_sla_sweep_lag_seconds "))
    assert 290 < float(lag.split()[1]) < 400  # the unmarked breach has been due five minutes
    assert "gridcase_outbox_backlog " in body and "gridcase_sla_breaches_open 0.0" in body
