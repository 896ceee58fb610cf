"""Uploaded photos are read only by a logged-in caller whose scope holds the case or visit.

Personas: the reporting micro-grid worker and the community secretary (in scope), another community's
secretary (outsider), and nobody (anonymous). The old public /media/ path serves nothing.
"""

import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from knox.models import AuthToken
from PIL import Image
from rest_framework.test import APIClient

from gridcase.cases import services as case_services
from gridcase.cases.models import Attachment
from gridcase.visits import services as visit_services
from gridcase.visits.models import Visit

from .cases.conftest import ensure_taxonomy


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.MEDIA_ACCEL_REDIRECT = False
    return tmp_path


def jpeg(color="red", size=(640, 480)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture
def case(city):
    from gridcase.cases.models import Category

    ensure_taxonomy()
    data = {"category": Category.objects.get(code="env_drain"), "grid": city.micro, "title": "下水道堵塞",
            "description": "3栋门口下水道返水"}
    return case_services.create_case(city.worker, data).case


@pytest.fixture
def photo(city, case, client_for):
    raw = jpeg()
    res = client_for(city.worker).post(f"/api/v1/cases/{case.pk}/attachments/",
                                       {"file": SimpleUploadedFile("门口.jpg", raw), "kind": "before"},
                                       format="multipart")
    assert res.status_code == 201, res.content
    return res.json(), raw


@pytest.fixture
def visit(city):
    raw = jpeg("blue")
    from django.utils import timezone

    data = {"client_uuid": uuid.uuid4(), "resident": city.resident, "kind": "home", "visited_at": timezone.now(),
            "wellbeing": "good", "findings": "", "needs": [],
            "photo": SimpleUploadedFile("p.jpg", raw, content_type="image/jpeg")}
    v, _ = visit_services.record_visit(city.worker, data)
    return Visit.objects.get(pk=v.pk), raw


def session_client(user):
    client = APIClient()
    client.force_login(user)  # a real session cookie, as the browser's <img> request carries it
    return client


def token_client(user):
    _instance, token = AuthToken.objects.create(user=user)
    return APIClient(HTTP_AUTHORIZATION=f"Token {token}")


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def assert_private_image(response, raw=None, content_type="image/jpeg"):
    assert response.status_code == 200, getattr(response, "content", b"")[:200]
    assert response["Content-Type"] == content_type
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    data = body_of(response)
    if raw is not None:
        assert data == raw
    else:
        assert data[:3] == b"\xff\xd8\xff"


class TestCasePhotos:
    def test_urls_point_to_the_scoped_view(self, city, case, photo):
        body, _raw = photo
        assert body["url"] == f"http://testserver/api/v1/files/attachments/{body['id']}/"
        assert body["thumbnail_url"] == f"http://testserver/api/v1/files/attachments/{body['id']}/thumbnail/"
        listed = session_client(city.secretary).get(f"/api/v1/cases/{case.pk}/attachments/").json()["results"]
        assert [a["url"] for a in listed] == [body["url"]]

    def test_in_scope_reads_the_photo_and_thumbnail(self, city, photo):
        body, raw = photo
        for user in (city.worker, city.secretary, city.dispatcher):
            assert_private_image(session_client(user).get(body["url"]), raw)
        assert_private_image(token_client(city.secretary).get(body["url"]), raw)
        assert_private_image(session_client(city.worker).get(body["thumbnail_url"]))

    def test_anonymous_gets_json_refusal_even_asking_for_an_image(self, photo):
        body, _raw = photo
        for url in (body["url"], body["thumbnail_url"]):
            res = APIClient().get(url, HTTP_ACCEPT="image/avif,image/webp,image/*,*/*;q=0.8")
            assert res.status_code in (401, 403)
            assert res["Content-Type"].startswith("application/json")
            assert res.json()["code"] in ("not_authenticated", "forbidden")
        res = APIClient().get(body["url"], HTTP_ACCEPT="image/png")
        assert res.status_code in (401, 403) and res.json()["code"] in ("not_authenticated", "forbidden")

    def test_out_of_scope_is_404(self, city, photo):
        body, _raw = photo
        for url in (body["url"], body["thumbnail_url"]):
            res = session_client(city.outsider).get(url)
            assert res.status_code == 404 and res.json()["code"] == "not_found"
        assert token_client(city.outsider).get(body["url"]).status_code == 404

    def test_a_sensitive_case_photo_follows_the_case_scope(self, city, case, photo):
        from gridcase.cases.models import Case

        body, raw = photo
        assert session_client(city.viewer).get(body["url"]).status_code == 200  # the street's viewer sees it…
        Case.objects.filter(pk=case.pk).update(sensitive=True)
        assert session_client(city.viewer).get(body["url"]).status_code == 404  # …not once it is sensitive
        assert_private_image(session_client(city.secretary).get(body["url"]), raw)

    def test_unknown_id_and_missing_file_are_404(self, city, photo):
        body, _raw = photo
        client = session_client(city.secretary)
        assert client.get("/api/v1/files/attachments/999999/").status_code == 404
        att = Attachment.objects.get(pk=body["id"])
        att.file.storage.delete(att.file.name)
        res = client.get(body["url"])
        assert res.status_code == 404 and res.json()["code"] == "not_found"

    def test_the_old_public_media_path_serves_nothing(self, city, photo, media):
        body, raw = photo
        att = Attachment.objects.get(pk=body["id"])
        assert (media / att.file.name).read_bytes() == raw  # the file is there…
        for client in (APIClient(), session_client(city.secretary)):
            res = client.get(f"/media/{att.file.name}")
            assert res.status_code == 404  # …but no URL outside the scoped view reads it
            assert raw not in body_of(res)

    def test_nginx_sends_the_bytes_in_production(self, city, photo, settings):
        settings.MEDIA_ACCEL_REDIRECT = True
        body, _raw = photo
        att = Attachment.objects.get(pk=body["id"])
        res = session_client(city.secretary).get(body["url"])
        assert res.status_code == 200
        assert res["X-Accel-Redirect"] == f"/protected-media/{att.file.name}"
        assert res["Content-Type"] == "image/jpeg" and res.content == b""
        assert res["Cache-Control"] == "private, no-store" and res["X-Content-Type-Options"] == "nosniff"
        # The scope is checked before nginx is asked: an outsider gets no redirect header.
        res = session_client(city.outsider).get(body["url"])
        assert res.status_code == 404 and not res.has_header("X-Accel-Redirect")


class TestVisitPhotos:
    def test_the_stored_name_is_random_not_the_client_uuid(self, visit):
        v, _raw = visit
        assert str(v.client_uuid) not in v.photo.name
        stem = v.photo.name.rsplit("/", 1)[-1].split(".")[0]
        assert len(stem) == 32 and int(stem, 16) >= 0  # 128 random bits

    def test_lists_give_the_scoped_url(self, city, visit):
        v, _raw = visit
        rows = session_client(city.worker).get("/api/v1/visits/").json()["results"]
        photo_url = next(r["photo"] for r in rows if r["id"] == v.pk)
        assert photo_url == f"http://testserver/api/v1/files/visits/{v.pk}/photo/"
        assert v.photo.name not in photo_url

    def test_who_reads_the_photo(self, city, visit, media):
        v, raw = visit
        url = f"/api/v1/files/visits/{v.pk}/photo/"
        assert_private_image(session_client(city.worker).get(url), raw)
        assert_private_image(token_client(city.secretary).get(url), raw)
        assert APIClient().get(url).status_code in (401, 403)
        res = session_client(city.outsider).get(url)
        assert res.status_code == 404 and res.json()["code"] == "not_found"
        assert APIClient().get(f"/media/{v.photo.name}").status_code == 404

    def test_a_visit_without_photo_is_404(self, city):
        from django.utils import timezone

        data = {"client_uuid": uuid.uuid4(), "resident": city.resident, "kind": "call", "visited_at": timezone.now(),
                "wellbeing": "good", "findings": "", "needs": []}
        v, _ = visit_services.record_visit(city.worker, data)
        assert session_client(city.worker).get(f"/api/v1/files/visits/{v.pk}/photo/").status_code == 404
