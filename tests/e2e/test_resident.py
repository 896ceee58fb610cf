"""A resident in WeChat's browser on a 360×640 phone: scans the stairwell QR code, reports a problem with a photo,
keeps the receipt, tracks it; staff close it; the resident is not satisfied and the case goes back to work."""

import re

import pytest
from django.core.cache import cache
from PIL import Image
from playwright.sync_api import expect

from gridcase.cases.models import Attachment, Case
from gridcase.intake.models import IntakeTicket
from gridcase.intake.services import rotate_token

from ..intake.test_intake import close_case

pytestmark = pytest.mark.django_db(transaction=True)

WECHAT_UA = ("Mozilla/5.0 (Linux; Android 12; M2012K11AC Build/SKQ1.211006.001; wv) AppleWebKit/537.36 "
             "(KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 "
             "MMWEBSDK/20221206 MMWEBID/1234 MicroMessenger/8.0.32.2300(0x28002037) WeChat/arm64 Weixin "
             "NetType/WIFI Language/zh_CN ABI/arm64")


@pytest.fixture
def wechat(browser, live_server, settings):
    settings.INTAKE_MIN_FILL_SECONDS = 0.5  # a test types faster than a person
    cache.clear()
    context = browser.new_context(viewport={"width": 360, "height": 640}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN", user_agent=WECHAT_UA, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
    cache.clear()


def big_photo(tmp_path):
    path = tmp_path / "drain.jpg"
    img = Image.new("RGB", (3200, 2400), (80, 120, 60))
    for x in range(0, 3200, 40):  # texture, so the file is not trivially small
        img.paste((x % 255, 90, 200 - x % 200), (x, 0, x + 20, 2400))
    img.save(path, "JPEG", quality=95)
    return path


def test_scan_report_with_photo_track_and_rate_dissatisfied_reopens(city, wechat, screenshots, tmp_path):
    page = wechat
    city.micro.public_phone = "028-8666 1234"
    city.micro.save()
    page.goto(f"/intake/{city.micro.qr_token}")
    card = page.locator("[data-test=grid-card]")
    expect(card).to_contain_text(city.micro.name)
    expect(page.locator("[data-test=worker-phone]")).to_contain_text("028-8666 1234")
    page.screenshot(path=str(screenshots / "resident-home-wechat.png"), full_page=True)

    page.locator("[data-test=report-button]").click()
    page.wait_for_url(re.compile(r"/report$"))
    page.locator("[data-test=cat-environment]").click()
    page.locator("[data-test=cat-env_drain]").click()
    page.locator("[data-test=description] textarea").fill("3栋1单元门口下水道堵了，污水漫到路上")
    photo = big_photo(tmp_path)
    page.locator("[data-test=photo-input]").set_input_files(str(photo))
    expect(page.locator(".photo img")).to_have_count(1)
    page.locator("[data-test=phone] input").fill("13912345678")
    page.screenshot(path=str(screenshots / "resident-report-wechat.png"), full_page=True)
    page.wait_for_timeout(600)
    page.locator("[data-test=submit]").click()

    expect(page.locator("[data-test=receipt]")).to_be_visible()
    code = page.locator("[data-test=tracking-code]").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{8}", code)
    page.screenshot(path=str(screenshots / "resident-receipt-wechat.png"), full_page=True)
    ticket = IntakeTicket.objects.select_related("case").get(code=code)
    assert ticket.case.source == "resident" and ticket.contact_phone == "13912345678"
    photos = list(Attachment.objects.filter(case=ticket.case))
    assert len(photos) == 1
    assert max(photos[0].width, photos[0].height) <= 1600 and photos[0].size < photo.stat().st_size  # compressed

    # Staff handle and close it (through the workflow, as the console would).
    close_case(city, ticket.case_id)

    page.goto(f"/intake/track/{code}")
    expect(page.locator("[data-test=status-text]")).to_contain_text("已办结")
    expect(page.locator("[data-test=rate-card]")).to_be_visible()
    page.locator("[data-test=rate-dissatisfied]").click()
    page.locator("[data-test=rate-send]").click()
    expect(page.get_by_role("alert")).to_contain_text("哪里不满意")  # a reason is asked for first
    page.locator("[data-test=rate-comment] textarea").fill("污水还在往外冒")
    page.locator("[data-test=rate-send]").click()
    expect(page.locator("[data-test=rated]")).to_contain_text("不满意")
    expect(page.locator("[data-test=status-text]")).not_to_contain_text("已办结")
    page.screenshot(path=str(screenshots / "resident-rated-wechat.png"), full_page=True)

    case = Case.objects.get(pk=ticket.case_id)
    assert case.status == "assigned" and case.rating == "dissatisfied" and case.reopen_count == 1
    assert case.rating_source == "resident" and case.rating_comment == "污水还在往外冒"


def test_an_old_poster_opens_a_readable_page(city, wechat, screenshots):
    old = city.micro.qr_token
    rotate_token(city.micro)
    wechat.goto(f"/intake/{old}")
    expect(wechat.locator("[data-test=intake-error]")).to_contain_text(city.micro.name)  # which poster to look for
    wechat.screenshot(path=str(screenshots / "resident-retired-qr-wechat.png"), full_page=True)
