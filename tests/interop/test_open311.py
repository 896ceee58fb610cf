"""Open311 GeoReport v2 at /open311/v2/: the spec's example requests, its formats and errors, routing by
boundary, and nothing half-created on bad input."""

import json
from xml.etree import ElementTree as ET

import pytest
from django.test import Client

from gridcase.cases.choices import Source
from gridcase.cases.models import Case
from gridcase.grids.models import Building, Grid
from gridcase.intake.models import IntakeTicket
from gridcase.interop import routing
from gridcase.interop.models import Open311Client, Open311Request, hash_key

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"

# The spec's POST example (GeoReport v2, "POST Service Request"), with its service code and point moved into
# the persona street (Chengdu, not San Francisco) and its own attributes kept.
SPEC_POST = {
    "jurisdiction_id": "", "service_code": "env_drain", "lat": "30.001", "long": "104.0005",
    "address_string": "1234 5th street", "email": "smit333@sfgov.edu", "device_id": "tt222111",
    "account_id": "123456", "first_name": "john", "last_name": "smith", "phone": "111111111",
    "description": "A large sinkhole is destroying the street", "media_url": "http://someserver.com/somepic.jpg",
    "attribute[ABC]": "123", "attribute[DEF]": "456",
}
# The spec's answers, whose keys ours must carry.
SPEC_POST_ANSWER = [{"service_request_id": 293944, "service_notice": "The City will inspect…", "account_id": None}]
SPEC_REQUEST = {
    "service_request_id": 638344, "status": "closed", "status_notes": "Duplicate request.",
    "service_name": "Sidewalk and Curb Issues", "service_code": "006", "description": None,
    "agency_responsible": None, "service_notice": None, "requested_datetime": "2010-04-14T06:37:38-08:00",
    "updated_datetime": "2010-04-14T06:37:38-08:00", "expected_datetime": "2010-04-15T06:37:38-08:00",
    "address": "8TH AVE and JUDAH ST", "address_id": 545483, "zipcode": 94122, "lat": 37.762221815,
    "long": -122.4651145, "media_url": "http://city.gov.s3.amazonaws.com/requests/media/638344.jpg",
}
SPEC_SERVICE = {"service_code": "001", "service_name": "Cans left out 24x7", "description": "…", "metadata": True,
                "type": "realtime", "keywords": "lorem, ipsum, dolor", "group": "sanitation"}


@pytest.fixture
def web():
    return Client()


def post(web, key, fmt="json", **fields):
    body = {**SPEC_POST, "api_key": key, **fields}
    return web.post(f"{BASE}/requests.{fmt}", {k: v for k, v in body.items() if v is not None})


def assert_error(r, status):
    assert r.status_code == status, r.content
    body = r.json()
    assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"code", "description"}
    assert body[0]["code"] == status and body[0]["description"]
    return body[0]["description"]


def test_services_are_the_residents_categories(city, web):
    r = web.get(f"{BASE}/services.json")
    assert r.status_code == 200
    services = r.json()
    assert services and all(set(s) == set(SPEC_SERVICE) for s in services)
    codes = {s["service_code"]: s for s in services}
    assert codes["env_drain"]["group"] == "环境卫生" and codes["env_drain"]["metadata"] is False
    assert "care" not in codes and not any(c.startswith("care") for c in codes)  # sensitive: not offered
    xml = ET.fromstring(web.get(f"{BASE}/services.xml").content)
    assert xml.tag == "services" and [e.tag for e in xml[0]] == list(SPEC_SERVICE)
    assert len(xml) == len(services)


def test_the_spec_example_request_is_filed_in_the_micro_grid_of_its_point(mapped, web, open311_key):
    r = post(web, open311_key)
    assert r.status_code == 201, r.content
    answer = r.json()
    assert isinstance(answer, list) and set(SPEC_POST_ANSWER[0]) <= set(answer[0])
    case = Case.objects.get(number=answer[0]["service_request_id"])
    assert case.grid_id == mapped.micro.pk and case.source == Source.API
    assert case.description == SPEC_POST["description"] and case.reporter_name == "johnsmith"
    assert (case.lat, case.lng) == (30.001, 104.0005)
    ticket = IntakeTicket.objects.get(case=case)
    assert ticket.code == answer[0]["token"] and ticket.contact_phone == "111111111"
    assert "111111111" not in ticket.contact_phone_encrypted  # stored encrypted, like the QR intake's
    row = Open311Request.objects.get(case=case)
    assert row.email == "smit333@sfgov.edu" and "smit333" not in row.email_encrypted
    assert row.media_url == SPEC_POST["media_url"] and row.device_id == "tt222111"
    # The next micro-grid east gets a point east of the line.
    r = post(web, open311_key, long="104.0015")
    assert Case.objects.get(number=r.json()[0]["service_request_id"]).grid_id == mapped.sibling_micro.pk


