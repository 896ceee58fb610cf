"""The console map's data: `GET /api/v1/grids/map/?root=<grid id>` — the grids with a boundary under `root` (default:
the caller's own grids), each with its workers and open cases, the buildings with a point, and the tile layer the
deployment configured (GRIDCASE_MAP_TILES; none: the map draws plain vectors). Redrawing goes through
`POST /grids/redistrict/` with `boundaries` (gridcase.grids.geo checks them)."""

from django.conf import settings
from django.db.models import Count
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from gridcase.cases.models import Case
from gridcase.cases.state import UNFINISHED
from gridcase.core.errors import NotFound, ValidationFailed
from gridcase.grids import tree
from gridcase.grids.models import Building, Membership
from gridcase.grids.roles import CASE_WORKERS

from ..filters import check_query_params

# Beyond this many grids or buildings the map answers the first ones in tree order and says `truncated`:
# a street or a community is a few hundred; a whole city is opened one street at a time.
MAP_LIMIT = 3000

MAP_RESPONSE = inline_serializer("GridMap", {
    "root": serializers.ListField(child=serializers.IntegerField()),
    "tiles": inline_serializer("MapTiles", {"url": serializers.CharField(), "attribution": serializers.CharField()},
                               allow_null=True),
    "grids": serializers.ListField(child=inline_serializer("MapGrid", {
        "id": serializers.IntegerField(), "code": serializers.CharField(), "name": serializers.CharField(),
        "level": serializers.CharField(), "parent": serializers.IntegerField(allow_null=True),
        "boundary": serializers.JSONField(), "centroid": serializers.DictField(allow_null=True),
        "workers": serializers.ListField(child=serializers.CharField()),
        "open_cases": serializers.IntegerField(help_text="unfinished cases placed in the grid or below")})),
    "buildings": serializers.ListField(child=inline_serializer("MapBuilding", {
        "id": serializers.IntegerField(), "name": serializers.CharField(), "grid": serializers.IntegerField(),
        "lat": serializers.FloatField(), "lng": serializers.FloatField()})),
    "truncated": serializers.BooleanField(),
})


def tiles() -> dict | None:
    url = getattr(settings, "MAP_TILES", "")
    return {"url": url, "attribution": getattr(settings, "MAP_ATTRIBUTION", "")} if url else None


class GridMapMixin:
    """`map` on the grids viewset."""

    @extend_schema(parameters=[OpenApiParameter("root", int, description="a grid id; default: the caller's grids")],
                   responses=MAP_RESPONSE)
    @action(detail=False, pagination_class=None, filterset_class=None)
    def map(self, request):
        """The grids with a boundary under `root`, their workers and open cases, and the buildings with a point."""
        check_query_params(request, self)
        scoped = self.get_queryset()
        root_id = request.query_params.get("root")
        if root_id:
            if not root_id.isdigit():
                raise ValidationFailed(fields={"root": [_("Invalid value.")]})
            roots = list(scoped.filter(pk=root_id))
            if not roots:
                raise NotFound()
        else:
            scope = self.get_scope()
            roots = list(scoped.filter(parent__isnull=True) if scope.is_global else scoped.filter(pk__in=scope.grid_ids))
        spans = [tree.span(r) for r in roots]
        rows = list(tree.tree_order(scoped.filter(tree.subtree_q(spans), boundary__isnull=False)).values(
            "id", "code", "name", "level", "parent_id", "boundary", "centroid_lat", "centroid_lng")[:MAP_LIMIT + 1])
        truncated = len(rows) > MAP_LIMIT
        rows = rows[:MAP_LIMIT]
        ids = [r["id"] for r in rows]
        workers: dict = {}
        for grid_id, first, username in Membership.objects.filter(grid_id__in=ids, role__in=CASE_WORKERS).order_by(
                "id").values_list("grid_id", "user__first_name", "user__username"):
            workers.setdefault(grid_id, []).append(first or username)
        # Open cases by place, added up the tree (a grid counts its own and everything below it).
        placed = dict(Case.objects.restrict(request.user).filter(tree.subtree_q(spans, "grid__"), status__in=UNFINISHED)
                      .order_by().values("grid_id").annotate(n=Count("id")).values_list("grid_id", "n"))
        parents = dict(scoped.filter(tree.subtree_q(spans)).values_list("id", "parent_id")) if placed else {}
        totals: dict = {}
        for grid_id, n in placed.items():
            node, seen = grid_id, 0
            while node is not None and seen < 64:
                totals[node] = totals.get(node, 0) + n
                node, seen = parents.get(node), seen + 1
        buildings = list(Building.objects.restrict(request.user).filter(
            tree.subtree_q(spans, "grid__"), lat__isnull=False, lng__isnull=False).order_by("id").values(
            "id", "name", "grid_id", "lat", "lng")[:MAP_LIMIT + 1])
        truncated = truncated or len(buildings) > MAP_LIMIT
        return Response({
            "root": [r.pk for r in roots],
            "tiles": tiles(),
            "grids": [{"id": r["id"], "code": r["code"], "name": r["name"], "level": r["level"],
                       "parent": r["parent_id"], "boundary": r["boundary"],
                       "centroid": {"lat": r["centroid_lat"], "lng": r["centroid_lng"]}
                       if r["centroid_lat"] is not None else None,
                       "workers": workers.get(r["id"], []), "open_cases": totals.get(r["id"], 0)} for r in rows],
            "buildings": [{"id": b["id"], "name": b["name"], "grid": b["grid_id"], "lat": b["lat"], "lng": b["lng"]}
                          for b in buildings[:MAP_LIMIT]],
            "truncated": truncated,
        })
