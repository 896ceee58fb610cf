from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from gridcase.campaigns.models import Campaign, CampaignTask
from gridcase.cases.models import Category
from gridcase.grids.accounts import display_name
from gridcase.grids.models import Tag

from ..base import AccountField, CleanModelSerializer, ScopedPrimaryKeyField, same_for_everyone


class CampaignSerializer(CleanModelSerializer):
    tags = ScopedPrimaryKeyField(many=True, queryset=Tag.objects.all(), scoped=same_for_everyone, required=False)
    category = ScopedPrimaryKeyField(queryset=Category.objects.filter(is_active=True), scoped=same_for_everyone,
                                     required=False, allow_null=True)
    owner = AccountField(required=False, allow_null=True)
    grid_name = serializers.CharField(source="grid.name", read_only=True)
    owner_name = serializers.SerializerMethodField()
    finished = serializers.BooleanField(read_only=True)
    checklist = serializers.JSONField()

    class Meta:
        model = Campaign
        fields = ["id", "name", "description", "grid", "grid_name", "target", "tags", "checklist", "category",
                  "starts_on", "ends_on", "owner", "owner_name", "status", "finished", "total_tasks",
                  "tasks_created", "launch_requested_at", "launch_started_at", "launch_finished_at", "launch_error",
                  "created_at", "updated_at"]
        read_only_fields = ["status", "total_tasks", "tasks_created", "launch_requested_at", "launch_started_at",
                            "launch_finished_at", "launch_error", "created_at", "updated_at"]

    def get_owner_name(self, obj) -> str:
        return display_name(obj.owner) if obj.owner_id else ""

    def validate(self, data):
        data = super().validate(data)
        target = data.get("target", getattr(self.instance, "target", None))
        tags = data.get("tags")
        if target == "resident" and tags is not None and not tags:
            raise serializers.ValidationError({"tags": [_("Choose at least one tag.")]})
        return data


class TaskSerializer(serializers.ModelSerializer):
    campaign_name = serializers.CharField(source="campaign.name", read_only=True)
    grid_name = serializers.CharField(source="grid.name", read_only=True)
    building_name = serializers.SerializerMethodField()
    unit_name = serializers.SerializerMethodField()
    room = serializers.SerializerMethodField()
    resident_name = serializers.SerializerMethodField()
    worker_name = serializers.SerializerMethodField()
    case_number = serializers.SerializerMethodField()

    class Meta:
        model = CampaignTask
        fields = ["id", "campaign", "campaign_name", "grid", "grid_name", "building", "building_name", "unit",
                  "unit_name", "household", "room", "resident", "resident_name", "worker", "worker_name", "status",
                  "answers", "answered_at", "case", "case_number"]
        read_only_fields = fields

    def get_building_name(self, obj) -> str:
        return obj.building.name if obj.building_id else ""

    def get_unit_name(self, obj) -> str:
        return obj.unit.name if obj.unit_id else ""

    def get_room(self, obj) -> str:
        return obj.household.room if obj.household_id else ""

    def get_resident_name(self, obj) -> str:
        return obj.resident.name if obj.resident_id else ""

    def get_worker_name(self, obj) -> str:
        return display_name(obj.worker) if obj.worker_id else ""

    def get_case_number(self, obj) -> str:
        return obj.case.number if obj.case_id else ""


class AnswerSerializer(serializers.Serializer):
    """The answers to a task's checklist: `{question key: answer}` (JSON; in a multipart form a JSON string, the
    photos as parts named `photo_<key>`), once per `client_uuid`."""

    client_uuid = serializers.UUIDField()
    answers = serializers.JSONField()
    answered_at = serializers.DateTimeField(required=False)


class ProgressRowSerializer(serializers.Serializer):
    grid = serializers.DictField()
    pending = serializers.IntegerField()
    done = serializers.IntegerField()
    problem = serializers.IntegerField()
    total = serializers.IntegerField()


class ProgressSerializer(serializers.Serializer):
    grid = serializers.DictField()
    totals = serializers.DictField()
    children = ProgressRowSerializer(many=True)
