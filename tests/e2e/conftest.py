"""Browser end-to-end tests: the built frontend served by Django's live server, driven in headless
Debian Chromium (no browser download) at phone and desktop sizes. Screenshots land in
$GRIDCASE_SCREENSHOTS (default: the test data dir) for a person to look at."""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    if not (settings.FRONTEND_DIST / "index.html").exists():
        pytest.fail("The frontend is not built: run `make frontend` (make test builds it).")
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is needed for browser tests: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture
def screenshots():
    folder = Path(os.environ.get("GRIDCASE_SCREENSHOTS", settings.DATA_DIR / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(viewport={"width": 360, "height": 640}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN", base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def desktop(browser, live_server):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def due_city(city):
    """The `city`, with care plans begun a week ago so today's round has calls due."""
    from datetime import timedelta

    from gridcase.visits.models import CarePlan
    from gridcase.visits.services import refresh_plan, today

    for plan in CarePlan.objects.all():
        plan.started_on = today() - timedelta(days=7)
        plan.save(update_fields=["started_on"])
        refresh_plan(plan)
    return city


def login(page, username, password="pass-1234"):
    page.goto("/login")
    page.locator("input[autocomplete=username], input[name=username]").first.fill(username)
    page.locator("input[type=password]").first.fill(password)
    page.locator("button[type=submit]").first.click()
