"""Every CSV or XLSX file GridCase writes goes through this module, so no cell runs as a formula.

Text that starts with `=`, `+`, `-`, `@`, a tab, a carriage return or a line feed is taken for a formula by
Excel, WPS and LibreOffice (CSV/formula injection: a resident's "name" `=HYPERLINK(…)` in an import report
would run on the office computer that opens it). `neutralise` writes such text with a leading apostrophe,
so it is shown as the text it is. Numbers, dates and booleans are written as typed values, never formulas.

Use `csv_bytes` / `xlsx_bytes` (or `neutralise` on every cell) for anything written as a spreadsheet; for long lists
`write_xlsx` streams rows of any number into a file in constant memory (the exports of gridcase.reports).
"""

import csv
import io
import re
import zipfile
from datetime import date, datetime
from xml.sax.saxutils import escape

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


# --- streaming XLSX ----------------------------------------------------------------------------------------------
# openpyxl (without lxml) writes about 2,000 rows of 17 cells a second; a 100,000-row export must not take a minute.
# `write_xlsx` writes the sheet's XML itself, row by row, into a deflated zip member: the smallest valid workbook
# (inline strings, three styles: a date-time, a date, a bold header), read by Excel, WPS, LibreOffice and openpyxl.

_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EPOCH = datetime(1899, 12, 30)
MAX_CELL_CHARS = 32_767

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>")
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/></Relationships>')
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')


def _workbook(title: str) -> str:
    name = escape(_ILLEGAL_XML.sub("", title)[:31] or "Sheet1", {'"': "&quot;"})
    for bad in "[]:*?/\\":
        name = name.replace(bad, " ")
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>')


def _text_cell(text: str, style: str = "") -> str:
    text = _ILLEGAL_XML.sub("", text)[:MAX_CELL_CHARS]
    return f'<c t="inlineStr"{style}><is><t xml:space="preserve">{escape(text)}</t></is></c>'


def _cell(value) -> str:
    """One cell's XML (no reference: cells follow each other). Text is neutralised first."""
    kind = type(value)
    if kind is str:  # most cells: the fast path
        if not value:
            return "<c/>"
        if value[0] in FORMULA_START:
            value = "'" + value
        if _ILLEGAL_XML.search(value):
            value = _ILLEGAL_XML.sub("", value)
        return f'<c t="inlineStr"><is><t xml:space="preserve">{escape(value[:MAX_CELL_CHARS])}</t></is></c>'
    if value is None:
        return "<c/>"
    if kind is bool:
        return f'<c t="b"><v>{int(value)}</v></c>'
    if kind is int or kind is float:
        return f"<c><v>{value!r}</v></c>"
    if kind is datetime:
        if value.tzinfo is not None:
            raise TypeError("write local, naive date-times (timezone.localtime(...).replace(tzinfo=None))")
        delta = value - _EPOCH
        return f'<c s="1"><v>{delta.days + delta.seconds / 86400:.6f}</v></c>'
    if kind is date:
        return f'<c s="2"><v>{(value - _EPOCH.date()).days}</v></c>'
    if isinstance(value, int | float):  # Decimal is text below; int and float subclasses (IntEnum …) are numbers
        return f"<c><v>{float(value)!r}</v></c>"
    return _text_cell(neutralise(value))


def write_xlsx(header, rows, out, title: str = "Sheet1", progress=None, total=None, every: int = 1000) -> int:
    """Write `header` (bold, frozen) and `rows` (any iterable of sequences) to the binary file `out` as a one-sheet
    workbook; returns the number of rows. Memory stays flat whatever the length (rows are written as they come).
    `progress(done, total)` is called every `every` rows, and `progress(done, total, force=True)` at the end."""
    widths = [min(max(len(str(h)) * 2 + 4, 10), 40) for h in header]
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=3) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("xl/workbook.xml", _workbook(title))
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        zf.writestr("xl/styles.xml", _STYLES)
        n = 0
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1))
            head = "".join(_text_cell(neutralise(h), ' s="3"') for h in header)
            sheet.write((
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
                'state="frozen"/></sheetView></sheetViews>'
                f'<cols>{cols}</cols><sheetData><row r="1">{head}</row>').encode())
            chunk = []
            cell = _cell
            for row in rows:
                n += 1
                chunk.append(f'<row r="{n + 1}">{"".join([cell(v) for v in row])}</row>')
                if len(chunk) >= 500:
                    sheet.write("".join(chunk).encode())
                    chunk = []
                if progress is not None and n % every == 0:
                    progress(n, total)
            sheet.write(("".join(chunk) + "</sheetData></worksheet>").encode())
    if progress is not None:
        progress(n, total, force=True)
    return n
