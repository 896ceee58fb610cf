"""The SLA sweep: warns at yellow, marks red, escalates once where the policy says; idempotent; catches up."""

from datetime import timedelta

from django.utils import timezone

from gridcase.cases import sla, sweep
from gridcase.cases.models import Case, CaseEvent, SlaPolicy
from gridcase.cases.tasks import sla_sweep
from gridcase.notifications.models import Notification

from .conftest import assert_replays


def notices(case, kind):
    return Notification.objects.filter(case_id=case.pk, kind=kind)


def test_deadline_comes_from_the_policy(city, make_case, drive):
    case = make_case()
    SlaPolicy.objects.filter(category__isnull=True, priority="", owner_level="", stage="accept").update(
        working_hours=False, yellow_hours=1, red_hours=3)
    sla.forget_caches()
    case = make_case(title="another")
    assert case.accept_by - case.created_at == timedelta(hours=3)
    assert case.sla_yellow_at - case.created_at == timedelta(hours=1)
    case = drive(case, "accept")
    assert case.sla_stage == "handle" and case.handle_by and case.sla_state == "ok"


def test_yellow_then_red_each_notified_once(city, make_case):
    case = make_case()
    yellow_time = case.sla_yellow_at + timedelta(seconds=1)
    assert sweep.sweep(now=yellow_time)["yellow"] == 1
    assert sweep.sweep(now=yellow_time)["yellow"] == 0
    case.refresh_from_db()
    assert case.sla_state == "yellow"
    assert notices(case, "sla_yellow").count() >= 1
    count = notices(case, "sla_yellow").count()
    red_time = case.sla_red_at + timedelta(seconds=1)
    for _ in range(3):
        sweep.sweep(now=red_time)
    case.refresh_from_db()
    assert case.sla_state == "red"
    assert notices(case, "sla_yellow").count() == count
    recipients = list(notices(case, "sla_red").values_list("recipient_id", flat=True))
    assert len(recipients) == len(set(recipients)) > 0
    assert CaseEvent.objects.filter(case=case, action__startswith="sla_").count() == 2
    # the accept stage does not escalate by itself
    assert case.owner_grid_id == city.micro.pk
    assert_replays(case)


def test_catch_up_after_downtime_goes_straight_to_red_and_escalates_once(city, make_case, drive):
    case = drive(make_case(), "accept", "assign")
    assert case.sla_stage == "handle"
    # The worker sat idle and the sweeper was down for a week.
    later = case.sla_red_at + timedelta(days=7)
    first = sweep.sweep(now=later)
    assert first["red"] == 1 and first["escalated"] == 1 and first["yellow"] == 0
    case.refresh_from_db()
    assert case.owner_grid_id == city.grid.pk and case.status == "accepted" and case.assignee_id is None
    assert case.sla_state == "ok" and case.sla_red_at > later  # the new owner gets a fresh limit
    for _ in range(2):
        again = sweep.sweep(now=later)
        assert again == {"yellow": 0, "red": 0, "escalated": 0}
    case.refresh_from_db()
    assert case.owner_grid_id == city.grid.pk and case.escalation_count == 1
    assert notices(case, "sla_red").exists() and notices(case, "escalated").exists()
    assert [e.action for e in CaseEvent.objects.filter(case=case)][-2:] == ["sla_red", "escalate"]
    assert CaseEvent.objects.filter(case=case, action="escalate").get().actor is None
    assert_replays(case)


def test_acting_resets_the_timer(city, make_case, drive):
    case = make_case()
    sweep.sweep(now=case.sla_red_at + timedelta(minutes=5))
    case.refresh_from_db()
    assert case.sla_state == "red"
    case = drive(case, "accept")
    assert case.sla_state == "ok" and case.sla_stage == "handle"
    assert_replays(case)


def test_finished_cases_are_left_alone(city, make_case, drive):
    case = drive(make_case(), "accept", "assign", "start", "resolve", "verify", "close")
    assert case.sla_stage == ""
    assert sweep.sweep(now=timezone.now() + timedelta(days=365)) == {"yellow": 0, "red": 0, "escalated": 0}


def test_task_runs_the_sweep(city, make_case):
    case = make_case()
    Case.objects.filter(pk=case.pk).update(sla_yellow_at=timezone.now() - timedelta(minutes=1),
                                           sla_red_at=timezone.now() + timedelta(hours=1))
    assert sla_sweep()["yellow"] == 1
    case.refresh_from_db()
    assert case.sla_state == "yellow"


def test_raising_the_priority_brings_the_running_deadline_forward(city, make_case, client_for):
    """A blocked drain reported as normal (3 h to accept) turns out urgent (1 h): the deadline follows."""
    SlaPolicy.objects.filter(category__isnull=True, priority="", owner_level="", stage="accept").update(
        working_hours=False, yellow_hours=1, red_hours=3)
    SlaPolicy.objects.filter(category__isnull=True, priority="urgent", owner_level="", stage="accept").update(
        working_hours=False, yellow_hours=0.5, red_hours=1)
    sla.forget_caches()
    case = make_case()
    assert case.accept_by - case.created_at == timedelta(hours=3)
    r = client_for(city.secretary).patch(f"/api/v1/cases/{case.pk}/", {"version": case.version, "priority": "urgent"},
                                         format="json")
    assert r.status_code == 200, r.json()
    case.refresh_from_db()
    assert case.accept_by - case.created_at == timedelta(hours=1)
    assert case.sla_yellow_at - case.created_at == timedelta(minutes=30)
    edit = CaseEvent.objects.get(case=case, action="edit")
    assert edit.payload["changed"]["priority"] == ["normal", "urgent"] and "deadline" in edit.payload
    # And back: the original limit again.
    client_for(city.secretary).patch(f"/api/v1/cases/{case.pk}/", {"version": case.version, "priority": "normal"},
                                     format="json")
    case.refresh_from_db()
    assert case.accept_by - case.created_at == timedelta(hours=3)
    assert_replays(case)
