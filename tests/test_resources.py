"""Every API viewset declared once (tests/resources.py): its scope matrix (list, detail, create, update, delete ×
in scope, sibling, outsider) and its list's query budget are generated from the declaration; the meta-tests check
that every viewset the router serves has one."""

import uuid
from datetime import datetime, timedelta

import pytest

from gridcase.grids.choices import Level, Role

from . import factories as f
from .resources import WHO, Resource, matrix, query_counts, viewset_routes

STREET = {"in_scope": "dispatcher", "sibling": "sibling_worker", "outsider": "outsider"}
# Writes by a caller who holds no role that may make them anywhere: 403 before any lookup.
NO_ROLE = {(op, who): 403 for op in ("create", "update", "delete") for who in ("sibling", "outsider")}
SIBLING_NO_ROLE = {(op, "sibling"): 403 for op in ("create", "update", "delete")}


def _micro_grid(city, i):
    return f.grid(f"ST-BLZ-G01-X{i:02d}", f"新微网格{i}", Level.MICRO_GRID, city.grid)


def _resident(city, i, **kw):
    return f.resident(f.household(city.unit, f"R{i}"), f"居民{i}", phone=f"139{i:08d}",
                      id_number=f"11010119500101{i:04d}", **kw)


def _case(city, i):
    from gridcase.cases import services
    from gridcase.cases.models import Category

    return services.create_case(city.worker, {"category": Category.objects.get(code="env_drain"), "grid": city.micro,
                                              "title": f"下水道堵塞{i}", "description": "门口返水"}).case


def _category(city, i):
    from gridcase.cases.models import Category

    return Category.objects.filter(is_active=True).order_by("id")[i]


def _template(city, i):
    from gridcase.cases.models import ResponseTemplate

    return ResponseTemplate.objects.create(title=f"模板{i}", body="已收到，正在处理。")


def _tag(city, i):
    from gridcase.grids.models import Tag

    return Tag.objects.create(code=f"test_tag_{i}", name=f"标签{i}")


def _import_job(city, i):
    from gridcase.grids.models import ImportJob

    return ImportJob.objects.create(user=city.secretary, grid=city.micro, filename=f"台账{i}.csv", file_type="csv",
                                    content=b"")


def _job(city, i):
    from gridcase.jobs.models import Job

    return Job.objects.create(owner=city.secretary, kind="export_cases", params={}, total=10)


def _import_review(city, i):
    from gridcase.grids.models import ImportReview

    return ImportReview.objects.create(grid=city.micro, uploaded_by=city.secretary, row=i + 2, name=f"居民{i}",
                                       id_number_hash=f"resource-test-{i}")


def _notification(city, i):
    from gridcase.notifications.models import Kind, Notification

    return Notification.objects.create(recipient=city.secretary, kind=Kind.ASSIGNED, title=f"通知{i}",
                                       dedupe_key=f"resource-test-{i}")


def _visit(city, i):
    from django.utils import timezone

    from gridcase.visits import services

    visit, _ = services.record_visit(city.worker, {
        "client_uuid": uuid.uuid4(), "resident": city.resident, "kind": "phone", "wellbeing": "good",
        "visited_at": timezone.now() - timedelta(hours=i + 1), "findings": ""})
    return visit


def _patrol_entry(city, i):
    from django.utils import timezone

    from gridcase.grids.models import Grid
    from gridcase.visits import patrol

    micro = Grid.objects.get(pk=city.micro.pk)  # its tree numbers as stored now
    entry, _ = patrol.record(city.worker, {"client_uuid": uuid.uuid4(), "grid": micro,
                                           "at": timezone.now() - timedelta(hours=i + 1), "note": f"巡查{i}"})
    return entry


def _care_plan(city, i):
    from gridcase.visits.models import CarePlan

    return CarePlan.objects.get(resident=_resident(city, i, tags=["elderly_alone"]))


def _audit_entry(city, i):
    from gridcase.core import audit
    from gridcase.core.models import AuditLog

    audit.record(city.worker, "read_phone", [city.resident], ["phone"])
    return AuditLog.objects.latest("id")


