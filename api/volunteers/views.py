"""Leads and volunteers: staff register them and see their check-ins and activities (scoped viewsets); the light
account's own pages live under /lead/ (plain views that ask gridcase.volunteers.places what it may see)."""

import django_filters
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gridcase.core.errors import Forbidden, NotFound
from gridcase.grids import areas, tree
from gridcase.grids.accounts import display_name
from gridcase.grids.choices import Level
from gridcase.grids.models import Grid
from gridcase.grids.roles import VOLUNTEER_MANAGERS
from gridcase.notices.models import Receipt
from gridcase.notices.receipts import mark_read
from gridcase.volunteers import places, services
from gridcase.volunteers.models import Activity, CheckIn, SignUp, Volunteer

from ..base import ScopedViewSetMixin
from ..filters import WithinFilter, check_query_params
from ..schema import error_responses
from . import serializers as s


class VolunteerFilter(django_filters.FilterSet):
    within = WithinFilter(prefix="grid__")
    role = django_filters.CharFilter(field_name="role")
    active = django_filters.BooleanFilter(field_name="is_active")

    class Meta:
        model = Volunteer
        fields = ["within", "role", "active"]


class CheckInFilter(django_filters.FilterSet):
    within = WithinFilter(prefix="grid__")
    confirmed = django_filters.BooleanFilter(field_name="confirmed_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = CheckIn
        fields = ["within", "confirmed"]


class ActivityFilter(django_filters.FilterSet):
    within = WithinFilter(prefix="grid__")

    class Meta:
        model = Activity
        fields = ["within"]


class VolunteerViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Building and unit leads and volunteers in the caller's area. Create gives a light account (login: phone)."""

    queryset = Volunteer.objects.select_related("user", "building", "unit", "grid")
    serializer_class = s.VolunteerSerializer
    filterset_class = VolunteerFilter
    write_roles = VOLUNTEER_MANAGERS
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return super().get_queryset().annotate(
            service_hours=Sum("sign_ups__hours", filter=Q(sign_ups__attended=True)))

    def get_serializer_class(self):
        return s.VolunteerUpdateSerializer if self.action == "partial_update" else s.VolunteerSerializer

    @extend_schema(request=s.RegisterSerializer, responses={201: s.VolunteerSerializer, **error_responses(400, 403, 409)})
    def create(self, request, *args, **kwargs):
        body = s.RegisterSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        row = services.register(request.user, **body.validated_data)
        return Response(s.VolunteerSerializer(self.get_queryset().get(pk=row.pk)).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        super().update(request, *args, **kwargs)
        return Response(s.VolunteerSerializer(self.get_queryset().get(pk=kwargs["pk"])).data)


class CheckInViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Neighbour check-ins by leads in the caller's area (newest first); the micro-grid worker confirms them."""

    queryset = CheckIn.objects.select_related("resident__household", "volunteer__user", "confirmed_by")
    serializer_class = s.CheckInSerializer
    filterset_class = CheckInFilter

    @extend_schema(request=None, responses={200: s.CheckInSerializer, **error_responses(403, 404)})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        row = services.confirm(request.user, self.get_object())
        return Response(self.get_serializer(self.get_queryset().get(pk=row.pk)).data)


class ActivityViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Volunteer activities (义诊, clean-ups) in the caller's area, with sign-ups and attendance."""

    queryset = Activity.objects.select_related("grid")
    serializer_class = s.ActivitySerializer
    filterset_class = ActivityFilter
    write_roles = VOLUNTEER_MANAGERS
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return super().get_queryset().annotate(signed_up=Count("sign_ups"))

    def perform_create(self, serializer):
        serializer.validated_data["created_by"] = self.request.user
        super().perform_create(serializer)

    @extend_schema(responses={200: s.SignUpSerializer(many=True)})
    @action(detail=True, methods=["get"], url_path="sign-ups", pagination_class=None, filterset_class=None)
    def sign_ups(self, request, pk=None):
        check_query_params(request, self)
        activity = self.get_object()
        rows = SignUp.objects.filter(activity=activity).select_related("volunteer__user").order_by("id")
        return Response(s.SignUpSerializer(rows, many=True).data)

    @extend_schema(request=s.AttendanceSerializer, responses={200: s.SignUpSerializer, **error_responses(400, 403, 404)})
    @action(detail=True, methods=["post"])
    def attendance(self, request, pk=None):
        """Record that a signed-up volunteer came (and their service hours) or did not."""
        activity = self.get_object()
        body = s.AttendanceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = SignUp.objects.select_related("activity__grid").filter(
            pk=body.validated_data["sign_up"], activity=activity).first()
        if row is None:
            raise NotFound()
        row = services.record_attendance(request.user, row, body.validated_data["attended"],
                                         body.validated_data["hours"])
        return Response(s.SignUpSerializer(SignUp.objects.select_related("volunteer__user").get(pk=row.pk)).data)


# --- the light account's own pages ---------------------------------------------------------------------------------

class LeadView(APIView):
    permission_classes = [IsAuthenticated]

    def roles(self, request):
        roles = places.roles_of(request.user)
        if not roles:
            raise Forbidden(_("These pages are for building leads and volunteers."), code="not_a_volunteer")
        return roles


def _page(rows):
    return {"next": None, "previous": None, "results": rows}


class LeadMeView(LeadView):
    @extend_schema(responses={200: s.LeadMeSerializer, **error_responses(403)})
    def get(self, request):
        check_query_params(request, self)
        roles = self.roles(request)
        first = roles[0]
        micro = first.unit.micro_grid if first.unit_id else (
            first.grid if first.grid.level == Level.MICRO_GRID else
            Grid.objects.filter(units__building_id=first.building_id).order_by("id").first())
        community = areas.community_of(first.grid)
        hours = services.service_hours([r.pk for r in roles])
        return Response({
            "display_name": display_name(request.user),
            "roles": [{"role": r.role, "place": " ".join(p for p in (
                r.building.name if r.building_id else "", r.unit.name if r.unit_id else "") if p) or r.grid.name,
                "grid_name": r.grid.name} for r in roles],
            "is_lead": places.is_lead(roles),
            "report_token": micro.qr_token if micro else "",
            "board_token": community.qr_token if community else "",
            "service_hours": sum(hours.values(), 0),
        })


class LeadNoticesView(LeadView):
    """The notices of the caller's building (for residents, current, sent to a grid holding it), newest first, with
    when the caller read each."""

    @extend_schema(responses={200: s.LeadNoticeSerializer(many=True)})
    def get(self, request):
        check_query_params(request, self)
        roles = self.roles(request)
        rows = list(places.visible_notices(request.user, roles).select_related("grid")
                    .order_by("-published_at", "-id")[:50])
        read = dict(Receipt.objects.filter(user=request.user, notice__in=[n.pk for n in rows])
                    .values_list("notice_id", "read_at"))
        for n in rows:
            n.read_at = read.get(n.pk)
        return Response(_page(s.LeadNoticeSerializer(rows, many=True).data))


class LeadNoticeReadView(LeadView):
    """The caller opened a notice of their building: their receipt (made now if the notice went out before they
    were registered) records it. A notice that is not theirs is 404."""

    @extend_schema(request=None, responses={200: s.LeadNoticeSerializer, **error_responses(404)})
    def post(self, request, pk):
        roles = self.roles(request)
        notice = places.visible_notices(request.user, roles).select_related("grid").filter(pk=pk).first()
        if notice is None:
            raise NotFound()
        receipt, _created = Receipt.objects.get_or_create(notice=notice, user=request.user,
                                                          defaults={"grid_id": roles[0].grid_id,
                                                                    "role": roles[0].role})
        receipt = mark_read(request.user, notice.pk)
        notice.read_at = receipt.read_at
        return Response(s.LeadNoticeSerializer(notice).data)


class NeighboursView(LeadView):
    """Names and room numbers of the lead's building (unit, for a unit lead): nothing else about anyone."""

    @extend_schema(parameters=[OpenApiParameter("q", str, description="part of a name or a room number")],
                   responses={200: s.NeighbourSerializer(many=True), **error_responses(403)})
    def get(self, request):
        check_query_params(request, self)
        self.roles(request)
        q = (request.query_params.get("q") or "").strip()[:30]
        rows = list(places.neighbours(request.user, q)[:500])
        return Response(_page(s.NeighbourSerializer(rows, many=True).data))


class NeighbourView(LeadView):
    @extend_schema(responses={200: s.NeighbourSerializer, **error_responses(403, 404)})
    def get(self, request, pk):
        check_query_params(request, self)
        self.roles(request)
        return Response(s.NeighbourSerializer(places.neighbour(request.user, pk)).data)


class LeadCheckInsView(LeadView):
    """The lead's own check-ins (GET) and a new one (POST; idempotent on `client_uuid`: 201, then 200 for a replay,
    409 for different content under the same uuid; a resident outside the building: 404)."""

    @extend_schema(responses={200: s.CheckInSerializer(many=True)})
    def get(self, request):
        check_query_params(request, self)
        self.roles(request)
        rows = (CheckIn.objects.filter(volunteer__user=request.user)
                .select_related("resident__household", "volunteer__user", "confirmed_by").order_by("-id")[:50])
        return Response(_page(s.CheckInSerializer(rows, many=True).data))

    @extend_schema(request=s.LeadCheckInSerializer, responses={201: s.CheckInSerializer, 200: s.CheckInSerializer,
                                                               **error_responses(400, 403, 404, 409)})
    def post(self, request):
        self.roles(request)
        if not places.is_lead(places.roles_of(request.user)):
            raise Forbidden(_("Check-ins are logged by building and unit leads."), code="not_a_lead")
        if not isinstance(request.data, dict):
            raise NotFound()
        stored = services.check_in(request.user, dict(request.data.items()))
        row = CheckIn.objects.select_related("resident__household", "volunteer__user").get(pk=stored.check_in.pk)
        return Response(s.CheckInSerializer(row).data,
                        status=status.HTTP_201_CREATED if stored.created else status.HTTP_200_OK)


class LeadActivitiesView(LeadView):
    """Activities the caller may join (their community's, not yet ended), with whether they signed up."""

    @extend_schema(responses={200: s.LeadActivitySerializer(many=True)})
    def get(self, request):
        check_query_params(request, self)
        roles = self.roles(request)
        community = Grid.objects.filter(tree.ancestors_q(roles[0].grid, include_self=True),
                                        level=Level.COMMUNITY).first()
        where = tree.covering_q([tree.span(roles[0].grid)], "grid__")
        if community is not None:
            where |= tree.subtree_q([tree.span(community)], "grid__")
        rows = (Activity.objects.filter(where, ends_at__gt=timezone.now()).select_related("grid")
                .annotate(signed_up=Count("sign_ups"),
                          mine=Exists(SignUp.objects.filter(activity=OuterRef("pk"), volunteer__user=request.user)))
                .order_by("starts_at")[:50])
        return Response(_page(s.LeadActivitySerializer(rows, many=True).data))


class LeadSignUpView(LeadView):
    @extend_schema(request=None, responses={201: s.SignUpSerializer, 200: s.SignUpSerializer,
                                            **error_responses(400, 404, 409)})
    def post(self, request, pk):
        self.roles(request)
        row, created = services.sign_up(request.user, pk)
        row = SignUp.objects.select_related("volunteer__user").get(pk=row.pk)
        return Response(s.SignUpSerializer(row).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
