"""Bulk reassignment of a selection of cases from the console: `POST /cases/reassign/` with
`{"cases": [{"id": …, "version": …}, …], "assignee": user id, "note": "…"}`. Each case goes through the case
workflow's `reassign` row (event, compare-and-set on the version the console showed); all or nothing; the
receiver is told once (gridcase.grids.handover.reassign_cases).

Bulk actions: `POST /cases/bulk/` with `{"action": "accept"|"assign"|"escalate", "cases": […], …inputs}` applies
the action to each case on its own (gridcase.cases.workflow.batch): one result per case, never a half-applied
case."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from gridcase.cases.workflow import batch
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


class BulkRequest(serializers.Serializer):
    action = serializers.ChoiceField(choices=batch.BULK_ACTIONS)
    cases = SelectedCase(many=True, allow_empty=False, max_length=batch.MAX_CASES,
                         help_text="the selected cases with the version each was seen at (at most 100)")
    assignee = serializers.IntegerField(required=False, help_text="assign: the user every case goes to")
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, help_text="escalate: why")

    def validate(self, attrs):
        ids = [c["id"] for c in attrs["cases"]]
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError({"cases": [_("A case is selected twice.")]})
        if attrs["action"] == "assign" and attrs.get("assignee") is None:
            raise serializers.ValidationError({"assignee": [_("This field is required.")]})
        return attrs


class BulkResult(serializers.Serializer):
    id = serializers.IntegerField()
    ok = serializers.BooleanField()
    version = serializers.IntegerField(required=False)
    status = serializers.CharField(required=False)
    code = serializers.CharField(required=False)
    message = serializers.CharField(required=False)


class BulkReassignMixin:
    @extend_schema(request=BulkRequest, responses=inline_serializer("BulkResults", {
        "results": BulkResult(many=True)}))
    @action(detail=False, methods=["post"], url_path="bulk", pagination_class=None, filterset_class=None)
    def bulk(self, request):
        """Accept, assign or escalate each selected case through the workflow, one case at a time: a refused or
        conflicting case is reported on its own (`ok: false`, `code`, `message`) and the others go ahead."""
        body = BulkRequest(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        name, cases = data.pop("action"), data.pop("cases")
        return Response({"results": batch.apply_each(request.user, name, [(c["id"], c["version"]) for c in cases],
                                                     data)})

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


