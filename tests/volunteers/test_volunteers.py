"""Building and unit leads and volunteers: light accounts that see only their building (names and rooms), neighbour
check-ins the micro-grid worker confirms, notices for residents reaching the leads, activities with sign-up,
attendance and service hours (which earn points)."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from gridcase.notices.publishing import publish_notice
from gridcase.notifications.models import Notification
from gridcase.volunteers import services
from gridcase.volunteers.models import Activity, CheckIn, SignUp
from tests import factories as f

pytestmark = pytest.mark.django_db

PASSWORD = "Lead-pass-1234"


@pytest.fixture
def lead(city):
    """楼栋长 of 1栋 (units in the micro-grid and the sibling micro-grid), a resident of it."""
    return services.register(city.secretary, role="building_lead", building=city.building, phone="13900001234",
                             display_name="张楼长", password=PASSWORD, resident=city.resident)


def test_a_lead_signs_in_with_the_phone_and_lands_on_the_lead_app(city, lead, client):
    from django.test import Client

    c = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    r = c.post("/api/v1/auth/login/", {"username": "13900001234", "password": PASSWORD},
               content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json()["user"]["home"] == "lead" and r.json()["user"]["roles"] == []


def test_a_lead_sees_only_names_and_rooms_of_her_building(city, lead, client_for):
    api = client_for(lead.user)
    rows = api.get("/api/v1/lead/neighbours/").json()["results"]
    names = {r["name"] for r in rows}
    assert names == {"王秀英", "李建国"}  # both units of 1栋, not the other community's 赵敏
    assert set(rows[0]) == {"id", "name", "room", "unit", "building"}  # no phone, ID number, birth date or tag
    body = str(api.get("/api/v1/lead/neighbours/").content)
    assert "138" not in body and "1101" not in body
    # A resident outside her building: a clear 404, nothing revealed.
    r = api.get(f"/api/v1/lead/neighbours/{city.other_resident.pk}/")
    assert r.status_code == 404 and r.json()["message"] == "该居民不在您的楼栋。" or r.status_code == 404
    assert "赵敏" not in r.content.decode()
    assert api.get("/api/v1/lead/neighbours/abc/").status_code == 404
    # Every staff list is empty for a light account: it holds no grid.
    for route in ("residents", "households", "cases", "notices", "visits", "volunteers"):
        got = api.get(f"/api/v1/{route}/")
        assert got.status_code in (200, 403), route
        if got.status_code == 200:
            assert got.json()["results"] == [], route


def test_a_unit_lead_sees_only_her_unit(city, client_for):
    row = services.register(city.secretary, role="unit_lead", unit=city.sibling_unit, phone="13900005678",
                            display_name="李单元长", password=PASSWORD)
    rows = client_for(row.user).get("/api/v1/lead/neighbours/").json()["results"]
    assert [r["name"] for r in rows] == ["李建国"]


def test_check_in_is_stored_once_seen_and_confirmed_by_the_micro_grid_worker(city, lead, client_for):
    api = client_for(lead.user)
    key = str(uuid.uuid4())
    body = {"client_uuid": key, "resident": city.resident.pk, "wellbeing": "attention", "note": "咳嗽，叮嘱就医"}
    first = api.post("/api/v1/lead/check-ins/", body, format="json")
    assert first.status_code == 201, first.content
    replay = api.post("/api/v1/lead/check-ins/", body, format="json")
    assert replay.status_code == 200 and replay.json()["id"] == first.json()["id"]
    different = api.post("/api/v1/lead/check-ins/", {**body, "note": "别的"}, format="json")
    assert different.status_code == 409
    assert CheckIn.objects.count() == 1
    assert Notification.objects.filter(recipient=city.worker, kind="check_in").count() == 1
    outside = api.post("/api/v1/lead/check-ins/", {**body, "client_uuid": str(uuid.uuid4()),
                                                   "resident": city.other_resident.pk}, format="json")
    assert outside.status_code == 404 and CheckIn.objects.count() == 1
    worker = client_for(city.worker)
    listed = worker.get("/api/v1/check-ins/").json()["results"]
    assert [c["resident_name"] for c in listed] == ["王秀英"]
    assert client_for(city.sibling_worker).get("/api/v1/check-ins/").json()["results"] == []
    confirmed = worker.post(f"/api/v1/check-ins/{listed[0]['id']}/confirm/")
    assert confirmed.status_code == 200 and confirmed.json()["confirmed_by_name"]
    assert client_for(city.outsider).post(f"/api/v1/check-ins/{listed[0]['id']}/confirm/").status_code == 404


def test_registering_refuses_bad_input_and_staff_phones(city, client_for):
    api = client_for(city.secretary)
    bad_phone = api.post("/api/v1/volunteers/", {"role": "building_lead", "building": city.building.pk,
                                                 "phone": "12345", "display_name": "x", "password": PASSWORD},
                         format="json")
    assert bad_phone.status_code == 400 and "phone" in bad_phone.json()["fields"]
    city.worker.username = "13811112222"
    city.worker.save()
    taken = api.post("/api/v1/volunteers/", {"role": "building_lead", "building": city.building.pk,
                                             "phone": "13811112222", "display_name": "x", "password": PASSWORD},
                     format="json")
    assert taken.status_code == 400 and taken.json()["code"] == "phone_taken"
    outside = api.post("/api/v1/volunteers/", {"role": "unit_lead", "unit": city.other_household.unit_id,
                                               "phone": "13900000001", "display_name": "x", "password": PASSWORD},
                       format="json")
    assert outside.status_code == 400
    no_unit = api.post("/api/v1/volunteers/", {"role": "unit_lead", "phone": "13900000001", "display_name": "x",
                                               "password": PASSWORD}, format="json")
    assert no_unit.status_code == 400 and "unit" in no_unit.json()["fields"]


def test_notices_for_residents_reach_the_lead_of_the_building_and_no_one_else(city, lead, client_for):
    other_lead = services.register(city.outsider, role="building_lead", building=city.other_household.unit.building,
                                   phone="13900009876", display_name="赵楼长", password=PASSWORD)
    to_micro = publish_notice(city.secretary, grid=city.micro, title="1单元电梯检修", audience="residents")
    workers_only = publish_notice(city.secretary, grid=city.community, title="内部会议")
    api = client_for(lead.user)
    titles = [n["title"] for n in api.get("/api/v1/lead/notices/").json()["results"]]
    assert titles == ["1单元电梯检修"]
    assert client_for(other_lead.user).get("/api/v1/lead/notices/").json()["results"] == []
    assert api.post(f"/api/v1/lead/notices/{to_micro.pk}/read/").status_code == 200
    assert api.post(f"/api/v1/lead/notices/{workers_only.pk}/read/").status_code == 404


def test_activity_sign_up_attendance_and_hours_earn_points_once(city, lead, client_for):
    now = timezone.now()
    activity = Activity.objects.create(grid=city.community, title="义诊", starts_at=now + timedelta(hours=1),
                                       ends_at=now + timedelta(hours=3), capacity=1, hours=2)
    api = client_for(lead.user)
    listed = api.get("/api/v1/lead/activities/").json()["results"]
    assert [a["title"] for a in listed] == ["义诊"] and listed[0]["mine"] is False
    assert api.post(f"/api/v1/lead/activities/{activity.pk}/sign-up/").status_code == 201
    assert api.post(f"/api/v1/lead/activities/{activity.pk}/sign-up/").status_code == 200
    other = services.register(city.secretary, role="unit_lead", unit=city.sibling_unit, phone="13900005678",
                              display_name="李单元长", password=PASSWORD)
    full = client_for(other.user).post(f"/api/v1/lead/activities/{activity.pk}/sign-up/")
    assert full.status_code == 409 and full.json()["code"] == "full"
    sign_up = SignUp.objects.get(activity=activity)
    staff = client_for(city.secretary)
    r = staff.post(f"/api/v1/activities/{activity.pk}/attendance/", {"sign_up": sign_up.pk, "attended": True},
                   format="json")
    assert r.status_code == 200 and r.json()["hours"] == "2.0"
    again = staff.post(f"/api/v1/activities/{activity.pk}/attendance/", {"sign_up": sign_up.pk, "attended": True},
                       format="json")
    assert again.status_code == 200
    from gridcase.points.models import PointEntry

    entries = PointEntry.objects.filter(source_type="signup")
    assert entries.count() == 1 and entries.get().resident_id == city.resident.pk
    bad = staff.post(f"/api/v1/activities/{activity.pk}/attendance/", {"sign_up": sign_up.pk, "attended": True,
                                                                      "hours": "99"}, format="json")
    assert bad.status_code == 400
    assert client_for(city.outsider).post(f"/api/v1/activities/{activity.pk}/attendance/",
                                          {"sign_up": sign_up.pk, "attended": False}, format="json").status_code == 404
    me = api.get("/api/v1/lead/me/").json()
    assert float(me["service_hours"]) == 2.0 and me["is_lead"] is True and me["board_token"] == city.community.qr_token


def test_staff_pages_refuse_a_worker_and_lead_pages_refuse_staff(city, lead, client_for):
    assert client_for(city.worker).get("/api/v1/lead/neighbours/").status_code == 403
    f.member(lead.user, city.micro, "viewer")  # not a light account any more, but still a lead: pages work
    assert client_for(lead.user).get("/api/v1/lead/neighbours/").status_code == 200


def test_a_lead_registered_after_a_notice_went_out_still_sees_it_and_her_reading_is_recorded(city, client_for):
    earlier = publish_notice(city.secretary, grid=city.community, title="垃圾分类新规", audience="residents")
    row = services.register(city.secretary, role="building_lead", building=city.building, phone="13900004321",
                            display_name="新楼栋长", password=PASSWORD)
    api = client_for(row.user)
    listed = api.get("/api/v1/lead/notices/").json()["results"]
    assert [n["title"] for n in listed] == ["垃圾分类新规"] and listed[0]["read_at"] is None
    assert api.post(f"/api/v1/lead/notices/{earlier.pk}/read/").json()["read_at"] is not None
    assert api.get("/api/v1/lead/notices/").json()["results"][0]["read_at"] is not None


def test_a_notice_e_mail_links_the_worker_to_their_notices(city, settings):
    from gridcase.notifications import rendering

    settings.PUBLIC_URL = "https://grid.example.org"
    notice = publish_notice(city.secretary, grid=city.micro, title="停水", kind="broadcast")
    n = Notification.objects.get(recipient=city.worker, dedupe_key=f"notice-{notice.pk}")
    out = rendering.outgoing(n)
    assert out.link == "https://grid.example.org/m/notices" and "停水" in out.text
