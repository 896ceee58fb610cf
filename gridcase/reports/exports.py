"""XLSX exports of the case list and the resident list, with the list's own filters and the caller's scope.

`export(kind, user, params)` is the one entry for the request and the background job alike: it rebuilds the list
from the query parameters exactly as the list endpoint does (same filterset, same scope: `Model.objects.restrict`),
reads it with a server-side cursor (`.iterator()`) as plain tuples and streams it into a zipped sheet
(`gridcase.core.spreadsheet.write_xlsx`: rows are written as they come), so memory stays flat at any length.
Every cell is neutralised there (no cell runs as a formula).

Personal data: the resident list's phone and ID number are written masked. With `reveal=true` they are written in
clear where the caller's role on the resident's grid may read them (roles.PHONE_ROLES / ID_NUMBER_ROLES, decided
in SQL per row) and the export is audited with one entry (`export_reveal`, the row count and the filters). The
case list carries a resident reporter's contact phone masked only (it is revealed case by case, audited).
"""

import tempfile
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import connection
from django.db.models import Aggregate, BooleanField, CharField, F, OuterRef, Subquery, Value, When
from django.db.models import Case as SqlCase
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import pgettext

from gridcase.core import replica, spreadsheet
from gridcase.core.errors import ValidationFailed
from gridcase.core.models import AuditLog
from gridcase.grids import tree
from gridcase.grids.roles import ID_NUMBER_ROLES, PHONE_ROLES
from gridcase.grids.scoping import scope_for


def column(text):
    """A column's title (its own context: "Status" of a case is not the "Status" of other screens)."""
    return pgettext("export column", text)


CHUNK = 2000  # rows fetched per round trip of the server-side cursor


def sync_max_rows() -> int:
    return int(getattr(settings, "EXPORT_SYNC_MAX_ROWS", 5000))


def max_rows() -> int:
    return int(getattr(settings, "EXPORT_MAX_ROWS", 1_000_000))


@dataclass
class Export:
    kind: str  # "cases" | "residents"
    header: list
    rows: object  # an iterator of row lists
    count: int
    title: str
    filename: str
    revealed: bool = False
    sensitive: object = None  # cases: the sensitive ones among the rows (their reads are audited, as on the list)


# --- writing ----------------------------------------------------------------------------------------------------

def _local_rows(rows):
    """Times in the office's zone (settings.TIME_ZONE, Asia/Shanghai), naive as a spreadsheet wants them."""
    zone = timezone.get_default_timezone()
    for row in rows:
        yield [v.astimezone(zone).replace(tzinfo=None, microsecond=0) if type(v) is datetime else v for v in row]


def write_xlsx(header, rows, out, title="Sheet1", progress=None, total=None) -> int:
    """Write `header` and `rows` to the binary file `out` (gridcase.core.spreadsheet.write_xlsx: streamed, every cell
    neutralised), times in Asia/Shanghai; returns the rows written."""
    return spreadsheet.write_xlsx(header, _local_rows(rows), out, title, progress, total)


def to_tempfile(export: Export, progress=None):
    """The export written to a temporary file (deleted when closed), positioned at its start."""
    out = tempfile.TemporaryFile(suffix=".xlsx")
    write_xlsx(export.header, export.rows, out, export.title, progress, export.count)
    out.seek(0)
    return out


# --- the lists --------------------------------------------------------------------------------------------------

class _Request:
    """What a filterset needs of a request (`assignee=me` reads the user), for a worker that has none."""

    def __init__(self, user, params):
        self.user = user
        self.query_params = params
        self.GET = params


def as_querydict(params) -> QueryDict:
    if isinstance(params, QueryDict):
        return params
    q = QueryDict(mutable=True)
    for key, values in (params or {}).items():
        q.setlist(key, values if isinstance(values, list) else [values])
    return q


def params_of(querydict) -> dict:
    """The query parameters as JSON (stored with a job): {name: [values]}."""
    return {k: querydict.getlist(k) for k in querydict}


