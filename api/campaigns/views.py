"""Campaigns (专项排查): create, launch, progress by grid, export; tasks listed in walking order and answered."""

import json

from django.db import transaction
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from gridcase.campaigns import answers, export, launching, progress
from gridcase.campaigns.models import Campaign, CampaignStatus, CampaignTask
from gridcase.core.errors import Conflict, NotFound, ValidationFailed
from gridcase.core.spreadsheet import XLSX_TYPE
from gridcase.grids import tree
from gridcase.grids.models import Grid
from gridcase.grids.scoping import scope_for

from ..base import ScopedModelViewSet, ScopedViewSetMixin
from ..pagination import StrictPageNumberPagination
from ..parsers import FormParser, JSONParser
from ..permissions import HasAnyRole
from . import filtersets
from .serializers import AnswerSerializer, CampaignSerializer, ProgressSerializer, TaskSerializer


class CampaignViewSet(ScopedModelViewSet):
    """Campaigns under the caller's grids (and, for the workers below, the campaigns over them). A draft is edited
    and deleted; `launch` creates its tasks in the background (progress: `tasks_created` of `total_tasks`)."""

    queryset = Campaign.objects.select_related("grid", "owner").prefetch_related("tags").order_by("-id")
    serializer_class = CampaignSerializer
    filterset_class = filtersets.CampaignFilter
    permission_classes = [HasAnyRole]
    write_roles = launching.CAMPAIGN_ROLES

    def perform_create(self, serializer):
        with transaction.atomic():
            instance = serializer.save(created_by=self.request.user, owner=serializer.validated_data.get(
                "owner") or self.request.user)
            self.check_write(instance)

    def perform_update(self, serializer):
        if serializer.instance.status != CampaignStatus.DRAFT:
            raise Conflict(_("Only a draft campaign can be changed."), code="not_a_draft")
        super().perform_update(serializer)

    def perform_destroy(self, instance):
        if instance.status != CampaignStatus.DRAFT:
            raise Conflict(_("Only a draft campaign can be deleted."), code="not_a_draft")
        super().perform_destroy(instance)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def launch(self, request, pk=None):
        """Queue the creation of one task per target (202); the campaign shows the progress."""
        campaign = launching.request_launch(request.user, self.get_object())
        return Response(self.get_serializer(campaign).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """End a running campaign early (tasks not yet done stay as they are)."""
        campaign = self.get_object()
        if not launching.may_manage(request.user, campaign):
            from gridcase.core.errors import Forbidden

            raise Forbidden()
        if Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.RUNNING).update(
                status=CampaignStatus.CLOSED) != 1:
            raise Conflict(_("Only a running campaign can be closed."), code="not_running")
        campaign.refresh_from_db()
        return Response(self.get_serializer(campaign).data)

    @extend_schema(parameters=[OpenApiParameter("grid", int, description="the node to break down (default: the "
                                                                         "campaign's grid)")],
                   responses=ProgressSerializer)
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def progress(self, request, pk=None):
        """Done / not yet / problem found per child grid of a node, inside the caller's scope; each row drills
        down to `/campaign-tasks/?campaign=<id>&within=<grid>`."""
        campaign = self.get_object()
        node = self._node(request, campaign)
        return Response(progress.by_grid(campaign, node, request.user))

    @extend_schema(responses={(200, XLSX_TYPE): OpenApiResponse(description="the results as XLSX")})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def export(self, request, pk=None):
        """Every task inside the caller's scope with its answers, as XLSX."""
        campaign = self.get_object()
        response = HttpResponse(export.xlsx(campaign, request.user), content_type=XLSX_TYPE)
        response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}.xlsx"'
        return response

    def _node(self, request, campaign):
        raw = request.query_params.get("grid")
        if not raw:
            node = campaign.grid
            scope = scope_for(request.user)
            if not scope.covers(node):  # a worker below: their own subtree
                holds = [h for h in scope.holds if tree.span(node).contains(h.span)]
                if holds:
                    node = Grid.objects.get(pk=holds[0].grid_id)
            return node
        if not raw.isdigit():
            raise ValidationFailed(fields={"grid": [_("Enter a whole number.")]})
        node = Grid.objects.filter(pk=int(raw)).first()
        if node is None or not scope_for(request.user).covers(node):
            raise NotFound()
        return node


class TaskPagination(StrictPageNumberPagination):
    """Tasks page by number: the walking order (building, unit, room) is not unique."""

    page_size = 100
    max_page_size = 500


WALKING_ORDER = ("building__code", "building__name", "unit__name", "household__room", "resident__name", "id")


class CampaignTaskViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          viewsets.GenericViewSet):
    """A campaign's tasks in walking order (building, unit, room): `?mine=true` is the phone's list, `?within=`
    and `?status=` the console's drill-down. `answer` stores the answers once per `client_uuid`."""

    queryset = (CampaignTask.objects.select_related("campaign", "grid", "building", "unit", "household",
                                                    "resident", "worker", "case").order_by(*WALKING_ORDER))
    serializer_class = TaskSerializer
    filterset_class = filtersets.TaskFilter
    pagination_class = TaskPagination
    permission_classes = [HasAnyRole]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    write_roles = answers.ANSWER_ROLES

    @extend_schema(request=AnswerSerializer, responses={201: TaskSerializer, 200: TaskSerializer})
    @action(detail=True, methods=["post"], filterset_class=None)
    def answer(self, request, pk=None):
        """201 the first time; 200 for a resend of the same answer (offline queue); 409 `conflict` for a different
        answer under the same uuid, `already_answered` for a task answered before."""
        data = request.data.copy() if hasattr(request.data, "copy") else dict(request.data)
        raw = data.get("answers")
        if isinstance(raw, str):
            try:
                data["answers"] = json.loads(raw)
            except ValueError:
                raise ValidationFailed(fields={"answers": [_("Send the answers as a JSON object.")]})
        serializer = AnswerSerializer(data={k: data.get(k) for k in ("client_uuid", "answers", "answered_at")
                                            if data.get(k) is not None})
        serializer.is_valid(raise_exception=True)
        photos = {name.removeprefix("photo_"): f for name, f in request.FILES.items() if name.startswith("photo_")}
        if not str(pk).isdigit():
            raise NotFound()
        task, created = answers.answer(request.user, int(pk), serializer.validated_data, photos)
        task = self.get_queryset().model.objects.select_related(
            "campaign", "grid", "building", "unit", "household", "resident", "worker", "case").get(pk=task.pk)
        return Response(TaskSerializer(task).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
