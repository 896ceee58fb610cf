"""Dashboard statistics over HTTP. Thin: the parameters are parsed by gridcase.stats.params, the case figures come
from gridcase.stats.queries (rollups only), visit coverage from gridcase.visits.coverage."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from gridcase.grids.scoping import scope_for
from gridcase.stats import holds, kpis, params, queries
from gridcase.visits import coverage

from ..base import ReplicaReads
from ..filters import check_query_params
from ..permissions import HasAnyRole
from . import serializers as s

COMMON = [
    OpenApiParameter("grid", int, description="grid whose subtree is counted; default: the caller's widest grid"),
    OpenApiParameter("from", str, description="first day, YYYY-MM-DD (Asia/Shanghai); default 30 days before `to`"),
    OpenApiParameter("to", str, description="last day, YYYY-MM-DD (Asia/Shanghai), included; default today"),
    OpenApiParameter("category", int, description="top-level category only"),
    OpenApiParameter("source", str, description="case source (patrol, resident, hotline_12345, …)"),
]
METRIC = OpenApiParameter("metric", str, enum=list(kpis.METRICS))
ERRORS = {400: s.ErrorSerializer, 404: s.ErrorSerializer}


class StatsView(ReplicaReads, APIView):
    permission_classes = [HasAnyRole]

    def filters(self, request):
        check_query_params(request, self)
        return params.parse_filters(scope_for(request.user), request.query_params)


class SummaryView(StatsView):
    """KPIs of a grid's subtree over a period: the "three rates" of 12345 hotlines and more, each with the URL
    of the case list that produced it."""

    @extend_schema(parameters=COMMON, responses={200: s.SummarySerializer, **ERRORS})
    def get(self, request):
        return Response(queries.summary(self.filters(request)))


class TimeseriesView(StatsView):
    """One metric per day, week or month."""

    @extend_schema(parameters=[*COMMON, METRIC, OpenApiParameter("interval", str, enum=list(params.INTERVALS))],
                   responses={200: s.TimeseriesSerializer, **ERRORS})
    def get(self, request):
        filters = self.filters(request)
        metric = params.parse_metric(request.query_params.get("metric"))
        interval = params.parse_interval(request.query_params.get("interval"))
        return Response(queries.timeseries(filters, metric, interval))


class GridRankingView(StatsView):
    """The grid's children ranked by a metric (best first; lower is better for escalation and median), each with
    its volume; only children with at least `min_volume` cases behind the metric are ranked."""

    @extend_schema(parameters=[*COMMON, METRIC, OpenApiParameter(
        "min_volume", int, description=f"cases a grid needs behind the metric to be ranked (default "
                                       f"{queries.MIN_VOLUME})")], responses={200: s.RankingSerializer, **ERRORS})
    def get(self, request):
        filters = self.filters(request)
        metric = params.parse_metric(request.query_params.get("metric"), "on_time_rate")
        min_volume = params.parse_int(request.query_params.get("min_volume"), "min_volume")
        return Response(queries.grid_ranking(filters, metric, queries.MIN_VOLUME if min_volume is None else min_volume))


class DepartmentsView(StatsView):
    """Whistled departments (吹哨/应哨): report-in rate and times, handling time, average score."""

    @extend_schema(parameters=COMMON[:3], responses={200: s.DepartmentsSerializer, **ERRORS})
    def get(self, request):
        return Response(queries.departments(self.filters(request)))


class VisitCoverageView(ReplicaReads, APIView):
    """Share of key-population residents visited on time in a period, overall, by tag and by sub-grid (the grid
    and the period as for every figure: gridcase.stats.params)."""

    permission_classes = [HasAnyRole]

    @extend_schema(parameters=COMMON[:3], responses={200: s.VisitCoverageSerializer, **ERRORS})
    def get(self, request):
        check_query_params(request, self)
        scope = scope_for(request.user)
        grid = params.resolve_grid(scope, request.query_params.get("grid"))
        period = params.parse_period(request.query_params.get("from"), request.query_params.get("to"))
        return Response(coverage.visit_coverage(scope, grid, period))


class HoldTimesView(ReplicaReads, APIView):
    """Where do cases wait: the median time each level (micro-grid … street, and departments) held a case, over
    the holds of the hop ledger that ended in the period, for cases reported inside the grid's subtree."""

    permission_classes = [HasAnyRole]

    @extend_schema(parameters=COMMON[:3], responses={200: s.HoldTimesSerializer, **ERRORS})
    def get(self, request):
        check_query_params(request, self)
        grid = params.resolve_grid(scope_for(request.user), request.query_params.get("grid"))
        period = params.parse_period(request.query_params.get("from"), request.query_params.get("to"))
        return Response(holds.hold_times(grid, period))
