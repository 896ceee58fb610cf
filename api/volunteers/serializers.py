from rest_framework import serializers

from gridcase.grids.accounts import display_name
from gridcase.grids.models import Building, Grid, Resident, Unit
from gridcase.volunteers.models import Activity, CheckIn, SignUp, Volunteer, VolunteerRole, Wellbeing

from ..base import CleanModelSerializer, ScopedPrimaryKeyField, StrictBooleanField, StrictCharField


def masked_phone(username: str) -> str:
    return f"{username[:3]}****{username[-4:]}" if len(username) == 11 and username.isdigit() else ""


class VolunteerSerializer(serializers.ModelSerializer):
    display_name = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField(help_text="masked; the lead's login is the full number")
    building_name = serializers.CharField(source="building.name", read_only=True, default="")
    unit_name = serializers.CharField(source="unit.name", read_only=True, default="")
    grid_name = serializers.CharField(source="grid.name", read_only=True)
    service_hours = serializers.DecimalField(max_digits=7, decimal_places=1, read_only=True, default=0)

    class Meta:
        model = Volunteer
        fields = ["id", "role", "user", "display_name", "phone", "building", "building_name", "unit", "unit_name",
                  "grid", "grid_name", "resident", "is_active", "service_hours", "created_at"]
        read_only_fields = [f for f in fields if f != "is_active"]
        extra_kwargs = {"is_active": {"required": False}}

    def get_display_name(self, obj) -> str:
        return display_name(obj.user)

    def get_phone(self, obj) -> str:
        return masked_phone(obj.user.username)


class VolunteerUpdateSerializer(serializers.ModelSerializer):
    is_active = StrictBooleanField()

    class Meta:
        model = Volunteer
        fields = ["is_active"]


class RegisterSerializer(serializers.Serializer):
    """A lead (building or unit) or a volunteer (micro-grid) with a light account: the login is the phone."""

    role = serializers.ChoiceField(choices=VolunteerRole.choices)
    building = ScopedPrimaryKeyField(queryset=Building.objects.all(), required=False, allow_null=True, default=None)
    unit = ScopedPrimaryKeyField(queryset=Unit.objects.all(), required=False, allow_null=True, default=None)
    grid = ScopedPrimaryKeyField(queryset=Grid.objects.all(), required=False, allow_null=True, default=None)
    resident = ScopedPrimaryKeyField(queryset=Resident.objects.all(), required=False, allow_null=True, default=None)
    phone = StrictCharField(max_length=11)
    display_name = StrictCharField(max_length=150)
    password = StrictCharField(max_length=128, required=False, allow_blank=True, default="",
                               trim_whitespace=False, write_only=True)


class CheckInSerializer(serializers.ModelSerializer):
    resident_name = serializers.CharField(source="resident.name", read_only=True)
    room = serializers.CharField(source="resident.household.room", read_only=True)
    lead_name = serializers.SerializerMethodField()
    confirmed_by_name = serializers.SerializerMethodField()

    class Meta:
        model = CheckIn
        fields = ["id", "resident", "resident_name", "room", "grid", "wellbeing", "note", "checked_at", "lead_name",
                  "confirmed_at", "confirmed_by_name", "created_at"]
        read_only_fields = fields

    def get_lead_name(self, obj) -> str:
        return display_name(obj.volunteer.user)

    def get_confirmed_by_name(self, obj) -> str:
        return display_name(obj.confirmed_by)


class LeadCheckInSerializer(serializers.Serializer):
    client_uuid = serializers.UUIDField()
    resident = serializers.IntegerField()
    wellbeing = serializers.ChoiceField(choices=Wellbeing.choices)
    note = StrictCharField(max_length=500, required=False, allow_blank=True, default="")
    checked_at = serializers.DateTimeField(required=False, allow_null=True)


class ActivitySerializer(CleanModelSerializer):
    grid_name = serializers.CharField(source="grid.name", read_only=True)
    signed_up = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Activity
        fields = ["id", "grid", "grid_name", "title", "description", "place", "starts_at", "ends_at", "capacity",
                  "hours", "signed_up", "created_at"]
        read_only_fields = ["id", "grid_name", "signed_up", "created_at"]


class SignUpSerializer(serializers.ModelSerializer):
    display_name = serializers.SerializerMethodField()
    role = serializers.CharField(source="volunteer.role")

    class Meta:
        model = SignUp
        fields = ["id", "volunteer", "display_name", "role", "signed_at", "attended", "hours", "recorded_at"]

    def get_display_name(self, obj) -> str:
        return display_name(obj.volunteer.user)


class AttendanceSerializer(serializers.Serializer):
    sign_up = serializers.IntegerField()
    attended = StrictBooleanField()
    hours = serializers.DecimalField(max_digits=4, decimal_places=1, required=False, allow_null=True, default=None)


class NeighbourSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    room = serializers.CharField(source="household__room")
    unit = serializers.CharField(source="household__unit__name")
    building = serializers.CharField(source="household__unit__building__name")


class LeadRoleSerializer(serializers.Serializer):
    role = serializers.CharField()
    place = serializers.CharField()
    grid_name = serializers.CharField()


class LeadMeSerializer(serializers.Serializer):
    display_name = serializers.CharField()
    roles = LeadRoleSerializer(many=True)
    is_lead = serializers.BooleanField()
    report_token = serializers.CharField(help_text="the micro-grid QR token to report a problem with")
    board_token = serializers.CharField(help_text="the community's public notice board")
    service_hours = serializers.DecimalField(max_digits=7, decimal_places=1)


class LeadNoticeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    grid_name = serializers.CharField(source="grid.name")
    published_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    read_at = serializers.DateTimeField(allow_null=True)


class LeadActivitySerializer(serializers.ModelSerializer):
    grid_name = serializers.CharField(source="grid.name")
    signed_up = serializers.IntegerField()
    mine = serializers.BooleanField()

    class Meta:
        model = Activity
        fields = ["id", "grid_name", "title", "description", "place", "starts_at", "ends_at", "capacity", "hours",
                  "signed_up", "mine"]
