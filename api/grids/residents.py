"""`POST /api/v1/residents/{id}/status/`: moved out (迁出), moved back in (迁入, optionally into another household),
deceased (死亡). The rules are `gridcase.grids.residents.change_status`; this is its door."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from gridcase.grids import residents
from gridcase.grids.choices import ResidentStatus
from gridcase.grids.models import Household

from ..base import ScopedPrimaryKeyField
from .serializers import ResidentSerializer


class ResidentStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ResidentStatus.choices,
                                     help_text="moved_out (迁出), active (moved back in, 迁入) or deceased (死亡)")
    date = serializers.DateField(required=False, help_text="the day it happened (default today; not in the future)")
    household = ScopedPrimaryKeyField(queryset=Household.objects.all(), required=False,
                                      help_text="moving in only: the household moved into")
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)


class ResidentStatusMixin:
    """Added to ResidentViewSet."""

    @extend_schema(request=ResidentStatusSerializer,
                   responses={200: ResidentSerializer, 400: OpenApiResponse(description="validation_error"),
                              409: OpenApiResponse(description="invalid_transition: e.g. a deceased resident")},
                   description="Move a resident out, back in, or mark them deceased. The care plan ends (or "
                               "restarts); visits, cases and the ended plan are kept; the change is audited "
                               "(action `resident_status`, with the status before and after).")
    @action(detail=True, methods=["post"], url_path="status")
    def change_status(self, request, pk=None):
        resident = self.get_object()
        body = ResidentStatusSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        residents.change_status(request.user, resident, data["status"], on=data.get("date"),
                                household=data.get("household"), note=data.get("note", ""), request=request)
        fresh = self.get_queryset().get(pk=resident.pk)
        return Response(self.get_serializer_class()(fresh, context=self.get_serializer_context()).data)