def test_xml_post_and_json_body(mapped, web, open311_key):
    r = post(web, open311_key, fmt="xml")
    assert r.status_code == 201 and r["Content-Type"].startswith("text/xml")
    root = ET.fromstring(r.content)
    assert root.tag == "service_requests" and root[0].tag == "request"
    assert {e.tag for e in root[0]} >= {"service_request_id", "service_notice", "account_id"}
    r = web.post(f"{BASE}/requests.json", json.dumps({**SPEC_POST, "api_key": open311_key}),
                 content_type="application/json")
    assert r.status_code == 201, r.content


@pytest.mark.parametrize("fields,status,words", [
    ({"service_code": None}, 400, "service_code"),
    ({"service_code": "no_such_service"}, 400, "no_such_service"),
    ({"service_code": "care"}, 400, "care"),  # a sensitive category is no service
    ({"lat": None, "long": None, "address_string": None}, 400, "location"),
    ({"lat": "30.001", "long": None, "address_string": None}, 400, "lat"),
    ({"lat": "31.5", "long": "104.0005"}, 400, "outside"),  # 170 km north of the street
    ({"lat": "30.001", "long": "104.0105"}, 400, "outside"),  # inside a micro-grid, but not the client's area
    ({"phone": "call me"}, 400, "phone"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ({"description": "x" * 2001}, 400, "description"),
    ({"api_key": "wrong"}, 403, "api_key"),
    ({"api_key": None}, 403, "api_key"),
])
def test_bad_requests_answer_open311_errors_and_file_nothing(mapped, web, open311_key, fields, status, words):
    Open311Client.objects.update(area=mapped.community)
    before = (Case.objects.count(), IntakeTicket.objects.count(), Open311Request.objects.count())
    r = post(web, open311_key, **fields)
    assert assert_error(r, status)  # in the server's default language (zh-Hans) …
    r = post(web.__class__(HTTP_ACCEPT_LANGUAGE="en"), open311_key, **fields)
    assert words in assert_error(r, status)  # … or the client's
    assert (Case.objects.count(), IntakeTicket.objects.count(), Open311Request.objects.count()) == before


def test_xml_errors(city, web):
    r = web.post(f"{BASE}/requests.xml", {"service_code": "env_drain"})
    assert r.status_code == 403
    root = ET.fromstring(r.content)
    assert root.tag == "errors" and root[0].tag == "error"
    assert root[0].find("code").text == "403" and root[0].find("description").text
    r = web.get(f"{BASE}/nothing/here.json")
    assert_error(r, 404)


def test_without_boundaries_the_grid_code_or_a_building_address_places_it(city, web, open311_key):
    assert not routing.has_boundaries(city.street)
    r = post(web, open311_key, grid_code=city.sibling_micro.code)
    assert Case.objects.get(number=r.json()[0]["service_request_id"]).grid_id == city.sibling_micro.pk
    r = post(web, open311_key, **{"attribute[grid_code]": city.other_micro.code})
    assert Case.objects.get(number=r.json()[0]["service_request_id"]).grid_id == city.other_micro.pk
    Building.objects.filter(pk=city.building.pk).update(address="八里庄东里1栋")
    Building.objects.filter(pk=city.building.pk).update(lat=None, lng=None)
    # The building has units in two micro-grids: the case goes to its general grid, naming the building.
    r = post(web, open311_key, lat=None, long=None, address_string="北京市朝阳区八里庄东里1栋2单元201")
    case = Case.objects.get(number=r.json()[0]["service_request_id"])
    assert case.grid_id == city.grid.pk and case.building_id == city.building.pk
    assert_error(post(web, open311_key, lat=None, long=None, address_string="无名路"), 400)
    assert_error(post(web, open311_key, grid_code="NOPE"), 400)


def test_get_lists_with_the_standard_filters(mapped, web, open311_key, settings):
    numbers = [post(web, open311_key, service_code=code).json()[0]["service_request_id"]
               for code in ("env_drain", "env_drain", "env_stairwell")]
    other = Open311Client(name="other", area=mapped.street)
    other_key = other.new_key()
    other.save()
    theirs = post(web, other_key, description="别人的话").json()[0]["service_request_id"]

    def get(**params):
        r = web.get(f"{BASE}/requests.json", {"api_key": open311_key, **params})
        assert r.status_code == 200, r.content
        return [row for row in r.json() if row["service_request_id"] != theirs]

    rows = get()
    assert [r["service_request_id"] for r in rows] == numbers[::-1]
    assert set(rows[0]) == set(SPEC_REQUEST)
    # Another client's request is listed, without the resident's words or place.
    [other_row] = [r for r in web.get(f"{BASE}/requests.json", {"api_key": open311_key}).json()
                   if r["service_request_id"] == theirs]
    assert other_row["status"] == "open" and other_row["service_code"] == "env_drain"
    assert all(other_row[k] is None for k in ("description", "address", "lat", "long", "media_url"))
    assert rows[0]["description"] == SPEC_POST["description"] and rows[0]["lat"] == 30.001
    assert rows[0]["status"] == "open" and rows[0]["service_code"] == "env_stairwell"
    assert [r["service_request_id"] for r in get(service_code="env_stairwell")] == [numbers[2]]
    assert len(get(service_code="env_drain,env_stairwell")) == 3
    assert [r["service_request_id"] for r in get(service_request_id=f"{numbers[0]},{numbers[2]}")] == \
        [numbers[2], numbers[0]]
    assert get(status="closed") == [] and len(get(status="open")) == 3
    Case.objects.filter(number=numbers[0]).update(status="closed")
    assert [r["service_request_id"] for r in get(status="closed")] == [numbers[0]]
    assert len(get(start_date="2000-01-01T00:00:00Z", end_date="2000-02-01T00:00:00Z")) == 0
    assert len(get(start_date=rows[0]["requested_datetime"])) >= 1
    assert_error(web.get(f"{BASE}/requests.json", {"api_key": open311_key, "status": "maybe"}), 400)
    assert_error(web.get(f"{BASE}/requests.json", {"api_key": open311_key, "start_date": "yesterday"}), 400)
    assert_error(web.get(f"{BASE}/requests.json", {"api_key": open311_key, "start_date": "2000-01-01T00:00:00Z",
                                                   "end_date": "2001-01-01T00:00:00Z"}), 400)
    # Without a key: public, nobody's words or place.
    public = web.get(f"{BASE}/requests.json").json()
    assert len(public) == 4 and all(r["description"] is None and r["lat"] is None for r in public)
    assert_error(web.get(f"{BASE}/requests.json", {"api_key": "wrong"}), 403)
    xml = ET.fromstring(web.get(f"{BASE}/requests.xml", {"api_key": open311_key}).content)
    assert xml.tag == "service_requests" and len(xml) == 4 and [e.tag for e in xml[0]] == list(SPEC_REQUEST)


def test_get_one_and_tokens(mapped, web, open311_key):
    answer = post(web, open311_key).json()[0]
    number, token = answer["service_request_id"], answer["token"]
    r = web.get(f"{BASE}/requests/{number}.json", {"api_key": open311_key})
    assert r.status_code == 200 and r.json()[0]["service_request_id"] == number
    r = web.get(f"{BASE}/tokens/{token}.json", {"api_key": open311_key})
    assert r.json() == [{"service_request_id": number, "token": token}]
    assert_error(web.get(f"{BASE}/requests/2026-XX-000000.json", {"api_key": open311_key}), 404)
    assert_error(web.get(f"{BASE}/tokens/NOPE.json", {"api_key": open311_key}), 404)
    other = Open311Client(name="other", area=mapped.street)
    other_key = other.new_key()
    other.save()
    [seen] = web.get(f"{BASE}/requests/{number}.json", {"api_key": other_key}).json()
    assert seen["service_request_id"] == number and seen["description"] is None and seen["address"] is None
    [public] = web.get(f"{BASE}/requests/{number}.json").json()
    assert public["status"] == "open" and public["lat"] is None
    assert web.get(f"{BASE}/tokens/{token}.json").json() == [{"service_request_id": number, "token": token}]
    Case.objects.filter(number=number).update(sensitive=True)  # re-filed as sensitive: gone from Open311
    assert_error(web.get(f"{BASE}/requests/{number}.json", {"api_key": open311_key}), 404)


def test_keys_are_stored_hashed_and_can_be_revoked(mapped, web, open311_key):
    client = Open311Client.objects.get()
    assert client.key_hash == hash_key(open311_key) and open311_key not in (client.key_hash, client.key_prefix)
    client.is_active = False
    client.save()
    assert_error(post(web, open311_key), 403)
    client.is_active = True
    new = client.new_key()
    client.save()
    assert_error(post(web, open311_key), 403)
    assert post(web, new).status_code == 201


def test_jurisdiction(mapped, web, open311_key, settings):
    settings.OPEN311_JURISDICTION_ID = "chengdu.gov.cn"
    assert_error(post(web, open311_key, jurisdiction_id="sf.gov"), 404)
    assert post(web, open311_key, jurisdiction_id="chengdu.gov.cn").status_code == 201


def test_point_in_polygon():
    poly = {"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]],
                                               [[1, 1], [2, 1], [2, 2], [1, 2], [1, 1]]]}
    assert routing.contains(poly, 3, 3) and not routing.contains(poly, 1.5, 1.5) and not routing.contains(poly, 5, 1)
    multi = {"type": "MultiPolygon", "coordinates": [poly["coordinates"], [[[10, 10], [11, 10], [11, 11], [10, 10]]]]}
    assert routing.contains(multi, 10.2, 10.5) and not routing.contains({"type": "Point"}, 0, 0)
    assert not routing.contains(None, 0, 0) and not routing.contains({"type": "Polygon", "coordinates": [[["a"]]]}, 0, 0)


def test_grid_at_ignores_grids_outside_the_area(mapped):
    assert routing.grid_at(30.001, 104.0105, mapped.community) is None
    assert routing.grid_at(30.001, 104.0105, mapped.street).pk == mapped.other_micro.pk
    assert Grid.objects.get(pk=mapped.micro.pk).boundary
