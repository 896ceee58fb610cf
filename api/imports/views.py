"""`POST /api/v1/imports/`: households and residents from a CSV/XLSX 台账, with a row-by-row report.

Small files are imported during the request (200 with the report). Larger ones become an ImportJob that a
worker processes (202 with the job); `GET /api/v1/imports/{id}/` shows rows done / total and, once finished,
the report. Reports name residents, so a job is visible to the person who uploaded it only (and admins).

A request never parses a large workbook: it checks the zip (unpacked size, the sheet's row count) and
queues; only a worker parses it, under IMPORT_TIME_LIMIT. Rows whose ID number is registered outside the
grid read `needs_review` and wait in `/api/v1/import-reviews/` (reviews.py in this package).
"""

from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from gridcase.core import spreadsheet
from gridcase.core.errors import Conflict, NotFound, ValidationFailed
from gridcase.grids import imports
from gridcase.grids.imports import jobs
from gridcase.grids.models import Grid, ImportJob
from gridcase.grids.scoping import scope_for

from ..files import JSONErrors


class ImportJobSerializer(serializers.ModelSerializer):
    report = serializers.SerializerMethodField()
    grid_code = serializers.CharField(source="grid.code", read_only=True)
    # Plain strings (pending, running, done, failed): no enum component to collide with cases' `status`.
    status = serializers.CharField(read_only=True)

    class Meta:
        model = ImportJob
        fields = ["id", "grid", "grid_code", "filename", "file_type", "status", "total_rows", "rows_done", "counts",
                  "error", "created_at", "started_at", "finished_at", "report"]

    def get_report(self, job) -> dict | None:
        # Lists stay light; the detail carries the report, rendered in the reader's language.
        if self.context.get("with_report"):
            return imports.render_report(job.report)
        return None


UploadSerializer = inline_serializer("ImportUpload", {
    "file": serializers.FileField(),
    "grid": serializers.CharField(help_text="id or code of a community, general grid or micro-grid"),
})


class ImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        return ImportJob.objects.restrict(self.request.user).select_related("grid").defer("content", "report")

    def get_job(self, pk) -> ImportJob:
        job = ImportJob.objects.restrict(self.request.user).select_related("grid").defer("content").filter(
            pk=pk).first() if str(pk).isdigit() else None
        if job is None:
            raise NotFound()
        return job

    def retrieve(self, request, *args, **kwargs):
        job = self.get_job(kwargs["pk"])
        return Response(ImportJobSerializer(job, context={"with_report": True}).data)

    @extend_schema(parameters=[OpenApiParameter("type", str, enum=["csv", "xlsx"], description="csv (default) or xlsx"),
                               OpenApiParameter("rows", str, enum=["all", "refused"],
                                                description="all rows (default) or only the refused ones, to fix "
                                                            "and import again")],
                   responses={(200, "text/csv"): OpenApiTypes.BINARY, (200, spreadsheet.XLSX_TYPE): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], content_negotiation_class=JSONErrors)
    def report(self, request, pk=None):
        """The finished job's report as a spreadsheet (cells that would run as formulas are neutralised)."""
        kind = request.query_params.get("type", "csv")
        if kind not in ("csv", "xlsx"):
            raise ValidationFailed(fields={"type": [_("Choose csv or xlsx.")]})
        job = self.get_job(pk)
        if job.report is None:
            raise Conflict(_("The import has not finished yet."), code="not_ready")
        only = request.query_params.get("rows", "all")
        if only not in ("all", "refused"):
            raise ValidationFailed(fields={"rows": [_("Choose all or refused.")]})
        report = job.report
        if only == "refused":
            report = dict(report, rows=[r for r in report.get("rows", []) if r.get("status") == "refused"])
        header, rows = imports.report_rows(report)
        if kind == "xlsx":
            response = HttpResponse(spreadsheet.xlsx_bytes(header, rows), content_type=spreadsheet.XLSX_TYPE)
        else:
            response = HttpResponse(spreadsheet.csv_bytes(header, rows), content_type=spreadsheet.CSV_TYPE)
        suffix = "refused" if only == "refused" else "report"
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-{suffix}.{kind}"'
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def find_grid(self, value) -> Grid:
        value = (value or "").strip()
        if not value:
            raise ValidationFailed(fields={"grid": [_("This field is required.")]})
        grid = Grid.objects.filter(pk=value).first() if value.isdigit() else None
        grid = grid or Grid.objects.filter(code=value).first()
        if grid is None or not scope_for(self.request.user).covers(grid):
            raise NotFound()
        return grid

    @extend_schema(request={"multipart/form-data": UploadSerializer},
                   responses={200: ImportJobSerializer, 202: ImportJobSerializer,
                              400: OpenApiResponse(description="file refused: code file_too_large, "
                                                               "file_too_large_unpacked, file_empty, file_malformed, "
                                                               "unsupported_file_type, too_many_rows, missing_columns")})
    def create(self, request, *args, **kwargs):
        grid = self.find_grid(request.data.get("grid"))
        upload = request.FILES.get("file")
        if upload is None:
            raise imports.ImportFileError("file_missing")
        if upload.size > imports.max_bytes():
            raise imports.ImportFileError("file_too_large", max=imports.max_bytes() // (1024 * 1024) or 1)
        data = upload.read()
        # Scope and role first (404/403), then the file (400), then the rows.
        runner = imports.ResidentImporter(request.user, grid)
        check = imports.check_file(data)  # cheap: size, type, and a workbook's unpacked size and row count
        name = upload.name or ""
        if not check.fits_a_request():
            # A large workbook is parsed by a worker under a time limit, never by a request thread; the
            # row count is the sheet's (header included) until the worker has read it.
            return self.queue(request, grid, data, name, check.file_type, check.lines)
        table = imports.read_table(data, check)
        if len(table.rows) > imports.sync_max_rows():
            return self.queue(request, grid, data, name, table.file_type, len(table.rows))
        started = timezone.now()
        report = runner.run(table)
        counts = {k: report[k] for k in ("created", "updated", "unchanged", "refused")}
        # Kept as a finished job (without the file), so its report can be downloaded like a large file's.
        job = ImportJob.objects.create(user=request.user, grid=grid, filename=name[:200], file_type=table.file_type,
                                       content=b"", status=ImportJob.Status.DONE, total_rows=report["total"],
                                       rows_done=report["total"], counts=counts, report=report, started_at=started,
                                       finished_at=timezone.now())
        return Response(ImportJobSerializer(job, context={"with_report": True}).data, status=status.HTTP_200_OK)

    def queue(self, request, grid, data, name, file_type, total_rows):
        with transaction.atomic():
            job = jobs.create(request.user, grid, data, name, file_type, total_rows)
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
