"""The worker's round and reports in field conditions, on a 360×640 phone: one row per resident with progress and
a profile one tap away; a case reported with no signal after the app was reopened, with a camera-sized photo that
is compressed on the phone (upright, ≤ 1600 px, no EXIF/GPS) and sent exactly once when the network returns."""

import base64
import re
import struct

import pytest
from playwright.sync_api import expect

from gridcase.cases.models import Attachment, Case

from .. import factories as f
from ..visits.conftest import log_visit
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def round_city(due_city):
    """Two more elderly residents in the worker's micro-grid; one of them was already called today."""
    from django.utils import timezone

    from gridcase.visits.models import CarePlan
    from gridcase.visits.services import refresh_plan, today

    city = due_city
    b = f.building(city.grid, "5栋")
    u = f.unit(b, city.micro, "1单元")
    zhou = f.resident(f.household(u, "201"), "周奶奶", tags=["elderly_alone"])
    wu = f.resident(f.household(u, "302"), "吴爷爷", tags=["elderly_alone"])
    from datetime import timedelta

    for plan in CarePlan.objects.filter(resident__in=[zhou, wu]):
        plan.started_on = today() - timedelta(days=7)
        plan.save(update_fields=["started_on"])
        refresh_plan(plan)
    log_visit(city.worker, wu, "phone", timezone.now())
    log_visit(city.worker, wu, "home", timezone.now())
    return city


def test_round_is_one_row_per_resident_with_progress_and_a_profile(round_city, phone, screenshots):
    city = round_city
    login(phone, "worker")
    phone.wait_for_url(re.compile(r"/m/round"))
    progress = phone.locator("[data-test=round-progress]")
    expect(progress).to_contain_text("已访 1/3", timeout=15000)
    rows = phone.locator("[data-test=round-row]")
    expect(rows).to_have_count(3)
    # 王秀英 is due for a call (overdue) and a home visit: one row with both kinds, in the overdue section first.
    wang = rows.filter(has_text="王秀英")
    expect(wang).to_have_count(1)
    expect(wang).to_contain_text("电话")
    expect(wang).to_contain_text("入户")
    expect(wang).to_contain_text("逾期")
    assert "王秀英" in phone.locator("[data-test=round-overdue]").inner_text()
    expect(phone.locator("[data-test=round-done]")).to_contain_text("吴爷爷")
    phone.screenshot(path=str(screenshots / "round-grouped-phone.png"), full_page=True)

    wang.click()
    phone.wait_for_url(re.compile(rf"/m/residents/{city.resident.pk}$"))
    call = phone.locator("[data-test=profile-call]")
    expect(call).to_have_attribute("href", "tel:13812345678")
    expect(phone.get_by_text("独居老人").first).to_be_visible()
    expect(phone.get_by_role("heading", level=1)).to_have_text("王秀英")
    phone.screenshot(path=str(screenshots / "resident-profile-phone.png"), full_page=True)
    phone.locator("[data-test=profile-visit]").click()
    phone.wait_for_url(re.compile(rf"/m/visit/{city.resident.pk}"))


