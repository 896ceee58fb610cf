"""Reading a checked file into a `Table`: the header row found (Chinese or English column names, a title
line above it skipped), the required columns present, every row read counted against the limit."""

import csv
import io
import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .limits import MAX_COLUMNS, check_deadline, max_lines, max_rows
from .precheck import FileCheck, check_file
from .reasons import FIELD_LABELS, ImportFileError

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


def csv_rows(data: bytes):
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


def xlsx_rows(data: bytes):
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



def read_table(data: bytes, check: FileCheck | None = None, deadline: float | None = None) -> Table:
    """Check, parse and check again: header found, required columns present, rows within limits.

    Every row read counts against the limit, blank ones too, so a sheet of millions of empty rows stops
    after `max_lines()` of them.
    """
    file_type = (check or check_file(data)).file_type
    rows_iter = xlsx_rows(data) if file_type == "xlsx" else csv_rows(data)
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

