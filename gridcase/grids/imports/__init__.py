"""Bulk import of households and residents from the spreadsheets community offices keep (台账).

Rules this package enforces:
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

The package, in the order a file travels:
- `limits.py`: sizes, row counts, the request/job threshold and the time limit (read from settings);
- `precheck.py`: sniffing and the zip checks a request can afford (`check_file`, `FileCheck`);
- `reading.py`: the header and the rows (`read_table` -> `Table`);
- `cells.py`: one row's values cleaned and checked (`parse_row`);
- `places.py`: micro-grids, buildings, units and households of the grid (`Places`);
- `matching.py`: which stored resident a row is about (`ResidentMatcher`);
- `writing.py`: one row written in steps (unit, household, resident, fields, tags);
- `importer.py`: the run over the table (`ResidentImporter`, `import_file`);
- `handoff.py` / `reviews.py`: rows held for the street, and its decision;
- `reasons.py`: reason codes, file errors and the report in the reader's language;
- `jobs.py`: the background job (`ImportJob`) a large file becomes; its Celery tasks stay in `grids/tasks.py`.
"""

from .importer import ResidentImporter, import_file
from .limits import max_bytes, sync_max_rows, time_limit
from .precheck import FileCheck, check_file
from .reading import Table, read_table
from .reasons import ImportFileError, render_reason, render_report, report_rows

__all__ = [
    "FileCheck", "ImportFileError", "ResidentImporter", "Table", "check_file", "import_file", "max_bytes",
    "read_table", "render_reason", "render_report", "report_rows", "sync_max_rows", "time_limit",
]
