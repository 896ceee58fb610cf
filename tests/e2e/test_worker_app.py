"""A micro-grid worker on a 360×640 phone: logs in, walks today's round, logs a visit — also with no signal."""

import re

import pytest
from playwright.sync_api import expect

from gridcase.visits.models import Visit

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def open_visit_form(phone, name):
    """From the round: the resident's row opens the profile, whose main button opens the visit form."""
    phone.locator("[data-test=round-row]", has_text=name).first.click()
    phone.wait_for_url(re.compile(r"/m/residents/"))
    phone.locator("[data-test=profile-visit]").click()
    phone.wait_for_url(re.compile(r"/m/visit/"))


def test_login_page_speaks_chinese_and_shows_the_servers_reason(city, phone, screenshots):
    phone.goto("/login")
    expect(phone.get_by_role("heading")).to_be_visible()
    login(phone, "worker", "wrong-password")
    alert = phone.locator("[data-test=login-error]")
    expect(alert).to_contain_text("用户名或密码错误")
    phone.screenshot(path=str(screenshots / "login-error-phone.png"))


def test_worker_sees_their_round_only_and_logs_a_visit(due_city, phone, screenshots):
    city = due_city
    login(phone, "worker")
    phone.wait_for_url(re.compile(r"/m/round"))
    # The elderly resident living alone in their micro-grid is due; the sibling micro-grid's resident is not shown.
    expect(phone.get_by_text("王秀英").first).to_be_visible(timeout=15000)
    expect(phone.get_by_text("李建国")).to_have_count(0)
    phone.screenshot(path=str(screenshots / "round-phone.png"), full_page=True)

    open_visit_form(phone, "王秀英")
    phone.get_by_text("电话", exact=True).last.click()
    phone.get_by_text("良好").first.click()
    phone.locator("textarea").first.fill("电话问候，身体不错，按时吃药。")
    phone.screenshot(path=str(screenshots / "visit-form-phone.png"), full_page=True)
    phone.locator("[data-test=visit-submit]").click()
    expect(phone.get_by_text("已提交").first).to_be_visible()
    visit = Visit.objects.get(resident=city.resident)
    assert visit.kind == "phone" and visit.wellbeing == "good"
    assert visit.visitor == city.worker


def test_visit_logged_without_signal_is_kept_and_sent_once_when_back_online(due_city, phone, screenshots):
    city = due_city
    login(phone, "worker")
    phone.wait_for_url(re.compile(r"/m/round"))
    expect(phone.get_by_text("王秀英").first).to_be_visible(timeout=15000)
    open_visit_form(phone, "王秀英")
    phone.context.set_offline(True)
    phone.get_by_text("良好").first.click()
    phone.locator("textarea").first.fill("楼道里没信号，先存着。")
    phone.locator("[data-test=visit-submit]").click()
    expect(phone.get_by_text("已保存，等待网络").first).to_be_visible()
    phone.screenshot(path=str(screenshots / "visit-offline-phone.png"), full_page=True)
    assert Visit.objects.count() == 0
    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    for _ in range(40):
        if Visit.objects.exists():
            break
        phone.wait_for_timeout(250)
    phone.wait_for_timeout(1500)  # any duplicate resend would have landed by now
    assert Visit.objects.filter(resident=city.resident).count() == 1


def test_several_items_kept_offline_all_land_once_when_back_online(due_city, phone, screenshots):
    """The queue sends its items side by side (frontend/src/offline/queue.ts, SYNC_LANES): a day of visits
    logged where the signal drops lands whole, each visit once."""
    city = due_city
    login(phone, "worker")
    phone.wait_for_url(re.compile(r"/m/round"))
    expect(phone.get_by_text("王秀英").first).to_be_visible(timeout=15000)
    # The pages still open (the signal comes and goes), but no visit gets through.
    phone.route(re.compile(r".*/api/v1/visits/$"), lambda route: route.abort("internetdisconnected"))
    notes = [f"信号时有时无，第{n}次记录。" for n in range(1, 5)]
    for note in notes:
        phone.goto("/m/round")
        open_visit_form(phone, "王秀英")
        phone.get_by_text("良好").first.click()
        phone.locator("textarea").first.fill(note)
        phone.locator("[data-test=visit-submit]").click()
        expect(phone.get_by_text("已保存，等待网络").first).to_be_visible()
    phone.screenshot(path=str(screenshots / "visits-queued-offline-phone.png"), full_page=True)
    assert Visit.objects.count() == 0
    phone.unroute(re.compile(r".*/api/v1/visits/$"))
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    for _ in range(60):
        if Visit.objects.count() >= len(notes):
            break
        phone.wait_for_timeout(250)
    phone.wait_for_timeout(1500)  # any duplicate resend would have landed by now
    stored = list(Visit.objects.filter(resident=city.resident).values_list("findings", flat=True))
    assert sorted(stored) == sorted(notes)


def test_large_mode_makes_main_text_at_least_18px(city, phone, screenshots):
    phone.goto("/login")
    phone.get_by_role("switch").last.click()
    size = phone.evaluate("parseFloat(getComputedStyle(document.querySelector('.login__form input')).fontSize)")
    assert size >= 18
    button = phone.locator("[data-test=login-submit]").bounding_box()
    assert button["height"] >= 60
    phone.screenshot(path=str(screenshots / "login-large-phone.png"), full_page=True)


def test_app_opens_again_with_no_signal(due_city, phone, screenshots):
    """After one visit online, reloading the page in a stairwell shows the round from the phone's cache."""
    login(phone, "worker")
    phone.wait_for_url(re.compile(r"/m/round"))
    expect(phone.get_by_text("王秀英").first).to_be_visible(timeout=15000)
    ready = phone.evaluate(
        "Promise.race([navigator.serviceWorker.ready.then(() => true), new Promise(r => setTimeout(() => r(false), 10000))])")
    assert ready, "the service worker did not install"
    phone.reload()  # now under the service worker, which keeps the page shell
    expect(phone.get_by_text("王秀英").first).to_be_visible(timeout=15000)
    phone.context.set_offline(True)
    phone.reload()
    expect(phone.get_by_text("今日走访").first).to_be_visible(timeout=15000)
    expect(phone.get_by_text("王秀英").first).to_be_visible(timeout=15000)
    phone.screenshot(path=str(screenshots / "round-offline-reload-phone.png"), full_page=True)
