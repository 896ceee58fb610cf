"""Points (积分): entries written once by the declared rules, append-only corrections, the monthly ranking against a
hand-computed fixture, the caller's standing, overrides per community."""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from gridcase.cases import services, workflow
from gridcase.cases.models import Case, Category
from gridcase.grids.choices import Role
from gridcase.points import ranking, rules, sweeps
from gridcase.points.models import PointEntry, RuleOverride
from gridcase.visits import services as visits
from gridcase.visits.models import CarePlanItem

from .. import factories as f

TZ = ZoneInfo("Asia/Shanghai")


def entries(**kw):
    return list(PointEntry.objects.filter(**kw).values_list("rule", "points"))


def test_a_visit_on_time_earns_points_once(city):
    key = uuid.uuid4()
    data = {"client_uuid": key, "resident": city.resident, "kind": "phone", "wellbeing": "good",
            "visited_at": timezone.now() - timedelta(minutes=5), "findings": ""}
    visits.record_visit(city.worker, data)
    visits.record_visit(city.worker, dict(data))  # the phone resends it
    assert entries(user=city.worker) == [("visit_on_time", 2)]


def test_a_late_visit_earns_nothing_and_the_overdue_sweep_deducts_once(city):
    item = CarePlanItem.objects.filter(care_plan__resident=city.resident, due_on__isnull=False).first()
    CarePlanItem.objects.filter(pk=item.pk).update(due_on=timezone.localdate() - timedelta(days=3))
    assert sweeps.deduct_overdue_visits() >= 1
    assert sweeps.deduct_overdue_visits() == 0  # the sweep runs again: nothing more
    assert ("overdue_visit", -2) in entries(user=city.worker)
    visits.record_visit(city.worker, {"client_uuid": uuid.uuid4(), "resident": city.resident, "kind": item.kind,
                                      "wellbeing": "good", "visited_at": timezone.now(), "findings": ""})
    assert ("visit_on_time", 2) not in entries(user=city.worker)


def _case(city):
    return services.create_case(city.worker, {"category": Category.objects.get(code="env_drain"),
                                              "grid": city.micro, "title": "下水道堵塞", "description": "返水"}).case


def _drive(case, *steps):
    for action, actor, data in steps:
        case = workflow.apply(case.pk, action, actor, data, version=Case.objects.get(pk=case.pk).version)
    return case


def test_a_case_resolved_on_time_and_rated_well(city):
    case = _case(city)
    _drive(case, ("accept", city.secretary, {}), ("assign", city.secretary, {"assignee": city.worker.pk}),
           ("start", city.worker, {}), ("resolve", city.worker, {"note": "已疏通"}))
    assert entries(user=city.worker) == [("case_resolved_on_time", 5)]
    # Reopened and resolved again: still once.
    Case.objects.filter(pk=case.pk).update(status="in_progress")
    _drive(case, ("resolve", city.worker, {"note": "再次疏通"}))
    assert entries(user=city.worker, rule="case_resolved_on_time") == [("case_resolved_on_time", 5)]


def test_a_red_sla_costs_the_assignee_once_per_stage(city):
    from gridcase.cases import sweep

    case = _drive(_case(city), ("accept", city.secretary, {}),
                  ("assign", city.secretary, {"assignee": city.worker.pk}))
    later = timezone.now() + timedelta(days=60)
    sweep.sweep(later)
    sweep.sweep(later)
    assert entries(user=city.worker, rule="sla_red") == [("sla_red", -5)], Case.objects.get(pk=case.pk).sla_state


def test_a_communitys_override_and_a_switched_off_rule(city):
    RuleOverride.objects.create(community=city.community, rule="campaign_task_done", points=4)
    RuleOverride.objects.create(community=city.other_community, rule="campaign_task_done", points=0)
    other = f.member(f.UserFactory(username="ow"), city.other_micro, Role.MICRO_GRID_WORKER)
    assert rules.award("campaign_task_done", city.household, city.worker, grid=city.micro).points == 4
    assert rules.award("campaign_task_done", city.other_household, other, grid=city.other_micro) is None


def test_entries_are_append_only_and_a_correction_is_a_new_entry(city, client_for):
    entry = rules.award("campaign_task_done", city.household, city.worker, grid=city.micro)
    entry.points = 100
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()
    r = client_for(city.secretary).post(f"/api/v1/points/{entry.pk}/correct/", {"points": -1, "note": "重复计分"},
                                        format="json")
    assert r.status_code == 201, r.content
    assert r.json()["corrects"] == entry.pk and r.json()["points"] == -1
    again = client_for(city.secretary).post(f"/api/v1/points/{entry.pk}/correct/", {"points": -1, "note": "x"},
                                            format="json")
    assert again.status_code == 400 and again.json()["code"] == "already_corrected"
    assert client_for(city.worker).post(f"/api/v1/points/{entry.pk}/correct/", {"points": 5, "note": "x"},
                                        format="json").status_code == 403


