"""Handover (issue 9): a worker's open cases and care plans go to a colleague (or are spread by load) through the
case workflow, each receiver told once; a receiver outside the grid is refused with nothing half done. Bulk
reassignment of a console selection goes through the same workflow row, all or nothing."""

import pytest

from gridcase.cases import services, workflow
from gridcase.cases.models import Case, CaseEvent, Category
from gridcase.core.models import AuditLog
from gridcase.grids.choices import Role
from gridcase.grids.scoping import forget_scope
from gridcase.notifications.models import Notification
from gridcase.visits.models import CarePlan

from .. import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def work(city):
    """The micro-grid worker holds two cases (one assigned, one in progress) and a care plan."""
    from tests.cases.conftest import ensure_taxonomy

    ensure_taxonomy()
    category = Category.objects.get(code="env_drain")
    cases = []
    for title, steps in (("楼道堆物", ("accept", "assign")), ("下水道返水", ("accept", "assign", "start"))):
        case = services.create_case(city.grid_worker, {"category": category, "grid": city.micro, "title": title,
                                                       "description": title}).case
        for name in steps:
            actor = city.worker if name == "start" else city.secretary
            data = {"assignee": city.worker.pk} if name == "assign" else {}
            case = workflow.apply(case.pk, name, actor, data, version=case.version)
        cases.append(case)
    plan, _ = CarePlan.objects.get_or_create(resident=city.resident)
    CarePlan.objects.filter(pk=plan.pk).update(worker=city.worker, active=True)
    # Her successor on the same micro-grid (e.g. the building lead taking over).
    successor = f.member(f.UserFactory(username="successor"), city.micro, Role.MICRO_GRID_WORKER)
    return type("Work", (), {"cases": cases, "plan": plan, "successor": successor})


