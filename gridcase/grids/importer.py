"""Bulk import of households and residents from the spreadsheets community offices keep (台账).

Rules this module enforces:
- The file is read by its content (sniffed), never by its name: XLSX (a zip holding a workbook) or
  delimited text (CSV/TSV in UTF-8 or GB18030). Size, row count, emptiness and shape are checked before
  any row is written; a bad file is refused whole (`ImportFileError`, HTTP 400 with a code).
- Headers may be Chinese (姓名, 性别, 出生日期, 联系电话, 身份证号, 楼栋, 单元, 房号, 微网格, 重点人群,
  与户主关系, 备注) or English (name, gender, …). A title line above the header row is skipped.
- The caller needs an editor role on the chosen grid (community, general grid or micro-grid) and every
  row must land inside it. Buildings are matched by name (or code) inside the chosen grid and never
  created; a missing unit is created only when the row names a valid micro-grid (Unit.clean rules).
- Households are matched by (unit, room); residents by ID number (keyed hash) or, without one, by
  (household, name). Re-importing the same file changes nothing.
- Each row is written in its own savepoint: a refused row leaves nothing behind.
- Empty cells never erase stored values; a non-empty 重点人群 cell replaces the resident's tags.
- A file cannot hold a thread: before parsing, a workbook's unpacked size and its sheet's row count are
  checked from the zip itself (`check_file`); every row read counts against the limit, blank ones too;
  large workbooks are parsed only by a background job, which stops at IMPORT_TIME_LIMIT seconds.
- A row whose ID number belongs to a resident registered outside the chosen grid is not imported and
  does not say so: the uploader reads `needs_review`, and the street decides (`reviews.py`).

The report keeps reason codes and parameters, not sentences, so it is rendered in the reader's
language when shown (`render_report`), also for jobs processed in the background.
"""

import csv
import io
import posixpath
import re
import time
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from gridcase.core import audit, crypto
from gridcase.core.errors import Forbidden, NotFound, ValidationFailed

from . import services, tree
from .choices import EDITOR_ROLES, Gender, Level
from .models import Building, Grid, Household, Resident, Tag, Unit
from .people import valid_id_number
from .scoping import scope_for

MAX_COLUMNS = 60


def max_bytes() -> int:
    return settings.IMPORT_MAX_BYTES


def max_rows() -> int:
    return getattr(settings, "IMPORT_MAX_ROWS", 50_000)


def sync_max_rows() -> int:
    """Files with more rows than this are processed by a background job (HTTP 202)."""
    return getattr(settings, "IMPORT_SYNC_MAX_ROWS", 1_000)


# A title line and the header lie within the first lines; they (and blank lines) count as rows read.
HEADER_LINES = 10


def max_lines() -> int:
    """Rows read — blank ones, the title and the header included — before a file is refused."""
    return max_rows() + HEADER_LINES


def max_unpacked_bytes() -> int:
    """What a workbook may unpack to (the sum of its zip members' sizes), checked before parsing."""
    return getattr(settings, "IMPORT_MAX_UNPACKED_BYTES", 100 * 1024 * 1024)


def sync_max_unpacked_bytes() -> int:
    """Workbooks unpacking to more than this are never parsed during a request, only by a job."""
    return getattr(settings, "IMPORT_SYNC_MAX_UNPACKED_BYTES", 4 * 1024 * 1024)


def time_limit() -> int:
    """Seconds a background import may run before it stops (the Celery task's soft limit is just above).
    At most 25 minutes: a job running for 30 is taken for dead and claimed again (jobs.STALE_AFTER)."""
    return min(getattr(settings, "IMPORT_TIME_LIMIT", 600), 25 * 60)


# --------------------------------------------------------------------------------------------
# Reasons: codes stored in reports, sentences rendered in the reader's language.
# --------------------------------------------------------------------------------------------
REASONS = {
    "required": _("%(field)s is required."),
    "too_long": _("%(field)s is longer than %(max)s characters."),
    "invalid_gender": _("Gender “%(value)s” is not understood (男/女, male/female)."),
    "invalid_date": _("Birth date “%(value)s” is not a date (e.g. 1950-03-21)."),
    "future_date": _("Birth date “%(value)s” lies in the future or before 1900."),
    "invalid_phone": _("Phone number “%(value)s” is not a valid mobile or landline number."),
    "invalid_id_number": _("ID number %(value)s is not a valid 18-digit ID number (check digit or birth date)."),
    "id_number_lost_digits": _("The ID number was stored as a number and lost digits; format the column as text."),
    "birth_date_mismatch": _("Birth date %(value)s does not match the ID number."),
    "gender_mismatch": _("Gender does not match the ID number."),
    "unknown_tag": _("Unknown key-population tag “%(value)s”."),
    "building_not_found": _("No building “%(value)s” in %(grid)s."),
    "building_ambiguous": _("Several buildings are called “%(value)s” in %(grid)s; give the micro-grid code."),
    "micro_grid_not_found": _("No micro-grid “%(value)s” in %(grid)s."),
    "micro_grid_ambiguous": _("Several micro-grids are called “%(value)s”; use the micro-grid code."),
    "unit_not_found": _("Unit “%(value)s” does not exist in building “%(building)s”; give its micro-grid to create it."),
    "unit_micro_grid_mismatch": _("Unit “%(value)s” belongs to micro-grid %(actual)s, not %(given)s."),
    "unit_out_of_scope": _("Unit “%(value)s” belongs to a micro-grid outside %(grid)s."),
    "unit_invalid": _("The unit cannot be created: %(detail)s"),
    # Said of a row whose ID number is registered outside the chosen grid, without saying so (the street
    # decides, see reviews.py). Kept: `registered_elsewhere` in reports written before reviews existed.
    "needs_review": _("This row needs a check by the street office before it is imported; nothing was changed."),
    "registered_elsewhere": _("A resident with this ID number is registered outside %(grid)s; "
                              "transfer them from there first."),
    "duplicate_in_file": _("Same person as row %(row)s of this file."),
    "invalid_row": _("The row could not be saved: %(detail)s"),
    "concurrent_change": _("Someone else changed this household at the same time; import the file again."),
}

