"""Bulk reassignment of a selection of cases from the console: `POST /cases/reassign/` with
`{"cases": [{"id": …, "version": …}, …], "assignee": user id, "note": "…"}`. Each case goes through the case
workflow's `reassign` row (event, compare-and-set on the version the console showed); all or nothing; the
receiver is told once (gridcase.grids.handover.reassign_cases)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from gridcase.core.errors import ValidationFailed
from gridcase.grids import handover
from gridcase.grids.accounts import visible_users


class SelectedCase(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()


class ReassignRequest(serializers.Serializer):
    cases = SelectedCase(many=True, help_text="the selected cases with the version each was seen at")
    assignee = serializers.IntegerField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class BulkReassignMixin:
    @extend_schema(request=ReassignRequest, responses=inline_serializer("ReassignResult", {
        "assignee": serializers.IntegerField(), "cases": serializers.ListField(child=serializers.CharField())}))
    @action(detail=False, methods=["post"], url_path="reassign", pagination_class=None, filterset_class=None)
    def reassign(self, request):
        """Reassign the selected cases to one colleague (accepted, assigned or in progress), all or nothing."""
        body = ReassignRequest(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        to = visible_users(request.user).filter(pk=data["assignee"], is_active=True).first()
        if to is None:
            raise ValidationFailed(_("The assignee must work in this case's grid."), code="receiver_outside_grid",
                                   fields={"assignee": [_("Not found.")]})
        return Response(handover.reassign_cases(request.user, [(c["id"], c["version"]) for c in data["cases"]], to,
                                                note=data["note"], request=request))


