"""未诉先办 in the console at 1440×900: the story (e-bike charging over a wire, 飞线充电, four times in one building) is
seeded, the hotspot job runs, the secretary sees the hotspot on the dashboard, opens it and opens one preventive
case from it."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from gridcase.cases.models import Case, Category, Hotspot
from gridcase.cases.services import create_case
from gridcase.cases.tasks import detect_hotspots

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)

STORY = [(26, "住户从窗口飞线给电动车充电"), (17, "楼下又有人飞线充电"), (9, "一楼私拉电线充电"), (3, "住户飞线充电")]


def seed_story(city):
    wiring = Category.objects.get(code="safety_wiring")
    now = timezone.now()
    return [create_case(city.worker, {"category": wiring, "grid": city.micro, "building": city.building,
                                      "title": f"{city.building.name}{title}", "description": "巡查发现",
                                      "location": {"lat": 30.6601 + days / 1e5, "lng": 104.0801}},
                        now=now - timedelta(days=days)).case for days, title in STORY]


@pytest.fixture
def wide(browser, live_server):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(20000)
    yield page
    context.close()


def test_a_hotspot_appears_after_seeding_its_story_and_opens_one_preventive_case(city, wide, screenshots):
    cases = seed_story(city)
    assert "1 new" in detect_hotspots()
    hotspot = Hotspot.objects.get()
    assert hotspot.kind == "building" and hotspot.count == 4

    login(wide, "secretary")
    wide.wait_for_url(re.compile(r"/console"))
    wide.goto("/console/dashboard")
    panel = wide.locator("[data-test=hotspots-panel]")
    item = panel.locator(f"[data-test=hotspot-{hotspot.pk}]")
    expect(item).to_contain_text("私拉电线")
    expect(item).to_contain_text(city.building.name)
    expect(item).to_contain_text("30天内4次")
    wide.screenshot(path=str(screenshots / "hotspots-dashboard.png"), full_page=False)

    item.click()
    wide.wait_for_url(re.compile(rf"/console/hotspots/{hotspot.pk}$"))
    for case in cases:
        expect(wide.locator("body")).to_contain_text(case.number)
    wide.screenshot(path=str(screenshots / "hotspots-detail.png"), full_page=True)

    wide.locator("[data-test=open-preventive]").click()
    expect(wide.locator("[role=status]").filter(has_text="已开预防性事件")).to_be_visible()
    link = wide.locator("[data-test=preventive-case]")
    expect(link).to_be_visible()
    expect(wide.locator("[data-test=open-preventive]")).to_have_count(0)  # once
    wide.screenshot(path=str(screenshots / "hotspots-opened.png"), full_page=True)

    hotspot.refresh_from_db()
    case = Case.objects.get(pk=hotspot.preventive_case_id)
    assert hotspot.status == "handled" and case.reporter_id == city.secretary.pk
    assert case.category.code == "safety_wiring" and case.building_id == city.building.pk
    link.click()
    wide.wait_for_url(re.compile(rf"/console/cases/{case.pk}$"))
    expect(wide.locator("body")).to_contain_text(case.number)

    # the map shows it as a point
    hotspot.status = "open"  # the map shows the open ones: as if it were still waiting for its case
    hotspot.save(update_fields=["status"])
    wide.goto("/console/map")
    expect(wide.locator("[data-test=legend-hotspots]")).to_be_visible()
    expect(wide.locator("path.gc-point")).to_have_count(1)
    wide.screenshot(path=str(screenshots / "hotspots-map.png"), full_page=False)
    hotspot.status = "handled"
    hotspot.save(update_fields=["status"])

    # the list page shows it handled, with its case's number
    wide.goto("/console/hotspots?")
    wide.get_by_label("状态").select_option("handled")
    expect(wide.locator(f"[data-test=hotspot-row-{hotspot.pk}]")).to_contain_text(case.number)
    wide.screenshot(path=str(screenshots / "hotspots-list.png"), full_page=False)
