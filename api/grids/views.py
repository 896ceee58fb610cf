from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from gridcase.core import audit
from gridcase.core.errors import Forbidden, NotFound, ValidationFailed
from gridcase.grids import accounts, tree
from gridcase.grids.choices import Role
from gridcase.grids.models import Building, Department, Grid, Household, Membership, Resident, Tag, Unit
from gridcase.grids.roles import EDITOR_ROLES, ID_NUMBER_ROLES, MANAGER_ROLES, PHONE_ROLES, TREE_ROLES
from gridcase.grids.scoping import scope_for

from .. import exports
from ..base import ScopedModelViewSet
from ..filters import check_query_params
from ..pagination import AscendingIdCursorPagination, IdsFirstCursorPagination
from ..permissions import HasAnyRole
from . import filters
from .geo import GridMapMixin
from .moves import BuildingMoveMixin, GridMoveMixin, HandoverMixin, UnitMoveMixin
from .residents import ResidentStatusMixin
from .serializers import (
    BuildingSerializer,
    DepartmentSerializer,
    GridSerializer,
    HouseholdSerializer,
    MembershipSerializer,
    ResidentSerializer,
    TagSerializer,
    UnitSerializer,
    UserSerializer,
)

User = get_user_model()


@extend_schema_field({"type": "array", "items": {"$ref": "#/components/schemas/GridTreeNode"}})
class _TreeChildren(serializers.ListField):
    pass


class GridTreeNodeSerializer(serializers.Serializer):
    """A node of `GET /grids/tree/` (schema only; the view builds plain dicts)."""

    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()
    children_count = serializers.IntegerField()
    children = _TreeChildren(help_text="the node's children, down to `depth` (empty below it)")


class GridViewSet(GridMapMixin, GridMoveMixin, ScopedModelViewSet):
    """The grid tree. Writes (create, move) are serialised by the tree engine's lock."""

    queryset = Grid.objects.all()
    serializer_class = GridSerializer
    filterset_class = filters.GridFilter
    pagination_class = AscendingIdCursorPagination
    permission_classes = [HasAnyRole]
    write_roles = TREE_ROLES

    def grid_of(self, instance):
        return instance

    def get_queryset(self):
        return super().get_queryset().annotate(children_count=Count("children"))

    def get_serializer(self, *args, **kwargs):
        instance = args[0] if args else None
        if instance is not None:
            nodes = instance if isinstance(instance, list | tuple) else [instance]
            if all(isinstance(n, Grid) for n in nodes):
                kwargs.setdefault("context", self.get_serializer_context())["paths"] = tree.ancestor_paths(nodes)
        return super().get_serializer(*args, **kwargs)

    def perform_create(self, serializer):
        parent = serializer.validated_data.get("parent")
        scope = self.get_scope()
        if not scope.is_global and (parent is None or not scope.roles_at(parent) & TREE_ROLES):
            raise Forbidden()
        super().perform_create(serializer)

    @extend_schema(responses=GridSerializer(many=True))
    @action(detail=True)
    def children(self, request, pk=None):
        grid = self.get_object()
        qs = self.get_queryset().filter(parent=grid)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(responses=inline_serializer("GridAncestors", {"results": GridSerializer(many=True)}))
    @action(detail=True, pagination_class=None)
    def ancestors(self, request, pk=None):
        grid = self.get_object()
        nodes = list(tree.ancestors(grid).annotate(children_count=Count("children")))
        return Response({"results": self.get_serializer(nodes, many=True).data})

    @extend_schema(parameters=[OpenApiParameter("root", int), OpenApiParameter("depth", int)],
                   responses=inline_serializer("GridTree", {"results": GridTreeNodeSerializer(many=True)}))
    @action(detail=False, pagination_class=None)
    def tree(self, request):
        """Nested subtree from `root` (default: the caller's own grids) down `depth` levels (0–6, default 2)."""
        check_query_params(request, self)
        raw_depth = request.query_params.get("depth", "2")
        if not raw_depth.isdigit() or int(raw_depth) > 6:
            raise ValidationFailed(_("depth must be a whole number from 0 to 6."), fields={"depth": [_("Invalid value.")]})
        depth = int(raw_depth)
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
        nodes = scoped.filter(tree.subtree_q([tree.span(r) for r in roots]))
        nodes = tree.tree_order(nodes.filter(tree.max_depth_q(roots, depth)))
        by_id, out = {}, []
        root_ids = {r.pk for r in roots}
        for n in nodes.values("id", "code", "name", "level", "parent_id", "children_count"):
            item = {k: n[k] for k in ("id", "code", "name", "level", "children_count")} | {"children": []}
            by_id[n["id"]] = item
            if n["id"] in root_ids:
                out.append(item)
            elif n["parent_id"] in by_id:
                by_id[n["parent_id"]]["children"].append(item)
        return Response({"results": out})


class TagViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = Tag.objects.all()
    serializer_class = TagSerializer
    pagination_class = None


class BuildingViewSet(BuildingMoveMixin, ScopedModelViewSet):
    queryset = Building.objects.select_related("grid")
    serializer_class = BuildingSerializer
    filterset_class = filters.BuildingFilter
    permission_classes = [HasAnyRole]
    write_roles = EDITOR_ROLES


