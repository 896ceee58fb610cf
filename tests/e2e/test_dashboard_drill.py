"""Dashboards that drill, and dispatching from the console, at 1440×900 (issue 12).

Every figure opens the list behind it with the figure's count (the list asks the server for its count); the assign
picker on a case; bulk accept and assign of 20 cases from the case list."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from gridcase.cases.models import Case, Category
from gridcase.cases.services import create_case
from gridcase.stats import rollup

from ..stats.helpers import make_case
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def wide(browser, live_server):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def number(text: str) -> int:
    return int(re.search(r"\d+", text.replace(",", "")).group())


def list_count(page) -> int:
    expect(page.locator("[data-test=drill-count]")).to_be_visible()
    return number(page.locator("[data-test=drill-count]").inner_text())


def the_community_cases(city):
    """Cases of the last days in the community: 12 in the first general grid (enough to be ranked), 2 in the
    dedicated grid; a mix of statuses, answers and ratings."""
    now = timezone.now()
    for i in range(12):
        created = now - timedelta(days=i % 5, hours=3 + i)
        closed = i % 3 == 0
        make_case(city.micro if i % 2 else city.sibling_micro, created, status="closed" if closed else "accepted",
                  responded=created + timedelta(hours=1 if i % 4 else 6), resolved=created + timedelta(hours=5) if closed else None,
                  handle_by=created + timedelta(days=2), rating="satisfied" if closed and i % 2 else "")
    for i in range(2):
        make_case(city.sibling_micro, now - timedelta(days=1, hours=i), dedicated=city.dedicated, status="reported")
    rollup.rebuild()


def test_figures_and_a_ranking_row_open_lists_with_the_same_count(city, wide, screenshots):
    the_community_cases(city)
    login(wide, "secretary")
    wide.wait_for_url(re.compile(r"/console"))
    wide.goto("/console/dashboard")
    expect(wide.locator("[data-test=as-of]")).to_be_visible()
    total = wide.locator("[data-test=figure-total]")
    expect(total).to_have_text("14")
    wide.screenshot(path=str(screenshots / "dashboard-drill.png"), full_page=True)

    # 1. The number of cases.
    total.click()
    wide.wait_for_url(re.compile(r"/console/cases\?"))
    assert list_count(wide) == 14
    expect(wide.locator("table.cases tbody tr")).to_have_count(14)
    wide.screenshot(path=str(screenshots / "dashboard-drill-list.png"))
    wide.go_back()

    # 2. A status: 已结案.
    closed = wide.locator("[data-test=status-closed]")
    expected = number(closed.inner_text())
    assert expected == Case.objects.filter(status="closed").count() == 4
    closed.click()
    assert list_count(wide) == expected
    wide.go_back()

    # 3. A rate's numerator: cases answered on time (the card shows "n / N 件").
    numerator = wide.locator("[data-test=numerator-response_rate]")
    expected = number(numerator.inner_text())
    wide.locator("[data-test=figure-response_rate]").click()
    assert list_count(wide) == expected
    wide.go_back()
    denominator = wide.locator("[data-test=denominator-response_rate]")
    expected = number(denominator.inner_text())
    denominator.click()
    assert list_count(wide) == expected == 14
    wide.go_back()

    # 4. A ranking row, ranked by the number of cases: the general grid's row opens its cases.
    wide.locator("[data-test=ranking-metric]").select_option("total")
    row = wide.locator(f"[data-test=ranking-row-{city.grid.pk}]")
    expect(row.locator("[data-test=ranking-value]")).to_have_text("14")  # its micro-grids and the dedicated grid's
    expected = number(row.locator("[data-test=ranking-value]").inner_text())
    wide.screenshot(path=str(screenshots / "dashboard-ranking.png"), full_page=True)
    row.click()
    assert list_count(wide) == expected
    wide.go_back()

    # 5. Visit coverage opens the care plans behind it.
    # (the persona city's elderly resident, visited by nobody yet but whose plan started today: on time).
    overall = wide.locator("[data-test=coverage-overall]")
    expect(overall).to_be_visible()
    shown = wide.locator(".coverage__overall .gc-muted").inner_text()  # "(on time / residents)"
    overall.click()
    wide.wait_for_url(re.compile(r"/console/care-plans\?"))
    assert list_count(wide) == number(shown)
    expect(wide.locator("[data-test=care-plans] tbody tr")).to_have_count(number(shown))
    wide.screenshot(path=str(screenshots / "dashboard-care-plans.png"))


def test_the_grid_picker_searches_the_whole_area(city, wide, screenshots):
    the_community_cases(city)
    login(wide, "dispatcher")
    wide.wait_for_url(re.compile(r"/console"))
    wide.goto("/console/dashboard")
    expect(wide.locator("[data-test=figure-total]")).to_have_text("14")
    wide.locator("[data-test=grid-picker]").click()
    wide.locator("[data-test=grid-picker-search]").fill(city.dedicated.name[:2])
    results = wide.locator("[data-test=grid-picker-results]")
    expect(results).to_contain_text(city.dedicated.name)
    wide.screenshot(path=str(screenshots / "dashboard-grid-picker.png"))
    results.get_by_role("button", name=re.compile(city.dedicated.name)).first.click()
    expect(wide.locator("[data-test=grid-picker]")).to_contain_text(city.dedicated.name)
    expect(wide.locator("[data-test=figure-total]")).to_have_text("2")
    wide.locator("[data-test=figure-total]").click()
    assert list_count(wide) == 2


def test_a_failed_figure_is_an_error_not_a_dash(city, wide):
    login(wide, "secretary")
    wide.wait_for_url(re.compile(r"/console"))
    wide.route("**/api/v1/stats/summary/**", lambda route: route.fulfill(
        status=503, content_type="application/json", body='{"code": "unavailable", "message": "数据库维护中"}'))
    wide.goto("/console/dashboard")
    expect(wide.locator("[data-test=summary-error]")).to_contain_text("数据库维护中")


def _reported(city, n, title):
    category = Category.objects.get(code="env_drain")
    return [create_case(city.worker, {"category": category, "grid": city.micro, "title": f"{title}{i}",
                                      "description": "3栋"}).case for i in range(n)]


def test_assign_from_the_picker(city, wide, screenshots):
    (case,) = _reported(city, 1, "楼道灯不亮")
    login(wide, "secretary")
    wide.wait_for_url(re.compile(r"/console"))
    wide.goto(f"/console/cases/{case.pk}")
    wide.get_by_role("button", name="受理", exact=True).click()
    wide.locator("form.action-form button[type=submit]").click()  # 确认
    expect(wide.locator("form.action-form")).to_be_hidden()
    expect(wide.get_by_role("button", name="派遣", exact=True)).to_be_visible()
    wide.get_by_role("button", name="派遣", exact=True).click()
    form = wide.locator("form.action-form")
    people = form.locator(".picker__list .van-cell")
    expect(people.first).to_be_visible()
    people.first.click()
    wide.screenshot(path=str(screenshots / "console-assign-picker.png"))
    form.locator("button[type=submit]").click()
    expect(form).to_be_hidden()
    case.refresh_from_db()
    assert case.status == "assigned" and case.assignee_id is not None
    expect(wide.locator("body")).to_contain_text("已派遣")


def test_bulk_accept_and_assign_20_cases(city, wide, screenshots):
    cases = _reported(city, 20, "垃圾桶满溢")
    login(wide, "secretary")
    wide.wait_for_url(re.compile(r"/console"))
    wide.goto("/console/cases")
    for c in cases:
        wide.locator(f"[data-test=pick-{c.pk}]").check()
    with wide.expect_response(re.compile(r"/api/v1/cases/bulk/")):
        wide.locator("[data-test=bulk-accept]").click()
    expect(wide.locator("[data-test=bulk-results]")).to_contain_text("成功 20 件，失败 0 件")
    statuses = list(Case.objects.filter(pk__in=[c.pk for c in cases]).values_list("status", "assignee_id"))
    assert statuses == [("accepted", None)] * 20, statuses
    # The selection is kept across the reload: assign all twenty to one worker.
    wide.locator("[data-test=bulk-action-assignee]").select_option(index=1)
    with wide.expect_response(re.compile(r"/api/v1/cases/bulk/")) as answer:
        wide.locator("[data-test=bulk-assign]").click()
    assert answer.value.status == 200
    results = answer.value.json()["results"]
    assert len(results) == 20 and all(r["ok"] for r in results), results
    expect(wide.locator("[data-test=bulk-results]")).to_contain_text("成功 20 件，失败 0 件")
    expect(wide.locator("table.cases tbody tr")).to_have_count(20)  # the list reloaded with the new states
    expect(wide.locator("table.cases tbody")).to_contain_text("已派遣")
    wide.screenshot(path=str(screenshots / "console-bulk-assign.png"), full_page=True)
    assigned = Case.objects.filter(pk__in=[c.pk for c in cases], status="assigned")
    assert assigned.count() == 20 and len(set(assigned.values_list("assignee_id", flat=True))) == 1
