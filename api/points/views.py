"""Points (积分): the ledger, monthly rankings, the caller's standing, residents' credit and the points shop."""

import django_filters
from django.db.models import Q, Sum
from django.http import HttpResponse
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from gridcase.core.errors import Forbidden, NotFound, ValidationFailed
from gridcase.core.spreadsheet import XLSX_TYPE, xlsx_bytes
from gridcase.grids.models import Grid
from gridcase.grids.roles import MANAGER_ROLES
from gridcase.grids.scoping import scope_for
from gridcase.points import ranking, rules, shop
from gridcase.points.models import PointEntry, Redemption, ResidentCredit, Reward
from gridcase.points.rules import label

from ..base import ScopedModelViewSet, ScopedViewSetMixin
from ..filters import check_query_params
from ..permissions import HasAnyRole
from .serializers import (
    CorrectionSerializer,
    CreditSerializer,
    EntrySerializer,
    PointsRankingSerializer,
    PointsStandingSerializer,
    RedeemSerializer,
    RedemptionSerializer,
    RewardSerializer,
)


class EntryFilter(django_filters.FilterSet):
    user = django_filters.NumberFilter(field_name="user_id")
    resident = django_filters.NumberFilter(field_name="resident_id")
    mine = django_filters.BooleanFilter(method="filter_mine", label="only my entries")
    month = django_filters.CharFilter(method="filter_month", label="YYYY-MM")

    class Meta:
        model = PointEntry
        fields = ["user", "resident", "mine", "month"]

    def filter_mine(self, qs, name, value):
        return qs.filter(user=self.request.user) if value else qs.exclude(user=self.request.user)

    def filter_month(self, qs, name, value):
        return qs.filter(month=ranking.parse_month(value))


MONTH = OpenApiParameter("month", str, description="YYYY-MM (default: this month, Asia/Shanghai)")
GRID = OpenApiParameter("grid", int, description="the grid whose subtree is ranked (default: the caller's community)")


class PointEntryViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    """The ledger: entries counting in the caller's grids, and their own. Append-only; `correct` adds a
    correction entry (managers)."""

    queryset = PointEntry.objects.select_related("user", "resident", "grid")
    serializer_class = EntrySerializer
    filterset_class = EntryFilter
    permission_classes = [HasAnyRole]
    write_roles = MANAGER_ROLES

    @extend_schema(request=CorrectionSerializer, responses={201: EntrySerializer})
    @action(detail=True, methods=["post"], filterset_class=None)
    def correct(self, request, pk=None):
        entry = self.get_object()
        scope = scope_for(request.user)
        if not scope.is_global and not (entry.grid_id and scope.roles_at(entry.grid) & MANAGER_ROLES):
            raise Forbidden()
        body = CorrectionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        created = rules.correct(entry, body.validated_data["points"], request.user, body.validated_data["note"])
        return Response(EntrySerializer(created).data, status=status.HTTP_201_CREATED)

    def _node(self, request):
        raw = request.query_params.get("grid")
        scope = scope_for(request.user)
        if raw:
            if not raw.isdigit():
                raise ValidationFailed(fields={"grid": [_("Enter a whole number.")]})
            node = Grid.objects.filter(pk=int(raw)).first()
            if node is None or not scope.covers(node):
                raise NotFound()
            return node
        node = ranking.community_of_user(request.user)
        if node is None:
            raise ValidationFailed(fields={"grid": [_("Choose a grid.")]})
        return node

    @extend_schema(parameters=[GRID, MONTH], responses=PointsRankingSerializer)
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def ranking(self, request):
        """The month's ranking of workers whose entries count inside the grid (competition ranks: 1, 2, 2, 4)."""
        check_query_params(request, self)
        node, month = self._node(request), ranking.parse_month(request.query_params.get("month"))
        return Response({"month": month.strftime("%Y-%m"),
                         "grid": {"id": node.pk, "name": node.name, "level": node.level},
                         "results": ranking.totals(node, month)})

    @extend_schema(parameters=[GRID, MONTH],
                   responses={(200, XLSX_TYPE): OpenApiResponse(description="the ranking as XLSX (表彰)")})
    @action(detail=False, methods=["get"], url_path="ranking/export", pagination_class=None, filterset_class=None)
    def ranking_export(self, request):
        check_query_params(request, self)
        node, month = self._node(request), ranking.parse_month(request.query_params.get("month"))
        rows = [[r["rank"], r["name"], r["points"]] for r in ranking.totals(node, month)]
        body = xlsx_bytes([gettext_now("rank"), gettext_now("name"), gettext_now("points")], rows,
                          title=f"{node.name} {month:%Y-%m}")
        response = HttpResponse(body, content_type=XLSX_TYPE)
        response["Content-Disposition"] = f'attachment; filename="points-{node.pk}-{month:%Y-%m}.xlsx"'
        return response

    @extend_schema(parameters=[MONTH], responses=PointsStandingSerializer)
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def me(self, request):
        """The caller's points this month and their place in their community ("本月积分 128，全社区第 5")."""
        check_query_params(request, self)
        month = ranking.parse_month(request.query_params.get("month"))
        return Response(ranking.standing(request.user, month))


