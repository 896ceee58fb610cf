"""Cheap checks before any parsing: what a request may afford on any file.

The file is read by its content (sniffed), never by its name: XLSX (a zip holding a workbook) or delimited
text. A workbook's unpacked size and its first sheet's row count are read from the zip itself, without
parsing XML, so a request can refuse or hand over to a background job a file it must not parse.
"""

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass

from .limits import (
    HEADER_LINES,
    max_bytes,
    max_lines,
    max_rows,
    max_unpacked_bytes,
    sync_max_rows,
    sync_max_unpacked_bytes,
)
from .reasons import ImportFileError


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

