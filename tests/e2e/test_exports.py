"""Exports and the monthly report in the console, at desktop size: the case list filtered by a search, exported
(导出) and the downloaded XLSX opened and compared with the rows on screen; the resident list exported masked; the
月报 page asking for a report (its job then run as the worker would) and the PDF downloaded."""

import re
from io import BytesIO

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from gridcase.cases import services
from gridcase.cases.models import Category
from gridcase.jobs import services as jobs
from gridcase.jobs.models import Job

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def _rows(download, tmp_path):
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    ws = load_workbook(BytesIO(path.read_bytes()), read_only=True).active
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_export_a_filtered_case_list(city, desktop, screenshots, tmp_path):
    drain = Category.objects.get(code="env_drain")
    for title in ("下水道堵塞一", "下水道堵塞二", "楼道堆物"):
        services.create_case(city.worker, {"category": drain, "grid": city.micro, "title": title, "description": "x"})
    login(desktop, "secretary")
    desktop.wait_for_url(re.compile(r"/console"))
    desktop.goto("/console/cases")
    desktop.locator("form.filters input[type=search]").fill("下水道")
    desktop.get_by_role("button", name="搜索").click()
    shown = desktop.locator("table.cases tbody tr")
    expect(shown).to_have_count(2)
    with desktop.expect_download() as info:
        desktop.locator("[data-test=export]").click()
    rows = _rows(info.value, tmp_path)
    assert info.value.suggested_filename.endswith(".xlsx")
    assert rows[0][:2] == ["编号", "标题"]
    assert sorted(r[1] for r in rows[1:]) == ["下水道堵塞一", "下水道堵塞二"]  # the filter, not the whole list
    numbers = shown.locator("td:nth-child(2)").all_inner_texts()
    assert sorted(r[0] for r in rows[1:]) == sorted(n.strip() for n in numbers)
    expect(desktop.locator("[data-test=export-saved]")).to_contain_text(".xlsx")
    desktop.screenshot(path=str(screenshots / "console-cases-export.png"), full_page=True)

    desktop.goto("/console/residents")
    with desktop.expect_download() as info:
        desktop.locator("[data-test=export]").click()
    rows = _rows(info.value, tmp_path)
    assert rows[0][3] == "电话" and all("*" in (r[3] or "*") for r in rows[1:])  # masked


def test_monthly_report_from_the_console(city, desktop, screenshots, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    login(desktop, "secretary")
    desktop.wait_for_url(re.compile(r"/console"))
    desktop.locator("[data-test=nav-reports]").click()
    expect(desktop.locator("[data-test=report-grid] option")).not_to_have_count(0)
    desktop.locator("[data-test=report-generate]").click()
    expect(desktop.locator("[data-test=job]")).to_be_visible()
    job = Job.objects.get(kind="monthly_report")
    assert jobs.process(job.pk).status == "done"  # what the Celery worker does
    link = desktop.locator("[data-test=job-download]")
    expect(link).to_be_visible(timeout=10000)
    desktop.screenshot(path=str(screenshots / "console-monthly-report.png"), full_page=True)
    with desktop.expect_download() as info:
        link.click()
    assert info.value.suggested_filename.endswith(".pdf")
    path = tmp_path / "report.pdf"
    info.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