class UnitViewSet(UnitMoveMixin, ScopedModelViewSet):
    queryset = Unit.objects.select_related("building")
    serializer_class = UnitSerializer
    filterset_class = filters.UnitFilter
    permission_classes = [HasAnyRole]
    write_roles = EDITOR_ROLES
    grid_field = "micro_grid"


class HouseholdViewSet(ScopedModelViewSet):
    queryset = Household.objects.select_related("unit__building")
    serializer_class = HouseholdSerializer
    filterset_class = filters.HouseholdFilter
    permission_classes = [HasAnyRole]
    write_roles = EDITOR_ROLES

    def grid_of(self, instance):
        return instance.unit.micro_grid if instance.unit_id else None


class ResidentViewSet(ResidentStatusMixin, ScopedModelViewSet):
    """Residents. Lists are always masked; a detail read reveals what the caller's role needs, audited."""

    # The household, its unit and building read by a second query for the page's rows only: the list's own
    # statement stays two tables (planned in well under a millisecond, where six took several).
    queryset = Resident.objects.select_related("grid").prefetch_related(
        Prefetch("household", queryset=Household.objects.select_related("unit__building")), "tags")
    serializer_class = ResidentSerializer
    filterset_class = filters.ResidentFilter
    pagination_class = IdsFirstCursorPagination
    permission_classes = [HasAnyRole]
    write_roles = EDITOR_ROLES
    export = exports.resident_export_action()  # GET /residents/export/?<the list's filters>[&reveal=true]

    def grid_of(self, instance):
        return instance.household.grid if instance.household_id else None

    def reveal(self, resident) -> dict:
        scope = scope_for(self.request.user)
        roles = {Role.ADMIN} if scope.is_global else scope.roles_at(resident.grid)
        revealed = {}
        if roles & PHONE_ROLES and resident.phone_encrypted:
            revealed["phone"] = resident.phone
        if roles & ID_NUMBER_ROLES and resident.id_number_encrypted:
            revealed["id_number"] = resident.id_number
        if revealed:
            audit.record(self.request.user, "reveal", [resident], revealed.keys(), self.request)
        return revealed

    def retrieve(self, request, *args, **kwargs):
        resident = self.get_object()
        context = self.get_serializer_context()
        context["reveal"] = {resident.pk: self.reveal(resident)}
        return Response(self.get_serializer_class()(resident, context=context).data)


class DepartmentViewSet(ScopedModelViewSet):
    queryset = Department.objects.all()
    serializer_class = DepartmentSerializer
    filterset_class = filters.DepartmentFilter
    permission_classes = [HasAnyRole]
    write_roles = TREE_ROLES
    grid_field = "area"


class MembershipViewSet(ScopedModelViewSet):
    queryset = Membership.objects.select_related("user", "grid")
    serializer_class = MembershipSerializer
    filterset_class = filters.MembershipFilter
    permission_classes = [HasAnyRole]
    write_roles = MANAGER_ROLES

    """Roles on grids. Granting, changing and removing one follow `gridcase.grids.accounts`: only for accounts
    the caller manages (every role in their area, below their rank), never their own."""

    def perform_create(self, serializer):
        data = serializer.validated_data
        accounts.check_can_grant(self.request.user, data["grid"], data["role"], data["user"])
        super().perform_create(serializer)

    def perform_update(self, serializer):
        instance, data = serializer.instance, serializer.validated_data
        accounts.check_can_change_membership(
            self.request.user, instance, grid=data.get("grid", instance.grid), role=data.get("role", instance.role),
            user=data.get("user", instance.user))
        super().perform_update(serializer)

    def perform_destroy(self, instance):
        accounts.check_can_remove_membership(self.request.user, instance)
        super().perform_destroy(instance)


class UserViewSet(HandoverMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                  mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Accounts of workers and officers: created by an admin, or by a secretary within their community.

    Changing one (password, names, active) follows `gridcase.grids.accounts`: out of sight 404, not managed 403."""

    serializer_class = UserSerializer
    filterset_class = filters.UserFilter
    permission_classes = [HasAnyRole]
    write_roles = MANAGER_ROLES
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return accounts.visible_users(self.request.user).prefetch_related(
            Prefetch("memberships", Membership.objects.select_related("grid"))).order_by("id")

    def perform_create(self, serializer):
        data = serializer.validated_data
        user = accounts.create_account(
            self.request.user, username=data["username"], password=data["password"],
            display_name=data.get("first_name", ""), email=data.get("email", ""), grid=data.get("grid"),
            role=data.get("role"), department=data.get("department"),
        )
        serializer.instance = user

    def update(self, request, *args, **kwargs):
        # Refuse before validating, so a refused caller learns nothing from the validation errors.
        fields = {"first_name" if k == "display_name" else k for k in request.data} if hasattr(request.data, "keys") else set()
        accounts.check_can_change(request.user, self.get_object(), fields)
        return super().update(request, *args, **kwargs)

    def perform_update(self, serializer):
        changes = {k: v for k, v in serializer.validated_data.items() if k not in ("grid", "role", "department")}
        accounts.update_account(self.request.user, serializer.instance, changes)
