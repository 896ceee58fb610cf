"""Logging visits through the API: idempotent on client_uuid, escalation, urgent visits, bad input."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection

from gridcase.notifications.models import Notification
from gridcase.visits import services
from gridcase.visits.models import Visit

from .conftest import at, items_of, plan_of

URL = "/api/v1/visits/"


def body(who, when, **kw):
    data = {"client_uuid": str(kw.pop("client_uuid", uuid.uuid4())), "resident": who.pk, "kind": "phone",
            "visited_at": when.isoformat(), "wellbeing": "good", "findings": "精神不错", "needs": ["meals"]}
    data.update(kw)
    return data


def test_worker_logs_a_phone_call_and_the_next_call_moves(city, client_for, today):
    before = items_of(city.resident)["phone"].due_on  # two days after the plan started
    d = today.days(1)
    response = client_for(city.worker).post(URL, body(city.resident, at(d)), format="json")
    assert response.status_code == 201, response.data
    assert response.data["resident_name"] == "王秀英" and response.data["visitor"] == city.worker.pk
    assert response.data["household_label"] == "1栋1单元101"
    after = items_of(city.resident)["phone"].due_on
    assert after == d + timedelta(days=2) and after > before


def test_the_same_visit_sent_ten_times_is_stored_once(city, client_for, today):
    client = client_for(city.worker)
    data = body(city.resident, at(today.get()))
    codes = [client.post(URL, data, format="json").status_code for _ in range(10)]
    assert codes == [201] + [200] * 9
    assert Visit.objects.filter(client_uuid=data["client_uuid"]).count() == 1


def test_same_uuid_with_different_content_is_a_conflict_and_nothing_is_overwritten(city, client_for, today):
    client = client_for(city.worker)
    data = body(city.resident, at(today.get()))
    first = client.post(URL, data, format="json")
    changed = dict(data, wellbeing="attention", findings="other")
    response = client.post(URL, changed, format="json")
    assert response.status_code == 409
    assert response.data["code"] == "conflict" and response.data["current"]["id"] == first.data["id"]
    stored = Visit.objects.get(client_uuid=data["client_uuid"])
    assert stored.wellbeing == "good" and stored.findings == "精神不错"
    assert not plan_of(city.resident).escalated


def test_another_worker_reusing_a_uuid_is_a_conflict(city, client_for, today):
    data = body(city.resident, at(today.get()))
    client_for(city.worker).post(URL, data, format="json")
    response = client_for(city.grid_worker).post(URL, data, format="json")
    assert response.status_code == 409 and response.data["code"] == "conflict"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_resends_store_one_visit(city, today):
    from django.db import connections

    when = at(today.get())
    client_uuid = uuid.uuid4()
    results, errors = [], []
    barrier = threading.Barrier(8)

    def send():
        try:
            barrier.wait()
            visit, created = services.record_visit(city.worker, {
                "client_uuid": client_uuid, "resident": city.resident, "kind": "home", "visited_at": when,
                "wellbeing": "good", "findings": "", "needs": []})
            results.append((visit.pk, created))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert Visit.objects.filter(client_uuid=client_uuid).count() == 1
    assert len({pk for pk, _ in results}) == 1 and sum(created for _, created in results) == 1


def test_attention_visit_makes_a_daily_call_due_tomorrow(city, client_for, today):
    d = today.get()
    response = client_for(city.worker).post(URL, body(city.resident, at(d), kind="home", wellbeing="attention"),
                                            format="json")
    assert response.status_code == 201
    due = client_for(city.worker).get("/api/v1/visits/due/", {"date": (d + timedelta(days=1)).isoformat()})
    phone = [i for i in due.data["results"] if i["kind"] == "phone"]
    assert phone and phone[0]["due_on"] == (d + timedelta(days=1)).isoformat() and phone[0]["every_n_days"] == 1


def test_urgent_visit_opens_a_case_and_tells_grid_worker_and_secretary(city, client_for, today):
    from gridcase.cases.models import Case

    response = client_for(city.worker).post(
        URL, body(city.resident, at(today.get()), kind="home", wellbeing="urgent", findings="摔倒在家，起不来"),
        format="json")
    assert response.status_code == 201, response.data
    case = Case.objects.get(pk=response.data["case"])
    assert case.source == "visit" and case.resident_id == city.resident.pk and case.priority == "urgent"
    told = set(Notification.objects.filter(kind="urgent_visit").values_list("recipient_id", flat=True))
    assert told == {city.grid_worker.pk, city.secretary.pk}
    assert plan_of(city.resident).escalated
    # Resending the urgent visit neither opens a second case nor notifies twice.
    again = client_for(city.worker).post(URL, body(city.resident, at(today.get()), kind="home", wellbeing="urgent",
                                                   findings="摔倒在家，起不来",
                                                   client_uuid=response.data["client_uuid"]), format="json")
    assert again.status_code == 200 and again.data["case"] == case.pk
    assert Case.objects.filter(resident=city.resident).count() == 1
    assert Notification.objects.filter(kind="urgent_visit").count() == 2


def test_open_case_from_a_visit_in_the_same_request(city, client_for, today):
    from gridcase.cases.models import Case, Category

    category = Category.objects.get(code="facility_leak")
    response = client_for(city.worker).post(URL, body(
        city.resident, at(today.get()), kind="home", needs=["repairs"],
        open_case={"category": category.pk, "title": "厨房漏水", "description": "水管接头漏水"}), format="json")
    assert response.status_code == 201, response.data
    case = Case.objects.get(pk=response.data["case"])
    assert (case.title, case.category_id, case.source, case.household_id) == (
        "厨房漏水", category.pk, "visit", city.household.pk)


def test_bad_case_category_rolls_the_whole_visit_back(city, client_for, today):
    data = body(city.resident, at(today.get()), open_case={"category": 999999, "title": "x"})
    response = client_for(city.worker).post(URL, data, format="json")
    assert response.status_code == 400 and response.data["code"] == "validation_error"
    assert not Visit.objects.filter(client_uuid=data["client_uuid"]).exists()


def test_visit_in_the_future_is_refused(city, client_for, today):
    response = client_for(city.worker).post(URL, body(city.resident, at(today.get() + timedelta(days=1))),
                                            format="json")
    assert response.status_code == 400
    assert response.data["code"] == "validation_error" and "visited_at" in response.data["fields"]


def test_visit_for_a_resident_outside_the_callers_area_is_refused(city, client_for, today):
    response = client_for(city.worker).post(URL, body(city.other_resident, at(today.get())), format="json")
    assert response.status_code == 400
    assert response.data["code"] == "validation_error" and "resident" in response.data["fields"]
    assert not Visit.objects.exists()


@pytest.mark.parametrize("persona", ["viewer", "dispatcher", "officer"])
def test_readers_cannot_log_visits(city, client_for, today, persona):
    response = client_for(getattr(city, persona)).post(URL, body(city.resident, at(today.get())), format="json")
    assert response.status_code in (400, 403) and response.data["code"] in ("forbidden", "validation_error")
    assert not Visit.objects.exists()


@pytest.mark.parametrize("raw", ['{"client_uuid": "x", ', "[1, 2]", '"just a string"', ""])
def test_malformed_bodies_get_a_clear_4xx(city, client_for, raw):
    response = client_for(city.worker).post(URL, raw, content_type="application/json")
    assert 400 <= response.status_code < 500 and response.data["code"]


@pytest.mark.parametrize("field, value", [
    ("kind", "telepathy"), ("wellbeing", "fine"), ("needs", ["gold"]), ("client_uuid", "not-a-uuid"),
    ("visited_at", "yesterday"), ("resident", "abc"), ("open_case", "{not json"),
])
def test_invalid_fields_name_the_field(city, client_for, today, field, value):
    data = body(city.resident, at(today.get()), **{field: value})
    response = client_for(city.worker).post(URL, data, format="json")
    assert response.status_code == 400 and field in response.data["fields"], response.data


def test_visits_cannot_be_edited_or_deleted(city, client_for, today):
    created = client_for(city.worker).post(URL, body(city.resident, at(today.get())), format="json")
    for method in ("patch", "put", "delete"):
        response = getattr(client_for(city.worker), method)(f"{URL}{created.data['id']}/", {}, format="json")
        assert response.status_code == 405


def test_visit_with_a_photo(city, client_for, today):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, "JPEG")
    data = body(city.resident, at(today.get()), kind="home")
    data.pop("needs")
    data["photo"] = SimpleUploadedFile("p.jpg", buf.getvalue(), content_type="image/jpeg")
    response = client_for(city.worker).post(URL, data, format="multipart")
    assert response.status_code == 201, response.data
    # Read through the scoped file view (tests/test_media_access.py), not a public /media/ URL.
    assert response.data["photo"].endswith(f"/api/v1/files/visits/{response.data['id']}/photo/")
