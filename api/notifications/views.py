from django.db.models import Case, IntegerField, Value, When
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from gridcase.core.errors import NotFound
from gridcase.notifications import services
from gridcase.notifications.models import Notification

from ..pagination import StrictCursorPagination


class NotificationSerializer(serializers.ModelSerializer):
    case = serializers.IntegerField(source="case_id", read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "case", "resident", "payload", "created_at", "read_at"]


class InboxPagination(StrictCursorPagination):
    ordering = ("is_read", "-id")
    page_size = 20
    max_page_size = 100

    def get_paginated_response_schema(self, schema):
        page = super().get_paginated_response_schema(schema)
        page["properties"]["unread_count"] = {"type": "integer", "description": "all unread, not just this page"}
        page["required"] = [*page.get("required", []), "unread_count"]
        return page


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own inbox, unread first. `?unread=true` shows only unread."""

    queryset = Notification.objects.none()  # for the schema; the real one is the caller's inbox
    serializer_class = NotificationSerializer
    pagination_class = InboxPagination

    def get_queryset(self):
        qs = Notification.objects.filter(recipient=self.request.user).annotate(
            is_read=Case(When(read_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField())
        )
        if self.request.query_params.get("unread") in ("1", "true"):
            qs = qs.filter(read_at__isnull=True)
        return qs

    @extend_schema(parameters=[OpenApiParameter("unread", bool, description="only unread notifications")])
    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        response.data["unread_count"] = Notification.objects.filter(recipient=request.user, read_at__isnull=True).count()
        return response

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        if not str(pk).isdigit() or not Notification.objects.filter(pk=pk, recipient=request.user).exists():
            raise NotFound()
        services.mark_read(request.user, int(pk))
        return Response(NotificationSerializer(Notification.objects.get(pk=pk)).data)

    @extend_schema(request=None, responses=inline_serializer("NotificationsMarked", {
        "marked": serializers.IntegerField(help_text="how many were unread and are now read")}))
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": services.mark_read(request.user)})