def _filtered(filterset_class, queryset, user, params):
    """The list's rows as its endpoint filters them (api.filters.StrictFilterBackend's checks included)."""
    from api.filters import check_filter_values
    from gridcase.core import dates

    request = _Request(user, params)
    filterset = filterset_class(params, queryset=queryset, request=request)
    check_filter_values(request, filterset)
    if not filterset.is_valid():
        raise ValidationFailed(fields={k: [str(m) for m in v] for k, v in filterset.errors.items()})
    for name, value in filterset.form.cleaned_data.items():
        if isinstance(value, date) and not dates.in_range(value):
            raise ValidationFailed(fields={name: [dates.message()]})
    return filterset.qs


def _label(choices):
    labels = {k: str(v) for k, v in choices}
    return lambda v: labels.get(v, v or "")


def case_export(user, params) -> Export:
    # The case list's filterset lives with the API (it is the list's contract); imported here, not at module load.
    from api.cases.filtersets import CaseFilter
    from gridcase.cases.choices import Priority, Rating, SlaState, Source, Status
    from gridcase.cases.models import Case
    from gridcase.intake.models import IntakeTicket

    qs = _filtered(CaseFilter, Case.objects.restrict(user), user, params)
    phone = Subquery(IntakeTicket.objects.filter(case_id=OuterRef("pk")).values("contact_phone_masked")[:1])
    fields = ("number", "title", "category__name", "status", "priority", "source", "sla_state", "grid__name",
              "owner_grid__name", "assignee__first_name", "assignee__last_name", "assignee__username", "created_at",
              "accept_by", "handle_by", "resolved_at", "closed_at", "rating", "phone")
    rows_qs = qs.annotate(phone=phone).order_by("-id").values_list(*fields)
    count = qs.count()
    status, priority, source, sla = (_label(Status.choices), _label(Priority.choices), _label(Source.choices),
                                     _label(SlaState.choices))
    rating = _label(Rating.choices)

    def rows():
        for (number, title, category, st, pr, src, sla_state, grid, owner, first, last, username, created, accept_by,
             handle_by, resolved, closed, rated, contact) in rows_qs.iterator(chunk_size=CHUNK):
            assignee = f"{first} {last}".strip() or (username or "")
            yield [number, title, category, status(st), priority(pr), source(src), sla(sla_state), grid, owner,
                   assignee, created, accept_by, handle_by, resolved, closed, rating(rated), contact or ""]

    header = [column("Number"), column("Title"), column("Category"), column("Status"), column("Priority"), column("Source"), column("SLA"), column("Grid"),
              column("Owner grid"), column("Assignee"), column("Reported at"), column("Accept by"), column("Handle by"), column("Resolved at"),
              column("Closed at"), column("Rating"), column("Contact phone")]
    return Export("cases", header, rows(), count, column("Cases"), f"cases-{timezone.localdate():%Y%m%d}.xlsx",
                  sensitive=qs.filter(sensitive=True))


def _may(scope, roles, prefix="grid__"):
    """True where the caller holds one of `roles` on the row's grid or above (a SQL expression)."""
    if scope.is_global:
        return Value(True, output_field=BooleanField())
    spans = [h.span for h in scope.holds if h.role in roles]
    if not spans:
        return Value(False, output_field=BooleanField())
    return SqlCase(When(tree.subtree_q(spans, prefix), then=Value(True)), default=Value(False),
                   output_field=BooleanField())


def may_reveal(user) -> bool:
    scope = scope_for(user)
    return scope.is_global or any(h.role in PHONE_ROLES | ID_NUMBER_ROLES for h in scope.holds)