class RewardViewSet(ScopedModelViewSet):
    """A community's points shop (信用超市): rewards with a price in points and a stock."""

    queryset = Reward.objects.select_related("community").order_by("price", "id")
    serializer_class = RewardSerializer
    permission_classes = [HasAnyRole]
    write_roles = shop.DESK_ROLES
    grid_field = "community"


class RedemptionViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Redemptions at the community desk. POST redeems (201; 200 for a resend of the same `client_key`);
    409 `out_of_stock` or `insufficient_points` otherwise, and nothing changes."""

    queryset = Redemption.objects.select_related("reward", "resident", "staff")
    serializer_class = RedemptionSerializer
    permission_classes = [HasAnyRole]
    write_roles = shop.DESK_ROLES

    @extend_schema(request=RedeemSerializer, responses={201: RedemptionSerializer, 200: RedemptionSerializer})
    def create(self, request, *args, **kwargs):
        body = RedeemSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        resident = data.get("resident")
        if resident is None and data.get("code"):
            credit = ResidentCredit.objects.restrict(request.user).select_related("resident__grid").filter(
                code=data["code"]).first()
            resident = credit.resident if credit else None
            if resident is None:
                raise ValidationFailed(fields={"code": [_("No resident with this code in your area.")]})
        if resident is None:
            raise ValidationFailed(fields={"resident": [_("Name the resident or scan their code.")]})
        redemption, created = shop.redeem(request.user, data["reward"].pk, resident, data["client_key"])
        return Response(RedemptionSerializer(redemption).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class CreditFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(field_name="code")
    q = django_filters.CharFilter(method="filter_q", label="name, pinyin initials or the phone's last 4 digits")

    class Meta:
        model = ResidentCredit
        fields = ["code", "q"]

    def filter_q(self, qs, name, value):
        value = value.strip()
        return qs.filter(Q(resident__name__icontains=value) | Q(resident__name_initials__iexact=value)
                         | Q(resident__phone_last4=value))


class ResidentCreditViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                            viewsets.GenericViewSet):
    """Residents' credit balances, found at the desk by the code they show (`?code=`) or by search (`?q=`)."""

    queryset = ResidentCredit.objects.select_related("resident__household__unit__building")
    serializer_class = CreditSerializer
    filterset_class = CreditFilter
    permission_classes = [HasAnyRole]


class PublicCreditView(APIView):
    """A resident's own page (no sign-in): the balance and history behind the code on their credit card."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={200: OpenApiResponse(description="{balance, name, entries: [..]}")})
    def get(self, request, code):
        check_query_params(request, self)
        credit = ResidentCredit.objects.select_related("resident").filter(code=code).first()
        if credit is None:
            raise NotFound()
        entries = list(PointEntry.objects.filter(resident_id=credit.resident_id).order_by("-at", "-id")
                       .values("rule", "points", "at")[:100])
        name = credit.resident.name
        return Response({"name": name[:1] + "*" * (len(name) - 1), "balance": credit.balance,
                         "total_earned": PointEntry.objects.filter(resident_id=credit.resident_id, points__gt=0)
                         .aggregate(s=Sum("points"))["s"] or 0,
                         "entries": [{"rule": e["rule"], "label": label(e["rule"]), "points": e["points"],
                                      "at": e["at"]} for e in entries]})


