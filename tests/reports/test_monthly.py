"""The monthly report: asked through the API, made by the job, a PDF with its CJK font embedded, rendered to PNG.

The PNG is written to $GRIDCASE_ARTIFACTS (or the test's temporary folder) so a person can look at it."""

import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from gridcase.cases import services
from gridcase.cases.models import Case, Category
from gridcase.core import fonts
from gridcase.jobs import services as jobs
from gridcase.reports import monthly
from gridcase.stats import rollup
from gridcase.stats.params import TZ

from ..conftest import api_client

pytestmark = pytest.mark.django_db

HAS_POPPLER = shutil.which("pdftoppm") is not None


def _month(city):
    drain = Category.objects.get(code="env_drain")
    made = [services.create_case(city.worker, {"category": drain, "grid": city.micro, "title": f"下水道堵塞{i}",
                                               "description": "门口返水"}).case for i in range(3)]
    # One of them is overdue now.
    Case.objects.filter(pk=made[0].pk).update(sla_stage="accept", sla_red_at=timezone.now() - timedelta(days=2))
    rollup.refresh()
    return made


def _artifacts(tmp_path) -> Path:
    folder = Path(os.environ.get("GRIDCASE_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_monthly_report_pdf(city, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    made = _month(city)
    month = timezone.localdate(timezone=TZ).strftime("%Y-%m")
    client = api_client(city.secretary)
    res = client.post("/api/v1/reports/monthly/", {"grid": city.community.pk, "month": month}, format="json")
    assert res.status_code == 202, res.content
    job = jobs.process(res.json()["id"])
    assert job.status == "done", job.error
    body = client.get(f"/api/v1/jobs/{job.pk}/").json()
    assert body["filename"].endswith("月报.pdf") and body["progress"] == 1.0
    download = client.get(body["download_url"])
    pdf = b"".join(download.streaming_content)
    assert download["Content-Type"] == "application/pdf" and pdf.startswith(b"%PDF")
    path = _artifacts(tmp_path) / "monthly-report.pdf"
    path.write_bytes(pdf)
    assert fonts.embedded(), "no TrueType CJK font: install fonts-wqy-microhei"
    assert b"/FontFile2" in pdf  # the TrueType subset is in the file, not left to the viewer
    if not HAS_POPPLER:
        pytest.skip("poppler-utils (pdftoppm) is not installed")
    listed = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    truetype = [line for line in listed.splitlines() if "TrueType" in line]
    assert truetype and all(" yes yes " in line for line in truetype), listed  # embedded, as a subset
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    for expected in ("八里庄社区", "网格化治理月报", "主要指标", "解决率", "下级网格", "应哨", "事件分类", "走访",
                     "超期", made[0].number):
        assert expected in text, expected
    subprocess.run(["pdftoppm", "-png", "-r", "70", str(path), str(path.with_suffix(""))], check=True)
    pages = sorted(path.parent.glob("monthly-report*.png"))
    assert pages and pages[0].stat().st_size > 10_000
    print(f"\nmonthly report rendered: {', '.join(str(p) for p in pages)}")


def test_gather_reads_the_declared_figures(city):
    _month(city)
    first = timezone.localdate(timezone=TZ).replace(day=1)
    data = monthly.gather(city.secretary, city.community, first)
    rates = {r["metric"]: r for r in data["rates"]}
    assert rates["total"]["value"] == 3 and rates["total"]["previous"] == 0 and rates["total"]["change"] == 3
    assert set(rates) >= {"response_rate", "resolution_rate", "satisfaction_rate", "on_time_rate"}
    assert [r["grid_name"] for r in data["ranking"]["rows"]]  # the community's child grids
    assert data["categories"][0]["count"] == 3
    assert data["overdue"]["count"] == 1 and data["overdue"]["items"][0]["days_late"] >= 1
    # Another community's secretary sees none of it.
    other = monthly.gather(city.outsider, city.other_community, first)
    assert {r["metric"]: r for r in other["rates"]}["total"]["value"] == 0 and other["overdue"]["count"] == 0


def test_monthly_report_request_is_checked(city):
    client = api_client(city.secretary, "en")
    post = lambda body: client.post("/api/v1/reports/monthly/", body, format="json")  # noqa: E731
    assert post({"grid": city.community.pk, "month": "2024-13"}).json()["code"] in ("invalid_month",
                                                                                      "validation_error")
    future = (timezone.localdate(timezone=TZ).replace(day=28) + timedelta(days=10)).strftime("%Y-%m")
    assert post({"grid": city.community.pk, "month": future}).status_code == 400
    assert post({"grid": city.other_community.pk, "month": "2024-05"}).status_code == 400  # outside the area
    assert post({"grid": city.community.pk, "month": "2024-05"}).status_code == 202
    assert api_client(city.viewer).post("/api/v1/reports/monthly/", {"grid": city.street.pk, "month": "2024-05"},
                                        format="json").status_code in (202, 400)
    assert api_client(None).post("/api/v1/reports/monthly/", {}, format="json").status_code in (401, 403)
