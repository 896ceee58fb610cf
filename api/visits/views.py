from datetime import date

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Prefetch
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from gridcase.core import dates, statements
from gridcase.core.errors import NotFound
from gridcase.grids import scoping, tree
from gridcase.grids.accounts import display_name
from gridcase.grids.models import Grid, Resident, Tag
from gridcase.grids.roles import PLAN_EDIT_ROLES, VISIT_ROLES
from gridcase.grids.scoping import scope_for
from gridcase.visits import due, services
from gridcase.visits.models import CarePlan, CarePlanItem, Visit

from ..base import ScopedViewSetMixin
from ..pagination import CountedIdCursorPagination, PreparedRows, StrictPageNumberPagination
from ..parsers import FormParser, JSONParser
from ..permissions import HasAnyRole
from . import filtersets
from .round import RoundMixin
from .serializers import (
    CarePlanSerializer,
    CarePlanUpdateSerializer,
    DueItemSerializer,
    VisitCreateSerializer,
    VisitSerializer,
)

User = get_user_model()


def parse_day(value, name="date") -> date:
    if not value:
        return timezone.localdate()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationError({name: [_("Enter a date as YYYY-MM-DD.")]})
    return dates.check(day, name)


def parse_id(value, name):
    if value in (None, ""):
        return None
    if not str(value).isdigit():
        raise ValidationError({name: [_("Enter a whole number.")]})
    return int(value)


class RoundPagination(StrictPageNumberPagination):
    """The round is walked in building order, so it pages by number (not cursor); a day's round is short."""

    page_size = 100
    max_page_size = 500


class VisitViewSet(RoundMixin, ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                   mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Visits: append-only. POST is idempotent on `client_uuid` (201 first time, 200 for a resend of the
    same visit, 409 `conflict` for a different visit under the same uuid)."""

    queryset = Visit.objects.select_related("visitor", "resident", "household__unit__building")
    serializer_class = VisitSerializer
    # JSON, or a multipart form when the visit carries a photo (open_case then travels as a JSON string).
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    filterset_class = filtersets.VisitFilter
    permission_classes = [HasAnyRole]
    write_roles = VISIT_ROLES

    def get_serializer_class(self):
        return VisitCreateSerializer if self.action == "create" else VisitSerializer

    @extend_schema(request=VisitCreateSerializer, responses={201: VisitSerializer, 200: VisitSerializer})
    def create(self, request, *args, **kwargs):
        serializer = VisitCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        visit, created = services.record_visit(request.user, serializer.validated_data)
        visit = self.get_queryset().model.objects.select_related(
            "visitor", "resident", "household__unit__building").get(pk=visit.pk)
        return Response(VisitSerializer(visit, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(parameters=[
        OpenApiParameter("date", str, description="day of the round (YYYY-MM-DD), default today in Asia/Shanghai"),
        OpenApiParameter("within", int, description="every stop in this grid's subtree instead of the caller's round"),
        OpenApiParameter("worker", int, description="the round of this worker"),
        OpenApiParameter("kind", str),
    ], responses=DueItemSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=RoundPagination)
    def due(self, request):
        """The round for a day: contacts due that day or overdue, walkable (building, unit, room).

        Without `within` or `worker` it is the caller's own round (plans they are responsible for)."""
        day = parse_day(request.query_params.get("date"))
        within = parse_id(request.query_params.get("within"), "within")
        worker = parse_id(request.query_params.get("worker"), "worker")
        scope = scope_for(request.user)
        span = None
        if within is not None:
            node = Grid.objects.filter(pk=within).first()
            if node is None or not scope.covers(node):
                raise NotFound()
            span = tree.span(node)
        responsible = worker if worker is not None else (request.user.pk if within is None else None)
        kinds = tuple(request.query_params.get("kind", "").split(",")) if request.query_params.get("kind") else ()

        def build(day):
            items = due.due_by(day, CarePlanItem.objects.restrict(scope))
            if span is not None:
                items = scoping.within(items, span, "care_plan__")  # CarePlanItem.scope_within_q
            if responsible is not None:
                items = items.filter(services.responsible_q(responsible, "care_plan__"))
            if kinds:
                items = items.filter(kind__in=kinds)
            b, u = "care_plan__resident__household__unit__building__", "care_plan__resident__household__unit__"
            r = "care_plan__resident__household__"
            return items.select_related("care_plan__resident__household__unit__building").order_by(
                Length(f"{b}name"), f"{b}name", f"{b}id", Length(f"{u}name"), f"{u}name", Length(f"{r}room"),
                f"{r}room", "care_plan__resident_id", "due_on", "kind")

        # The round's statements are compiled once per caller and choice of stops, the day a slot (the page and
        # its size are in the key); the residents' tags come by one more statement, compiled once too.
        if connection.vendor == "postgresql":
            items = PreparedRows(("visits.due", scope.key, span, responsible, kinds), build, ("day",), day=day)
        else:
            items = build(day)
        page = self.paginate_queryset(items)
        statements.prefetch_many([item.care_plan.resident for item in page], "tags", "id")
        data = DueItemSerializer(page, many=True, context={"day": day}).data
        response = self.get_paginated_response(data)
        response.data["date"] = day.isoformat()
        return response


class CarePlanViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                      viewsets.GenericViewSet):
    """Care plans of key-population residents. PATCH `worker` (id or null for the micro-grid's worker),
    `cadences` ({kind: days or null}), `note`. Lists show active plans unless `active` is given."""

    # The list's own statement reads the plans alone (planned in well under a millisecond); the residents with
    # their grid, household, unit and building come by one more query for the page's rows.
    queryset = CarePlan.objects.select_related("worker").prefetch_related(
        Prefetch("resident", queryset=Resident.objects.select_related("grid", "household__unit__building")),
        "items", Prefetch("resident__tags", queryset=Tag.objects.order_by("id")))
    serializer_class = CarePlanSerializer
    filterset_class = filtersets.CarePlanFilter
    pagination_class = CountedIdCursorPagination  # visit coverage's drill-down asks for the count
    permission_classes = [HasAnyRole]
    write_roles = PLAN_EDIT_ROLES
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action == "list" and "active" not in self.request.query_params:
            qs = qs.filter(active=True)
        return qs

    def get_serializer(self, *args, **kwargs):
        instance = args[0] if args else None
        if instance is not None:
            plans = list(instance) if isinstance(instance, list | tuple) else [instance]
            context = kwargs.setdefault("context", self.get_serializer_context())
            responsible = services.responsible_workers(plans)
            ids = {u for users in responsible.values() for u in users}
            context["responsible"] = responsible
            context["users"] = {u.pk: display_name(u) for u in User.objects.filter(pk__in=ids)} if ids else {}
            context["today"] = timezone.localdate()
        return super().get_serializer(*args, **kwargs)

    @extend_schema(request=CarePlanUpdateSerializer, responses=CarePlanSerializer)
    def partial_update(self, request, *args, **kwargs):
        plan = self.get_object()
        body = CarePlanUpdateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        services.update_care_plan(request.user, plan, worker=data.get("worker", ...), cadences=data.get("cadences"),
                                  note=data.get("note"))
        plan = self.get_queryset().get(pk=plan.pk)
        return Response(self.get_serializer(plan).data)

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)