FIELD_LABELS = {
    "name": _("Name"), "gender": _("Gender"), "birth_date": _("Birth date"), "phone": _("Phone"),
    "id_number": _("ID number"), "building": _("Building"), "unit": _("Unit"), "room": _("Room"),
    "micro_grid": _("Micro-grid"), "tags": _("Key populations"), "relation": _("Relation"), "note": _("Note"),
}

FILE_ERRORS = {
    "file_missing": _("Choose a file to import (field “file”)."),
    "file_too_large": _("The file is larger than %(max)s MB."),
    "file_too_large_unpacked": _("The workbook unpacks to more than %(max)s MB; split it into smaller files."),
    "time_limit": _("The import took longer than %(seconds)s seconds and was stopped; rows already imported "
                    "stay. Split the file and import the rest."),
    "file_empty": _("The file holds no rows to import."),
    "file_malformed": _("The file cannot be read: %(detail)s"),
    "unsupported_file_type": _("Only XLSX workbooks and CSV files can be imported (this looks like %(kind)s)."),
    "too_many_rows": _("The file has more than %(max)s rows; split it into smaller files."),
    "missing_columns": _("Required columns are missing: %(columns)s."),
    "invalid_grid": _("Import into a community, a general grid or a micro-grid."),
}


class ImportFileError(ValidationFailed):
    """A file refused whole (400 with a specific code)."""

    def __init__(self, code: str, **params):
        message = FILE_ERRORS[code] % params if params else FILE_ERRORS[code]
        super().__init__(message, code=code, fields={"file": [message]} if code != "invalid_grid" else {"grid": [message]})


def reason(code, field=None, **params) -> dict:
    out = {"code": code}
    if field:
        out["field"] = field
    if params:
        out["params"] = {k: str(v) for k, v in params.items()}
    return out


def render_reason(r: dict) -> str:
    params = dict(r.get("params", {}))
    if r.get("field"):
        params.setdefault("field", str(FIELD_LABELS.get(r["field"], r["field"])))
    template = REASONS.get(r["code"], r["code"])
    try:
        return str(template) % params if params else str(template).replace("%%", "%")
    except (KeyError, ValueError, TypeError):
        return str(template)


def render_report(report: dict | None) -> dict | None:
    """The report with each reason's sentence in the active language."""
    if report is None:
        return None
    rows = []
    for row in report.get("rows", []):
        row = dict(row)
        if "reasons" in row:
            row["reasons"] = [dict(r, message=render_reason(r)) for r in row["reasons"]]
        rows.append(row)
    return dict(report, rows=rows)


STATUS_LABELS = {"created": _("created"), "updated": _("updated"), "unchanged": _("unchanged"),
                 "refused": _("refused")}
REPORT_HEADER = [_("Row"), _("Name"), _("Status"), _("Changed"), _("Reasons")]


def report_rows(report: dict | None) -> tuple[list, list]:
    """The report as a table (header, rows) in the active language, for a spreadsheet download.

    Names and reasons come from the uploaded file: write them with gridcase.core.spreadsheet only."""
    rendered = render_report(report) or {"rows": []}
    rows = []
    for r in rendered["rows"]:
        changed = ", ".join(str(FIELD_LABELS.get(k, k)) for k in r.get("changed", []))
        reasons = "; ".join(x["message"] for x in r.get("reasons", []))
        rows.append([r["row"], r.get("name", ""), str(STATUS_LABELS.get(r["status"], r["status"])), changed, reasons])
    return [str(h) for h in REPORT_HEADER], rows