def resident_export(user, params, reveal: bool = False) -> Export:
    from django.contrib.postgres.aggregates import StringAgg

    from api.grids.filters import ResidentFilter
    from gridcase.core import crypto
    from gridcase.grids.choices import Gender, ResidentStatus
    from gridcase.grids.models import Resident

    scope = scope_for(user)
    qs = _filtered(ResidentFilter, Resident.objects.restrict(user), user, params)
    if connection.vendor == "postgresql":
        joined = StringAgg("tag__name", "、", order_by="tag_id")
    else:  # SQLite (`make run`'s default): group_concat, in the order SQLite reads them
        joined = Aggregate(F("tag__name"), Value("、"), function="GROUP_CONCAT", output_field=CharField())
    tags = Subquery(Resident.tags.through.objects.filter(resident_id=OuterRef("pk")).order_by()
                    .values("resident_id").annotate(names=joined).values("names")[:1])
    annotations = {"tag_names": tags}
    fields = ["name", "gender", "birth_date", "phone_masked", "id_number_masked", "household__unit__building__name",
              "household__unit__name", "household__room", "grid__name", "relation", "tag_names", "status"]
    if reveal:
        annotations |= {"may_phone": _may(scope, PHONE_ROLES), "may_id": _may(scope, ID_NUMBER_ROLES)}
        fields += ["may_phone", "may_id", "phone_encrypted", "id_number_encrypted"]
    # `tag` with several codes makes the list DISTINCT: count the ids, not the joined rows.
    rows_qs = qs.annotate(**annotations).order_by("id").values_list(*fields)
    count = qs.order_by().values("id").distinct().count() if "tag" in params else qs.count()
    gender, status = _label(Gender.choices), _label(ResidentStatus.choices)

    def rows():
        for row in rows_qs.iterator(chunk_size=CHUNK):
            name, sex, born, phone, id_number, building, unit, room, grid, relation, tag_names, st = row[:12]
            if reveal:
                may_phone, may_id, phone_enc, id_enc = row[12:]
                if may_phone and phone_enc:
                    phone = crypto.decrypt(phone_enc)
                if may_id and id_enc:
                    id_number = crypto.decrypt(id_enc)
            yield [name, gender(sex), born, phone, id_number, f"{building or ''}{unit or ''}{room or ''}", grid,
                   relation, tag_names or "", status(st)]

    header = [column("Name"), column("Gender"), column("Birth date"), column("Phone"), column("ID number"), column("Household"), column("Grid"),
              column("Relation"), column("Key populations"), column("Status")]
    return Export("residents", header, rows(), count, column("Residents"),
                  f"residents-{timezone.localdate():%Y%m%d}.xlsx", revealed=reveal)


def build(kind: str, user, params, reveal: bool = False) -> Export:
    params = as_querydict(params)
    if kind == "cases":
        return case_export(user, params)
    return resident_export(user, params, reveal=reveal)


def audit_reveal(user, export: Export, params, ip=None, job_id=None) -> None:
    """One audit entry for an export that may hold phone and ID numbers in clear (whatever its length). Its grid is
    the list's `within` grid, else the caller's widest grid, so the managers of that area read the entry."""
    scope = scope_for(user)
    within = params.get("within") if hasattr(params, "get") else None
    if isinstance(within, list):
        within = within[0] if within else None
    grid_id = int(within) if within and str(within).isdigit() else None
    if grid_id is None and scope.holds:
        grid_id = max(scope.holds, key=lambda h: (h.span.size, -h.grid_id)).grid_id
    AuditLog.objects.create(actor=user, action="export_reveal", object_type="grids.resident", object_id="export",
                            fields=["phone", "id_number"], ip=ip, grid_id=grid_id,
                            extra={"rows": export.count, "filters": params_of(as_querydict(params)),
                                   **({"job": job_id} if job_id else {})})


def audit_sensitive(user, export: Export, ip=None, job_id=None) -> int:
    """Every sensitive case an export holds is a read, recorded as the list records it (`read_sensitive`, one row per
    case, written in batches). Returns how many."""
    if export.sensitive is None:
        return 0
    rows = [AuditLog(actor=user, action="read_sensitive", object_type="cases.case", object_id=str(pk),
                     fields=["title"], ip=ip, grid_id=grid_id, extra={"export": True, **({"job": job_id} if job_id
                                                                                         else {})})
            for pk, grid_id in export.sensitive.order_by().values_list("pk", "grid_id").iterator(chunk_size=CHUNK)]
    AuditLog.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


# --- the background job -----------------------------------------------------------------------------------------

def _run(job, progress, kind):
    from gridcase.jobs.services import Output

    # The rows come from the replica when one is configured; the job's progress and the audit rows are writes (primary).
    with translation.override(job.params.get("language") or settings.LANGUAGE_CODE), replica.reads_from_replica():
        export = build(kind, job.owner, job.params.get("query", {}), reveal=bool(job.params.get("reveal")))
        progress(0, export.count, force=True)
        out = to_tempfile(export, progress)
        audit_sensitive(job.owner, export, job_id=job.pk)
    return Output(out, export.filename, spreadsheet.XLSX_TYPE)


def run_case_export(job, progress):
    return _run(job, progress, "cases")


def run_resident_export(job, progress):
    return _run(job, progress, "residents")
