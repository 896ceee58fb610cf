"""Deliberation (议事) in the browser: a topic raised from a parking case on the console → a consultation with
sign-in on a phone (one of them while offline, sent when the network returns, once) → a vote and the close →
the decision with two follow-up actions turned into cases → the cases closed through the case workflow →
the topic followed through, shown on the topic, the case and the dashboard."""

import re

import pytest
from playwright.sync_api import expect

from gridcase.cases import workflow
from gridcase.cases.models import Category
from gridcase.cases.services import create_case
from gridcase.deliberation.models import Attendee, Consultation, Topic, TopicStatus

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def close_through_workflow(city, case):
    steps = [("accept", city.secretary, {}), ("assign", city.secretary, {"assignee": city.worker.pk}),
             ("start", city.worker, {}), ("resolve", city.worker, {"note": "已完成"}),
             ("verify", city.grid_worker, {}), ("close", city.secretary, {})]
    for name, user, data in steps:
        case.refresh_from_db()
        case = workflow.apply(case.pk, name, user, data, version=case.version)


def test_topic_from_a_parking_case_followed_through(city, desktop, phone, screenshots):
    parking = Category.objects.get(code="dispute_parking")
    case = create_case(city.worker, {"category": parking, "grid": city.micro, "title": "港云里消防通道反复停车",
                                     "description": "晚间私家车占用消防通道"}).case

    # The console: raise a topic from the case.
    login(desktop, "secretary")
    desktop.wait_for_url(re.compile(r"/console"))
    desktop.goto(f"/console/cases/{case.pk}")
    desktop.locator("[data-test=raise-from-case]").click()
    form = desktop.locator("[data-test=topic-form]")
    expect(form.locator("input[name=title]")).to_have_value("港云里消防通道反复停车")
    form.locator("input[name=title]").fill("港云里停车难")
    form.locator("select[name=level]").select_option("grid")
    form.locator("select[name=grid]").select_option(str(city.grid.pk))
    form.locator("input[name=residents_scope]").fill("港云里全体住户")
    form.locator("[data-test=topic-submit]").click()
    expect(desktop.locator("[data-test=topic-title]")).to_have_text("港云里停车难")
    topic = Topic.objects.get(title="港云里停车难")
    assert topic.case_id == case.pk and topic.origin == "case"
    expect(desktop.locator("[data-test=topic-case]")).to_have_text(case.number)

    # Schedule the consultation now, inviting two residents of the grid.
    meeting_form = desktop.locator("[data-test=meeting-form]")
    meeting_form.locator("input[name=place]").fill("社区红色议事厅")
    meeting_form.locator("textarea[name=agenda]").fill("1. 通报情况\n2. 商议停车方案")
    meeting_form.locator("input[name=starts_at]").fill(_shanghai_now())
    for name in (city.resident.name, city.sibling_resident.name):
        meeting_form.locator("label.check", has_text=name).locator("input").check()
    # the micro-grid worker is invited: the grid-level meeting is then on his phone
    meeting_form.locator(f"[data-test=invite-staff] input[value='{city.worker.pk}']").check()
    meeting_form.locator("[data-test=meeting-submit]").click()
    expect(desktop.locator("[data-test=meeting-link]")).to_have_count(1)
    meeting = Consultation.objects.get(topic=topic)
    assert meeting.attendees.count() == 3

    # The phone at the door: the invited micro-grid worker signs one resident in online, the other offline.
    login(phone, "worker")
    phone.wait_for_url(re.compile(r"/m"))
    phone.goto("/m/meetings")
    phone.locator("[data-test=m-meeting]").first.click()
    rows = phone.locator("[data-test=m-attendee]")
    expect(rows).to_have_count(3)
    rows.nth(0).get_by_role("button", name=re.compile("签到")).click()
    expect(rows.nth(0)).to_contain_text("已签到")
    phone.context.set_offline(True)
    rows.nth(1).get_by_role("button", name=re.compile("签到")).click()
    expect(rows.nth(1)).to_contain_text("待发送")
    expect(phone.locator("body")).to_contain_text("已保存，等待网络")
    phone.screenshot(path=str(screenshots / "deliberation-phone-signin-offline.png"), full_page=True)
    assert Attendee.objects.filter(consultation=meeting, signed_in_at__isnull=False).count() == 1
    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    _wait_for(lambda: Attendee.objects.filter(consultation=meeting, signed_in_at__isnull=False).count() == 2)
    phone.reload()
    expect(phone.locator("[data-test=m-signed-count]")).to_contain_text("2 / 3")
    phone.screenshot(path=str(screenshots / "deliberation-phone-signin.png"), full_page=True)
    assert Attendee.objects.filter(consultation=meeting).count() == 3  # nothing duplicated

    # The console: options, a vote, close the consultation.
    desktop.goto(f"/console/meetings/{meeting.pk}")
    expect(desktop.locator("[data-test=signed-count]")).to_have_text("2")
    desktop.get_by_placeholder("方案").fill("方案一：划定错时停车位")
    desktop.locator("[data-test=add-option]").click()
    expect(desktop.locator("[data-test=option-row]")).to_have_count(1)
    desktop.locator("select[aria-label='参会人']").select_option(label=city.resident.name)
    desktop.locator("select[aria-label='方案']").select_option(label="方案一：划定错时停车位")
    desktop.locator("[data-test=vote]").click()
    expect(desktop.locator("[data-test=option-row]")).to_contain_text("1 票")
    desktop.locator("[data-test=close-meeting]").click()
    expect(desktop.locator("[data-test=meeting-status]")).to_have_text("已召开")
    desktop.screenshot(path=str(screenshots / "deliberation-meeting.png"), full_page=True)

    # The decision and two actions, each filed as a case.
    desktop.goto(f"/console/topics/{topic.pk}")
    desktop.locator("textarea[name=decision]").fill("划定错时停车位，清理消防通道")
    desktop.locator("[data-test=decide]").click()
    expect(desktop.locator("[data-test=decision]")).to_have_text("划定错时停车位，清理消防通道")
    action_form = desktop.locator("[data-test=action-form]")
    for title in ("施划错时停车位", "清理消防通道杂物"):
        action_form.locator("input[name=action_title]").fill(title)
        action_form.locator("select[name=category]").select_option(str(parking.pk))
        action_form.locator("[data-test=action-submit]").click()
        expect(desktop.locator("[data-test=action-row]", has_text=title)).to_have_count(1)
    expect(desktop.locator("[data-test=action-row]")).to_have_count(2)
    topic.refresh_from_db()
    actions = list(topic.actions.select_related("case"))
    assert topic.status == TopicStatus.DECIDED and all(a.case_id for a in actions)
    desktop.locator("[data-test=publish]").click()
    expect(desktop.locator("[data-test=published]")).to_be_visible()

    # The cases go through the usual workflow and close: the topic is followed through.
    for a in actions:
        close_through_workflow(city, a.case)
    topic.refresh_from_db()
    assert topic.status == TopicStatus.FOLLOWED_THROUGH
    desktop.reload()
    expect(desktop.locator("[data-test=followed-through]")).to_be_visible()
    desktop.screenshot(path=str(screenshots / "deliberation-topic-followed-through.png"), full_page=True)

    # The case it came from and an action's case show the link; the dashboard counts it.
    desktop.goto(f"/console/cases/{case.pk}")
    expect(desktop.locator("[data-test=case-topic-link]")).to_have_text("港云里停车难")
    desktop.goto(f"/console/cases/{actions[0].case_id}")
    expect(desktop.locator("[data-test=case-action-of]")).to_contain_text("港云里停车难")
    desktop.screenshot(path=str(screenshots / "deliberation-action-case.png"))
    desktop.goto("/console/topics")
    expect(desktop.locator("[data-test=stats-followed]")).to_have_text("1")
    expect(desktop.locator("[data-test=stats-raised]")).to_have_text("1")
    desktop.screenshot(path=str(screenshots / "deliberation-topics.png"), full_page=True)
    minutes = desktop.request.get(f"/api/v1/meetings/{meeting.pk}/minutes/")
    assert minutes.status == 200 and minutes.body()[:4] == b"%PDF"


def _shanghai_now() -> str:
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    return timezone.localtime(timezone.now(), ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")


def _wait_for(check, seconds=20):
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError("timed out waiting")