# --------------------------------------------------------------------------------------------
# Reading files.
# --------------------------------------------------------------------------------------------
HEADERS = {
    "name": ["姓名", "居民姓名", "名字", "name", "full_name"],
    "gender": ["性别", "gender", "sex"],
    "birth_date": ["出生日期", "出生年月日", "出生年月", "生日", "birth_date", "birthdate", "date_of_birth", "dob"],
    "phone": ["联系电话", "手机号", "手机号码", "电话", "电话号码", "联系方式", "phone", "mobile", "tel"],
    "id_number": ["身份证号", "身份证号码", "公民身份号码", "证件号码", "身份证", "id_number", "id_card", "id_no"],
    "building": ["楼栋", "楼栋号", "楼号", "楼栋名称", "building"],
    "unit": ["单元", "单元号", "unit"],
    "room": ["房号", "门牌号", "房间号", "室号", "户号", "room"],
    "micro_grid": ["微网格", "微网格编码", "所属微网格", "微网格编号", "micro_grid", "micro_grid_code", "microgrid"],
    "tags": ["重点人群", "标签", "人员类别", "重点人群类别", "tags", "tag", "key_populations"],
    "relation": ["与户主关系", "关系", "relation", "relationship"],
    "note": ["备注", "note", "notes", "remark"],
}
REQUIRED = ["name", "building", "unit", "room"]


def _norm_header(value) -> str:
    text = str(value or "").strip().lower()
    text = text.replace("（", "(").replace("）", ")").replace("*", "").replace("＊", "")
    text = re.sub(r"\s+", "", text)
    return text.replace("-", "_")


HEADER_INDEX = {_norm_header(alias): key for key, aliases in HEADERS.items() for alias in aliases}


def map_header(cells) -> dict:
    """{field: column index} for a header row; 微网格(编码) and 'Phone (mobile)' match too."""
    mapping = {}
    for i, cell in enumerate(cells):
        h = _norm_header(cell)
        key = HEADER_INDEX.get(h) or HEADER_INDEX.get(re.sub(r"\(.*?\)", "", h))
        if key and key not in mapping:
            mapping[key] = i
    return mapping


@dataclass
class Table:
    file_type: str
    columns: dict  # field -> index
    rows: list  # (line number, cells)


