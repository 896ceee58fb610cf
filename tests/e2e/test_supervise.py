"""Supervising (督办) from the console: the button comes from the action's form spec, asks for a comment, and the
case's timeline shows the supervision."""

import re

import pytest
from playwright.sync_api import expect

from gridcase.cases.models import CaseEvent, Category
from gridcase.cases.services import create_case
from gridcase.notifications.models import Notification

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_dispatcher_supervises_a_case_from_the_console(city, desktop, screenshots):
    category = Category.objects.get(code="env_drain")
    case = create_case(city.worker, {"category": category, "grid": city.micro, "title": "下水道返水三天",
                                     "description": "3栋门口"}).case
    login(desktop, "dispatcher")
    desktop.wait_for_url(re.compile(r"/console"))
    desktop.goto(f"/console/cases/{case.pk}")
    desktop.get_by_role("button", name="督办").click()
    form = desktop.locator("form.action-form")
    expect(form).to_contain_text("意见")
    form.locator("textarea").fill("居民多次来电，请今天处理")
    form.locator("button[type=submit]").click()
    expect(form).to_be_hidden()
    expect(desktop.locator("body")).to_contain_text("居民多次来电，请今天处理")
    desktop.screenshot(path=str(screenshots / "console-supervised.png"), full_page=True)
    event = CaseEvent.objects.get(case=case, action="supervise")
    assert event.actor_id == city.dispatcher.pk and event.comment == "居民多次来电，请今天处理"
    assert Notification.objects.filter(case_id=case.pk, title__startswith="督办").count() == 1  # the grid worker
