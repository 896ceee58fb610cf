"""The secretary's registry screens at desktop size: a resident moved out and back in, an import with refused rows
whose refused rows are downloaded, the audit log that recorded both."""

import re
from io import BytesIO

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from gridcase.grids.models import Resident
from gridcase.visits.models import CarePlan

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_resident_moved_out_and_back(city, desktop, screenshots):
    login(desktop, "secretary")
    desktop.wait_for_url(re.compile(r"/console"))
    desktop.get_by_role("link", name="居民", exact=True).click()  # not 居民议事
    desktop.locator("input[name=q]").fill("wxy")  # pinyin initials of 王秀英
    desktop.get_by_role("button", name="搜索").click()
    rows = desktop.locator("[data-test=residents] tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("独居老人")
    desktop.screenshot(path=str(screenshots / "console-residents.png"), full_page=True)
    rows.first.click()

    expect(desktop.locator("[data-test=resident-name]")).to_contain_text("王秀英")
    expect(desktop.locator("[data-test=resident-status]")).to_contain_text("在住")
    expect(desktop.locator("[data-test=care-plan]")).to_contain_text("进行中")
    desktop.locator("[data-test=move-out]").click()
    desktop.locator("[data-test=status-form] input[name=note]").fill("随女儿外地居住")
    desktop.locator("[data-test=status-submit]").click()
    expect(desktop.locator("[data-test=resident-status]")).to_contain_text("已迁出")
    expect(desktop.locator("[data-test=care-plan]")).to_contain_text("已于")  # ended on …
    desktop.screenshot(path=str(screenshots / "console-resident-moved-out.png"), full_page=True)
    resident = Resident.objects.get(pk=city.resident.pk)
    assert resident.status == "moved_out" and not CarePlan.objects.get(resident=resident).active

    desktop.locator("[data-test=move-in]").click()
    desktop.locator("[data-test=status-submit]").click()
    expect(desktop.locator("[data-test=resident-status]")).to_contain_text("在住")
    expect(desktop.locator("[data-test=care-plan]")).to_contain_text("进行中")
    assert CarePlan.objects.get(resident=city.resident).active

    desktop.goto("/console/audit")
    table = desktop.locator("[data-test=audit]")
    expect(table).to_contain_text("变更居民状态")
    expect(table).to_contain_text("已迁出 → 在住")
    expect(table).to_contain_text("王秀英")
    desktop.screenshot(path=str(screenshots / "console-audit.png"), full_page=True)


def test_an_import_with_refused_rows_downloaded(city, desktop, screenshots, tmp_path):
    from tests.grids.test_import import csv_bytes, good_rows

    rows = good_rows() + [["张错日", "女", "1950-13-45", "", "", "1栋", "1单元", "303", "", "低保", "户主", ""],
                          ["李无楼", "男", "1960-01-01", "", "", "99栋", "1单元", "101", "", "", "户主", ""]]
    path = tmp_path / "台账.csv"
    path.write_bytes(csv_bytes(rows))
    login(desktop, "secretary")
    desktop.wait_for_url(re.compile(r"/console"))
    desktop.goto("/console/imports")
    expect(desktop.locator("[data-test=import-form] select[name=grid] option")).not_to_have_count(0)
    desktop.locator("input[type=file]").set_input_files(str(path))
    desktop.locator("[data-test=import-submit]").click()
    expect(desktop.locator("[data-test=import-status]")).to_contain_text("已完成")
    expect(desktop.locator("[data-test=import-counts]")).to_contain_text("未导入 2")
    report = desktop.locator("[data-test=import-rows]")
    expect(report.locator("tbody tr")).to_have_count(2)  # refused rows first: "only refused" is on
    expect(report).to_contain_text("1950-13-45")
    expect(report).to_contain_text("99栋")
    desktop.screenshot(path=str(screenshots / "console-import-refused.png"), full_page=True)

    with desktop.expect_download() as info:
        desktop.locator("[data-test=download-refused]").click()
    download = info.value
    assert download.suggested_filename.endswith("-refused.xlsx")
    sheet = load_workbook(BytesIO(open(download.path(), "rb").read())).active
    values = list(sheet.values)
    assert [v[1] for v in values[1:]] == ["张错日", "李无楼"]
    assert "1950-13-45" in values[1][4]
    assert Resident.objects.filter(name="刘桂兰").exists()  # the good rows were imported
