"""The database goes away (a restart, a failover, a dropped connection): a request either succeeds or answers
503 `{code: "unavailable"}` in the JSON error shape, the next one reconnects, and a retry with the client key
creates the case once. The shared PostgreSQL server is not restarted: the app's backends are ended with
pg_terminate_backend, which is what a restart does to them."""

import threading

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from gridcase.cases.models import Case, CaseEvent

from .support import http, terminate_app_connections, token_for, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="ends PostgreSQL backends"),
    pytest.mark.django_db(transaction=True),
]
URL = "/api/v1/cases/"


def report(city, category, key):
    return {"category": category.pk, "grid": city.micro.pk, "title": "井盖缺失", "description": "5栋路口",
            "client_key": key}


def raw_connection():
    s = connection.settings_dict
    return psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"],
                           password=s["PASSWORD"] or None, dbname=s["NAME"])


def test_a_connection_dropped_mid_request_answers_503_and_the_retry_creates_the_case_once(city, category,
                                                                                           server):
    token = token_for(city.worker)
    assert http("GET", server.url + URL, token=token)[0] == 200
    answer = {}
    with raw_connection() as locker:
        # Hold inserts into cases so the report waits inside its transaction, then end its backend there.
        locker.execute("LOCK TABLE cases_case IN EXCLUSIVE MODE")
        sender = threading.Thread(target=lambda: answer.update(
            r=http("POST", server.url + URL, report(city, category, "k-1"), token=token)))
        sender.start()

        def waiting():
            return locker.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                  "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()").fetchone()[0]

        wait_for(waiting, 15, what="the report to wait on the lock")
        locker.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
        sender.join(30)
        locker.rollback()
    status, body, text = answer["r"]
    assert status == 503, text[:500]
    assert body["code"] == "unavailable" and set(body) == {"code", "message", "fields"}
    assert not Case.objects.exists()  # rolled back: nothing half-made
    # The client retries with its key: one case, and a second retry gets the same case back.
    status, first, _ = http("POST", server.url + URL, report(city, category, "k-1"), token=token)
    assert status == 201
    status, again, _ = http("POST", server.url + URL, report(city, category, "k-1"), token=token)
    assert status == 200 and again["id"] == first["id"]
    assert Case.objects.count() == 1 and CaseEvent.objects.count() == 1


def test_connections_ended_between_requests_are_replaced_without_an_error(city, category, server):
    """As after a PostgreSQL restart: the server thread's kept connection is dead; the next request
    notices before using it (health check) and reconnects."""
    token = token_for(city.worker)
    assert http("GET", server.url + URL, token=token)[0] == 200
    assert terminate_app_connections() >= 1
    status, _, text = http("GET", server.url + URL, token=token)
    assert status == 200, text[:500]
    assert terminate_app_connections() >= 1
    assert http("POST", server.url + URL, report(city, category, "k-2"), token=token)[0] == 201
