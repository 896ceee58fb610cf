"""Campaigns (专项排查) end to end, at desk and phone sizes: the street launches a corridor-charging campaign over its
two communities; one worker answers "yes" online (a case opens), another answers offline (sent once when the
network returns); the console's progress by grid equals the task list; the points entries are there."""

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def answer(phone, household_room, choices, screenshot=None):
    phone.goto("/m/me")
    # The page re-renders as its own requests answer; under load a click in between is lost with the old element.
    phone.wait_for_load_state("networkidle")
    phone.locator("[data-test=me-campaigns]").click()
    phone.wait_for_url("**/m/campaign-tasks")
    phone.locator("[data-test=ct-task]", has_text=household_room).click()
    phone.wait_for_url("**/m/campaign-tasks/*")
    for key, label in choices.items():
        phone.locator(f"[data-test=q-{key}]").get_by_text(label, exact=True).click()
    if screenshot:
        phone.screenshot(path=screenshot, full_page=True)


def test_a_street_campaign_answered_on_phones_shows_as_progress_by_grid(city, desktop, phone, browser, live_server,
                                                                         screenshots):
    from gridcase.campaigns import launching
    from gridcase.campaigns.models import Campaign, CampaignTask
    from gridcase.cases.models import Case
    from gridcase.points.models import PointEntry

    login(desktop, "dispatcher")
    desktop.wait_for_url("**/console/**")
    desktop.goto("/console/campaigns")
    desktop.locator("[data-test=campaign-new]").click()
    desktop.locator("[data-test=campaign-grid]").select_option(label="八里街道")
    desktop.locator("[data-test=campaign-save]").click()
    desktop.wait_for_url("**/console/campaigns/*")
    desktop.locator("[data-test=campaign-launch]").click()
    desktop.locator(".van-dialog__confirm").click()
    expect(desktop.locator("[data-test=campaign-status]")).to_have_text("正在生成任务")
    campaign = Campaign.objects.get()
    launching.run(campaign.pk)  # the Celery job, run here as the worker would
    assert CampaignTask.objects.filter(campaign=campaign).count() == 3

    # The first micro-grid's worker, online: "yes" to corridor charging opens a case.
    login(phone, "worker")
    phone.wait_for_url("**/m/**")
    answer(phone, "101", {"q1": "是", "q2": "畅通"}, str(screenshots / "campaign-phone-answer.png"))
    phone.locator("[data-test=ct-submit]").click()
    phone.wait_for_url("**/m/campaign-tasks")
    task = CampaignTask.objects.get(household=city.household)
    assert task.status == "problem" and Case.objects.filter(pk=task.case_id, category__code="safety_ebike").exists()

    # The sibling micro-grid's worker answers with no signal: kept on the phone, sent once when it returns.
    sibling = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True,
                                  locale="zh-CN", base_url=live_server.url).new_page()
    sibling.set_default_timeout(15000)
    login(sibling, "sibling")
    sibling.wait_for_url("**/m/**")
    answer(sibling, "201", {"q1": "否", "q2": "畅通"})
    sibling.context.set_offline(True)
    sibling.locator("[data-test=ct-submit]").click()
    sibling.wait_for_url("**/m/campaign-tasks")
    expect(sibling.locator("[data-test=ct-task]", has_text="201")).to_contain_text("已保存，等待网络")
    sibling.screenshot(path=str(screenshots / "campaign-phone-offline.png"))
    assert CampaignTask.objects.get(household=city.sibling_household).status == "pending"
    sibling.context.set_offline(False)
    sibling.evaluate("window.dispatchEvent(new Event('online'))")
    for _ in range(40):
        if CampaignTask.objects.get(household=city.sibling_household).status != "pending":
            break
        sibling.wait_for_timeout(500)
    done = CampaignTask.objects.get(household=city.sibling_household)
    assert done.status == "done" and done.answered_by.username == "sibling"
    sibling.evaluate("window.dispatchEvent(new Event('online'))")
    sibling.wait_for_timeout(1500)
    assert CampaignTask.objects.filter(client_uuid=done.client_uuid).count() == 1
    sibling.context.close()

    # Progress by grid on the console equals the task list behind each figure.
    desktop.reload()
    row = desktop.locator(f"[data-test=progress-{city.community.pk}]")
    expect(row).to_contain_text("八里庄社区")
    cells = row.locator("td")
    expect(cells.nth(1)).to_have_text("1")  # done
    expect(cells.nth(2)).to_have_text("1")  # problem found
    expect(cells.nth(3)).to_have_text("0")  # not yet
    expect(desktop.locator(f"[data-test=progress-{city.other_community.pk}] td").nth(3)).to_have_text("1")
    cells.nth(2).locator("button").click()
    tasks = desktop.locator("[data-test=campaign-tasks] tbody tr")
    expect(tasks).to_have_count(1)
    expect(tasks.first).to_contain_text("101")
    desktop.screenshot(path=str(screenshots / "campaign-console-progress.png"), full_page=True)

    # Points for the two tasks, once each.
    assert sorted(PointEntry.objects.filter(rule="campaign_task_done").values_list("user__username", flat=True)) == [
        "sibling", "worker"]
