"""`/api/v1/import-reviews/`: imported rows held for the street (their ID number is registered outside the
grid they were imported into; the uploader's report says only `needs_review`).

Listed for the street dispatchers and administrators holding the import's grid or an ancestor; anyone
else sees none (404 by id). `POST /api/v1/import-reviews/{id}/decide/ {"decision": "merge" | "dismiss",
"note"}` decides once (409 `already_decided` after). The rules live in gridcase/grids/imports/reviews.py.
"""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from gridcase.grids.accounts import display_name
from gridcase.grids.imports import reviews
from gridcase.grids.models import ImportReview
from gridcase.grids.scoping import scope_for

from ..filters import WithinFilter


class ImportReviewFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ImportReview.Status.choices)
    within = WithinFilter()

    class Meta:
        model = ImportReview
        fields = ["status", "within"]


class ImportReviewSerializer(serializers.ModelSerializer):
    grid_code = serializers.CharField(source="grid.code", read_only=True)
    grid_name = serializers.CharField(source="grid.name", read_only=True)
    status = serializers.CharField(read_only=True, help_text="pending | merged | dismissed")
    uploaded_by_name = serializers.SerializerMethodField()
    resident = serializers.SerializerMethodField()
    resident_grid = serializers.SerializerMethodField()

    class Meta:
        model = ImportReview
        fields = ["id", "status", "grid", "grid_code", "grid_name", "job", "row", "name", "place",
                  "id_number_masked", "resident", "resident_grid", "uploaded_by", "uploaded_by_name", "created_at",
                  "decided_by", "decided_at", "note"]
        read_only_fields = fields

    def _resident_in_scope(self, obj):
        # Where the person is registered is shown only to a reviewer who holds that grid (else: an admin's call).
        resident = obj.resident
        scope = self.context.get("scope")
        if resident is None or scope is None or not scope.covers(resident.grid):
            return None
        return resident

    def get_uploaded_by_name(self, obj) -> str:
        return display_name(obj.uploaded_by)

    def get_resident(self, obj) -> int | None:
        resident = self._resident_in_scope(obj)
        return resident.pk if resident else None

    def get_resident_grid(self, obj) -> dict | None:
        resident = self._resident_in_scope(obj)
        if resident is None:
            return None
        return {"id": resident.grid_id, "code": resident.grid.code, "name": resident.grid.name}


class ImportReviewDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=sorted(reviews.DECISIONS),
                                       help_text="merge: the registered resident moves here with the row's data; "
                                                 "dismiss: nothing changes")
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class ImportReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ImportReviewSerializer
    filterset_class = ImportReviewFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return (ImportReview.objects.restrict(self.request.user)
                .select_related("grid", "uploaded_by", "resident__grid"))

    def get_serializer_context(self):
        return super().get_serializer_context() | {"scope": scope_for(self.request.user)}

    @extend_schema(request=ImportReviewDecisionSerializer, responses=ImportReviewSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        body = ImportReviewDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        review = reviews.decide(request.user, int(pk), body.validated_data["decision"],
                                body.validated_data.get("note", ""))
        review = self.get_queryset().get(pk=review.pk)
        return Response(self.get_serializer(review).data)
