from django.db.models import Case, IntegerField, Value, When
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from gridcase.core.errors import NotFound
from gridcase.notifications import services
from gridcase.notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    case = serializers.IntegerField(source="case_id", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "case", "resident", "payload", "created_at", "read_at"]


class InboxPagination(CursorPagination):
    ordering = ("is_read", "-id")
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


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

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        response.data["unread_count"] = Notification.objects.filter(recipient=request.user, read_at__isnull=True).count()
        return response

    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        if not str(pk).isdigit() or not Notification.objects.filter(pk=pk, recipient=request.user).exists():
            raise NotFound()
        services.mark_read(request.user, int(pk))
        return Response(NotificationSerializer(Notification.objects.get(pk=pk)).data)

    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": services.mark_read(request.user)})
