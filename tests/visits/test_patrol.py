"""The patrol log (巡查日志): scope, exactly-once by client_uuid, the link to a reported case."""

import uuid
from datetime import timedelta

from django.utils import timezone

from gridcase.visits.models import PatrolEntry

URL = "/api/v1/patrol-entries/"


def body(city, **extra):
    return {"client_uuid": str(uuid.uuid4()), "grid": city.micro.pk, "building": city.building.pk,
            "at": (timezone.now() - timedelta(minutes=5)).isoformat(), "note": "3单元楼道堆放杂物",
            "lat": 30.27, "lng": 120.15, **extra}


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_a_resend_is_stored_once_and_a_different_entry_under_the_same_uuid_is_a_conflict(city, client_for):
    client = client_for(city.worker)
    data = body(city)
    first = client.post(URL, data, format="json")
    assert first.status_code == 201, first.content
    again = client.post(URL, data, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    other = client.post(URL, {**data, "note": "别的内容"}, format="json")
    assert other.status_code == 409 and other.json()["code"] == "conflict"
    assert PatrolEntry.objects.filter(client_uuid=data["client_uuid"]).count() == 1
    row = first.json()
    assert row["worker"] == city.worker.pk and row["building_name"] == city.building.name
    assert row["on"] == timezone.localdate().isoformat() and row["case"] is None and row["reported"] is False


def test_workers_see_their_grids_and_secretaries_their_community_per_worker_and_day(city, client_for):
    mine = client_for(city.worker).post(URL, body(city), format="json").json()["id"]
    theirs = client_for(city.sibling_worker).post(
        URL, body(city, grid=city.sibling_micro.pk), format="json").json()["id"]
    yesterday = client_for(city.worker).post(URL, body(
        city, at=(timezone.now() - timedelta(days=1)).isoformat()), format="json").json()["id"]

    assert ids(client_for(city.worker).get(URL)) == {mine, yesterday}
    assert ids(client_for(city.sibling_worker).get(URL)) == {theirs}
    assert ids(client_for(city.outsider).get(URL)) == set()
    secretary = client_for(city.secretary)
    assert ids(secretary.get(URL)) == {mine, theirs, yesterday}
    day = timezone.localdate().isoformat()
    assert ids(secretary.get(URL, {"worker": city.worker.pk, "date": day})) == {mine}
    assert ids(secretary.get(URL, {"grid": city.sibling_micro.pk})) == {theirs}
    assert secretary.get(URL, {"date": "yesterday"}).status_code == 400
    # Writing in a grid outside one's area: the grid does not exist for the caller.
    refused = client_for(city.sibling_worker).post(URL, body(city), format="json")
    assert refused.status_code == 400 and "grid" in refused.json()["fields"]


def test_check_in_rules(city, client_for):
    client = client_for(city.worker)
    future = client.post(URL, body(city, at=(timezone.now() + timedelta(hours=1)).isoformat()), format="json")
    assert future.status_code == 400 and "at" in future.json()["fields"]
    half = client.post(URL, body(city, lng=None), format="json")
    assert half.status_code == 400 and "lat" in half.json()["fields"]
    empty = client.post(URL, body(city, building=None, note=" "), format="json")
    assert empty.status_code == 400 and "note" in empty.json()["fields"]
    from gridcase.grids.models import Building

    far = Building.objects.get(name="9栋")  # the other community's: only a city-wide admin can name both
    elsewhere = client_for(city.admin).post(URL, body(city, building=far.pk), format="json")
    assert elsewhere.status_code == 400 and "building" in elsewhere.json()["fields"]
    checkin = client.post(URL, body(city, note="", lat=None, lng=None), format="json")
    assert checkin.status_code == 201, checkin.content


def test_one_tap_report_links_the_case_when_it_arrives_even_later(city, client_for):
    from gridcase.cases.models import Case, Category

    client = client_for(city.worker)
    entry = client.post(URL, body(city), format="json").json()
    key = str(uuid.uuid4())
    marked = client.post(f"{URL}{entry['id']}/report/", {"case_key": key}, format="json")
    assert marked.status_code == 200 and marked.json()["reported"] is True and marked.json()["case"] is None
    # Someone else cannot report the worker's observation; another key for the same entry is a conflict.
    assert client_for(city.secretary).post(f"{URL}{entry['id']}/report/", {"case_key": key},
                                           format="json").status_code == 403
    assert client.post(f"{URL}{entry['id']}/report/", {"case_key": "other"}, format="json").status_code == 409
    assert client.post(f"{URL}{entry['id']}/report/", {"case_key": key}, format="json").status_code == 200

    # The report went up later (from the phone's queue), with the key chosen at the tap.
    category = Category.objects.get(code="env_drain")
    made = client.post("/api/v1/cases/", {"category": category.pk, "grid": city.micro.pk, "title": "楼道堆物",
                                          "description": entry["note"], "source": "patrol", "client_key": key},
                       format="json")
    assert made.status_code == 201, made.content
    case = Case.objects.get(client_key=key)
    # The secretary's list shows the link (and stores it).
    rows = client_for(city.secretary).get(URL, {"worker": city.worker.pk}).json()["results"]
    assert [r["case"] for r in rows if r["id"] == entry["id"]] == [case.pk]
    assert PatrolEntry.objects.get(pk=entry["id"]).case_id == case.pk
    # A case of the same key by another reporter is not this one.
    assert client.get(f"{URL}{entry['id']}/").json()["case"] == case.pk


def test_a_photo_goes_up_once_and_is_read_only_inside_the_scope(city, client_for, settings, tmp_path):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    settings.MEDIA_ACCEL_REDIRECT = False
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(buf, "JPEG")
    raw = buf.getvalue()
    data = body(city, building="", lat="", lng="")
    data = {k: v for k, v in data.items() if v != ""}
    client = client_for(city.worker)

    def send():
        return client.post(URL, {**data, "photo": SimpleUploadedFile("井盖.jpg", raw, content_type="image/jpeg")},
                           format="multipart")

    first, again = send(), send()
    assert first.status_code == 201, first.content
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    photo = first.json()["photo"]
    assert photo.endswith(f"/api/v1/files/patrol-entries/{first.json()['id']}/photo/")
    got = client_for(city.secretary).get(photo)
    assert got.status_code == 200 and b"".join(got.streaming_content if got.streaming else [got.content]) == raw
    assert client_for(city.outsider).get(photo).status_code == 404
