"""Moves and handovers over HTTP, as actions on the existing viewsets (the rules are in gridcase.grids.moves and
gridcase.grids.handover):

- `POST /units/{id}/move/`, `/buildings/{id}/move/`, `/grids/{id}/move/` with `{"to": grid id, "cases":
  "follow"|"stay", "preview": true|false}` (a building also takes `units: {unit id: micro-grid id}`): answers the
  move's summary (200), a refused rule as 400 with the rule as `code`. A PATCH that changes a unit's micro-grid,
  a building's general grid or a grid's parent is the same move (open cases stay unless `cases` says follow).
- `GET /users/{id}/handover/`: her open work and the colleagues who could take it, with their load;
  `POST` with `{"to": user id | null (spread by load), "preview": …}` hands it over.
"""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from gridcase.core.errors import ValidationFailed
from gridcase.grids import handover, moves
from gridcase.grids.models import Grid

from ..base import StrictBooleanField

User = get_user_model()


class MoveRequest(serializers.Serializer):
    to = serializers.IntegerField(help_text="the grid to move to (a micro-grid for a unit; a general grid or one of "
                                            "its micro-grids for a building; the new parent for a grid)")
    cases = serializers.ChoiceField(["follow", "stay"], required=False, default="stay",
                                    help_text="open cases follow the place (owner grid changes) or stay")
    preview = StrictBooleanField(required=False, default=False, help_text="run and roll back: the summary only")
    units = serializers.DictField(child=serializers.IntegerField(), required=False,
                                  help_text="building moves: {unit id: micro-grid id} for units not going to the default")


MOVE_SUMMARY = inline_serializer("MoveSummary", {
    "kind": serializers.CharField(), "id": serializers.IntegerField(), "name": serializers.CharField(),
    "from": serializers.DictField(), "to": serializers.DictField(), "cases": serializers.CharField(),
    "preview": serializers.BooleanField(), "moved": serializers.DictField(child=serializers.IntegerField()),
    "grids": serializers.ListField(child=serializers.DictField()),
})


def _grid_in_scope(view, grid_id):
    grid = Grid.objects.restrict(view.request.user).filter(pk=grid_id).first()
    if grid is None:
        raise ValidationFailed(_("The grid to move to was not found."), fields={"to": [_("Not found.")]})
    return grid


