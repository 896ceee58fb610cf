"""Care plans follow key-population tags; cadences come from the rules, a community's own rules and
escalation after a worrying visit."""

from datetime import date, timedelta

from gridcase.grids.services import set_resident_tags
from gridcase.visits.models import CadenceRule, CarePlan, CarePlanItem
from gridcase.visits.services import refresh_plan

from .. import factories as f
from .conftest import at, items_of, log_visit, plan_of, tag


def test_tagged_resident_gets_a_plan_with_default_cadences(city, today):
    # The city fixture tags 王秀英 as elderly living alone: home visit weekly, phone call every 2 days.
    items = items_of(city.resident)
    assert {k: i.every_n_days for k, i in items.items()} == {"home": 7, "phone": 2}
    plan = plan_of(city.resident)
    assert plan.active and plan.worker is None


def test_untagging_ends_the_plan_and_retagging_restarts_it(city, today):
    set_resident_tags(city.resident, [])
    plan = plan_of(city.resident)
    assert not plan.active and plan.ended_on == today.get()
    assert not CarePlanItem.objects.filter(care_plan=plan, due_on__isnull=False).exists()

    today.days(3)
    set_resident_tags(city.resident, [tag("low_income")])
    plan = plan_of(city.resident)
    assert plan.active and plan.started_on == today.get() and plan.ended_on is None
    items = items_of(city.resident)
    assert {k: i.every_n_days for k, i in items.items()} == {"home": 30}
    # No contact yet: the first home visit is due one cadence after the plan started (a calendar month).
    assert items["home"].due_on == date(2026, 12, 19)


def test_tagging_from_the_tag_side_starts_a_plan(city, today):
    assert not CarePlan.objects.filter(resident=city.sibling_resident).exists()
    tag("disabled").residents.add(city.sibling_resident)
    assert plan_of(city.sibling_resident).active
    tag("disabled").residents.remove(city.sibling_resident)
    assert not plan_of(city.sibling_resident).active


def test_several_tags_take_the_most_frequent_cadence(city, today):
    set_resident_tags(city.sibling_resident, [tag("low_income"), tag("elderly_80")])
    items = items_of(city.sibling_resident)
    assert {k: i.every_n_days for k, i in items.items()} == {"home": 14, "phone": 7, "outreach": 90}


def test_a_community_rule_replaces_the_default_only_there(city, today):
    CadenceRule.objects.create(community=city.community, tag=tag("low_income"), kind="home", every_n_days=14)
    set_resident_tags(city.sibling_resident, [tag("low_income")])
    set_resident_tags(city.other_resident, [tag("low_income")])
    assert items_of(city.sibling_resident)["home"].every_n_days == 14
    assert items_of(city.other_resident)["home"].every_n_days == 30


def test_inactive_resident_leaves_the_round(city, today):
    city.resident.is_active = False
    city.resident.save()
    assert not plan_of(city.resident).active
    city.resident.is_active = True
    city.resident.save()
    assert plan_of(city.resident).active


def test_phone_call_moves_the_next_due_date(city, today):
    d = today.get()
    log_visit(city.worker, city.resident, "phone", at(d))
    assert items_of(city.resident)["phone"].due_on == d + timedelta(days=2)
    # A home visit also counts as a call: the next call is two days after it.
    today.days(1)
    log_visit(city.worker, city.resident, "home", at(d + timedelta(days=1)))
    items = items_of(city.resident)
    assert items["phone"].due_on == d + timedelta(days=3)
    assert items["home"].due_on == d + timedelta(days=8)


def test_attention_raises_calls_to_daily_until_a_good_visit(city, today):
    d = today.get()
    log_visit(city.worker, city.resident, "home", at(d), wellbeing="attention", findings="咳嗽，精神差")
    plan = plan_of(city.resident)
    assert plan.escalated and plan.wellbeing == "attention"
    phone = items_of(city.resident)["phone"]
    assert phone.every_n_days == 1 and phone.due_on == d + timedelta(days=1)  # a daily call, due tomorrow

    today.days(1)
    log_visit(city.worker, city.resident, "phone", at(d + timedelta(days=1)), wellbeing="attention")
    assert items_of(city.resident)["phone"].due_on == d + timedelta(days=2)

    today.days(1)
    log_visit(city.worker, city.resident, "phone", at(d + timedelta(days=2)), wellbeing="good")
    plan = plan_of(city.resident)
    assert not plan.escalated and plan.wellbeing == "good"
    phone = items_of(city.resident)["phone"]
    assert phone.every_n_days == 2 and phone.due_on == d + timedelta(days=4)


def test_late_synced_older_visit_does_not_undo_a_newer_one(city, today):
    d = today.days(2)
    log_visit(city.worker, city.resident, "phone", at(d), wellbeing="good")
    # A phone that was offline yesterday syncs an older, worrying visit: the latest contact still says good.
    log_visit(city.worker, city.resident, "home", at(d - timedelta(days=1)), wellbeing="attention")
    plan = plan_of(city.resident)
    assert not plan.escalated and plan.wellbeing == "good"
    assert items_of(city.resident)["home"].due_on == d + timedelta(days=6)


def test_escalation_adds_daily_calls_even_without_a_phone_rule(city, today):
    set_resident_tags(city.sibling_resident, [tag("low_income")])  # home visits monthly, no calls
    d = today.get()
    log_visit(city.sibling_worker, city.sibling_resident, "home", at(d), wellbeing="attention")
    assert items_of(city.sibling_resident)["phone"].due_on == d + timedelta(days=1)
    log_visit(city.sibling_worker, city.sibling_resident, "phone", at(d, 8).replace(minute=30), wellbeing="good")
    assert "phone" not in items_of(city.sibling_resident)


def test_custom_cadence_survives_a_refresh(city, today):
    plan = plan_of(city.resident)
    CarePlanItem.objects.filter(care_plan=plan, kind="home").update(custom_days=3)
    refresh_plan(plan)
    assert items_of(city.resident)["home"].every_n_days == 3


def test_new_micro_grid_worker_inherits_default_plans(city, today):
    from gridcase.visits.services import responsible_workers

    plan = CarePlan.objects.select_related("resident").get(resident=city.resident)
    assert responsible_workers([plan]) == {plan.pk: [city.worker.pk]}
    newcomer = f.member(f.UserFactory(username="newcomer"), city.micro, "micro_grid_worker")
    assert responsible_workers([plan]) == {plan.pk: [city.worker.pk, newcomer.pk]}


def test_tagging_through_the_residents_api_starts_and_ends_a_plan(city, client_for, today):
    client = client_for(city.secretary)
    url = f"/api/v1/residents/{city.sibling_resident.pk}/"
    response = client.patch(url, {"tags": ["elderly_80"]}, format="json")
    assert response.status_code == 200, response.data
    plans = client.get("/api/v1/care-plans/", {"resident": city.sibling_resident.pk}).data["results"]
    assert len(plans) == 1 and {i["kind"] for i in plans[0]["items"]} == {"home", "phone", "outreach"}
    client.patch(url, {"tags": []}, format="json")
    assert client.get("/api/v1/care-plans/", {"resident": city.sibling_resident.pk}).data["results"] == []
    ended = client.get("/api/v1/care-plans/", {"resident": city.sibling_resident.pk, "active": "false"}).data
    assert ended["results"][0]["ended_on"] == today.get().isoformat()
