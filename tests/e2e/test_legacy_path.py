"""The legacy build, as an old WebView runs it (X5 core in WeChat, Android 8–10 WebViews never updated).

Chromium cannot be made old, so the page is given what an old browser would run and nothing else:
- index.html without its `<script type=module>` and modulepreload tags, and with `nomodule` removed, so the
  polyfills and the SystemJS entry run as a browser without modules runs them;
- every modern chunk refused at the network (a request for one fails the test);
- the newer built-ins the code might lean on deleted before any script runs (`Object.hasOwn`,
  `Array.prototype.findLast`/`at`, `String.prototype.replaceAll`, `structuredClone`, …), so only core-js's
  polyfills can bring them back.
And a browser that cannot run even that gets a readable page that says what to do; the app is installable.
"""

import re

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)

OLD_BROWSER = """
(() => {
  const gone = [[Object, 'hasOwn'], [Object, 'groupBy'], [Array.prototype, 'findLast'], [Array.prototype, 'findLastIndex'],
    [Array.prototype, 'at'], [Array.prototype, 'toSorted'], [Array.prototype, 'toReversed'], [Array.prototype, 'flat'],
    [Array.prototype, 'flatMap'], [String.prototype, 'replaceAll'], [String.prototype, 'at'],
    [Promise, 'allSettled'], [Promise, 'any'], [window, 'structuredClone'], [window, 'queueMicrotask']];
  for (const [owner, name] of gone) { try { delete owner[name] } catch (e) {} }
  window.__legacyErrors = [];
  window.addEventListener('error', (e) => window.__legacyErrors.push(String(e.message)));
})();
"""


def legacy_only(page):
    """Serve index.html as an old browser would act on it and refuse every modern chunk."""
    modern_requests = []

    def document(route):
        response = route.fetch()
        html = response.text()
        html = re.sub(r'<script type="module"[^>]*>[\s\S]*?</script>\s*', "", html)
        html = re.sub(r'<link rel="modulepreload"[^>]*>\s*', "", html)
        html = html.replace("<script nomodule", "<script")
        route.fulfill(response=response, body=html)

    def asset(route):
        name = route.request.url.rsplit("/", 1)[-1]
        if name.endswith(".js") and "-legacy-" not in name:
            modern_requests.append(name)
            return route.abort()
        return route.continue_()

    page.route(lambda url: "/static/" not in url and "/api/" not in url, lambda route: (
        document(route) if route.request.resource_type == "document" else route.continue_()))
    page.route("**/static/assets/**", asset)
    page.context.add_init_script(OLD_BROWSER)
    page.context.route("**/sw.js", lambda route: route.abort())  # no service worker on an old WebView
    return modern_requests


def test_worker_round_and_report_run_on_the_legacy_build(due_city, phone, screenshots):
    modern = legacy_only(phone)
    login(phone, "worker")
    phone.wait_for_url(re.compile(r"/m/round"))
    expect(phone.get_by_text("王秀英").first).to_be_visible(timeout=20000)
    assert phone.evaluate("typeof System !== 'undefined' && typeof Object.hasOwn === 'function'")
    phone.screenshot(path=str(screenshots / "legacy-round-phone.png"))

    phone.get_by_text("王秀英").first.click()  # a second route: SystemJS loads its chunks on demand
    phone.wait_for_url(re.compile(r"/m/(visit|residents)/"))
    expect(phone.get_by_text("王秀英").first).to_be_visible()
    phone.goto("/m/report")
    expect(phone.locator("input[type=file]").first).to_be_attached()
    phone.screenshot(path=str(screenshots / "legacy-report-phone.png"))

    assert modern == []
    assert phone.evaluate("window.__legacyErrors") == []


def test_a_browser_that_runs_nothing_is_told_what_to_do(city, phone, screenshots):
    phone.route(re.compile(r"\.js($|\?)"), lambda route: route.abort())
    cdp = phone.context.new_cdp_session(phone)
    cdp.send("Animation.enable")
    cdp.send("Animation.setPlaybackRate", {"playbackRate": 100})  # the 12 s before the advice shows, in 0.12 s
    phone.goto("/m/round")
    expect(phone.get_by_text("正在打开 GridCase")).to_be_visible()
    advice = phone.locator(".boot-old")
    expect(advice).to_contain_text("在浏览器打开")
    expect(advice).to_contain_text("Android System WebView")
    expect(advice).to_have_css("opacity", "1", timeout=5000)  # (no wait_for_function: the CSP forbids eval)
    phone.screenshot(path=str(screenshots / "legacy-unsupported-phone.png"))


def test_the_worker_app_is_installable(city, phone):
    """Web manifest (name, start URL, 192/512 px icons, a maskable one) and a service worker with a fetch handler:
    Chromium finds nothing missing but that a test profile is incognito."""
    login(phone, "worker")
    phone.wait_for_url(re.compile(r"/m/"))
    phone.wait_for_function("navigator.serviceWorker.controller !== null", timeout=20000)
    cdp = phone.context.new_cdp_session(phone)
    assert cdp.send("Page.getAppManifest")["url"].endswith("/static/manifest.webmanifest")
    errors = {e["errorId"] for e in cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]}
    assert errors <= {"in-incognito"}, errors
