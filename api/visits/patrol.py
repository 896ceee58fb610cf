"""The patrol log (巡查日志): `patrol-entries/`. Rules in `gridcase.visits.patrol`.

POST is idempotent on `client_uuid` (201 first time, 200 for a resend, 409 `conflict` for a different entry under
the same uuid). No edit or delete; `POST patrol-entries/{id}/report/ {"case_key"}` marks the observation as
reported with that report's client_key, and the case is linked as soon as it exists. Lists filter by `worker`,
`date` (the local day), `grid` and `within`; the secretary reads a worker's day with `?worker=&date=`."""

import django_filters
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from gridcase.core import dates
from gridcase.grids.accounts import display_name
from gridcase.grids.models import Building, Grid
from gridcase.visits import patrol
from gridcase.visits.models import PatrolEntry

from ..base import ScopedPrimaryKeyField, ScopedViewSetMixin
from ..files import patrol_photo_url
from ..filters import WithinFilter
from ..parsers import FormParser, JSONParser
from ..permissions import HasAnyRole


class PatrolEntryFilter(django_filters.FilterSet):
    worker = django_filters.NumberFilter(field_name="worker_id", label=_("worker"))
    grid = django_filters.NumberFilter(field_name="grid_id")
    within = WithinFilter(prefix="grid__")
    date = django_filters.CharFilter(method="filter_date", label=_("day (YYYY-MM-DD, local)"))
    reported = django_filters.BooleanFilter(field_name="case_key", method="filter_reported")

    class Meta:
        model = PatrolEntry
        fields = ["worker", "grid", "within", "date", "reported"]

    def filter_date(self, qs, name, value):
        try:
            day = parse_date((value or "").strip())
        except ValueError:
            day = None
        if day is None:
            raise ValidationError({"date": [_("Enter a date as YYYY-MM-DD.")]})
        return qs.filter(on=dates.check(day, "date"))

    def filter_reported(self, qs, name, value):
        return qs.exclude(case_key="") if value else qs.filter(case_key="")


class PatrolEntrySerializer(serializers.ModelSerializer):
    worker_name = serializers.SerializerMethodField()
    building_name = serializers.SerializerMethodField()
    grid_name = serializers.CharField(source="grid.name", read_only=True)
    case = serializers.IntegerField(source="case_id", read_only=True, allow_null=True)
    reported = serializers.SerializerMethodField()
    # Read through the scoped file view (api/files.py), never from a public /media/ URL.
    photo = serializers.SerializerMethodField()

    class Meta:
        model = PatrolEntry
        fields = ["id", "client_uuid", "worker", "worker_name", "grid", "grid_name", "building", "building_name",
                  "at", "on", "lat", "lng", "note", "photo", "reported", "case_key", "case", "created_at"]
        read_only_fields = fields

    def get_worker_name(self, obj) -> str:
        return display_name(obj.worker) if obj.worker_id else ""

    def get_building_name(self, obj) -> str:
        return obj.building.name if obj.building_id else ""

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_photo(self, obj) -> str | None:
        return patrol_photo_url(obj, self.context.get("request"))

    def get_reported(self, obj) -> bool:
        return bool(obj.case_key)


class PatrolEntryCreateSerializer(serializers.Serializer):
    client_uuid = serializers.UUIDField()
    grid = ScopedPrimaryKeyField(queryset=Grid.objects.all())
    building = ScopedPrimaryKeyField(queryset=Building.objects.select_related("grid"), required=False,
                                     allow_null=True)
    at = serializers.DateTimeField()
    lat = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    note = serializers.CharField(allow_blank=True, required=False, default="", max_length=4000)
    photo = serializers.ImageField(required=False, allow_null=True)

    def validate_photo(self, value):
        from django.conf import settings

        if value is not None and value.size > settings.ATTACHMENT_MAX_BYTES:
            raise serializers.ValidationError(_("The photo is too large."))
        return value

    def validate_at(self, value):
        if not dates.in_range(value):
            raise serializers.ValidationError(dates.message())
        return value


class PatrolReportSerializer(serializers.Serializer):
    case_key = serializers.CharField(max_length=64)


class PatrolEntryViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Patrol log entries (巡查日志). Workers see their grids' entries, secretaries their community's."""

    queryset = PatrolEntry.objects.select_related("worker", "building", "grid")
    serializer_class = PatrolEntrySerializer
    filterset_class = PatrolEntryFilter
    # JSON, or a multipart form when the entry carries a photo (compressed on the phone).
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    permission_classes = [HasAnyRole]
    write_roles = patrol.PATROL_ROLES

    def get_serializer_class(self):
        return PatrolEntryCreateSerializer if self.action == "create" else PatrolEntrySerializer

    def get_serializer(self, *args, **kwargs):
        instance = args[0] if args else None
        if instance is not None and self.action in ("list", "retrieve"):
            patrol.link_reported(list(instance) if isinstance(instance, list | tuple) else [instance])
        return super().get_serializer(*args, **kwargs)

    def _answer(self, entry, code):
        entry = PatrolEntry.objects.select_related("worker", "building", "grid").get(pk=entry.pk)
        return Response(PatrolEntrySerializer(entry, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=PatrolEntryCreateSerializer, responses={201: PatrolEntrySerializer,
                                                                   200: PatrolEntrySerializer})
    def create(self, request, *args, **kwargs):
        body = PatrolEntryCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        entry, created = patrol.record(request.user, body.validated_data)
        return self._answer(entry, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=PatrolReportSerializer, responses=PatrolEntrySerializer)
    @action(detail=True, methods=["post"])
    def report(self, request, pk=None):
        """Mark the observation as reported: the case report carrying `case_key` (its client_key) is linked."""
        entry = self.get_object()
        body = PatrolReportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        entry = patrol.mark_reported(request.user, entry, body.validated_data["case_key"])
        return self._answer(entry, status.HTTP_200_OK)