# A JPEG as a phone camera writes it: 4000×3000 stored sideways (EXIF orientation 6) with a GPS position.
def exif_app1() -> bytes:
    ifd0 = struct.pack("<H", 2) + struct.pack("<HHII", 0x0112, 3, 1, 6) + struct.pack("<HHII", 0x8825, 4, 1, 38) \
        + struct.pack("<I", 0)
    gps = struct.pack("<H", 1) + struct.pack("<HHI", 0x0001, 2, 2) + b"N\0\0\0" + struct.pack("<I", 0)
    tiff = b"II*\0" + struct.pack("<I", 8) + ifd0 + gps
    body = b"Exif\0\0" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def camera_jpeg(page) -> bytes:
    data_url = page.evaluate("""() => {
        const c = document.createElement('canvas'); c.width = 4000; c.height = 3000
        const g = c.getContext('2d')
        for (let i = 0; i < 3000; i++) {
            g.fillStyle = `hsl(${(i * 37) % 360}, 60%, ${30 + (i % 40)}%)`
            g.fillRect((i * 131) % 4000, (i * 71) % 3000, 40 + (i % 200), 30 + (i % 150))
        }
        return c.toDataURL('image/jpeg', 0.95)
    }""")
    jpeg = base64.b64decode(data_url.split(",", 1)[1])
    return jpeg[:2] + exif_app1() + jpeg[2:]


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the first SOF marker."""
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + length
    raise AssertionError("no SOF")


def choose_first_category(phone):
    phone.locator(".catpick").click()
    for _ in range(5):
        phone.wait_for_timeout(500)
        if phone.locator(".catpick .van-cell__value").inner_text() != "请选择分类":
            break
        phone.locator(".van-cascader__options").last.locator(".van-cascader__option").first.click()


def test_offline_report_with_a_compressed_photo_syncs_once(city, phone, screenshots):
    login(phone, "worker")
    phone.wait_for_url(re.compile(r"/m/round"))
    phone.goto("/m/report")
    expect(phone.locator(".catpick")).to_be_visible(timeout=15000)
    ready = phone.evaluate(
        "Promise.race([navigator.serviceWorker.ready.then(() => true), new Promise(r => setTimeout(() => r(false), 10000))])")
    assert ready, "the service worker did not install"
    phone.wait_for_timeout(1000)  # categories kept on the phone by now
    original = camera_jpeg(phone)
    assert len(original) > 500_000

    # The app is reopened in a stairwell: no signal at all.
    phone.context.set_offline(True)
    phone.reload()
    expect(phone.locator(".catpick")).to_be_visible(timeout=15000)
    choose_first_category(phone)
    expect(phone.locator(".catpick .van-cell__value")).not_to_have_text("请选择分类")
    phone.locator("form input").first.fill("楼道堆满纸箱")
    phone.locator("textarea").first.fill("3楼到5楼楼道堆满纸箱，挡住消防通道。")
    phone.locator("[data-test=photo-input]").set_input_files(
        {"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": original})
    expect(phone.locator("[data-test=photo-info]")).to_contain_text("→", timeout=20000)
    phone.screenshot(path=str(screenshots / "report-offline-photo-phone.png"), full_page=True)
    phone.get_by_role("button", name="提交").click()
    expect(phone.get_by_text("已保存，等待网络").first).to_be_visible()
    assert Case.objects.count() == 0

    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    for _ in range(80):
        if Attachment.objects.exists():
            break
        phone.wait_for_timeout(250)
    phone.wait_for_timeout(2000)  # a duplicate resend would have landed by now
    case = Case.objects.get()
    assert case.title == "楼道堆满纸箱" and case.reporter == city.worker
    attachment = Attachment.objects.get(case=case)  # the server keeps the bytes it was sent
    with attachment.file.open("rb") as fh:
        sent = fh.read()
    # Upright (the sideways 4000×3000 became 3000×4000), longest side 1600, far smaller, no EXIF (no GPS).
    assert jpeg_size(sent) == (1200, 1600)
    assert len(sent) < len(original) / 2
    assert b"Exif" not in sent
    assert attachment.content_type == "image/jpeg"

    phone.goto("/m/me")
    expect(phone.locator("[data-test=pending-uploads]")).to_contain_text("没有待上传的照片")
    phone.screenshot(path=str(screenshots / "me-uploads-phone.png"), full_page=True)


def test_visit_with_a_case_logged_after_reopening_with_no_signal_syncs_once(due_city, phone, screenshots):
    from gridcase.visits.models import Visit

    city = due_city
    login(phone, "worker")
    phone.wait_for_url(re.compile(r"/m/round"))
    phone.locator("[data-test=round-row]", has_text="王秀英").first.click()
    phone.locator("[data-test=profile-visit]").click()
    phone.wait_for_url(re.compile(r"/m/visit/"))
    ready = phone.evaluate(
        "Promise.race([navigator.serviceWorker.ready.then(() => true), new Promise(r => setTimeout(() => r(false), 10000))])")
    assert ready, "the service worker did not install"
    phone.wait_for_timeout(1500)  # the round and the categories are kept on the phone by now

    phone.context.set_offline(True)
    phone.reload()
    # Reopened with no signal: the address and the phone to call come from the phone's copy of the round.
    expect(phone.get_by_text("1栋1单元101").first).to_be_visible(timeout=15000)
    expect(phone.locator("a[href='tel:13812345678']")).to_be_visible()
    phone.get_by_text("需关注").first.click()
    phone.locator("textarea").first.fill("腿疼，楼道灯坏了。")
    phone.get_by_role("switch", name="同时上报一个事件").click()
    choose_first_category(phone)
    phone.get_by_placeholder("一句话说明问题").fill("楼道灯不亮")
    phone.screenshot(path=str(screenshots / "visit-case-offline-phone.png"), full_page=True)
    phone.locator("[data-test=visit-submit]").click()
    expect(phone.get_by_text("已保存，等待网络").first).to_be_visible()
    assert Visit.objects.count() == 0 and Case.objects.count() == 0

    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    for _ in range(60):
        if Visit.objects.exists():
            break
        phone.wait_for_timeout(250)
    phone.wait_for_timeout(2000)  # a duplicate resend would have landed by now
    visit = Visit.objects.get(resident=city.resident)
    case = Case.objects.get()
    assert visit.case_id == case.pk and case.title == "楼道灯不亮" and visit.wellbeing == "attention"
