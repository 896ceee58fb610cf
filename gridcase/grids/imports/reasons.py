"""Reasons: codes stored in reports, sentences rendered in the reader's language.

A report keeps reason codes and parameters, never sentences, so it is rendered in the language of whoever
reads it (`render_report`), also for jobs processed in the background. A file refused whole raises
`ImportFileError` (400 with its code); a row refused alone raises `Refused` while it is written.
"""

from django.utils.translation import gettext_lazy as _

from gridcase.core.errors import ValidationFailed

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



class Refused(Exception):
    """A row refused while it is written (its savepoint is rolled back); `reason` says why."""

    def __init__(self, r):
        self.reason = r
        super().__init__(r["code"])


class NeedsReview(Refused):
    """The ID number is registered outside the grid: held for the street, reported neutrally."""

    def __init__(self, resident):
        self.resident = resident
        super().__init__(reason("needs_review"))