def _hotspot(city, i):
    from django.utils import timezone

    from gridcase.cases.models import Category, Hotspot

    now = timezone.now()
    hotspot = Hotspot.objects.create(kind="micro_grid", category=Category.objects.get(code="env_drain"), grid=city.micro,
                                     key=f"grid:resource-{i}", window_days=30, threshold=3, count=3, first_seen=now,
                                     last_seen=now, detected_at=now, created_at=now)
    hotspot.cases.add(_case(city, i))
    return hotspot


def _topic(city, i):
    from gridcase.deliberation.models import Topic

    return Topic.objects.create(title=f"停车议题{i}", level="grid", grid=city.grid, raised_by=city.secretary)


def _meeting(city, i):
    from django.utils import timezone

    from gridcase.deliberation.models import Consultation

    return Consultation.objects.create(topic=_topic(city, i), starts_at=timezone.now(), place=f"议事厅{i}")


def _notice(city, i):
    from gridcase.notices.publishing import publish_notice

    return publish_notice(city.secretary, grid=city.micro, title=f"通知{i}")


def _lead(city):
    from gridcase.volunteers import services
    from gridcase.volunteers.models import Volunteer

    row = Volunteer.objects.filter(user__username="13900009999").first()
    return row or services.register(city.secretary, role="building_lead", building=city.building,
                                    phone="13900009999", display_name="楼栋长", password="Lead-pass-1234")


def _volunteer(city, i):
    from gridcase.volunteers import services

    return services.register(city.secretary, role="unit_lead", unit=f.unit(city.building, city.micro, f"{i + 5}单元"),
                             phone=f"1390000{i:04d}", display_name=f"单元长{i}", password="Lead-pass-1234")


def _check_in(city, i):
    from gridcase.volunteers import services

    return services.check_in(_lead(city).user, {"client_uuid": str(uuid.uuid4()), "resident": city.resident.pk,
                                                "wellbeing": "good"}).check_in


def _activity(city, i):
    from django.utils import timezone

    from gridcase.volunteers.models import Activity

    now = timezone.now()
    return Activity.objects.create(grid=city.micro, title=f"义诊{i}", starts_at=now + timedelta(days=1),
                                   ends_at=now + timedelta(days=1, hours=2))


def _campaign(city, i):
    from django.utils import timezone

    from gridcase.campaigns.models import Campaign

    return Campaign.objects.create(name=f"排查{i}", grid=city.micro, target="household", checklist=CAMPAIGN_CHECKLIST,
                                   starts_on=timezone.localdate(), ends_on=timezone.localdate())


CAMPAIGN_CHECKLIST = [{"key": "charging", "text": "楼道充电", "type": "yes_no", "required": True}]


def _campaign_task(city, i):
    from gridcase.campaigns.models import CampaignTask

    hh = f.household(city.unit, f"C{i}")
    return CampaignTask.objects.create(campaign=_campaign(city, i), grid=city.micro, target_id=hh.pk, household=hh,
                                       unit=city.unit, building=city.building, worker=city.worker)


def _point_entry(city, i):
    from gridcase.points.rules import award

    return award("campaign_task_done", f.household(city.unit, f"P{i}"), city.worker, grid=city.micro)


def _reward(city, i):
    from gridcase.points.models import Reward

    return Reward.objects.create(community=city.community, name=f"奖品{i}", price=10, stock=5)


def _credit(city, i):
    from gridcase.points.models import ResidentCredit

    return ResidentCredit.objects.create(resident=_resident(city, i + 40))


def _redemption(city, i):
    from gridcase.points import shop
    from gridcase.points.rules import award

    resident = _resident(city, i + 60)
    award("resident_grant", resident, resident, grid=resident.grid, points=100)
    return shop.redeem(city.secretary, _reward(city, i).pk, resident, f"resource-{i}")[0]


def _granted(city):
    from gridcase.points.rules import award

    award("resident_grant", city.resident, city.resident, grid=city.micro, points=100)
    return city.resident


def _user(city, i):
    return f.member(f.UserFactory(username=f"resource{i}"), city.micro, Role.VIEWER)


def _membership(city, i):
    from gridcase.grids.models import Membership

    return Membership.objects.create(user=f.UserFactory(username=f"member{i}"), grid=city.micro, role=Role.VIEWER)


