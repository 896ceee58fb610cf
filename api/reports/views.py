"""`POST /api/v1/reports/monthly/` {grid, month}: the monthly report (PDF) of a node, made by a background job.

Answers 202 with the job (`/api/v1/jobs/{id}/` for progress, its `download_url` once done). Anyone holding a role
may ask for a node in their area (a grid outside it is a 400 like any reference); the figures are read with the
caller's scope. The rules are `gridcase.reports.monthly`.
"""

from django.utils.translation import get_language
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gridcase.grids.models import Grid
from gridcase.grids.scoping import scope_for
from gridcase.jobs import services as jobs
from gridcase.reports import monthly

from ..base import ScopedPrimaryKeyField
from ..jobs.views import JobSerializer
from ..parsers import JSONParser


class MonthlyReportRequest(serializers.Serializer):
    grid = ScopedPrimaryKeyField(queryset=Grid.objects.all(), help_text="the node (a grid in your area)")
    month = serializers.CharField(max_length=7, help_text="YYYY-MM (Asia/Shanghai); the current month runs to today")

    def validate_month(self, value):
        return monthly.parse_month(value).strftime("%Y-%m")


class HoldsAGrid(IsAuthenticated):
    """Any role on a grid (viewers included: the report reads figures of one's own area); 403 otherwise."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        scope = scope_for(request.user)
        return scope.is_global or bool(scope.holds)


class MonthlyReportView(APIView):
    permission_classes = [HoldsAGrid]
    parser_classes = [JSONParser]

    @extend_schema(request=MonthlyReportRequest, responses={202: JobSerializer, 400: OpenApiResponse(
        description="validation_error, invalid_month")}, operation_id="reports_monthly_create")
    def post(self, request):
        body = MonthlyReportRequest(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        job = jobs.create(request.user, "monthly_report", {"grid": data["grid"].pk, "month": data["month"],
                                                            "language": get_language()}, total=3)
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
