"""A small world for the fuzzer: the test street, cases in every stage of the workflow, a visit, a care
plan, a notification, an intake ticket, and tokens for the two roles the fuzzer acts as."""

import uuid
from dataclasses import dataclass, field

from django.utils import timezone
from rest_framework.test import APIClient

from gridcase.cases import services as case_services
from gridcase.cases import workflow
from gridcase.cases.models import Category
from gridcase.intake import services as intake_services
from gridcase.notifications.models import Notification
from gridcase.visits import services as visit_services
from gridcase.visits.models import CarePlan

# The two roles every operation is fuzzed as (DESIGN §5: the narrowest and the widest working scope).
ROLES = ("micro_grid_worker", "street_dispatcher")


@dataclass
class World:
    tokens: dict
    ids: dict = field(default_factory=dict)  # resource (first path segment) -> ids that exist
    strings: dict = field(default_factory=dict)  # path parameter name -> real values (qr_token, code)


def token_for(user, password="pass-1234") -> str:
    """A token as an integration gets one: through the login endpoint (whatever kind of token it issues)."""
    response = APIClient().post("/api/v1/auth/login/", {"username": user.username, "password": password},
                                format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def _drive(case, *steps):
    for user, action, data in steps:
        case.refresh_from_db()
        case = workflow.apply(case.pk, action, user, data, version=case.version)
    return case


def build(city) -> World:
    category = Category.objects.get(code="env_drain")

    def report(title):
        return case_services.create_case(city.worker, {"category": category, "grid": city.micro, "title": title,
                                                       "description": "3栋门口下水道返水"}).case

    sec, worker, gw = city.secretary, city.worker, city.grid_worker
    reported = report("reported")
    accepted = _drive(report("accepted"), (sec, "accept", {}))
    assigned = _drive(report("assigned"), (sec, "accept", {}), (sec, "assign", {"assignee": worker.pk}))
    working = _drive(report("in progress"), (sec, "accept", {}), (sec, "assign", {"assignee": worker.pk}),
                     (worker, "start", {}))
    _drive(working, (sec, "whistle", {"departments": [city.department.pk]}))
    resolved = _drive(report("resolved"), (sec, "accept", {}), (sec, "assign", {"assignee": worker.pk}),
                      (worker, "start", {}), (worker, "resolve", {"note": "已疏通"}))
    closed = _drive(report("closed"), (sec, "accept", {}), (sec, "assign", {"assignee": worker.pk}),
                    (worker, "start", {}), (worker, "resolve", {"note": "已疏通"}), (gw, "verify", {}),
                    (sec, "close", {}))
    cases = [reported, accepted, assigned, working, resolved, closed]

    visit, _ = visit_services.record_visit(worker, {"client_uuid": uuid.uuid4(), "resident": city.resident,
                                                    "kind": "home", "visited_at": timezone.now(), "wellbeing": "good",
                                                    "findings": ""})
    ticket = intake_services.submit(city.micro, {"category": category.pk, "description": "楼下下水道堵了",
                                                 "contact_phone": "13912345678", "name": "陈女士",
                                                 "client_key": "fuzz-1"}).ticket
    notes = list(Notification.objects.filter(recipient=worker).values_list("pk", flat=True))
    from gridcase.deliberation import services as deliberation

    topic = deliberation.raise_topic(sec, {"title": "楼道堆物", "level": "building", "building": city.building})
    meeting = deliberation.schedule(sec, {"topic": topic, "starts_at": timezone.now(), "place": "楼栋门口",
                                          "residents": [city.resident], "users": [worker]})

    tokens = {"micro_grid_worker": token_for(worker), "street_dispatcher": token_for(city.dispatcher)}
    ids = {
        "cases": [c.pk for c in cases],
        "grids": [city.micro.pk, city.grid.pk, city.community.pk, city.street.pk, city.other_micro.pk],
        "buildings": [city.building.pk],
        "units": [city.unit.pk, city.sibling_unit.pk],
        "households": [city.household.pk, city.sibling_household.pk],
        "residents": [city.resident.pk, city.sibling_resident.pk, city.other_resident.pk],
        "departments": [city.department.pk],
        "memberships": list(city.worker.memberships.values_list("pk", flat=True)),
        "users": [city.worker.pk, city.sibling_worker.pk, city.secretary.pk],
        "visits": [visit.pk],
        "care-plans": list(CarePlan.objects.values_list("pk", flat=True)),
        "categories": [category.pk],
        "notifications": notes,
        "topics": [topic.pk],
        "meetings": [meeting.pk],
    }
    strings = {"qr_token": [city.micro.qr_token], "code": [ticket.code]}
    return World(tokens=tokens, ids={k: v for k, v in ids.items() if v}, strings=strings)