RESOURCES = [
    Resource("grids", _micro_grid, max_queries=5, personas=STREET, expect=NO_ROLE,
             create=lambda city: {"code": "ST-BLZ-G01-M09", "name": "第九微网格", "level": Level.MICRO_GRID,
                                  "parent": city.grid.pk},
             update=lambda city, obj: {"name": "改名微网格"}),
    Resource("tags", _tag, max_queries=3, shared=True),
    Resource("buildings", lambda city, i: f.building(city.grid, f"{i + 20}栋"), max_queries=5,
             create=lambda city: {"grid": city.grid.pk, "code": "B-NEW", "name": "新楼"},
             update=lambda city, obj: {"name": "改名楼"}),
    Resource("units", lambda city, i: f.unit(city.building, city.micro, f"{i + 3}单元"), max_queries=5,
             create=lambda city: {"building": city.building.pk, "micro_grid": city.micro.pk, "name": "9单元"},
             update=lambda city, obj: {"name": "改名单元"}),
    Resource("households", lambda city, i: f.household(city.unit, f"H{i}"), max_queries=5,
             create=lambda city: {"unit": city.unit.pk, "room": "909"},
             update=lambda city, obj: {"note": "门口有台阶"}),
    Resource("residents", _resident, max_queries=6,
             create=lambda city: {"name": "新居民", "household": city.household.pk, "phone": "13811112222"},
             update=lambda city, obj: {"note": "行动不便"}),
    Resource("departments", lambda city, i: f.department(code=f"dep{i}", name=f"部门{i}", area=city.community),
             max_queries=5, personas=STREET,
             # The departments serving their community are listed for its micro-grid workers (to whistle to).
             expect={**NO_ROLE, ("list", "sibling"): "listed", ("detail", "sibling"): 200},
             create=lambda city: {"code": "power", "name": "供电所", "area": city.community.pk},
             update=lambda city, obj: {"phone": "010-12345678"}),
    Resource("memberships", _membership, max_queries=5, expect=SIBLING_NO_ROLE,
             create=lambda city: {"user": city.grid_worker.pk, "grid": city.micro.pk, "role": Role.VIEWER},
             update=lambda city, obj: {"title": "楼长"}),
    Resource("users", _user, max_queries=6, expect=SIBLING_NO_ROLE,
             create=lambda city: {"username": "newcomer", "password": "Pass-word-1234", "grid": city.micro.pk,
                                  "role": Role.VIEWER},
             update=lambda city, obj: {"display_name": "新名字"}),
    Resource("cases", _case, max_queries=8,
             create=lambda city: {"category": _category_id(), "grid": city.micro.pk, "title": "楼道灯坏了"},
             update=lambda city, obj: {"version": obj.version, "title": "楼道灯坏了两盏"}),
    Resource("categories", _category, max_queries=3, shared=True),
    Resource("hotspots", _hotspot, max_queries=6),
    Resource("response-templates", _template, max_queries=3, shared=True),
    # An import is a spreadsheet upload (multipart), tested in tests/grids/test_import.py: JSON is refused.
    Resource("imports", _import_job, max_queries=5, expect={("create", who): 415 for who in WHO}),
    Resource("import-reviews", _import_review, max_queries=5, personas=STREET),
    # A background job (export, report) is its owner's alone; it is created by the export or report it runs.
    Resource("jobs", _job, max_queries=3),
    Resource("notifications", _notification, max_queries=3),
    Resource("visits", _visit, max_queries=6,
             create=lambda city: {"client_uuid": str(uuid.uuid4()), "resident": city.resident.pk, "kind": "phone",
                                  "wellbeing": "good", "visited_at": datetime.now().astimezone().isoformat()}),
    Resource("patrol-entries", _patrol_entry, max_queries=5,
             create=lambda city: {"client_uuid": str(uuid.uuid4()), "grid": city.micro.pk, "note": "楼道堆物",
                                  "at": datetime.now().astimezone().isoformat()}),
    Resource("care-plans", _care_plan, max_queries=8, update=lambda city, obj: {"note": "每周电话"}),
    # Only managers read the audit log.
    Resource("audit-log", _audit_entry, max_queries=5, expect={("list", "sibling"): 403}),
    # Campaigns (专项排查) and points (积分): a micro-grid worker holds no role that launches campaigns.
    Resource("campaigns", _campaign, max_queries=6, expect=SIBLING_NO_ROLE,
             create=lambda city: {"name": "楼道充电排查", "grid": city.micro.pk, "target": "household",
                                  "checklist": CAMPAIGN_CHECKLIST, "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
             update=lambda city, obj: {"name": "改名排查"}),
    Resource("campaign-tasks", _campaign_task, max_queries=5),
    Resource("points", _point_entry, max_queries=5),
    # The community's shop is seen by its workers below; only its desk staff change it.
    Resource("rewards", _reward, max_queries=4,
             expect={("list", "sibling"): "listed", ("detail", "sibling"): 200, ("update", "sibling"): 403,
                     ("delete", "sibling"): 403},
             create=lambda city: {"community": city.community.pk, "name": "洗衣液", "price": 30, "stock": 10},
             update=lambda city, obj: {"stock": 20}),
    Resource("redemptions", _redemption, max_queries=5,
             create=lambda city: {"reward": _reward(city, 99).pk, "resident": _granted(city).pk,
                                  "client_key": str(uuid.uuid4())}),
    Resource("credits", _credit, max_queries=5),
    # Deliberation (议事): a grid-level topic and its meeting; the sibling micro-grid's worker holds no role there.
    Resource("topics", _topic, max_queries=5,
             create=lambda city: {"title": "港云里停车", "level": "grid", "grid": city.grid.pk},
             update=lambda city, obj: {"version": obj.version, "title": "港云里停车难题"}),
    Resource("meetings", _meeting, max_queries=5,
             create=lambda city: {"topic": _topic(city, 99).pk, "starts_at": datetime.now().astimezone().isoformat(),
                                  "place": "社区议事厅"},
             update=lambda city, obj: {"version": obj.version, "place": "1栋门口"}),
    # Notices (居务公开): publishing only (no edit, no delete: a notice is withdrawn by its action).
    Resource("notices", _notice, max_queries=5, create=lambda city: {"grid": city.micro.pk, "title": "停水通知"}),
    # Leads and volunteers, their neighbour check-ins and volunteer activities.
    Resource("volunteers", _volunteer, max_queries=5,
             create=lambda city: {"role": "unit_lead", "unit": city.unit.pk, "phone": "13912340000",
                                  "display_name": "新单元长", "password": "Lead-pass-1234"},
             update=lambda city, obj: {"is_active": False}),
    Resource("check-ins", _check_in, max_queries=5),
    Resource("activities", _activity, max_queries=5,
             create=lambda city: {"grid": city.micro.pk, "title": "清洁家园",
                                  "starts_at": (datetime.now().astimezone() + timedelta(days=1)).isoformat(),
                                  "ends_at": (datetime.now().astimezone() + timedelta(days=1, hours=2)).isoformat()},
             update=lambda city, obj: {"place": "小区广场"}),
]


def _category_id():
    from gridcase.cases.models import Category

    return Category.objects.get(code="env_drain").pk


test_scope_matrix = matrix(RESOURCES)
test_list_query_count = query_counts(RESOURCES)


def test_every_viewset_of_the_router_has_a_declaration():
    routed = set(viewset_routes())
    declared = [r.route for r in RESOURCES]
    assert len(declared) == len(set(declared)), "a route declared twice"
    assert routed - set(declared) == set(), "viewsets without a declaration in tests/test_resources.py"
    assert set(declared) - routed == set(), "declarations of routes the API no longer serves"


@pytest.mark.parametrize("resource", [pytest.param(r, id=r.route) for r in RESOURCES])
def test_every_declaration_can_run_what_its_viewset_routes(resource):
    """A query budget for its list, and a body for each create and update the viewset serves."""
    actions = viewset_routes()[resource.route][1]
    assert "list" in actions and resource.max_queries > 0
    assert ("create" not in actions) or resource.create or ("create", "in_scope") in resource.expect
    assert ("partial_update" not in actions) or resource.update or ("update", "in_scope") in resource.expect
