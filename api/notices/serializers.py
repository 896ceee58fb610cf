from django.urls import reverse
from rest_framework import serializers

from gridcase.grids.accounts import display_name
from gridcase.grids.models import Grid
from gridcase.notices.models import Audience, Kind, Notice, NoticeAttachment

from ..base import ScopedPrimaryKeyField, StrictBooleanField, StrictCharField


class NoticeAttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = NoticeAttachment
        fields = ["id", "original_name", "content_type", "size", "url"]

    def get_url(self, obj) -> str:
        board = self.context.get("board_token")
        if board:
            return reverse("file-public-notice", args=[board, obj.pk])
        return reverse("file-notice", args=[obj.notice_id, obj.pk])


class MyReceiptSerializer(serializers.Serializer):
    read_at = serializers.DateTimeField(allow_null=True)
    acked_at = serializers.DateTimeField(allow_null=True)


class NoticeSerializer(serializers.ModelSerializer):
    grid_name = serializers.CharField(source="grid.name", read_only=True)
    created_by_name = serializers.SerializerMethodField()
    attachments = NoticeAttachmentSerializer(many=True, read_only=True)
    my_receipt = serializers.SerializerMethodField()

    class Meta:
        model = Notice
        fields = ["id", "grid", "grid_name", "kind", "audience", "title", "body", "requires_ack", "publish_at",
                  "expires_at", "state", "published_at", "recipients_count", "created_by_name", "attachments",
                  "my_receipt", "created_at"]
        read_only_fields = fields

    def get_created_by_name(self, obj) -> str:
        return display_name(obj.created_by)

    def get_my_receipt(self, obj) -> MyReceiptSerializer(allow_null=True):
        if not getattr(obj, "is_mine", False):
            return None
        return {"read_at": obj.my_read_at, "acked_at": obj.my_acked_at}


class PublishSerializer(serializers.Serializer):
    """A new notice or emergency broadcast. `publish_at` empty: now. A broadcast always asks for acknowledgement."""

    grid = ScopedPrimaryKeyField(queryset=Grid.objects.all())
    kind = serializers.ChoiceField(choices=Kind.choices, default=Kind.NOTICE)
    audience = serializers.ChoiceField(choices=Audience.choices, default=Audience.WORKERS)
    title = StrictCharField(max_length=200)
    body = StrictCharField(max_length=10000, required=False, allow_blank=True, default="")
    requires_ack = StrictBooleanField(required=False, default=False)
    publish_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    client_key = StrictCharField(max_length=64, required=False, allow_blank=True, default="",
                                 help_text="resending the same key answers the notice made first")


class AckSerializer(serializers.Serializer):
    client_uuid = serializers.UUIDField(required=False, allow_null=True, default=None,
                                        help_text="the phone's id for this acknowledgement (offline replay)")
    acked_at = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                         help_text="when the button was tapped (the phone may have been offline)")


class ReceiptSerializer(serializers.Serializer):
    read_at = serializers.DateTimeField(allow_null=True)
    acked_at = serializers.DateTimeField(allow_null=True)
    replayed = serializers.BooleanField(help_text="true: this was already recorded; nothing changed")


class PendingSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.CharField()
    read_at = serializers.DateTimeField(allow_null=True)


class ChaseGridSerializer(serializers.Serializer):
    grid = serializers.IntegerField()
    grid_name = serializers.CharField()
    grid_code = serializers.CharField()
    total = serializers.IntegerField()
    read = serializers.IntegerField()
    acked = serializers.IntegerField()
    pending = PendingSerializer(many=True)


class ChaseSerializer(serializers.Serializer):
    notice = serializers.IntegerField()
    requires_ack = serializers.BooleanField()
    total = serializers.IntegerField()
    read = serializers.IntegerField()
    acked = serializers.IntegerField()
    pending = serializers.IntegerField()
    grids = ChaseGridSerializer(many=True)


class PublicNoticeSerializer(serializers.ModelSerializer):
    grid_name = serializers.CharField(source="grid.name")
    attachments = NoticeAttachmentSerializer(many=True)

    class Meta:
        model = Notice
        fields = ["id", "grid_name", "kind", "title", "body", "published_at", "expires_at", "attachments"]


class BoardGridSerializer(serializers.Serializer):
    name = serializers.CharField()
    level = serializers.CharField()


class BoardCommunitySerializer(serializers.Serializer):
    name = serializers.CharField()
    board_token = serializers.CharField()


class BoardSerializer(serializers.Serializer):
    grid = BoardGridSerializer()
    community = BoardCommunitySerializer()
    notices = PublicNoticeSerializer(many=True)
