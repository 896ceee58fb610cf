"""Issue 9 in the console at desktop size: a unit moved to the neighbouring micro-grid with a preview first (old
worker loses it, new worker gains it, the care plan and the open case follow — checked through the API as both
workers), and a worker's work handed over."""

import re

import pytest
from playwright.sync_api import expect
from rest_framework.test import APIClient

from gridcase.cases import services, workflow
from gridcase.cases.models import Case, Category
from gridcase.grids.choices import Role
from gridcase.grids.models import Resident, Unit
from gridcase.visits.models import CarePlan

from .. import factories as f
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def open_case(city):
    from tests.cases.conftest import ensure_taxonomy

    ensure_taxonomy()
    case = services.create_case(city.grid_worker, {"category": Category.objects.get(code="env_drain"),
                                                   "grid": city.micro, "title": "楼道堆物", "description": "1单元",
                                                   "unit": city.unit}).case
    for name, data in (("accept", {}), ("assign", {"assignee": city.worker.pk})):
        case = workflow.apply(case.pk, name, city.secretary, data, version=case.version)
    plan, _ = CarePlan.objects.get_or_create(resident=city.resident)
    return case


def api_as(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_unit_moved_to_the_neighbouring_micro_grid_with_preview(city, open_case, desktop, screenshots):
    old, new = api_as(city.worker), api_as(city.sibling_worker)
    assert old.get(f"/api/v1/residents/{city.resident.pk}/").status_code == 200
    assert new.get(f"/api/v1/residents/{city.resident.pk}/").status_code == 404

    login(desktop, "secretary")
    desktop.wait_for_url(re.compile(r"/console"))
    desktop.goto("/console/moves")
    expect(desktop.locator("h1")).to_contain_text("调整网格")
    desktop.locator("[data-test=building]").select_option(str(city.building.pk))
    desktop.locator("[data-test=unit]").select_option(str(city.unit.pk))
    desktop.locator("[data-test=target]").select_option(str(city.sibling_micro.pk))
    desktop.locator("[data-test=cases-follow]").check()
    expect(desktop.locator("[data-test=apply]")).to_be_disabled()  # preview first
    desktop.locator("[data-test=preview]").click()
    summary = desktop.locator("[data-test=move-summary]")
    expect(summary).to_contain_text("未保存")
    expect(desktop.locator(f"[data-test=load-{city.micro.pk}]")).to_contain_text("1 → 0")
    expect(desktop.locator("[data-test=moved-cases]")).to_contain_text("随迁 1 件")
    desktop.screenshot(path=str(screenshots / "console-move-preview.png"), full_page=True)
    assert Unit.objects.get(pk=city.unit.pk).micro_grid_id == city.micro.pk  # the preview wrote nothing

    desktop.locator("[data-test=apply]").click()
    expect(desktop.locator("[data-test=move-done]")).to_be_visible()
    expect(summary).to_contain_text("已保存")
    desktop.screenshot(path=str(screenshots / "console-move-applied.png"), full_page=True)

    # Through the API as both workers: the old one lost the resident, the case and the plan; the new one has them.
    assert Resident.objects.get(pk=city.resident.pk).grid_id == city.sibling_micro.pk
    assert old.get(f"/api/v1/residents/{city.resident.pk}/").status_code == 404
    assert old.get(f"/api/v1/cases/{open_case.pk}/").status_code == 404
    assert new.get(f"/api/v1/residents/{city.resident.pk}/").status_code == 200
    assert new.get(f"/api/v1/cases/{open_case.pk}/").json()["owner_grid"] == city.sibling_micro.pk
    plans = [p["resident"] for p in new.get("/api/v1/care-plans/").json()["results"]]
    assert city.resident.pk in plans
    assert city.resident.pk not in [p["resident"] for p in old.get("/api/v1/care-plans/").json()["results"]]


def test_unit_move_that_breaks_three_unbroken_is_refused_in_the_console(city, desktop, screenshots):
    """A unit cannot leave its building's general grid: the console does not offer it, and the API refuses it."""
    r = api_as(city.secretary).post(f"/api/v1/units/{city.unit.pk}/move/", {"to": city.other_micro.pk},
                                    format="json")
    assert r.status_code == 400


def test_handover_of_a_workers_cases(city, open_case, desktop, screenshots):
    successor = f.member(f.UserFactory(username="successor", first_name="接班人"), city.micro, Role.MICRO_GRID_WORKER)
    login(desktop, "secretary")
    desktop.wait_for_url(re.compile(r"/console"))
    desktop.goto("/console/handover")
    desktop.locator("[data-test=worker]").select_option(str(city.worker.pk))
    expect(desktop.locator("[data-test=work]")).to_contain_text("未办结事件 1 件")
    desktop.locator(f"[data-test=to-{successor.pk}]").check()
    desktop.locator("[data-test=handover-preview]").click()
    expect(desktop.locator("[data-test=handover-summary]")).to_contain_text("预览")
    desktop.locator("[data-test=handover-apply]").click()
    expect(desktop.locator("[data-test=handover-done]")).to_be_visible()
    desktop.screenshot(path=str(screenshots / "console-handover.png"), full_page=True)
    assert Case.objects.get(pk=open_case.pk).assignee_id == successor.pk


def test_bulk_reassignment_of_selected_cases_from_the_case_list(city, open_case, desktop, screenshots):
    from tests.cases.conftest import ensure_taxonomy

    ensure_taxonomy()
    second = services.create_case(city.grid_worker, {"category": Category.objects.get(code="env_drain"),
                                                     "grid": city.micro, "title": "路灯不亮", "description": "2单元"}).case
    for name, data in (("accept", {}), ("assign", {"assignee": city.worker.pk})):
        second = workflow.apply(second.pk, name, city.secretary, data, version=second.version)
    successor = f.member(f.UserFactory(username="successor", first_name="接班人"), city.micro, Role.MICRO_GRID_WORKER)

    login(desktop, "secretary")
    desktop.wait_for_url(re.compile(r"/console/cases"))
    desktop.locator(f"[data-test=pick-{open_case.pk}]").check()
    desktop.locator(f"[data-test=pick-{second.pk}]").check()
    expect(desktop.locator("[data-test=bulk-bar]")).to_contain_text("已选 2 件")
    desktop.locator("[data-test=bulk-assignee]").select_option(str(successor.pk))
    desktop.screenshot(path=str(screenshots / "console-bulk-reassign.png"), full_page=True)
    desktop.locator("[data-test=bulk-apply]").click()
    expect(desktop.locator("[data-test=bulk-done]")).to_contain_text("已改派 2 件")
    assert set(Case.objects.filter(pk__in=[open_case.pk, second.pk]).values_list("assignee_id", flat=True)) == {
        successor.pk}
