"""The Content-Security-Policy holds and breaks nothing: the worker app, the console with its charts, the
API docs and the admin run in Chromium without a single blocked script, style or request."""

import re

import pytest

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)

WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
  {directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile + ':' + e.lineNumber}));
"""


def harmless(v) -> bool:
    """Vant's icon font names a fallback on Alibaba's CDN after its inline woff2; browsers never need it
    (the icons render from the inline font), the policy keeps it from being fetched."""
    return v["directive"] == "font-src" and "at.alicdn.com" in v["blocked"]


def violations(page) -> list:
    page.wait_for_timeout(500)
    return [v for v in page.evaluate("window.__csp") if not harmless(v)]


def test_console_dashboard_docs_and_admin_run_under_the_policy(city, desktop):
    desktop.context.add_init_script(WATCH)
    login(desktop, "secretary")
    desktop.wait_for_url(re.compile(r"/console"))
    desktop.wait_for_load_state("networkidle")
    assert violations(desktop) == []

    desktop.goto("/console/dashboard")
    desktop.locator("canvas").first.wait_for()
    box = desktop.locator("canvas").first.bounding_box()
    desktop.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # a tooltip
    assert violations(desktop) == []

    desktop.goto("/api/docs/")
    desktop.locator(".swagger-ui .info").wait_for()
    assert violations(desktop) == []

    desktop.goto("/admin/login/?next=/admin/grids/grid/")
    desktop.fill("#id_username", "admin")
    desktop.fill("#id_password", "pass-1234")
    desktop.click("input[type=submit]")
    desktop.wait_for_url(re.compile(r"/admin/grids/grid/"))
    assert desktop.locator("#result_list").is_visible()
    assert violations(desktop) == []


def test_worker_app_with_a_photo_preview_runs_under_the_policy(city, phone, tmp_path):
    from PIL import Image

    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(photo)
    phone.context.add_init_script(WATCH)
    login(phone, "worker")
    phone.wait_for_url(re.compile(r"/m/"))
    phone.wait_for_load_state("networkidle")
    assert violations(phone) == []
    phone.goto("/m/report")
    phone.locator("input[type=file]").first.set_input_files(str(photo))
    thumb = phone.locator(".photo__thumb").first
    thumb.wait_for()
    # The compressed photo's preview (a blob: or data: URL) is allowed by img-src and really shows.
    phone.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=thumb.element_handle())
    assert violations(phone) == []
