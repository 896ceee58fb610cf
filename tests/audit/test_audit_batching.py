"""Audit rows written on reads are batched: one INSERT per request, however many objects it revealed and however
many times it recorded; rows recorded inside a transaction that rolls back are gone with it."""

import pytest
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from gridcase.cases import services
from gridcase.cases.models import Category
from gridcase.core import audit
from gridcase.core.models import AuditLog

pytestmark = pytest.mark.django_db
TABLE = AuditLog._meta.db_table


def inserts(captured) -> int:
    return sum(1 for q in captured if q["sql"].startswith(f'INSERT INTO "{TABLE}"'))


def sensitive_cases(city, n):
    category = Category.objects.get(code="care_mental")
    return [services.create_case(city.secretary, {"category": category, "grid": city.micro, "title": f"情绪异常{i}",
                                                  "description": ""}).case for i in range(n)]


def test_a_page_of_sensitive_cases_is_one_insert(city, client_for):
    cases = sensitive_cases(city, 3)
    client = client_for(city.grid_worker)
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(f"/api/v1/cases/?category={cases[0].category_id}")
    assert r.status_code == 200 and {c["id"] for c in r.json()["results"]} >= {c.pk for c in cases}
    assert inserts(ctx.captured_queries) == 1
    assert AuditLog.objects.filter(action="read_sensitive", actor=city.grid_worker).count() == 3


def test_a_sensitive_case_read_is_one_insert(city, client_for):
    case = sensitive_cases(city, 1)[0]
    with CaptureQueriesContext(connection) as ctx:
        assert client_for(city.grid_worker).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    assert inserts(ctx.captured_queries) == 1
    assert AuditLog.objects.filter(action="read_sensitive", object_id=str(case.pk)).count() == 1


def test_a_request_recording_several_times_writes_once(city):
    def view(request):
        audit.record(city.worker, "reveal", [city.resident], ["phone"], request)
        audit.record(city.worker, "reveal", [city.sibling_resident, city.other_resident], ["phone"], request)
        assert not AuditLog.objects.exists()  # waiting for the end of the request
        return HttpResponse("ok")

    with CaptureQueriesContext(connection) as ctx:
        audit.AuditBatchMiddleware(view)(RequestFactory().get("/api/v1/residents/"))
    assert inserts(ctx.captured_queries) == 1
    assert sorted(AuditLog.objects.values_list("object_id", flat=True)) == sorted(
        str(r.pk) for r in (city.resident, city.sibling_resident, city.other_resident))


def test_a_record_inside_a_transaction_is_written_in_it_and_rolls_back_with_it(city):
    with audit.batched():
        with pytest.raises(RuntimeError), transaction.atomic():
            audit.record(city.secretary, "move", [city.unit], ["place"])
            assert AuditLog.objects.filter(action="move").count() == 1  # written at once, inside the change
            raise RuntimeError("the move failed")
        assert not AuditLog.objects.filter(action="move").exists()
    assert not AuditLog.objects.exists()


def test_outside_a_request_a_record_is_written_at_once(city):
    audit.record(city.worker, "reveal", [city.resident], ["phone"])
    assert AuditLog.objects.filter(action="reveal").count() == 1
