"""Resident intake: scan, report, track, rate — public, throttled, idempotent, never leaking staff details."""

import time

import pytest
from django.core.cache import cache

from gridcase.cases import workflow
from gridcase.cases.models import Case, CaseEvent, Category
from gridcase.intake import guard
from gridcase.intake.models import IntakeTicket
from gridcase.intake.services import mask_name

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clear_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def anon(client_for):
    return client_for(None)


def url(grid):
    return f"/api/v1/intake/{grid.qr_token}/"


def report(**kw):
    body = {"category": Category.objects.get(code="env_drain").pk, "description": "楼下下水道堵了，污水漫到路上",
            "contact_phone": "13912345678", "name": "陈女士", "client_key": "k-1",
            "form_token": guard.form_token(time.time() - 60)}
    body.update(kw)
    return {k: v for k, v in body.items() if v is not None}


def act(case_id, action, user, **data):
    case = Case.objects.get(pk=case_id)
    return workflow.apply(case_id, action, user, data, version=case.version)


def close_case(city, case_id):
    act(case_id, "accept", city.grid_worker)
    act(case_id, "assign", city.grid_worker, assignee=city.worker.pk)
    act(case_id, "start", city.worker)
    act(case_id, "resolve", city.worker, note="已疏通")
    act(case_id, "verify", city.grid_worker)
    act(case_id, "close", city.grid_worker)


def test_intake_page(city, anon):
    r = anon.get(url(city.micro))
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["grid"]["name"] == city.micro.name
    assert body["grid"]["path"] == [city.street.name, city.community.name, city.grid.name, city.micro.name]
    name = city.worker.get_full_name() or city.worker.username
    assert body["worker"]["public_name"] == mask_name(name)
    assert body["worker"]["public_name"][0] == name[0] and set(body["worker"]["public_name"][1:]) == {"*"}
    codes = {c["code"] for c in body["categories"]}
    assert "environment" in codes and "care" not in codes  # sensitive categories are not offered
    env = next(c for c in body["categories"] if c["code"] == "environment")
    assert "env_drain" in {c["code"] for c in env["children"]}


def test_mask_name():
    assert mask_name("王秀英") == "王**"
    assert mask_name("李四") == "李*"
    assert mask_name("") == ""


def test_unknown_token_and_code_are_404(city, anon):
    r = anon.get("/api/v1/intake/nope-nope/")
    assert r.status_code == 404 and r.json()["code"] == "unknown_qr_token"
    assert anon.post("/api/v1/intake/nope-nope/", report(), format="json").status_code == 404
    # Only micro-grids carry an intake QR code.
    assert anon.get(url(city.community)).status_code == 404
    r = anon.get("/api/v1/intake/track/ZZZZZZZZ/")
    assert r.status_code == 404 and r.json()["code"] == "unknown_tracking_code"
    assert anon.post("/api/v1/intake/track/ZZZZZZZZ/rate/", {"rating": "satisfied"}, format="json").status_code == 404


