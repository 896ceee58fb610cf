"""Every CSV or XLSX file GridCase writes goes through this module, so no cell runs as a formula.

Text that starts with `=`, `+`, `-`, `@`, a tab, a carriage return or a line feed is taken for a formula by
Excel, WPS and LibreOffice (CSV/formula injection: a resident's "name" `=HYPERLINK(…)` in an import report
would run on the office computer that opens it). `neutralise` writes such text with a leading apostrophe,
so it is shown as the text it is. Numbers, dates and booleans are written as typed values, never formulas.

Use `csv_bytes` / `xlsx_bytes` (or `neutralise` on every cell) for anything written as a spreadsheet.
"""

import csv
import io
from datetime import date, datetime

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value):
    """The cell as it may be written: text that a spreadsheet would read as a formula gets a leading `'`."""
    if value is None or isinstance(value, bool | int | float | date | datetime):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_bytes(header, rows) -> bytes:
    """UTF-8 with a byte-order mark (Excel then reads Chinese correctly), every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise(c) for c in header])
    for row in rows:
        writer.writerow(["" if c is None else neutralise(c) for c in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(header, rows, title: str = "Sheet1") -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31] or "Sheet1")
    ws.append([neutralise(c) for c in header])
    for row in rows:
        ws.append([neutralise(c) for c in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