def _move_body(request) -> dict:
    body = MoveRequest(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data


class MoveActionMixin:
    """`move` on a place's viewset; `move_field` names the field a PATCH moves through the same rules."""

    move_field = ""

    def run_move(self, obj, data):
        raise NotImplementedError

    @extend_schema(request=MoveRequest, responses=MOVE_SUMMARY)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Move the place (see gridcase.grids.moves); `preview` answers the summary without writing."""
        obj = self.get_object()
        data = _move_body(request)
        return Response(self.run_move(obj, data))

    def partial_update(self, request, *args, **kwargs):
        field, body = self.move_field, request.data if hasattr(request.data, "get") else {}
        if field and body.get(field) not in (None, ""):
            obj = self.get_object()
            if str(body.get(field)) != str(getattr(obj, f"{field}_id")):
                self.run_move(obj, _PatchData(body, field))
                rest = {k: v for k, v in body.items() if k not in (field, "cases")}
                if not rest:
                    return Response(self.get_serializer(self.get_object()).data)
                request._full_data = rest
        return super().partial_update(request, *args, **kwargs)


class _PatchData(dict):
    """A PATCH body as a move's request."""

    def __init__(self, data, field):
        body = MoveRequest(data={"to": data.get(field), "cases": data.get("cases", "stay")})
        body.is_valid(raise_exception=True)
        super().__init__(body.validated_data)


class UnitMoveMixin(MoveActionMixin):
    move_field = "micro_grid"

    def run_move(self, obj, data):
        return moves.move_unit(self.request.user, obj, _grid_in_scope(self, data["to"]), cases=data["cases"],
                               preview=data["preview"], request=self.request)


class BuildingMoveMixin(MoveActionMixin):
    move_field = "grid"

    def run_move(self, obj, data):
        units = {}
        for unit_id, micro_id in (data.get("units") or {}).items():
            if not str(unit_id).isdigit():
                raise ValidationFailed(fields={"units": [_("Invalid value.")]})
            units[int(unit_id)] = _grid_in_scope(self, micro_id)
        return moves.move_building(self.request.user, obj, _grid_in_scope(self, data["to"]), units=units,
                                   cases=data["cases"], preview=data["preview"], request=self.request)


class RedistrictMove(serializers.Serializer):
    kind = serializers.ChoiceField(["unit", "building", "grid"])
    id = serializers.IntegerField()
    to = serializers.IntegerField()
    units = serializers.DictField(child=serializers.IntegerField(), required=False)


class RedistrictBoundary(serializers.Serializer):
    grid = serializers.IntegerField()
    boundary = serializers.JSONField(help_text="GeoJSON Polygon, [longitude, latitude]; checked by gridcase.grids.geo "
                                               "(boundary_invalid, boundary_self_intersects, boundary_overlaps_sibling)")


class RedistrictRequest(serializers.Serializer):
    moves = RedistrictMove(many=True, required=False, default=list,
                           help_text="the moves of one boundary change, in order")
    boundaries = RedistrictBoundary(many=True, required=False, default=list,
                                    help_text="grids redrawn on the map: written first; a micro-grid takes the "
                                              "buildings whose point it gains")
    cases = serializers.ChoiceField(["follow", "stay"], required=False, default="stay")
    preview = StrictBooleanField(required=False, default=True, help_text="the default: simulate and roll back")


class GridMoveMixin(MoveActionMixin):
    move_field = "parent"

    def run_move(self, obj, data):
        return moves.move_grid(self.request.user, obj, _grid_in_scope(self, data["to"]), cases=data["cases"],
                               preview=data["preview"], request=self.request)

    @extend_schema(request=RedistrictRequest, responses=inline_serializer("RedistrictSummary", {
        "preview": serializers.BooleanField(), "cases": serializers.CharField(),
        "moves": serializers.ListField(child=serializers.DictField()),
        "grids": serializers.ListField(child=serializers.DictField()),
        "boundaries": serializers.ListField(child=serializers.DictField(), required=False),
        "outside": serializers.ListField(child=serializers.DictField(), required=False),
        "buildings": serializers.ListField(child=serializers.DictField(), required=False,
                                           help_text="buildings a redrawn boundary gains: {id, name, from, to}")}))
    # Each move checks the mover's rights on its own grids (a secretary moves units and buildings, the street grids).
    @action(detail=False, methods=["post"], pagination_class=None, filterset_class=None,
            permission_classes=[IsAuthenticated])
    def redistrict(self, request):
        """Redistricting simulator: several moves as one change, answered with every affected grid's load (households,
        key population, care plans, contacts per week, open cases, workers) before and after; `preview` by default.
        `boundaries` redraws grids on the map (the answer adds `boundaries` before/after, `buildings` gained with their
        old and new micro-grids, and `outside`, the buildings no boundary holds any more)."""
        from gridcase.grids.models import Building, Unit

        body = RedistrictRequest(data=request.data)
        body.is_valid(raise_exception=True)
        data, user, changes = body.validated_data, request.user, []
        models = {"unit": Unit, "building": Building, "grid": Grid}
        for i, m in enumerate(data["moves"]):
            place = models[m["kind"]].objects.restrict(user).filter(pk=m["id"]).first()
            if place is None:
                raise ValidationFailed(_("The place to move was not found."), fields={f"moves[{i}].id": [_("Not found.")]})
            units = {int(k): _grid_in_scope(self, v) for k, v in (m.get("units") or {}).items() if str(k).isdigit()}
            changes.append((m["kind"], place, _grid_in_scope(self, m["to"]), units))
        drawn = []
        for i, b in enumerate(data["boundaries"]):
            grid = Grid.objects.restrict(user).filter(pk=b["grid"]).first()
            if grid is None:
                raise ValidationFailed(_("The grid to redraw was not found."),
                                       fields={f"boundaries[{i}].grid": [_("Not found.")]})
            drawn.append((grid, b["boundary"]))
        return Response(moves.redistrict(user, changes, cases=data["cases"], preview=data["preview"], request=request,
                                         boundaries=drawn))


class HandoverRequest(serializers.Serializer):
    to = serializers.IntegerField(required=False, allow_null=True,
                                  help_text="the colleague who takes everything; null: spread over the grid by load")
    preview = StrictBooleanField(required=False, default=False)
    cases = StrictBooleanField(required=False, default=True, help_text="hand over her open cases")
    care_plans = StrictBooleanField(required=False, default=True, help_text="hand over her care plans")
    end_roles = StrictBooleanField(required=False, default=False,
                                   help_text="she is leaving: her field roles end in the same transaction")


class HandoverMixin:
    """`/users/{id}/handover/` on the accounts viewset."""

    @extend_schema(methods=["GET"], responses=inline_serializer("HandoverWork", {
        "cases": serializers.IntegerField(), "care_plans": serializers.IntegerField(),
        "case_numbers": serializers.ListField(child=serializers.CharField()),
        "candidates": serializers.ListField(child=serializers.DictField())}))
    @extend_schema(methods=["POST"], request=HandoverRequest, responses=inline_serializer("HandoverSummary", {
        "worker": serializers.DictField(), "preview": serializers.BooleanField(), "cases": serializers.IntegerField(),
        "care_plans": serializers.IntegerField(), "receivers": serializers.ListField(child=serializers.DictField()),
        "roles_ended": serializers.ListField(child=serializers.CharField())}))
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def handover(self, request, pk=None):
        """A worker's open cases and care plans, handed to a colleague or spread over her grid by load."""
        worker = self.get_object()
        if request.method == "GET":
            handover.check_manager(request.user, handover.home_grids(worker))
            cases, plans = handover.work_of(worker)
            return Response({"cases": cases.count(), "care_plans": plans.count(),
                             "case_numbers": list(cases.order_by("id").values_list("number", flat=True)[:50]),
                             "candidates": handover.candidates(worker)})
        body = HandoverRequest(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        to = None
        if data.get("to") is not None:
            to = self.get_queryset().filter(pk=data["to"]).first()
            if to is None:
                raise ValidationFailed(_("No such colleague."), code="receiver_outside_grid",
                                       fields={"to": [_("Not found.")]})
        return Response(handover.handover(request.user, worker, to, preview=data["preview"], request=request,
                                          include_cases=data["cases"], include_plans=data["care_plans"],
                                          end_roles=data["end_roles"]))

