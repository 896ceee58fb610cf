"""The audit log view: who revealed which resident's data or read which sensitive case — scoped, filtered,
exported with formulas neutralised, in a fixed number of queries."""

from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from gridcase.core.models import AuditLog
from gridcase.grids.scoping import forget_scope

from .. import factories as f

pytestmark = pytest.mark.django_db
URL = "/api/v1/audit-log/"


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def reveal(client_for, user, resident):
    r = client_for(user).get(f"/api/v1/residents/{resident.pk}/")
    assert r.status_code == 200


def test_a_reveal_is_listed_with_who_whom_and_when(city, client_for):
    reveal(client_for, city.worker, city.resident)
    rows = results(client_for(city.secretary).get(URL))
    assert len(rows) == 1
    row = rows[0]
    assert row["actor"] == city.worker.pk and row["action"] == "reveal" and row["subject"] == "王秀英"
    assert row["object_type"] == "grids.resident" and row["object_id"] == str(city.resident.pk)
    assert row["grid"] == city.micro.pk and row["fields"] == ["phone"] and row["at"]


@pytest.mark.parametrize("persona, sees", [
    ("secretary", {"resident", "sibling_resident"}), ("outsider", {"other_resident"}),
    ("dispatcher", {"resident", "sibling_resident", "other_resident"}),
    ("admin", {"resident", "sibling_resident", "other_resident"})])
def test_scope_a_secretary_reads_her_community(city, client_for, persona, sees):
    for name in ("resident", "sibling_resident"):
        reveal(client_for, city.secretary, getattr(city, name))
    reveal(client_for, city.outsider, city.other_resident)
    rows = results(client_for(getattr(city, persona)).get(URL))
    by_id = {getattr(city, n).pk: n for n in ("resident", "sibling_resident", "other_resident")}
    assert {by_id[int(r["object_id"])] for r in rows} == sees


@pytest.mark.parametrize("persona", ["worker", "grid_worker", "viewer", "officer"])
def test_others_may_not_read_it(city, client_for, persona):
    reveal(client_for, city.secretary, city.resident)
    r = client_for(getattr(city, persona)).get(URL)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert client_for(getattr(city, persona)).get(f"{URL}export/").status_code == 403
    assert client_for(None).get(URL).status_code in (401, 403)


def test_sensitive_case_reads_are_listed_and_filtered_by_case(city, client_for):
    from gridcase.cases import services
    from gridcase.cases.models import Category

    case = services.create_case(city.secretary, {"category": Category.objects.get(code="care_mental"),
                                                 "grid": city.micro, "title": "情绪异常", "description": ""}).case
    client_for(city.grid_worker).get(f"/api/v1/cases/{case.pk}/")
    reveal(client_for, city.secretary, city.resident)
    c = client_for(city.secretary)
    rows = results(c.get(URL, {"case": case.pk}))
    assert [(r["action"], r["actor"], r["subject"]) for r in rows] == [("read_sensitive", city.grid_worker.pk,
                                                                        case.number)]
    assert {r["action"] for r in results(c.get(URL, {"action": "reveal,read_sensitive"}))} == {"reveal",
                                                                                              "read_sensitive"}
    assert [r["action"] for r in results(c.get(URL, {"resident": city.resident.pk}))] == ["reveal"]
    assert [r["actor"] for r in results(c.get(URL, {"actor": city.grid_worker.pk}))] == [city.grid_worker.pk]


def test_date_range_and_bad_values(city, client_for):
    from datetime import timedelta

    from django.utils import timezone

    reveal(client_for, city.secretary, city.resident)
    c = client_for(city.secretary)
    today = timezone.localdate()
    assert len(results(c.get(URL, {"after": today.isoformat(), "before": today.isoformat()}))) == 1
    assert results(c.get(URL, {"after": (today + timedelta(days=1)).isoformat()})) == []
    assert results(c.get(URL, {"before": (today - timedelta(days=1)).isoformat()})) == []
    for params in ({"after": "yesterday"}, {"actor": "x"}, {"who": "1"}, {"before": "9999-12-31"},
                   {"after": "0001-01-01"}):
        for url in (URL, f"{URL}export/"):
            r = c.get(url, params)
            assert r.status_code == 400, (url, params, r.content[:200])


def test_export_is_scoped_filtered_and_neutralised(city, client_for):
    city.resident.name = "=cmd|' /C calc'!A0"
    city.resident.save()
    reveal(client_for, city.secretary, city.resident)
    reveal(client_for, city.outsider, city.other_resident)
    c = client_for(city.secretary)
    x = c.get(f"{URL}export/", {"type": "xlsx"})
    assert x.status_code == 200 and x["Content-Type"].startswith("application/vnd.openxmlformats")
    values = list(load_workbook(BytesIO(x.content)).active.values)
    assert len(values) == 2  # header + her community's one entry
    assert values[1][6] == "'=cmd|' /C calc'!A0"
    csv = c.get(f"{URL}export/", {"type": "csv", "action": "import"})
    assert csv.status_code == 200 and csv.content.decode("utf-8-sig").count("\n") == 1  # header only
    assert c.get(f"{URL}export/", {"type": "pdf"}).status_code == 400


def test_resident_status_changes_are_in_the_log(city, client_for):
    c = client_for(city.secretary)
    c.post(f"/api/v1/residents/{city.resident.pk}/status/", {"status": "moved_out"}, format="json")
    rows = results(c.get(URL, {"action": "resident_status"}))
    assert rows[0]["extra"]["after"]["status"] == "moved_out" and rows[0]["subject"] == "王秀英"


def test_query_count_is_fixed(city, client_for, django_assert_max_num_queries):
    from gridcase.cases import services
    from gridcase.cases.models import Category

    cat = Category.objects.get(code="care_mental")
    for i in range(25):
        hh = f.household(city.unit, f"9{i:02d}")
        res = f.resident(hh, f"居民{i}", phone=f"139{i:08d}", id_number=f"11010119500101{i:04d}")
        reveal(client_for, city.secretary, res)
        case = services.create_case(city.secretary, {"category": cat, "grid": city.micro, "title": f"t{i}",
                                                     "description": ""}).case
        client_for(city.secretary).get(f"/api/v1/cases/{case.pk}/")
    c = client_for(city.secretary)

    def count(size):
        forget_scope(city.secretary)
        with CaptureQueriesContext(connection) as ctx:
            body = results(c.get(URL, {"page_size": size}))
        return len(ctx.captured_queries), body

    small, _ = count(2)
    with django_assert_max_num_queries(6):
        big, body = count(60)
    assert big == small and len(body) == 50
    assert {r["subject"] for r in body} >= {"居民0"}
    assert AuditLog.objects.count() == 50