def test_the_whole_loop(city, anon):
    r = anon.post(url(city.micro), report(), format="json")
    assert r.status_code == 201, r.json()
    receipt = r.json()
    code = receipt["code"]
    assert len(code) == 8 and receipt["status"] == "reported" and receipt["track_url"].endswith(f"/{code}/")

    ticket = IntakeTicket.objects.select_related("case").get(code=code)
    case = ticket.case
    assert case.source == "resident" and case.reporter is None and case.reporter_name == "陈女士"
    assert case.grid_id == city.micro.pk and case.owner_grid_id == city.micro.pk and case.number == receipt["number"]
    assert case.title.startswith("楼下下水道堵了") and case.accept_by is not None
    assert ticket.contact_phone == "13912345678" and "13912345678" not in ticket.contact_phone_encrypted
    assert ticket.contact_phone_masked == "139****5678"
    assert CaseEvent.objects.filter(case=case, action="create").count() == 1

    track = anon.get(f"/api/v1/intake/track/{code.lower()}/").json()
    assert track["status"] == "reported" and track["can_rate"] is False and track["rating"] is None
    assert [e["action"] for e in track["timeline"]] == ["create"]

    r = anon.post(f"/api/v1/intake/track/{code}/rate/", {"rating": "satisfied"}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"

    close_case(city, case.pk)
    track = anon.get(f"/api/v1/intake/track/{code}/").json()
    assert track["status"] == "closed" and track["can_rate"] is True and track["status_text"]
    assert [e["action"] for e in track["timeline"]] == ["create", "accept", "assign", "start", "resolve", "verify",
                                                        "close"]
    text = str(track)
    for secret in ("已疏通", city.grid_worker.username, city.worker.get_full_name(), city.grid_worker.get_full_name()):
        assert secret not in text  # neither internal notes nor staff names
    assert all(set(e) == {"at", "action", "label", "status"} for e in track["timeline"])

    r = anon.post(f"/api/v1/intake/track/{code}/rate/", {"rating": "satisfied", "comment": "很快，谢谢"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["rating"] == "satisfied" and r.json()["can_rate"] is False
    assert Case.objects.get(pk=case.pk).rating == "satisfied"
    r = anon.post(f"/api/v1/intake/track/{code}/rate/", {"rating": "dissatisfied"}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "already_rated"


def test_dissatisfied_reopens(city, anon):
    code = anon.post(url(city.micro), report(), format="json").json()["code"]
    case_id = IntakeTicket.objects.get(code=code).case_id
    close_case(city, case_id)
    r = anon.post(f"/api/v1/intake/track/{code}/rate/", {"rating": "dissatisfied", "comment": "还是堵"}, format="json")
    assert r.status_code == 200, r.json()
    case = Case.objects.get(pk=case_id)
    assert case.status == "assigned" and case.rating == "dissatisfied" and case.reopen_count == 1
    body = r.json()
    assert body["status"] == "assigned" and body["can_rate"] is False
    assert body["timeline"][-1]["action"] == "rate"


def test_idempotent_resend(city, anon):
    first = anon.post(url(city.micro), report(), format="json")
    again = anon.post(url(city.micro), report(), format="json")
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["code"] == again.json()["code"]
    assert Case.objects.filter(source="resident").count() == 1
    other = anon.post(url(city.micro), report(description="另一件事"), format="json")
    assert other.status_code == 409 and other.json()["code"] == "conflict"
    # The same key in another micro-grid is another resident's report.
    assert anon.post(url(city.sibling_micro), report(), format="json").status_code == 201


@pytest.mark.parametrize("changes,field", [
    (dict(description=None), "description"),
    (dict(description="   "), "description"),
    (dict(description="长" * 2001), "description"),
    (dict(title="题" * 201), "title"),
    (dict(category=999999), "category"),
    (dict(category="drain"), "category"),
    (dict(client_key=None), "client_key"),
    (dict(contact_phone="call me maybe"), "contact_phone"),
    (dict(name="名" * 61), "name"),
    (dict(location={"lat": 200, "lng": 1}), "location"),
])
def test_bad_input_is_400(city, anon, changes, field):
    r = anon.post(url(city.micro), report(**changes), format="json")
    assert r.status_code == 400, r.json()
    assert r.json()["code"] == "validation_error" and field in r.json()["fields"]
    assert not Case.objects.exists()


def test_sensitive_category_is_refused(city, anon):
    r = anon.post(url(city.micro), report(category=Category.objects.get(code="care_mental").pk), format="json")
    assert r.status_code == 400 and "category" in r.json()["fields"]


def test_bad_rating_is_400(city, anon):
    code = anon.post(url(city.micro), report(), format="json").json()["code"]
    r = anon.post(f"/api/v1/intake/track/{code}/rate/", {"rating": "meh"}, format="json")
    assert r.status_code == 400 and "rating" in r.json()["fields"]


def test_throttled_per_ip(city, anon, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                                          "intake": "3/min"}}
    codes = [anon.post(url(city.micro), report(client_key=f"k{i}"), format="json", REMOTE_ADDR="10.0.0.1").status_code
             for i in range(4)]
    assert codes == [201, 201, 201, 429]
    r = anon.post(url(city.micro), report(client_key="k9"), format="json", REMOTE_ADDR="10.0.0.1")
    assert r.status_code == 429 and r.json()["code"] == "throttled"
    # Another address is not affected; reading is never throttled.
    assert anon.post(url(city.micro), report(client_key="k10"), format="json", REMOTE_ADDR="10.0.0.2").status_code == 201
    assert anon.get(url(city.micro), REMOTE_ADDR="10.0.0.1").status_code == 200


def test_staff_see_the_resident_case_in_their_list(city, anon, client_for):
    anon.post(url(city.micro), report(), format="json")
    r = client_for(city.worker).get("/api/v1/cases/", {"source": "resident"})
    assert r.status_code == 200 and len(r.json()["results"]) == 1
    assert r.json()["results"][0]["source"] == "resident"
