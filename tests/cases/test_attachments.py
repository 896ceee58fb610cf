"""Photos: sniffed type, size limit, thumbnail; refused uploads leave nothing behind."""

import io

import pytest
from PIL import Image

from gridcase.cases.models import Attachment, CaseEvent


def image_bytes(fmt="PNG", size=(1200, 800)):
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buf, fmt)
    buf.seek(0)
    buf.name = f"photo.{fmt.lower()}"
    return buf


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(client, case, f, kind="before"):
    return client.post(f"/api/v1/cases/{case.pk}/attachments/", {"file": f, "kind": kind}, format="multipart")


def test_upload_a_photo_and_resolve_with_it(city, make_case, client_for, drive, act, media):
    case = drive(make_case(), "accept", "assign", "start")
    r = upload(client_for(city.worker), case, image_bytes("JPEG"))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["content_type"] == "image/jpeg" and body["width"] == 1200 and body["height"] == 800
    att = Attachment.objects.get(pk=body["id"])
    with Image.open(att.thumbnail.path) as thumb:
        assert max(thumb.size) <= 320
    assert body["thumbnail_url"].startswith("http")
    listed = client_for(city.secretary).get(f"/api/v1/cases/{case.pk}/attachments/").json()["results"]
    assert [a["id"] for a in listed] == [att.pk]
    r = act(city.worker, case, "resolve", note="已修复", photos=[att.pk])
    assert r.status_code == 200
    att.refresh_from_db()
    assert att.kind == "after"
    assert CaseEvent.objects.get(case=case, action="resolve").payload["photos"] == [att.pk]


def test_photos_of_another_case_are_refused(city, make_case, client_for, drive, act):
    other = make_case(title="其他")
    att = upload(client_for(city.worker), other, image_bytes()).json()
    case = drive(make_case(), "accept", "assign", "start")
    r = act(city.worker, case, "resolve", note="x", photos=[att["id"]])
    assert r.status_code == 400
    case.refresh_from_db()
    assert case.status == "in_progress"


def test_a_file_pretending_to_be_a_photo_is_refused(city, make_case, client_for, media):
    case = make_case()
    fake = io.BytesIO(b"MZ\x90\x00 this is not an image at all" * 20)
    fake.name = "photo.jpg"
    r = upload(client_for(city.worker), case, fake)
    assert r.status_code == 415 and r.json()["code"] == "unsupported_media_type"
    gif = image_bytes("GIF")
    r = upload(client_for(city.worker), case, gif)
    assert r.status_code == 415
    assert Attachment.objects.count() == 0
    assert not any(p.is_file() for p in media.rglob("*"))


def test_oversize_upload_is_refused(city, make_case, client_for, settings, media):
    settings.ATTACHMENT_MAX_BYTES = 1000
    case = make_case()
    r = upload(client_for(city.worker), case, image_bytes("PNG", (600, 600)))
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    assert Attachment.objects.count() == 0


def test_missing_file_and_bad_kind(city, make_case, client_for):
    case = make_case()
    r = client_for(city.worker).post(f"/api/v1/cases/{case.pk}/attachments/", {"kind": "before"},
                                     format="multipart")
    assert r.status_code == 400
    r = upload(client_for(city.worker), case, image_bytes(), kind="selfie")
    assert r.status_code == 400


def test_who_may_attach(city, make_case, client_for):
    case = make_case()
    assert upload(client_for(city.viewer), case, image_bytes()).status_code == 403
    assert upload(client_for(city.outsider), case, image_bytes()).status_code == 404
    assert upload(client_for(city.grid_worker), case, image_bytes()).status_code == 201


def test_a_retried_upload_with_the_same_client_key_is_stored_once(city, make_case, client_for, media):
    """The offline queue resends a photo whose answer was lost: the same key on the same case answers 200 with
    the photo stored the first time, one file and one `attach` event; another key (or no key) is a new photo."""
    case = make_case()
    worker = client_for(city.worker)
    key = "6f1c2d3e-4b5a-4c6d-8e7f-8091a2b3c4d5"
    url = f"/api/v1/cases/{case.pk}/attachments/"
    first = worker.post(url, {"file": image_bytes("JPEG"), "client_key": key}, format="multipart")
    assert first.status_code == 201, first.content
    again = worker.post(url, {"file": image_bytes("JPEG"), "client_key": key}, format="multipart")
    assert again.status_code == 200 and again.json() == first.json()
    by_header = worker.post(url, {"file": image_bytes("JPEG")}, format="multipart", HTTP_IDEMPOTENCY_KEY=key)
    assert by_header.status_code == 200 and by_header.json()["id"] == first.json()["id"]
    assert Attachment.objects.filter(case=case).count() == 1
    assert CaseEvent.objects.filter(case=case, action="attach").count() == 1
    assert len(list(media.rglob("*_thumb.jpg"))) == 1

    other = worker.post(url, {"file": image_bytes("JPEG"), "client_key": "0c0ffee0-0000-4000-8000-000000000001"},
                        format="multipart")
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    # The same key on another case is that case's own photo.
    second_case = make_case(title="另一件")
    elsewhere = worker.post(f"/api/v1/cases/{second_case.pk}/attachments/",
                            {"file": image_bytes("JPEG"), "client_key": key}, format="multipart")
    assert elsewhere.status_code == 201
    bad = worker.post(url, {"file": image_bytes("JPEG"), "client_key": "not-a-uuid"}, format="multipart")
    assert bad.status_code == 400 and "client_key" in bad.json()["fields"]
