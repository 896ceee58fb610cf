"""Hotspots (未诉先办) over HTTP: `hotspots/`. Rules in `gridcase.cases.hotspots`; the beat job finds them.

Lists and details are scoped to the caller's subtrees (the hotspot's grid) and carry the hotspot's cases the caller
may see. `POST hotspots/{id}/open_case/` opens one preventive case through the normal case creation and answers
201 with it; a second try is 409 `hotspot_already_opened`. `POST hotspots/{id}/dismiss/` sets an open one aside.
Both are for secretaries, street dispatchers and administrators (403 for other roles that see the hotspot).
"""

import django_filters
from django.db.models import Count, Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from gridcase.cases import hotspots, workflow
from gridcase.cases.choices import HotspotKind, HotspotStatus, Priority
from gridcase.cases.models import Case, Hotspot
from gridcase.grids.scoping import scope_for

from ..filters import WithinFilter
from ..pagination import IdCursorPagination
from ..parsers import JSONParser
from .serializers import CaseSerializer


class HotspotFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=HotspotStatus.choices)
    kind = django_filters.MultipleChoiceFilter(choices=HotspotKind.choices)
    category = django_filters.NumberFilter(field_name="category_id")
    current = django_filters.BooleanFilter(label=_("still found by the latest detection"))
    within = WithinFilter(prefix="grid__")

    class Meta:
        model = Hotspot
        fields = ["status", "kind", "category", "current", "within"]


class HotspotCaseSerializer(serializers.ModelSerializer):
    grid_name = serializers.CharField(source="grid.name", read_only=True)

    class Meta:
        model = Case
        fields = ["id", "number", "title", "status", "grid", "grid_name", "building", "created_at"]
        read_only_fields = fields


class HotspotSerializer(serializers.ModelSerializer):
    category_name = serializers.CharField(source="category.name", read_only=True)
    grid_name = serializers.CharField(source="grid.name", read_only=True)
    building_name = serializers.SerializerMethodField()
    location = serializers.SerializerMethodField()
    case_count = serializers.IntegerField(read_only=True)
    cases = serializers.SerializerMethodField()
    preventive_case = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = Hotspot
        fields = ["id", "kind", "category", "category_name", "grid", "grid_name", "building", "building_name",
                  "window_days", "threshold", "count", "previous_count", "metres", "location", "first_seen",
                  "last_seen", "detected_at", "created_at", "current", "status", "status_at", "case_count", "cases",
                  "preventive_case", "allowed_actions"]
        read_only_fields = fields

    def get_building_name(self, obj) -> str:
        return obj.building.name if obj.building_id else ""

    @extend_schema_field({"type": "object", "nullable": True,
                          "properties": {"lat": {"type": "number"}, "lng": {"type": "number"}}})
    def get_location(self, obj):
        return None if obj.lat is None or obj.lng is None else {"lat": obj.lat, "lng": obj.lng}

    @extend_schema_field(HotspotCaseSerializer(many=True))
    def get_cases(self, obj):
        """The hotspot's cases the caller may see, newest first."""
        return HotspotCaseSerializer(getattr(obj, "visible_cases", []), many=True).data

    @extend_schema_field({"type": "object", "nullable": True, "properties": {
        "id": {"type": "integer"}, "number": {"type": "string"}, "status": {"type": "string"}}})
    def get_preventive_case(self, obj):
        case = obj.preventive_case
        return None if case is None else {"id": case.pk, "number": case.number, "status": case.status}

    def get_allowed_actions(self, obj) -> list[str]:
        request = self.context.get("request")
        scope = scope_for(request.user) if request is not None else None
        if scope is None or not (scope.is_global or scope.roles_at(obj.grid) & hotspots.OPEN_ROLES):
            return []
        out = [] if obj.preventive_case_id else ["open_case"]
        return out + (["dismiss"] if obj.status == HotspotStatus.OPEN else [])


class HotspotOpenCaseSerializer(serializers.Serializer):
    priority = serializers.ChoiceField(choices=Priority.choices, required=False,
                                       help_text="the category's default priority when left out")


class HotspotViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Hotspots (未诉先办) in the caller's area, newest first, each with the cases it counted."""

    queryset = Hotspot.objects.all()
    serializer_class = HotspotSerializer
    filterset_class = HotspotFilter
    pagination_class = IdCursorPagination
    parser_classes = [JSONParser]

    def get_queryset(self):
        user = self.request.user
        visible = (Case.objects.restrict(user).select_related("grid").order_by("-created_at")
                   .only("id", "number", "title", "status", "grid__name", "building_id", "created_at"))
        return (Hotspot.objects.restrict(user)
                .select_related("category", "grid", "building", "preventive_case")
                .annotate(case_count=Count("cases", distinct=True))
                .prefetch_related(Prefetch("cases", queryset=visible, to_attr="visible_cases")))

    def _answer(self, hotspot_id, code=status.HTTP_200_OK):
        hotspot = self.get_queryset().get(pk=hotspot_id)
        return Response(self.get_serializer(hotspot).data, status=code)

    @extend_schema(request=HotspotOpenCaseSerializer, responses={201: CaseSerializer})
    @action(detail=True, methods=["post"])
    def open_case(self, request, pk=None):
        """Open one preventive case from the hotspot (its category, grid and building; its cases named in the
        description). Once: a second try is 409 `hotspot_already_opened`."""
        body = HotspotOpenCaseSerializer(data=request.data if isinstance(request.data, dict) else {})
        body.is_valid(raise_exception=True)
        hotspot = self.get_object()
        case = hotspots.open_preventive_case(request.user, hotspot.pk, priority=body.validated_data.get("priority"))
        from .views import CaseViewSet  # the case as the case detail shows it

        view = CaseViewSet(request=request, format_kwarg=None, kwargs={"pk": case.pk})
        return Response(view.present(workflow.load(case.pk, None)), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=HotspotSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        """Set an open hotspot aside (not worth a case); 409 `invalid_transition` when it is not open."""
        hotspot = self.get_object()
        hotspots.dismiss(request.user, hotspot.pk)
        return self._answer(hotspot.pk)
