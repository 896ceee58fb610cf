"""Phone and ID numbers: encrypted at rest, masked in lists, revealed only to roles that need them, audited."""

import pytest
from django.db import connection

from gridcase.core.models import AuditLog
from gridcase.grids.models import Resident

pytestmark = pytest.mark.django_db


def test_stored_encrypted_not_in_clear(city):
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone_encrypted, id_number_encrypted FROM grids_resident WHERE id = %s",
                       [city.resident.id])
        phone_col, id_col = cursor.fetchone()
    assert "13812345678" not in phone_col and "110101194001011234" not in id_col
    assert Resident.objects.get(pk=city.resident.pk).phone == "13812345678"


def test_lists_are_masked_for_everyone(city, client_for):
    for user in (city.worker, city.secretary, city.admin):
        rows = client_for(user).get("/api/v1/residents/").json()["results"]
        mine = next(r for r in rows if r["id"] == city.resident.id)
        assert mine["phone"] == "138****5678"
        assert mine["id_number"] == "110***********1234"
        assert mine["phone_revealed"] is False
    assert not AuditLog.objects.exists()


def test_worker_detail_reveals_phone_not_id_number_and_is_audited(city, client_for):
    body = client_for(city.worker).get(f"/api/v1/residents/{city.resident.id}/").json()
    assert body["phone"] == "13812345678" and body["phone_revealed"] is True
    assert body["id_number"] == "110***********1234" and body["id_number_revealed"] is False
    log = AuditLog.objects.get()
    assert log.actor == city.worker and log.action == "reveal"
    assert log.object_type == "grids.resident" and log.object_id == str(city.resident.id)
    assert log.fields == ["phone"]


def test_the_audit_entry_names_the_reader_address_the_proxy_saw(city, client_for, settings):
    settings.TRUSTED_PROXY_COUNT = 1  # nginx → gunicorn: REMOTE_ADDR is nginx, the reader is in X-Forwarded-For
    client_for(city.worker).get(f"/api/v1/residents/{city.resident.id}/", REMOTE_ADDR="10.0.0.2",
                                HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    assert AuditLog.objects.get().ip == "203.0.113.9"


def test_secretary_detail_reveals_both_and_is_audited(city, client_for):
    body = client_for(city.secretary).get(f"/api/v1/residents/{city.resident.id}/").json()
    assert body["phone"] == "13812345678" and body["id_number"] == "110101194001011234"
    assert sorted(AuditLog.objects.get().fields) == ["id_number", "phone"]


@pytest.mark.parametrize("persona", ["viewer", "dispatcher"])
def test_roles_that_do_not_need_it_see_masked_detail_and_leave_no_audit(city, client_for, persona):
    body = client_for(getattr(city, persona)).get(f"/api/v1/residents/{city.resident.id}/").json()
    assert body["phone"] == "138****5678" and body["id_number"] == "110***********1234"
    assert not AuditLog.objects.exists()


def test_worker_creates_resident_in_their_household_with_phone(city, client_for):
    c = client_for(city.worker)
    r = c.post("/api/v1/residents/", {"household": city.household.id, "name": "陈桂兰", "gender": "female",
                                      "birth_date": "1942-03-05", "phone": "13600009999",
                                      "tags": ["elderly_alone"]}, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["phone"] == "136****9999"
    created = Resident.objects.get(name="陈桂兰")
    assert created.grid_id == city.micro.id and created.phone == "13600009999"
    assert created.name_initials == "cgl"
    assert list(created.tags.values_list("code", flat=True)) == ["elderly_alone"]


def test_worker_cannot_create_resident_in_a_sibling_household(city, client_for):
    r = client_for(city.worker).post("/api/v1/residents/", {"household": city.sibling_household.id, "name": "某人"},
                                     format="json")
    # The sibling micro-grid's household is outside the worker's scope: refused at validation, nothing saved.
    assert r.status_code == 400 and "household" in r.json()["fields"]
    assert not Resident.objects.filter(name="某人").exists()


@pytest.mark.parametrize("field,value", [("phone", "abc"), ("id_number", "12345678901234567Z"),
                                         ("birth_date", "2999-01-01"), ("tags", ["no_such_tag"])])
def test_bad_personal_fields_are_400(city, client_for, field, value):
    data = {"household": city.household.id, "name": "测试", field: value}
    r = client_for(city.worker).post("/api/v1/residents/", data, format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "validation_error" and field in r.json()["fields"]
    assert not Resident.objects.filter(name="测试").exists()
