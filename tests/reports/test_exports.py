"""XLSX exports of the case and resident lists: the list's filters and scope, masking and audited reveal, the
background job above the row limit, and constant memory at ten times the rows."""

import io
import time
import tracemalloc

import pytest
from openpyxl import load_workbook

from gridcase.cases import services
from gridcase.cases.models import Case, Category
from gridcase.core.models import AuditLog
from gridcase.jobs import services as jobs
from gridcase.reports import exports

from .. import factories as f
from ..conftest import api_client

pytestmark = pytest.mark.django_db


def _cases(city, n=4):
    drain = Category.objects.get(code="env_drain")
    made = [services.create_case(city.worker, {"category": drain, "grid": city.micro, "title": f"下水道堵塞{i}",
                                               "description": "门口返水"}).case for i in range(n)]
    made.append(services.create_case(city.sibling_worker, {"category": drain, "grid": city.sibling_micro,
                                                           "title": "=HYPERLINK(\"x\")", "description": "x"}).case)
    return made


def _sheet(res):
    body = b"".join(res.streaming_content) if res.streaming else res.content
    ws = load_workbook(io.BytesIO(body), read_only=True).active
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_case_export_is_the_filtered_list(city):
    made = _cases(city)
    Case.objects.filter(pk=made[0].pk).update(priority="high")
    client = api_client(city.secretary)
    query = f"within={city.grid.pk}&priority=normal&q=下水道"
    listed = client.get(f"/api/v1/cases/?{query}&page_size=100").json()["results"]
    res = client.get(f"/api/v1/cases/export/?{query}")
    assert res.status_code == 200, res.content
    assert res["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert res["Cache-Control"] == "private, no-store" and "attachment" in res["Content-Disposition"]
    rows = _sheet(res)
    assert rows[0][:4] == ["编号", "标题", "分类", "状态"]  # zh-Hans by default
    assert [r[0] for r in rows[1:]] == [c["number"] for c in listed]  # same rows, same order (newest first)
    assert len(rows) - 1 == 3  # four of the grid's, one of them high priority
    by_number = {c["number"]: c for c in listed}
    for r in rows[1:]:
        assert r[1] == by_number[r[0]]["title"] and r[2] == by_number[r[0]]["category_name"]


def test_case_export_keeps_the_scope_and_neutralises_formulas(city):
    _cases(city, 1)
    mine = _sheet(api_client(city.sibling_worker).get("/api/v1/cases/export/"))
    assert [r[1] for r in mine[1:]] == ["'=HYPERLINK(\"x\")"]  # only the sibling's own case, shown as text
    assert len(_sheet(api_client(city.outsider).get("/api/v1/cases/export/"))) == 1  # the header only
    assert api_client(None).get("/api/v1/cases/export/").status_code in (401, 403)


def test_sensitive_cases_exported_are_audited_reads(city):
    made = _cases(city, 2)
    Case.objects.filter(pk=made[0].pk).update(sensitive=True)
    rows = _sheet(api_client(city.secretary).get(f"/api/v1/cases/export/?within={city.grid.pk}"))
    assert made[0].number in [r[0] for r in rows[1:]]
    entries = list(AuditLog.objects.filter(action="read_sensitive"))
    assert [(e.object_id, e.actor_id, e.extra.get("export")) for e in entries] == [
        (str(made[0].pk), city.secretary.pk, True)]


def test_an_export_takes_a_fixed_number_of_queries(city, django_assert_max_num_queries):
    _cases(city, 6)
    _residents(city)
    client = api_client(city.secretary)
    with django_assert_max_num_queries(8):  # scope, count, the rows (one cursor), sensitive ones, the session's
        assert client.get(f"/api/v1/cases/export/?within={city.grid.pk}").status_code == 200
    with django_assert_max_num_queries(9):
        assert client.get(f"/api/v1/residents/export/?within={city.grid.pk}&reveal=true").status_code == 200


def test_export_refuses_what_the_list_refuses(city):
    client = api_client(city.secretary, "en")
    res = client.get("/api/v1/cases/export/?colour=red")
    assert res.status_code == 400 and res.json()["code"] == "unknown_parameter"
    res = client.get("/api/v1/cases/export/?status=bogus")
    assert res.status_code == 400
    assert client.get("/api/v1/cases/export/?grid=abc").status_code == 400
    assert client.get("/api/v1/cases/export/?reveal=true").status_code == 400  # cases take no reveal


def _residents(city):
    f.resident(city.household, "李四", phone="13900001111", id_number="110101195001011234")


def test_resident_export_is_masked_by_default(city):
    _residents(city)
    client = api_client(city.secretary)
    rows = _sheet(client.get(f"/api/v1/residents/export/?within={city.grid.pk}&q=李四"))
    assert rows[0][:5] == ["姓名", "性别", "出生日期", "电话", "身份证号"]
    assert len(rows) == 2 and rows[1][0] == "李四"
    assert rows[1][3] == "139****1111" and "1234" in rows[1][4] and "195001" not in rows[1][4]
    assert not AuditLog.objects.filter(action="export_reveal").exists()


def test_reveal_is_by_role_and_audited_once(city):
    _residents(city)
    rows = _sheet(api_client(city.secretary).get(f"/api/v1/residents/export/?within={city.grid.pk}&reveal=true"))
    li = next(r for r in rows if r[0] == "李四")
    assert li[3] == "13900001111" and li[4] == "110101195001011234"
    entries = list(AuditLog.objects.filter(action="export_reveal"))
    assert len(entries) == 1 and entries[0].actor_id == city.secretary.pk and entries[0].grid_id == city.grid.pk
    assert entries[0].extra["rows"] == len(rows) - 1
    # A micro-grid worker may call residents (phone) but not read ID numbers.
    rows = _sheet(api_client(city.worker).get("/api/v1/residents/export/?reveal=true"))
    li = next(r for r in rows if r[0] == "李四")
    assert li[3] == "13900001111" and li[4] != "110101195001011234"
    # A viewer reveals nothing: refused, not silently masked.
    res = api_client(city.viewer).get("/api/v1/residents/export/?reveal=true")
    assert res.status_code == 403


def test_a_long_list_becomes_a_job_with_a_download(city, settings, tmp_path):
    settings.EXPORT_SYNC_MAX_ROWS = 2
    settings.MEDIA_ROOT = tmp_path
    _cases(city, 3)
    client = api_client(city.secretary)
    res = client.get(f"/api/v1/cases/export/?within={city.grid.pk}")
    assert res.status_code == 202, res.content
    job = res.json()
    assert job["status"] == "pending" and job["total"] == 4 and job["kind"] == "export_cases"
    jobs.process(job["id"])  # what the worker runs
    done = client.get(f"/api/v1/jobs/{job['id']}/").json()
    assert done["status"] == "done" and done["done"] == 4 and done["progress"] == 1.0
    rows = _sheet(client.get(done["download_url"]))
    assert len(rows) == 5 and rows[0][0] == "编号"
    assert api_client(city.grid_worker).get(done["download_url"]).status_code == 404  # the owner's only


def test_too_long_a_list_is_refused(city, settings):
    settings.EXPORT_MAX_ROWS = 2
    _cases(city, 3)
    res = api_client(city.secretary, "en").get("/api/v1/cases/export/")
    assert res.status_code == 400 and res.json()["code"] == "too_large"


def _many_cases(template, n, start=0):
    """n copies of one live case in its grid, numbered apart, written by the database (INSERT … SELECT)."""
    from django.db import connection

    columns = [fld.column for fld in Case._meta.concrete_fields if fld.column != "id"]
    picked = []
    for col in columns:
        if col == "number":
            picked.append("'B-' || lpad((g + %s)::text, 7, '0')")
        elif col == "title":
            picked.append("'楼道堆物' || g::text")
        else:
            picked.append(f't."{col}"')
    names = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {Case._meta.db_table} ({names}) SELECT {', '.join(picked)} "
                       f"FROM {Case._meta.db_table} t CROSS JOIN generate_series(1, %s) g WHERE t.id = %s",
                       [start, n, template.pk])


