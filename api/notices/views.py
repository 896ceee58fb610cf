"""Notices and emergency broadcasts (居务公开): publish, read, acknowledge, chase; the public board.

Thin: the rules are in gridcase.notices (publishing, receipts, attachments, board).
"""

from django.db.models import BooleanField, Exists, OuterRef, Subquery
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from gridcase.core import files
from gridcase.core.errors import NotFound
from gridcase.notices import attachments, board, publishing, receipts
from gridcase.notices.models import Notice, NoticeAttachment, Receipt

from ..base import ScopedViewSetMixin
from ..files import FileView
from ..filters import check_query_params
from ..intake.views import PublicView
from ..pagination import IdCursorPagination
from ..schema import error_responses
from . import serializers as s
from .filtersets import NoticeFilter


def with_my_receipt(qs, user):
    mine = Receipt.objects.filter(notice=OuterRef("pk"), user=user)
    return qs.annotate(is_mine=Exists(mine, output_field=BooleanField()),
                       my_read_at=Subquery(mine.values("read_at")[:1]),
                       my_acked_at=Subquery(mine.values("acked_at")[:1]))


class NoticeViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                    viewsets.GenericViewSet):
    """Notices sent inside the caller's area or reaching it (`?mine=true`: those sent to the caller, with their
    receipt). Publishing needs a publisher role on the grid (grid leader, secretary, street)."""

    queryset = Notice.objects.select_related("grid", "created_by").prefetch_related("attachments")
    serializer_class = s.NoticeSerializer
    filterset_class = NoticeFilter
    pagination_class = IdCursorPagination

    def get_queryset(self):
        return with_my_receipt(super().get_queryset(), self.request.user)

    @extend_schema(request=s.PublishSerializer, responses={201: s.NoticeSerializer, 200: s.NoticeSerializer,
                                                           **error_responses(400, 403)})
    def create(self, request, *args, **kwargs):
        body = s.PublishSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        before = Notice.objects.filter(created_by=request.user, client_key=data["client_key"]).first() \
            if data["client_key"] else None
        notice = publishing.publish_notice(request.user, **data)
        fresh = self.get_queryset().get(pk=notice.pk)
        return Response(self.get_serializer(fresh).data,
                        status=status.HTTP_200_OK if before is not None else status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.NoticeSerializer, **error_responses(404)})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """The caller (a recipient) opened the notice."""
        notice = self.get_object()
        receipts.mark_read(request.user, notice.pk)
        return Response(self.get_serializer(self.get_queryset().get(pk=notice.pk)).data)

    @extend_schema(request=s.AckSerializer, responses={201: s.ReceiptSerializer, 200: s.ReceiptSerializer,
                                                       **error_responses(400, 404)})
    @action(detail=True, methods=["post"])
    def ack(self, request, pk=None):
        """Acknowledge a broadcast: 201 the first time, 200 (`replayed`) for a repeat — a phone replaying its
        offline queue, a second tap. Only a recipient may; anyone else gets 404."""
        body = s.AckSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not str(pk).isdigit():
            raise NotFound()
        done = receipts.acknowledge(request.user, int(pk), client_uuid=body.validated_data["client_uuid"],
                                    at=body.validated_data["acked_at"])
        r = done.receipt
        return Response({"read_at": r.read_at, "acked_at": r.acked_at, "replayed": not done.created},
                        status=status.HTTP_201_CREATED if done.created else status.HTTP_200_OK)

    @extend_schema(responses={200: s.ChaseSerializer, **error_responses(404)})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def chase(self, request, pk=None):
        """Per grid of the caller's area: reached, read, acknowledged, and who has not yet (催办名单)."""
        return Response(receipts.chase(request.user, self.get_object()))

    @extend_schema(request=None, responses={200: s.NoticeSerializer, **error_responses(403, 404)})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        notice = self.get_object()
        publishing.withdraw(request.user, notice)
        return Response(self.get_serializer(self.get_queryset().get(pk=notice.pk)).data)

    @extend_schema(request={"multipart/form-data": inline_serializer("NoticeAttachmentUpload", {
        "file": serializers.FileField()})}, responses={201: s.NoticeAttachmentSerializer, **error_responses(400, 403, 404)})
    @action(detail=True, methods=["post"], url_path="attachments",
            parser_classes=[parsers.MultiPartParser, parsers.FormParser, JSONParser])
    def attach(self, request, pk=None):
        notice = self.get_object()
        att = attachments.add_attachment(request.user, notice, request.FILES.get("file"))
        return Response(s.NoticeAttachmentSerializer(att).data, status=status.HTTP_201_CREATED)


class NoticeFileView(FileView):
    """A notice's attachment, for whoever sees the notice (staff in its area, its recipients)."""

    @extend_schema(responses={(200, "application/octet-stream"): bytes}, operation_id="notices_file")
    def get(self, request, notice_id, pk):
        check_query_params(request, self)
        visible = Notice.objects.restrict(request.user).filter(pk=notice_id)
        att = NoticeAttachment.objects.filter(pk=pk, notice__in=visible).first()
        if att is None:
            att = NoticeAttachment.objects.filter(pk=pk, notice_id=notice_id,
                                                  notice__receipts__user=request.user).first()
        if att is None:
            raise NotFound()
        return files.send(att.file, att.content_type)


class BoardView(PublicView):
    """The public notice board of a community (its token) or the notices on a micro-grid's QR page."""

    @extend_schema(responses={200: s.BoardSerializer, **error_responses(404)}, auth=[])
    def get(self, request, token):
        check_query_params(request, self)
        grid = board.board_grid(token)
        data = board.board(grid)
        return Response(s.BoardSerializer(data, context={"board_token": token}).data)


class BoardFileView(PublicView):
    http_method_names = ["get", "head", "options"]

    @extend_schema(responses={(200, "application/octet-stream"): bytes}, auth=[], operation_id="public_notice_file")
    def get(self, request, token, pk):
        check_query_params(request, self)
        att = board.public_attachment(board.board_grid(token), pk)
        return files.send(att.file, att.content_type)
