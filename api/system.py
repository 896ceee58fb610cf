"""`GET /api/v1/system/status/`: warnings for the people who run the system (shown as a banner in the console).

Administrators, community secretaries and street dispatchers see the warnings; everyone else gets an empty
list (a grid worker can do nothing about a missing holiday calendar).
"""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gridcase.cases import workcalendar
from gridcase.core import replica
from gridcase.grids.roles import MANAGER_ROLES
from gridcase.grids.scoping import scope_for

from .filters import check_query_params


class WarningSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="machine-readable, e.g. calendar_missing")
    message = serializers.CharField(help_text="in the caller's language")
    years = serializers.ListField(child=serializers.IntegerField(), required=False,
                                  help_text="calendar_missing: the years with no holiday data")
    lag_seconds = serializers.FloatField(required=False, help_text="replica_lag: how far the read replica is behind")


class SystemStatusSerializer(serializers.Serializer):
    warnings = WarningSerializer(many=True)


def sees_warnings(user) -> bool:
    return user.is_staff or scope_for(user).has_role(*MANAGER_ROLES)


class SystemStatusView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=SystemStatusSerializer, summary="Operator warnings (e.g. a year with no holiday calendar)")
    def get(self, request):
        check_query_params(request, self)
        warnings = workcalendar.warnings() + replica.status()[1] if sees_warnings(request.user) else []
        return Response({"warnings": warnings})


urlpatterns = [path("system/status/", SystemStatusView.as_view(), name="system-status")]
