"""The secretary's console and the street's dashboard at desktop size."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_secretary_lands_on_the_case_console(city, desktop, screenshots):
    login(desktop, "secretary")
    desktop.wait_for_url(re.compile(r"/console"))
    expect(desktop.locator("body")).to_contain_text("事件")
    desktop.screenshot(path=str(screenshots / "console-cases.png"), full_page=True)


def test_english_switch(city, desktop):
    desktop.goto("/login")
    desktop.get_by_text("English").first.click()
    expect(desktop.locator("[data-test=login-submit]")).to_contain_text(re.compile("Sign in|Log in", re.I))