def _peak_while_exporting(user, n_expected):
    export = exports.build("cases", user, {"within": [str(user._grid)]})
    assert export.count >= n_expected
    tracemalloc.start()
    started = time.perf_counter()
    with exports.to_tempfile(export) as out:
        size = out.seek(0, 2)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, elapsed, size


@pytest.mark.postgres
def test_ten_times_the_rows_in_constant_memory(city):
    """Ten times the rows, not ten times the memory: the peak is the cursor's chunk and the zip's buffers. (Traced
    with tracemalloc, which slows Python several times: the rows/s figure is the benchmark's, tests/benchmarks/run.py,
    which exports a street's 100,000 cases.)"""
    template = _cases(city, 1)[0]
    user = city.secretary
    user._grid = city.grid.pk
    _many_cases(template, 6_000)
    small_peak, _, _ = _peak_while_exporting(user, 6_000)
    _many_cases(template, 54_000, start=6_000)
    big_peak, elapsed, size = _peak_while_exporting(user, 60_000)
    print(f"\n6k rows: peak {small_peak / 1e6:.1f} MB; 60k rows: peak {big_peak / 1e6:.1f} MB, "
          f"{elapsed:.1f} s under tracemalloc, {size / 1e6:.1f} MB file")
    assert big_peak < small_peak * 1.5
    assert big_peak < 20e6  # a list of 60,000 rows of 17 cells alone would be far above