def test_handover_to_a_colleague_moves_cases_and_plans_with_events_and_one_notice(city, work, client_for):
    c = client_for(city.secretary)
    r = c.get(f"/api/v1/users/{city.worker.pk}/handover/")
    assert r.status_code == 200, r.json()
    assert r.json()["cases"] == 2 and r.json()["care_plans"] == 1
    assert work.successor.pk in [p["id"] for p in r.json()["candidates"]]

    before = Notification.objects.filter(recipient=work.successor).count()
    r = c.post(f"/api/v1/users/{city.worker.pk}/handover/", {"to": work.successor.pk}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["receivers"][0]["cases"] == 2 and r.json()["receivers"][0]["care_plans"] == 1
    for case in work.cases:
        case = Case.objects.get(pk=case.pk)
        assert (case.assignee_id, case.status) == (work.successor.pk, "assigned")
        event = CaseEvent.objects.filter(case=case).latest("id")
        assert event.action == "reassign" and event.payload["assignee"] == work.successor.pk
        assert event.version == case.version
    assert CarePlan.objects.get(pk=work.plan.pk).worker_id == work.successor.pk
    assert Notification.objects.filter(recipient=work.successor).count() == before + 1
    assert AuditLog.objects.filter(action="handover", object_id=str(city.worker.pk)).count() == 1
    # The receiver acts on them at once.
    case = Case.objects.get(pk=work.cases[0].pk)
    r = client_for(work.successor).post(f"/api/v1/cases/{case.pk}/start/", {"version": case.version},
                                             format="json")
    assert r.status_code == 200, r.json()


def test_handover_preview_writes_nothing(city, work, client_for):
    r = client_for(city.secretary).post(f"/api/v1/users/{city.worker.pk}/handover/",
                                        {"to": work.successor.pk, "preview": True}, format="json")
    assert r.status_code == 200 and r.json()["preview"] is True
    assert set(Case.objects.filter(pk__in=[c.pk for c in work.cases]).values_list("assignee_id", flat=True)) == {
        city.worker.pk}
    assert not Notification.objects.filter(recipient=work.successor, kind="assigned").exists()


@pytest.mark.parametrize("who", ["sibling", "stranger"])
def test_handover_outside_the_grid_is_refused_and_nothing_moves(city, work, client_for, who):
    # The sibling micro-grid's worker does not work where these cases are owned; the stranger not in the community.
    receiver = city.sibling_worker if who == "sibling" else f.member(f.UserFactory(username="stranger"),
                                                                     city.other_micro, Role.MICRO_GRID_WORKER)
    r = client_for(city.admin, language="en").post(f"/api/v1/users/{city.worker.pk}/handover/",
                                                   {"to": receiver.pk}, format="json")
    assert r.status_code == 400, r.json()
    assert r.json()["code"] == "receiver_outside_grid"
    assert set(Case.objects.filter(pk__in=[c.pk for c in work.cases]).values_list("assignee_id", flat=True)) == {
        city.worker.pk}
    assert CarePlan.objects.get(pk=work.plan.pk).worker_id == city.worker.pk


def test_spread_by_load_gives_each_item_to_the_least_loaded_colleague(city, work, client_for):
    r = client_for(city.secretary).post(f"/api/v1/users/{city.worker.pk}/handover/", {"to": None}, format="json")
    assert r.status_code == 200, r.json()
    receivers = {x["id"]: x for x in r.json()["receivers"]}
    # Only those who work where the cases are owned take them (the successor and the general grid's worker, one
    # each: the least loaded first); the sibling micro-grid's worker takes nothing.
    assert {k: v["cases"] for k, v in receivers.items() if v["cases"]} == {work.successor.pk: 1, city.grid_worker.pk: 1}
    assert CarePlan.objects.get(pk=work.plan.pk).worker_id in (work.successor.pk, city.grid_worker.pk)
    assert city.sibling_worker.pk not in receivers
    assert not Case.objects.filter(assignee=city.worker, status__in=["assigned", "in_progress"]).exists()


def test_only_a_manager_hands_over(city, work, client_for):
    r = client_for(city.grid_worker).post(f"/api/v1/users/{city.worker.pk}/handover/", {"to": work.successor.pk},
                                          format="json")
    assert r.status_code in (403, 404)
    assert Case.objects.get(pk=work.cases[0].pk).assignee_id == city.worker.pk


def test_bulk_reassignment_goes_through_the_workflow_all_or_nothing(city, work, client_for):
    c = client_for(city.secretary)
    a, b = (Case.objects.get(pk=x.pk) for x in work.cases)
    stale = c.post("/api/v1/cases/reassign/", {"assignee": work.successor.pk, "cases": [
        {"id": a.pk, "version": a.version}, {"id": b.pk, "version": b.version - 1}]}, format="json")
    assert stale.status_code == 409
    assert Case.objects.get(pk=a.pk).assignee_id == city.worker.pk  # nothing half done

    r = c.post("/api/v1/cases/reassign/", {"assignee": work.successor.pk, "cases": [
        {"id": a.pk, "version": a.version}, {"id": b.pk, "version": b.version}]}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["cases"] == [a.number, b.number]
    assert set(Case.objects.filter(pk__in=[a.pk, b.pk]).values_list("assignee_id", flat=True)) == {
        work.successor.pk}
    assert Notification.objects.filter(recipient=work.successor, kind="assigned").count() == 1

    r = c.post("/api/v1/cases/reassign/", {"assignee": city.outsider.pk, "cases": [
        {"id": a.pk, "version": a.version + 1}]}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "receiver_outside_grid"


def test_a_leaving_worker_hands_over_and_her_roles_end_together(city, work, client_for):
    from gridcase.grids.models import Membership

    c = client_for(city.secretary)
    r = c.post(f"/api/v1/users/{city.worker.pk}/handover/", {"to": work.successor.pk, "end_roles": True}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["roles_ended"] == [city.micro.name]
    assert not Membership.objects.filter(user=city.worker).exists()
    forget_scope(city.worker)  # the test's user object kept the scope it had (a request loads the user afresh)
    assert client_for(city.worker).get(f"/api/v1/residents/{city.resident.pk}/").status_code == 404
    assert Case.objects.get(pk=work.cases[0].pk).assignee_id == work.successor.pk


def test_roles_the_actor_may_not_end_stop_the_whole_handover(city, work, client_for):
    from gridcase.grids.models import Membership

    # A grid worker's account is managed by the secretary, not by the general grid's own worker.
    r = client_for(city.grid_worker).post(f"/api/v1/users/{city.worker.pk}/handover/",
                                          {"to": work.successor.pk, "end_roles": True}, format="json")
    assert r.status_code in (403, 404)
    assert Membership.objects.filter(user=city.worker).exists()
    assert Case.objects.get(pk=work.cases[0].pk).assignee_id == city.worker.pk
