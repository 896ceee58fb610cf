"""`GET /api/v1/cases/export/` and `GET /api/v1/residents/export/`: the list, with every filter it takes, as XLSX.

The query parameters are the list's own (the same filterset, checked as strictly as on the list, and the same scope):
a dashboard's drill-down URL or the console's current filters export as they are shown. Up to EXPORT_SYNC_MAX_ROWS
rows the answer is the file (200, streamed from a temporary file); above it a background job writes the file (202
with the job: follow `/api/v1/jobs/{id}/`, download from its `download_url`); above EXPORT_MAX_ROWS 400 `too_large`.
Residents' phone and ID numbers are masked unless `reveal=true` (403 for a role that reveals neither); then they
are in clear where the caller's role on each resident's grid allows, and the export is one audit entry.
The rules are `gridcase.reports.exports`.
"""

from django.http import FileResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from gridcase.core import replica, spreadsheet
from gridcase.core.audit import client_ip
from gridcase.core.errors import Forbidden, ValidationFailed
from gridcase.jobs import services as jobs
from gridcase.reports import exports

from .files import JSONErrors
from .filters import check_query_params
from .jobs.views import JobSerializer

TRUE = {"true", "1"}


def export_response(view, request, kind: str):
    check_query_params(request, view)
    params = request.query_params.copy()
    reveal = kind == "residents" and params.pop("reveal", ["false"])[-1].lower() in TRUE
    params.pop("format", None)
    if reveal and not exports.may_reveal(request.user):
        raise Forbidden(_("Your role does not reveal phone or ID numbers: export them masked."))
    # The list's rows are read from the replica when one is configured (the audit rows are written to the primary).
    with replica.reads_from_replica():
        export = exports.build(kind, request.user, params, reveal=reveal)
        count = export.count
    if count > exports.max_rows():
        raise ValidationFailed(_("The list has %(count)d rows; an export holds at most %(max)d. Narrow the filters.")
                               % {"count": count, "max": exports.max_rows()}, code="too_large")
    if count > exports.sync_max_rows():
        job = jobs.create(request.user, f"export_{kind}", {"query": exports.params_of(params), "reveal": reveal,
                                                           "language": get_language()}, total=count)
        if reveal:
            exports.audit_reveal(request.user, export, params, client_ip(request), job.pk)
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
    if reveal:
        exports.audit_reveal(request.user, export, params, client_ip(request))
    with replica.reads_from_replica():
        exports.audit_sensitive(request.user, export, client_ip(request))
        out = exports.to_tempfile(export)
    response = FileResponse(out, content_type=spreadsheet.XLSX_TYPE, as_attachment=True,
                            filename=export.filename)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _schema(filterset_class, reveal: bool):
    params = [OpenApiParameter(name, str, description=str(getattr(f, "label", "") or "as on the list"))
              for name, f in filterset_class.base_filters.items()]
    if reveal:
        params.append(OpenApiParameter("reveal", bool, description="phone and ID numbers in clear where your role "
                                                                   "allows (audited); masked by default"))
    return extend_schema(parameters=params, responses={
        (200, spreadsheet.XLSX_TYPE): OpenApiTypes.BINARY,
        202: JobSerializer,
        400: OpenApiResponse(description="a filter's value refused, or too_large"),
        403: OpenApiResponse(description="reveal asked by a role that reveals nothing"),
    })


def case_export_action():
    from .cases.filtersets import CaseFilter

    @_schema(CaseFilter, reveal=False)
    @action(detail=False, methods=["get"], content_negotiation_class=JSONErrors, pagination_class=None)
    def export(self, request):
        """The filtered case list as XLSX (a background job above EXPORT_SYNC_MAX_ROWS rows)."""
        return export_response(self, request, "cases")

    return export


def resident_export_action():
    from .grids.filters import ResidentFilter

    @_schema(ResidentFilter, reveal=True)
    @action(detail=False, methods=["get"], content_negotiation_class=JSONErrors, pagination_class=None)
    def export(self, request):
        """The filtered resident list as XLSX, masked unless `reveal=true` (audited); a background job above
        EXPORT_SYNC_MAX_ROWS rows."""
        return export_response(self, request, "residents")

    return export
