from rest_framework import serializers

from gridcase.grids.accounts import display_name
from gridcase.grids.models import Grid, Resident
from gridcase.points.models import PointEntry, Redemption, ResidentCredit, Reward
from gridcase.points.rules import label

from ..base import CleanModelSerializer, ScopedPrimaryKeyField, StrictCharField


class EntrySerializer(serializers.ModelSerializer):
    rule_label = serializers.SerializerMethodField()
    user_name = serializers.SerializerMethodField()
    resident_name = serializers.SerializerMethodField()
    grid_name = serializers.SerializerMethodField()

    class Meta:
        model = PointEntry
        fields = ["id", "user", "user_name", "resident", "resident_name", "rule", "rule_label", "points",
                  "source_type", "source_id", "grid", "grid_name", "at", "month", "note", "corrects", "created_at"]
        read_only_fields = fields

    def get_rule_label(self, obj) -> str:
        return label(obj.rule)

    def get_user_name(self, obj) -> str:
        return display_name(obj.user) if obj.user_id else ""

    def get_resident_name(self, obj) -> str:
        return obj.resident.name if obj.resident_id else ""

    def get_grid_name(self, obj) -> str:
        return obj.grid.name if obj.grid_id else ""


class CorrectionSerializer(serializers.Serializer):
    points = serializers.IntegerField(min_value=-10000, max_value=10000)
    note = StrictCharField(max_length=200)


class PointsRankingRowSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    name = serializers.CharField()
    points = serializers.IntegerField()
    rank = serializers.IntegerField()


class PointsRankingSerializer(serializers.Serializer):
    month = serializers.CharField()
    grid = serializers.DictField()
    results = PointsRankingRowSerializer(many=True)


class PointsStandingSerializer(serializers.Serializer):
    month = serializers.CharField()
    points = serializers.IntegerField()
    rank = serializers.IntegerField(allow_null=True)
    of = serializers.IntegerField()
    grid = serializers.DictField(allow_null=True)


class RewardSerializer(CleanModelSerializer):
    community = ScopedPrimaryKeyField(queryset=Grid.objects.all())

    class Meta:
        model = Reward
        fields = ["id", "community", "name", "description", "price", "stock", "active", "created_at"]
        read_only_fields = ["created_at"]


class RedemptionSerializer(serializers.ModelSerializer):
    reward_name = serializers.CharField(source="reward.name", read_only=True)
    resident_name = serializers.CharField(source="resident.name", read_only=True)
    staff_name = serializers.SerializerMethodField()

    class Meta:
        model = Redemption
        fields = ["id", "reward", "reward_name", "resident", "resident_name", "staff", "staff_name", "points",
                  "client_key", "created_at"]
        read_only_fields = fields

    def get_staff_name(self, obj) -> str:
        return display_name(obj.staff) if obj.staff_id else ""


class RedeemSerializer(serializers.Serializer):
    """A redemption at the desk: the reward, the resident (id, or the code on their card), and the desk's
    request id (`client_key`): a resend of the same request answers the first redemption."""

    reward = ScopedPrimaryKeyField(queryset=Reward.objects.all())
    resident = ScopedPrimaryKeyField(queryset=Resident.objects.all(), required=False)
    code = StrictCharField(required=False, max_length=20)
    client_key = StrictCharField(max_length=64)


class CreditSerializer(serializers.ModelSerializer):
    resident_name = serializers.CharField(source="resident.name", read_only=True)
    room = serializers.SerializerMethodField()

    class Meta:
        model = ResidentCredit
        fields = ["id", "resident", "resident_name", "room", "balance", "code"]
        read_only_fields = fields

    def get_room(self, obj) -> str:
        hh = obj.resident.household
        return f"{hh.unit.building.name} {hh.unit.name} {hh.room}"
