"""The registry behind the console: search filters, moving a resident out and back in, deceased, cases by resident."""

import pytest
from django.utils import timezone

from gridcase.core.models import AuditLog
from gridcase.grids.models import Resident
from gridcase.visits.models import CarePlan

pytestmark = pytest.mark.django_db


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def status(client, resident, **body):
    return client.post(f"/api/v1/residents/{resident.pk}/status/", body, format="json")


class TestSearch:
    def test_name_initials_and_phone_tail(self, city, client_for):
        c = client_for(city.secretary)
        assert ids(c.get("/api/v1/residents/", {"q": "王秀"})) == [city.resident.pk]
        assert ids(c.get("/api/v1/residents/", {"q": "wxy"})) == [city.resident.pk]
        assert ids(c.get("/api/v1/residents/", {"q": "5678"})) == [city.resident.pk]
        # scope: the other community's resident is never found
        assert ids(c.get("/api/v1/residents/", {"q": "zm"})) == []

    def test_status_filter(self, city, client_for):
        c = client_for(city.secretary)
        status(c, city.resident, status="moved_out")
        assert ids(c.get("/api/v1/residents/", {"status": "moved_out"})) == [city.resident.pk]
        assert city.resident.pk not in ids(c.get("/api/v1/residents/", {"status": "active"}))
        r = c.get("/api/v1/residents/", {"status": "gone"})
        assert r.status_code == 400 and "status" in r.json()["fields"]

    def test_households_by_a_residents_name_or_room(self, city, client_for):
        c = client_for(city.secretary)
        assert ids(c.get("/api/v1/households/", {"q": "wxy"})) == [city.household.pk]
        assert ids(c.get("/api/v1/households/", {"q": "李建国"})) == [city.sibling_household.pk]
        assert ids(c.get("/api/v1/households/", {"q": "201"})) == [city.sibling_household.pk]

    def test_cases_by_resident(self, city, client_for):
        from gridcase.cases import services
        from gridcase.cases.models import Category

        cat = Category.objects.filter(parent__isnull=False, sensitive=False).first()
        case = services.create_case(city.worker, {"category": cat, "grid": city.micro, "title": "漏水",
                                                  "description": "", "resident": city.resident}).case
        services.create_case(city.worker, {"category": cat, "grid": city.micro, "title": "别的", "description": ""})
        c = client_for(city.secretary)
        assert ids(c.get("/api/v1/cases/", {"resident": city.resident.pk})) == [case.pk]


class TestMoveOutAndBack:
    def test_moved_out_ends_the_care_plan_and_keeps_history(self, city, client_for):
        c = client_for(city.secretary)
        assert CarePlan.objects.get(resident=city.resident).active
        r = status(c, city.resident, status="moved_out", note="搬去女儿家")
        assert r.status_code == 200, r.content
        assert r.json()["status"] == "moved_out" and r.json()["is_active"] is False
        plan = CarePlan.objects.get(resident=city.resident)
        assert not plan.active and plan.ended_on == timezone.localdate()
        assert Resident.objects.filter(pk=city.resident.pk).exists()  # never deleted
        entry = AuditLog.objects.get(action="resident_status", object_id=str(city.resident.pk))
        assert entry.extra["before"]["status"] == "active" and entry.extra["after"]["status"] == "moved_out"
        assert entry.grid_id == city.micro.pk and entry.actor_id == city.secretary.pk

        r = status(c, city.resident, status="active")
        assert r.status_code == 200 and r.json()["status"] == "active"
        assert CarePlan.objects.get(resident=city.resident).active
        assert AuditLog.objects.filter(action="resident_status").count() == 2

    def test_moving_back_in_to_another_household(self, city, client_for):
        c = client_for(city.secretary)
        status(c, city.resident, status="moved_out")
        r = status(c, city.resident, status="active", household=city.sibling_household.pk)
        assert r.status_code == 200, r.content
        city.resident.refresh_from_db()
        assert city.resident.household_id == city.sibling_household.pk and city.resident.grid_id == city.sibling_micro.pk
        # a household outside the caller's area does not exist for them
        status(c, city.resident, status="moved_out")
        r = status(c, city.resident, status="active", household=city.other_household.pk)
        assert r.status_code == 400 and "household" in r.json()["fields"]

    def test_deceased_is_final(self, city, client_for):
        c = client_for(city.secretary)
        assert status(c, city.resident, status="deceased").json()["status"] == "deceased"
        assert not CarePlan.objects.get(resident=city.resident).active
        for target in ("active", "moved_out", "deceased"):
            r = status(c, city.resident, status=target)
            assert r.status_code == 409 and r.json()["code"] == "invalid_transition", target

    def test_refusals(self, city, client_for):
        c = client_for(city.secretary)
        r = status(c, city.resident, status="active")  # already living here, no new household
        assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
        for day in ("2999-01-01", "0001-01-01"):
            r = status(c, city.resident, status="moved_out", date=day)
            assert r.status_code == 400 and "date" in r.json()["fields"], day
        r = status(c, city.resident, status="moved_out", household=city.household.pk)
        assert r.status_code == 400 and "household" in r.json()["fields"]
        assert status(c, city.resident, status="emigrated").status_code == 400

    @pytest.mark.parametrize("persona, expected", [
        ("worker", 200), ("sibling_worker", 404), ("grid_worker", 200), ("secretary", 200), ("outsider", 404),
        ("viewer", 403), ("dispatcher", 403), ("admin", 200)])
    def test_who_may_move_a_resident_out(self, city, client_for, persona, expected):
        r = status(client_for(getattr(city, persona)), city.resident, status="moved_out")
        assert r.status_code == expected, (persona, r.content)
        city.resident.refresh_from_db()
        assert city.resident.status == ("moved_out" if expected == 200 else "active")

    def test_legacy_is_active_writers_keep_the_status_in_step(self, city):
        city.resident.is_active = False
        city.resident.save()
        assert Resident.objects.get(pk=city.resident.pk).status == "moved_out"
        city.resident.is_active = True
        city.resident.save()
        assert Resident.objects.get(pk=city.resident.pk).status == "active"


def test_a_small_import_is_kept_as_a_finished_job_and_its_refused_rows_download(city, client_for):
    from io import BytesIO

    from openpyxl import load_workbook

    from .test_import import csv_bytes, good_rows, upload

    rows = good_rows() + [["=HYPERLINK(\"http://x\")", "女", "1950-13-45", "", "", "1栋", "1单元", "303", "", "", "",
                           ""]]
    c = client_for(city.secretary)
    r = upload(c, city.community.pk, csv_bytes(rows))
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["id"] and body["counts"]["refused"] == 1 and body["status"] == "done"
    assert len(body["report"]["rows"]) == 4
    x = c.get(f"/api/v1/imports/{body['id']}/report/", {"type": "xlsx", "rows": "refused"})
    assert x.status_code == 200 and "refused" in x["Content-Disposition"]
    sheet = load_workbook(BytesIO(x.content)).active
    values = list(sheet.values)
    assert len(values) == 2  # header + the refused row
    assert values[1][1].startswith("'=HYPERLINK")  # neutralised, never a formula
    assert "1950-13-45" in values[1][4]
    assert c.get(f"/api/v1/imports/{body['id']}/report/", {"rows": "some"}).status_code == 400
    listed = [j["id"] for j in c.get("/api/v1/imports/").json()["results"]]
    assert body["id"] in listed
    assert client_for(city.outsider).get(f"/api/v1/imports/{body['id']}/").status_code == 404