def _at(day):
    return datetime(2026, 11, day, 10, 0, tzinfo=TZ)


@pytest.fixture
def month_of_points(city):
    """A hand-computed November 2026 in 八里庄社区 (and one entry elsewhere that must not count):

        worker      2 + 5 + 3 - 2      = 8      → 1st
        sibling     5 + 3              = 8      → 1st (tie)
        gridworker  2 + 2 + 2          = 6      → 3rd
        otherworker (和惠社区)  +50        not in 八里庄's ranking
        worker, 1 December: +100           another month
    """
    other = f.member(f.UserFactory(username="ow"), city.other_micro, Role.MICRO_GRID_WORKER)
    w, s, g = city.worker, city.sibling_worker, city.grid_worker
    plan = [(w, "visit_on_time", 1, city.micro), (w, "case_resolved_on_time", 2, city.micro),
            (w, "good_rating", 3, city.micro), (w, "overdue_visit", 4, city.micro),
            (s, "case_resolved_on_time", 5, city.sibling_micro), (s, "good_rating", 6, city.sibling_micro),
            (g, "visit_on_time", 7, city.grid), (g, "visit_on_time", 8, city.grid),
            (g, "visit_on_time", 9, city.grid), (other, "case_resolved_on_time", 10, city.other_micro)]
    for i, (who, rule, day, grid) in enumerate(plan):
        points = 50 if who == other else None
        rules.award(rule, city.household, who, grid=grid, at=_at(day), points=points,
                    suffix=str(i))
    rules.award("good_rating", city.household, w, grid=city.micro, at=datetime(2026, 12, 1, 9, tzinfo=TZ),
                points=100, suffix="dec")
    return other


def test_the_monthly_ranking_matches_the_hand_computed_month(city, client_for, month_of_points):
    r = client_for(city.secretary).get("/api/v1/points/ranking/", {"month": "2026-11"})
    assert r.status_code == 200, r.content
    assert r.json()["grid"]["id"] == city.community.pk
    got = [(row["user"], row["points"], row["rank"]) for row in r.json()["results"]]
    assert got == [(city.worker.pk, 8, 1), (city.sibling_worker.pk, 8, 1), (city.grid_worker.pk, 6, 3)]
    # One grid lower: the general grid's micro-grids and itself are the same people here; a micro-grid has one.
    micro = client_for(city.secretary).get("/api/v1/points/ranking/", {"month": "2026-11", "grid": city.micro.pk})
    assert [(row["user"], row["points"]) for row in micro.json()["results"]] == [(city.worker.pk, 8)]
    street = client_for(city.dispatcher).get("/api/v1/points/ranking/", {"month": "2026-11",
                                                                          "grid": city.street.pk}).json()
    assert street["results"][0] == {"user": month_of_points.pk, "name": street["results"][0]["name"], "points": 50,
                                    "rank": 1}
    # The secretary cannot rank another community.
    assert client_for(city.secretary).get("/api/v1/points/ranking/", {"grid": city.other_community.pk}
                                          ).status_code == 404
    x = client_for(city.secretary).get("/api/v1/points/ranking/export/", {"month": "2026-11"})
    assert x.status_code == 200 and x["Content-Type"].startswith("application/vnd.openxmlformats")


def test_the_phone_line_this_months_points_and_place(city, client_for, month_of_points):
    r = client_for(city.grid_worker).get("/api/v1/points/me/", {"month": "2026-11"})
    assert r.json() == {"month": "2026-11", "points": 6, "rank": 3, "of": 3,
                        "grid": {"id": city.community.pk, "name": city.community.name, "level": "community"}}
    assert ranking.standing(city.worker, ranking.parse_month("2026-12"))["points"] == 100
    assert client_for(city.worker).get("/api/v1/points/me/", {"month": "11/2026"}).json()["code"] == "invalid_month"


def test_the_ledger_lists_in_scope(city, client_for, month_of_points):
    mine = client_for(city.worker).get("/api/v1/points/", {"mine": "true", "month": "2026-11"}).json()["results"]
    assert sorted(e["points"] for e in mine) == [-2, 2, 3, 5]
    outsider = client_for(city.outsider).get("/api/v1/points/", {"month": "2026-11"}).json()["results"]
    assert [e["points"] for e in outsider] == [50]