def sniff(data: bytes) -> str:
    """'xlsx' or 'csv' from the bytes themselves; anything else is refused."""
    head = data[:8]
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
        except zipfile.BadZipFile:
            raise ImportFileError("file_malformed", detail="zip")
        if "xl/workbook.xml" in names:
            return "xlsx"
        kind = "DOCX" if "word/document.xml" in names else "ODS" if "content.xml" in names else "ZIP"
        raise ImportFileError("unsupported_file_type", kind=kind)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("unsupported_file_type", kind="XLS (Excel 97–2003)")
    for magic, kind in ((b"%PDF", "PDF"), (b"\x89PNG", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF8", "GIF"),
                        (b"\x1f\x8b", "GZIP"), (b"Rar!", "RAR"), (b"7z\xbc\xaf", "7Z")):
        if head.startswith(magic):
            raise ImportFileError("unsupported_file_type", kind=kind)
    if b"\x00" in data[:8192]:
        # UTF-16 text (Excel's "Unicode text") carries NULs too; anything else with NULs is binary.
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return "csv"
        raise ImportFileError("unsupported_file_type", kind="binary")
    return "csv"


# --------------------------------------------------------------------------------------------
# Cheap checks before any parsing: what a request may afford on any file.
# --------------------------------------------------------------------------------------------
@dataclass
class FileCheck:
    file_type: str
    lines: int  # rows the sheet holds at most, blank ones included (0: not counted before parsing)
    unpacked_bytes: int  # what the parser reads: the unpacked workbook, or the text file's bytes

    def fits_a_request(self) -> bool:
        """Small enough to parse during the request; anything larger is parsed by a background job."""
        if self.file_type != "xlsx":
            return True  # delimited text parses at C speed and its rows are counted as they are read
        return self.lines <= sync_max_rows() + HEADER_LINES and self.unpacked_bytes <= sync_max_unpacked_bytes()


def check_file(data: bytes) -> FileCheck:
    """Size, type, and for a workbook its unpacked size and row count, read from the zip without parsing.

    Zip members' sizes are trustworthy upper bounds: Python's zipfile (which openpyxl reads through too)
    never unpacks more than a member declares. Refuses with `file_too_large`, `file_empty`,
    `unsupported_file_type`, `file_malformed`, `file_too_large_unpacked` or `too_many_rows`.
    """
    if len(data) > max_bytes():
        raise ImportFileError("file_too_large", max=max_bytes() // (1024 * 1024) or 1)
    if not data.strip():
        raise ImportFileError("file_empty")
    file_type = sniff(data)
    if file_type != "xlsx":
        return FileCheck(file_type, 0, len(data))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            unpacked = sum(info.file_size for info in zf.infolist())
            if unpacked > max_unpacked_bytes():
                raise ImportFileError("file_too_large_unpacked", max=max_unpacked_bytes() // (1024 * 1024) or 1)
            sheet = first_sheet_name(zf)
            lines = count_sheet_rows(zf, sheet, stop_after=max_lines()) if sheet else 0
    except ImportFileError:
        raise
    except Exception as exc:  # a broken, encrypted or oddly compressed zip: zipfile raises many kinds
        raise ImportFileError("file_malformed", detail=type(exc).__name__)
    if lines > max_lines():
        raise ImportFileError("too_many_rows", max=max_rows())
    return FileCheck(file_type, lines, unpacked)


_SHEET_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheet(?=[\s/>])([^>]*)>")
_REL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?Relationship(?=[\s/>])([^>]*)>")
_ATTR = re.compile(rb"([A-Za-z_][\w.:-]*)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row(?=[\s/>])([^>]*)>")
_ROW_NUMBER = re.compile(rb"(?:^|\s)r\s*=\s*[\"']\s*(\d+)")
_META_LIMIT = 4 * 1024 * 1024  # workbook.xml and its relationships are a few KB


def _attrs(raw: bytes) -> dict:
    """Attributes of a tag, keyed by local name (namespace prefixes dropped)."""
    return {m.group(1).split(b":")[-1].decode("ascii", "replace"): (m.group(2) if m.group(2) is not None
                                                                   else m.group(3)).decode("utf-8", "replace")
            for m in _ATTR.finditer(raw)}


def _read_small(zf, name) -> bytes:
    info = zf.getinfo(name)
    if info.file_size > _META_LIMIT:
        raise ImportFileError("file_malformed", detail=name)
    return zf.read(name)


def first_sheet_name(zf) -> str | None:
    """The zip member holding the workbook's first worksheet: the one openpyxl's `worksheets[0]` reads."""
    names = set(zf.namelist())
    try:
        sheets = [_attrs(m.group(1)) for m in _SHEET_TAG.finditer(_read_small(zf, "xl/workbook.xml"))]
        rels = {}
        if "xl/_rels/workbook.xml.rels" in names:
            for m in _REL_TAG.finditer(_read_small(zf, "xl/_rels/workbook.xml.rels")):
                a = _attrs(m.group(1))
                rels[a.get("Id")] = a
        for sheet in sheets:
            rel = rels.get(sheet.get("id"))
            if not rel or not rel.get("Type", "").endswith("/worksheet"):
                continue  # a chartsheet, or a sheet without a part
            target = rel.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
            if path in names:
                return path
    except KeyError:
        pass
    # Unusual packaging: the lowest-numbered worksheet part (the row count while parsing still applies).
    parts = sorted((n for n in names if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n)),
                   key=lambda n: (len(n), n))
    return parts[0] if parts else None


def count_sheet_rows(zf, name: str, stop_after: int) -> int:
    """Rows a sheet holds as openpyxl would yield them (gaps in `r` numbers become blank rows), counted
    from the XML stream with a regular expression: no XML parsing. Stops once past `stop_after`."""
    last, tail = 0, b""
    with zf.open(name) as stream:
        while True:
            chunk = stream.read(1024 * 1024)
            if not chunk:
                break
            buf = tail + chunk
            cut = buf.rfind(b"<")
            if cut != -1 and buf.find(b">", cut) == -1:  # an unfinished tag: keep it for the next chunk
                buf, tail = buf[:cut], buf[cut:]
                if len(tail) > 1024 * 1024:
                    raise ImportFileError("file_malformed", detail=name)
            else:
                tail = b""
            for m in _ROW_TAG.finditer(buf):
                number = _ROW_NUMBER.search(m.group(1))
                last = max(last, int(number.group(1))) if number else last + 1
                if last > stop_after:
                    return last
    return last


def _decode(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportFileError("file_malformed", detail="UTF-16")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("file_malformed", detail=str(_("unknown text encoding")))


def _csv_rows(data: bytes):
    text = _decode(data)
    sample = text[:4096]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;，").delimiter
    except csv.Error:
        delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error as exc:
        raise ImportFileError("file_malformed", detail=f"line {reader.line_num}: {exc}")


def _xlsx_rows(data: bytes):
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for broken workbooks
        raise ImportFileError("file_malformed", detail=type(exc).__name__)
    try:
        ws = wb.worksheets[0] if wb.worksheets else None
        if ws is None:
            return
        for i, cells in enumerate(ws.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1):
            yield i, list(cells)
    except ImportFileError:
        raise
    except Exception as exc:
        raise ImportFileError("file_malformed", detail=type(exc).__name__)
    finally:
        wb.close()


def _blank(cells) -> bool:
    return all(c is None or str(c).strip() == "" for c in cells)


def check_deadline(deadline: float | None) -> None:
    """Stop an import that has run out of time (`deadline` is a time.monotonic() value)."""
    if deadline is not None and time.monotonic() > deadline:
        raise ImportFileError("time_limit", seconds=time_limit())


def read_table(data: bytes, check: FileCheck | None = None, deadline: float | None = None) -> Table:
    """Check, parse and check again: header found, required columns present, rows within limits.

    Every row read counts against the limit, blank ones too, so a sheet of millions of empty rows stops
    after `max_lines()` of them.
    """
    file_type = (check or check_file(data)).file_type
    rows_iter = _xlsx_rows(data) if file_type == "xlsx" else _csv_rows(data)
    columns, rows, limit, lines_limit = None, [], max_rows(), max_lines()
    best = {}
    for read, (line, cells) in enumerate(rows_iter, start=1):
        if read > lines_limit:
            raise ImportFileError("too_many_rows", max=limit)
        if read % 1000 == 0:
            check_deadline(deadline)
        if _blank(cells):
            continue
        if columns is None:
            mapping = map_header(cells)
            # The header is the first line naming at least two known columns; a title line above it is skipped.
            if len(mapping) >= 2:
                columns = mapping
            elif line > 10:
                break
            best = mapping if len(mapping) > len(best) else best
            continue
        rows.append((line, cells))
        if len(rows) > limit:
            raise ImportFileError("too_many_rows", max=limit)
    if columns is None:
        if not best and not rows:
            raise ImportFileError("missing_columns", columns="、".join(str(FIELD_LABELS[k]) for k in REQUIRED))
        columns = best
    missing = [k for k in REQUIRED if k not in columns]
    if missing:
        raise ImportFileError("missing_columns", columns="、".join(str(FIELD_LABELS[k]) for k in missing))
    if not rows:
        raise ImportFileError("file_empty")
    return Table(file_type, columns, rows)


# --------------------------------------------------------------------------------------------
# Parsing cells.
# --------------------------------------------------------------------------------------------
GENDERS = {"男": Gender.MALE, "女": Gender.FEMALE, "male": Gender.MALE, "female": Gender.FEMALE, "m": Gender.MALE,
           "f": Gender.FEMALE, "男性": Gender.MALE, "女性": Gender.FEMALE, "未知": Gender.UNKNOWN,
           "unknown": Gender.UNKNOWN}
TAG_SPLIT = re.compile(r"[,，、;；/|\s]+")
PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}\d{7,8}|\d{7,8})$")
DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
LIMITS = {"name": 60, "relation": 20, "note": 200, "room": 30, "unit": 60}


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def parse_date(value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    m = DATE_RE.match(text)
    if not m and re.fullmatch(r"\d{8}", text):
        m = re.match(r"(\d{4})(\d{2})(\d{2})", text)
    if not m:
        raise ValueError(text)
    return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def normalise_phone(text: str) -> str:
    phone = re.sub(r"[\s\-()（）]", "", text)
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("86") and len(phone) == 13:
        phone = phone[2:]
    return phone


@dataclass
class RowData:
    line: int
    values: dict
    reasons: list = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# The importer.
# --------------------------------------------------------------------------------------------
class ResidentImporter:
    def __init__(self, user, grid: Grid, *, job=None, transfers=frozenset(), check_access=True):
        """`job`: the ImportJob a review is filed under; `transfers`: ID-number hashes whose residents may
        move here from outside the grid (a merge decided by the street); `check_access=False` only for such
        a decision, whose own rules (reviews.py) replace the editor-role check."""
        scope = scope_for(user)
        if check_access and not scope.covers(grid):
            raise NotFound()
        if check_access and not scope.is_global and not scope.roles_at(grid) & EDITOR_ROLES:
            raise Forbidden()
        if grid.level not in (Level.COMMUNITY, Level.GRID, Level.MICRO_GRID):
            raise ImportFileError("invalid_grid")
        self.user, self.grid = user, grid
        self.job, self.transfers = job, frozenset(transfers)
        self.span = tree.span(grid)
        self.grid_label = f"{grid.name} ({grid.code})"
        inside = tree.subtree_q([self.span])
        micros = list(Grid.objects.filter(inside, level=Level.MICRO_GRID).values("id", "code", "name", "parent_id"))
        self.micro_by_id = {m["id"]: m for m in micros}
        self.micro_by_key: dict = {}
        for m in micros:
            self.micro_by_key.setdefault(m["code"].lower(), []).append(m)
            if m["name"].lower() != m["code"].lower():
                self.micro_by_key.setdefault(m["name"].lower(), []).append(m)
        if grid.level == Level.MICRO_GRID:
            buildings = Building.objects.filter(grid_id=grid.parent_id)
        else:
            buildings = Building.objects.filter(tree.subtree_q([self.span], "grid__"))
        self.buildings: dict = {}
        for b in buildings.values("id", "code", "name", "grid_id"):
            for key in {b["name"].strip().lower(), b["code"].strip().lower()}:
                self.buildings.setdefault(key, []).append(b)
        self.units: dict = {}  # (building_id, name) -> {"id", "micro_grid_id"}
        building_ids = {b["id"] for bs in self.buildings.values() for b in bs}
        for u in Unit.objects.filter(building_id__in=building_ids).values("id", "building_id", "name", "micro_grid_id"):
            self.units[(u["building_id"], u["name"].strip().lower())] = u
        self.tags = {}
        for t in Tag.objects.all():
            for key in (t.code, t.name, t.name_en):
                if key:
                    self.tags[key.strip().lower()] = t
        self.households: dict = {}  # (unit_id, room) -> household id
        self.by_hash: dict = {}  # id hash -> Resident or None, per chunk
        self.seen_ids: dict = {}  # id hash -> line
        self.seen_names: dict = {}  # (household id, name) -> line

    def prefetch_residents(self, table, rows):
        """Residents already known by the chunk's ID numbers, in one query (None: not registered)."""
        self.by_hash = {}
        index = table.columns.get("id_number")
        if index is None:
            return
        current = {}  # digest under any configured key -> under the current key (they differ while keys rotate)
        for _line, cells in rows:
            value = re.sub(r"\s", "", cell_text(cells[index] if index < len(cells) else None)).upper()
            if valid_id_number(value):
                current.update(dict.fromkeys(crypto.keyed_hashes(value), crypto.keyed_hash(value)))
        self.by_hash = dict.fromkeys(set(current.values()))
        for r in Resident.objects.select_related("grid").filter(id_number_hash__in=current).order_by("id"):
            if self.by_hash.get(current[r.id_number_hash]) is None:
                self.by_hash[current[r.id_number_hash]] = r

    def preload_households(self):
        unit_ids = [u["id"] for u in self.units.values()]
        for start in range(0, len(unit_ids), 5_000):
            part = unit_ids[start:start + 5_000]
            for hid, unit_id, room in Household.objects.filter(unit_id__in=part).values_list("id", "unit_id", "room"):
                self.households[(unit_id, room)] = hid

    # parsing ---------------------------------------------------------------------------
    def parse(self, line, cells, columns) -> RowData:
        raw = {k: (cells[i] if i < len(cells) else None) for k, i in columns.items()}
        row = RowData(line, {})
        v = row.values
        for key in ("name", "building", "unit", "room", "micro_grid", "relation", "note"):
            v[key] = cell_text(raw.get(key))
        for key in REQUIRED:
            if not v[key]:
                row.reasons.append(reason("required", key))
        for key, limit in LIMITS.items():
            if len(v.get(key, "")) > limit:
                row.reasons.append(reason("too_long", key, max=limit))
        # ID number first: it also gives birth date and gender.
        id_raw = raw.get("id_number")
        id_number = ""
        if isinstance(id_raw, float | int) and not isinstance(id_raw, bool) and id_raw:
            if isinstance(id_raw, float) or len(str(id_raw)) != 18:
                row.reasons.append(reason("id_number_lost_digits", "id_number"))
            else:
                id_number = str(id_raw)
        else:
            id_number = re.sub(r"\s", "", cell_text(id_raw)).upper()
        if id_number and not any(r["code"] == "id_number_lost_digits" for r in row.reasons):
            if not valid_id_number(id_number):
                row.reasons.append(reason("invalid_id_number", "id_number", value=crypto.mask_id_number(id_number)))
                id_number = ""
        v["id_number"] = id_number
        id_birth = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14])) if id_number else None
        id_gender = (Gender.MALE if int(id_number[16]) % 2 else Gender.FEMALE) if id_number else None

        gender_text = cell_text(raw.get("gender")).lower()
        gender = None
        if gender_text:
            gender = GENDERS.get(gender_text)
            if gender is None:
                row.reasons.append(reason("invalid_gender", "gender", value=gender_text))
            elif id_gender and gender != Gender.UNKNOWN and gender != id_gender:
                row.reasons.append(reason("gender_mismatch", "gender"))
        v["gender"] = gender or id_gender

        birth = None
        if cell_text(raw.get("birth_date")):
            try:
                birth = parse_date(raw.get("birth_date"))
            except ValueError:
                row.reasons.append(reason("invalid_date", "birth_date", value=cell_text(raw.get("birth_date"))))
            else:
                if birth > date.today() or birth.year < 1900:
                    row.reasons.append(reason("future_date", "birth_date", value=birth.isoformat()))
                elif id_birth and birth != id_birth:
                    row.reasons.append(reason("birth_date_mismatch", "birth_date", value=birth.isoformat()))
        v["birth_date"] = birth or id_birth

        phone_text = cell_text(raw.get("phone"))
        phone = normalise_phone(phone_text) if phone_text else ""
        if phone and not PHONE_RE.match(phone):
            row.reasons.append(reason("invalid_phone", "phone", value=crypto.mask_phone(phone)))
        v["phone"] = phone

        tags_text = cell_text(raw.get("tags"))
        tags = None
        if tags_text and tags_text not in ("无", "-", "—", "none"):
            tags = []
            for part in TAG_SPLIT.split(tags_text):
                if not part:
                    continue
                tag = self.tags.get(part.lower())
                if tag is None:
                    row.reasons.append(reason("unknown_tag", "tags", value=part))
                elif tag not in tags:
                    tags.append(tag)
        elif tags_text:
            tags = []
        v["tags"] = tags
        return row

    # places ------------------------------------------------------------------------------
    def find_micro(self, row):
        text = row.values["micro_grid"]
        if not text:
            return None
        found = self.micro_by_key.get(text.lower(), [])
        if not found:
            row.reasons.append(reason("micro_grid_not_found", "micro_grid", value=text, grid=self.grid_label))
        elif len(found) > 1:
            row.reasons.append(reason("micro_grid_ambiguous", "micro_grid", value=text))
        return found[0] if len(found) == 1 else None

    def find_building(self, row, micro):
        text = row.values["building"]
        candidates = []
        for key in self.name_forms(text, ("栋", "号楼", "幢", "号")):
            candidates = self.buildings.get(key.lower(), [])
            if candidates:
                break
        if micro is not None:
            candidates = [b for b in candidates if b["grid_id"] == micro["parent_id"]] or candidates
        if not candidates:
            row.reasons.append(reason("building_not_found", "building", value=text, grid=self.grid_label))
            return None
        if len(candidates) > 1:
            row.reasons.append(reason("building_ambiguous", "building", value=text, grid=self.grid_label))
            return None
        return candidates[0]

    @staticmethod
    def name_forms(text, suffixes):
        yield text
        if text.isdigit():
            for s in suffixes:
                yield text + s

    def find_unit(self, row, building, micro):
        """The existing unit, or (None, name) when it may be created, or (None, None) when refused."""
        text = row.values["unit"]
        for key in self.name_forms(text, ("单元",)):
            unit = self.units.get((building["id"], key.lower()))
            if unit:
                if micro is not None and unit["micro_grid_id"] != micro["id"]:
                    actual = self.micro_label(unit["micro_grid_id"])
                    row.reasons.append(reason("unit_micro_grid_mismatch", "micro_grid", value=text, actual=actual,
                                              given=micro["code"]))
                    return None, None
                if unit["micro_grid_id"] not in self.micro_by_id:
                    row.reasons.append(reason("unit_out_of_scope", "unit", value=text, grid=self.grid_label))
                    return None, None
                return unit, None
        if micro is None:
            row.reasons.append(reason("unit_not_found", "unit", value=text, building=building["name"]))
            return None, None
        name = f"{text}单元" if text.isdigit() else text
        return None, name

    def micro_label(self, micro_id):
        m = self.micro_by_id.get(micro_id)
        if m:
            return m["code"]
        return Grid.objects.filter(pk=micro_id).values_list("code", flat=True).first() or str(micro_id)

    # one row -----------------------------------------------------------------------------
    def import_row(self, line, cells, columns) -> dict:
        row = self.parse(line, cells, columns)
        v = row.values
        result = {"row": line, "name": v["name"]}
        if not row.reasons:
            micro = self.find_micro(row)
            building = self.find_building(row, micro) if not row.reasons else None
            unit, new_unit_name = self.find_unit(row, building, micro) if building else (None, None)
        if row.reasons:
            return result | {"status": "refused", "reasons": row.reasons}
        id_hash = crypto.keyed_hash(v["id_number"]) if v["id_number"] else ""
        if id_hash and id_hash in self.seen_ids:
            return result | {"status": "refused", "reasons": [reason("duplicate_in_file", row=self.seen_ids[id_hash])]}
        try:
            try:
                with transaction.atomic():
                    outcome, cache = self.write(row, building, micro, unit, new_unit_name, id_hash)
            except (ValidationError, _Refused, IntegrityError):
                self.by_hash.pop(id_hash, None)  # the prefetched object may hold rolled-back changes
                raise
        except ValidationError as exc:
            return result | {"status": "refused", "reasons": self.validation_reasons(exc)}
        except _Refused as exc:
            if isinstance(exc, _NeedsReview):
                self.hold_for_review(line, cells, columns, row, exc.resident)
            return result | {"status": "refused", "reasons": [exc.reason]}
        except IntegrityError:
            # Someone else wrote the same unit or household meanwhile: this row is refused, the file goes on.
            return result | {"status": "refused", "reasons": [reason("concurrent_change")]}
        # The savepoint held: now the caches may learn what it created.
        for key, value in cache.get("units", {}).items():
            self.units[key] = value
        for key, value in cache.get("households", {}).items():
            self.households[key] = value
        if id_hash:
            self.seen_ids[id_hash] = line
        self.seen_names[cache["name_key"]] = line
        return result | outcome

    def hold_for_review(self, line, cells, columns, row, resident):
        from . import reviews

        reviews.queue(grid=self.grid, job=self.job, user=self.user, line=line, cells=cells, columns=columns,
                      values=row.values, resident=resident)

    def validation_reasons(self, exc: ValidationError):
        messages = exc.messages if hasattr(exc, "messages") else [str(exc)]
        return [reason("invalid_row", detail="; ".join(str(m) for m in messages))]

    def write(self, row, building, micro, unit, new_unit_name, id_hash):
        v = row.values
        cache: dict = {}
        created_unit = False
        if unit is None:
            obj = Unit(building_id=building["id"], name=new_unit_name, micro_grid_id=micro["id"])
            try:
                obj.full_clean()
            except ValidationError as exc:
                raise _Refused(reason("unit_invalid", "unit", detail="; ".join(str(m) for m in exc.messages)))
            obj.save()
            unit = {"id": obj.id, "building_id": building["id"], "name": obj.name, "micro_grid_id": micro["id"]}
            cache.setdefault("units", {})[(building["id"], obj.name.lower())] = unit
            created_unit = True
        room = v["room"]
        household_id = self.households.get((unit["id"], room))  # preloaded for the grid's units
        created_household = False
        if household_id is None:
            hh = Household(unit_id=unit["id"], room=room, grid_id=unit["micro_grid_id"])
            hh.save()
            household_id = hh.id
            created_household = True
        cache.setdefault("households", {})[(unit["id"], room)] = household_id

        resident = None
        if id_hash:
            if id_hash in self.by_hash:  # prefetched for the chunk
                resident = self.by_hash[id_hash]
            else:
                resident = (Resident.objects.select_related("grid")
                            .filter(id_number_hash__in=crypto.keyed_hashes(v["id_number"])).first())
            if (resident is not None and id_hash not in self.transfers
                    and not tree.span(self.grid).contains(tree.span(resident.grid))):
                # Registered in another community: the street decides; the uploader learns nothing more.
                raise _NeedsReview(resident)
        if resident is None:
            # Without an ID number (or a new one): the same name in the same household is the same person.
            key = (household_id, v["name"])
            if key in self.seen_names:
                raise _Refused(reason("duplicate_in_file", row=self.seen_names[key]))
            if not created_household:  # a household created just now has nobody in it yet
                qs = Resident.objects.filter(household_id=household_id, name=v["name"])
                if id_hash:
                    qs = qs.filter(id_number_hash="")
                resident = qs.first()
        cache["name_key"] = (household_id, v["name"])

        changed = []
        if resident is None:
            resident = Resident(household_id=household_id, grid_id=unit["micro_grid_id"], name=v["name"])
            status = "created"
        else:
            status = "updated"
        fresh = resident.pk is None
        if resident.household_id != household_id:
            resident.household_id, resident.grid_id = household_id, unit["micro_grid_id"]
            changed.append("household")
        for key in ("name", "gender", "birth_date", "relation", "note"):
            value = v.get(key)
            if value in (None, ""):
                continue
            if getattr(resident, key) != value:
                setattr(resident, key, value)
                changed.append(key)
        if v["phone"] and (fresh or resident.phone != v["phone"]):
            resident.phone = v["phone"]
            changed.append("phone")
        if v["id_number"] and (fresh or resident.id_number_hash != id_hash):
            resident.id_number = v["id_number"]
            changed.append("id_number")
        if fresh or changed:
            resident.full_clean(exclude=[f.name for f in Resident._meta.fields if not f.editable] + ["household"])
            resident.save()
        if v["tags"] is not None:
            current = set(resident.tags.values_list("id", flat=True)) if not fresh else set()
            wanted = {t.id for t in v["tags"]}
            if current != wanted:
                services.set_resident_tags(resident, v["tags"])
                if not fresh:
                    changed.append("tags")
        if not fresh and not changed:
            status = "unchanged"
        outcome = {"status": status, "resident": resident.pk, "household": household_id}
        if status == "updated":
            outcome["changed"] = changed
        if created_household:
            outcome["household_created"] = True
        if created_unit:
            outcome["unit_created"] = True
        return outcome, cache

    # the whole file ------------------------------------------------------------------------
    def run(self, table: Table, progress=None, chunk: int = 200, deadline: float | None = None) -> dict:
        rows, counts = [], {"created": 0, "updated": 0, "unchanged": 0, "refused": 0}
        total = len(table.rows)
        self.preload_households()
        for start in range(0, total, chunk):
            check_deadline(deadline)  # chunks already committed stay: importing the file again is safe
            # One transaction per chunk (one commit, not one per row); each row still has its own savepoint.
            self.prefetch_residents(table, table.rows[start:start + chunk])
            with transaction.atomic():
                for line, cells in table.rows[start:start + chunk]:
                    result = self.import_row(line, cells, table.columns)
                    counts[result["status"]] += 1
                    rows.append(result)
            if progress:
                progress(min(start + chunk, total), total, counts)
        audit.record(self.user, "import", [self.grid], ["residents"], file_type=table.file_type, rows=total,
                     **counts)
        return {"grid": self.grid.pk, "file_type": table.file_type, "total": total, **counts, "rows": rows}


class _Refused(Exception):
    def __init__(self, r):
        self.reason = r
        super().__init__(r["code"])


class _NeedsReview(_Refused):
    """The ID number is registered outside the grid: held for the street, reported neutrally."""

    def __init__(self, resident):
        self.resident = resident
        super().__init__(reason("needs_review"))


def import_file(user, grid, data: bytes, progress=None, job=None, deadline: float | None = None) -> dict:
    """Check, read and import a whole file; returns the report (reason codes, see `render_report`)."""
    importer = ResidentImporter(user, grid, job=job)
    table = read_table(data, deadline=deadline)
    return importer.run(table, progress=progress, deadline=deadline)
