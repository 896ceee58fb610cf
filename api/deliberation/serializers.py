from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from gridcase.cases.models import Case, Category
from gridcase.deliberation import rules
from gridcase.deliberation.models import (
    Attendee,
    Consultation,
    DecisionMethod,
    PlaceKind,
    Stance,
    Topic,
    TopicLevel,
    TopicOrigin,
)
from gridcase.grids.accounts import display_name
from gridcase.grids.models import Building, Grid, Resident

from ..base import AccountField, ScopedPrimaryKeyField, StrictCharField, same_for_everyone


def _text(max_length, required=False, **kw):
    return StrictCharField(required=required, allow_blank=not required, max_length=max_length, **kw)


def _version():
    return serializers.IntegerField(min_value=0, help_text="the `version` you acted on; a stale one answers 409")


class TopicActionRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    case = serializers.IntegerField(allow_null=True)
    case_number = serializers.CharField(allow_null=True)
    case_status = serializers.CharField(allow_null=True)
    case_assignee = serializers.CharField(allow_null=True)


class MeetingRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    place = serializers.CharField()
    place_kind = serializers.CharField()
    status = serializers.CharField()


class TopicSerializer(serializers.ModelSerializer):
    """A deliberation topic. `actions` and `consultations` are listed on one topic (null in lists);
    `allowed_moves` are the caller's (schedule, decide, add_action, close)."""

    grid_name = serializers.CharField(source="grid.name", read_only=True)
    building_name = serializers.SerializerMethodField()
    case_number = serializers.SerializerMethodField()
    raised_by_name = serializers.SerializerMethodField()
    actions_total = serializers.IntegerField(read_only=True, default=0)
    actions_open = serializers.IntegerField(read_only=True, default=0)
    allowed_moves = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()
    consultations = serializers.SerializerMethodField()

    class Meta:
        model = Topic
        fields = ["id", "title", "description", "origin", "case", "case_number", "proposer_name", "level", "grid",
                  "grid_name", "building", "building_name", "residents_scope", "status", "decision",
                  "decision_method", "decided_in", "decided_at", "followed_through_at", "closed_at", "close_note",
                  "notice_id", "raised_by_name", "created_at", "updated_at", "version", "actions_total",
                  "actions_open", "allowed_moves", "actions", "consultations"]
        read_only_fields = fields

    def get_building_name(self, obj) -> str | None:
        return obj.building.name if obj.building_id else None

    def get_case_number(self, obj) -> str | None:
        return obj.case.number if obj.case_id else None

    def get_raised_by_name(self, obj) -> str | None:
        return display_name(obj.raised_by) if obj.raised_by_id else None

    def get_allowed_moves(self, obj) -> list[str]:
        staff = self.context.get("staff")
        if staff is None or not staff(obj):
            return []
        return rules.allowed_moves(obj.status, getattr(obj, "actions_open", 0), getattr(obj, "actions_total", 0))

    @extend_schema_field(TopicActionRowSerializer(many=True, allow_null=True))
    def get_actions(self, obj):
        rows = getattr(obj, "action_rows", None)
        if rows is None:
            return None
        return [{"id": a.pk, "title": a.title, "description": a.description, "case": a.case_id,
                 "case_number": a.case.number if a.case_id else None,
                 "case_status": a.case.status if a.case_id else None,
                 "case_assignee": display_name(a.case.assignee) if a.case_id and a.case.assignee_id else None}
                for a in rows]

    @extend_schema_field(MeetingRowSerializer(many=True, allow_null=True))
    def get_consultations(self, obj):
        rows = getattr(obj, "meeting_rows", None)
        if rows is None:
            return None
        return [{"id": m.pk, "starts_at": m.starts_at, "place": m.place, "place_kind": m.place_kind,
                 "status": m.status} for m in rows]


class TopicCreateSerializer(serializers.Serializer):
    title = _text(200, required=True)
    description = _text(5000)
    origin = serializers.ChoiceField(choices=TopicOrigin.choices, required=False)
    case = ScopedPrimaryKeyField(queryset=Case.objects.all(), required=False, allow_null=True,
                                 help_text="the case the topic comes from (origin `case`)")
    proposer_name = _text(60, help_text="the resident who proposed it (origin `proposal`)")
    level = serializers.ChoiceField(choices=TopicLevel.choices)
    grid = ScopedPrimaryKeyField(queryset=Grid.objects.all(), required=False, allow_null=True,
                                 help_text="the community or grid (for level building: the building's grid)")
    building = ScopedPrimaryKeyField(queryset=Building.objects.all(), required=False, allow_null=True)
    residents_scope = _text(200, help_text="whose matter it is, e.g. 1–3栋全体住户")


class TopicUpdateSerializer(serializers.Serializer):
    version = _version()
    title = _text(200)
    description = _text(5000)
    residents_scope = _text(200)


class TopicDecideSerializer(serializers.Serializer):
    version = _version()
    decision = _text(5000, required=True)
    consultation = serializers.IntegerField(min_value=1, required=False,
                                            help_text="the held consultation (default: the last one closed)")


class CloseTopicSerializer(serializers.Serializer):
    version = _version()
    note = _text(2000, help_text="required when a topic is closed without a decision")


class TopicActionCreateSerializer(serializers.Serializer):
    title = _text(200, required=True)
    description = _text(5000)
    category = ScopedPrimaryKeyField(queryset=Category.objects.filter(is_active=True), scoped=same_for_everyone)
    grid = ScopedPrimaryKeyField(queryset=Grid.objects.all(), required=False, allow_null=True,
                                 help_text="where the case is (default: the topic's grid)")
    assignee = AccountField(required=False, allow_null=True,
                            help_text="accept the case and assign it to this worker at once")
    client_key = _text(40, help_text="idempotency: a resend answers the first action")


class TopicPublishSerializer(serializers.Serializer):
    audience = serializers.ChoiceField(choices=[("workers", "workers"), ("residents", "residents")], required=False)


class MeetingAttendeeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attendee
        fields = ["id", "kind", "resident", "user", "name", "place", "invited", "signed_in_at"]
        read_only_fields = fields


class MeetingPositionRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    attendee = serializers.IntegerField(allow_null=True)
    speaker = serializers.CharField()
    stance = serializers.CharField()
    text = serializers.CharField()
    created_at = serializers.DateTimeField()


class MeetingOptionRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    votes = serializers.IntegerField()


class MeetingSerializer(serializers.ModelSerializer):
    """A consultation (议事会). Attendees, positions and options with their votes are listed on one meeting
    (null in lists); `invited` and `signed_in` count its attendees."""

    topic_title = serializers.CharField(source="topic.title", read_only=True)
    topic_status = serializers.CharField(source="topic.status", read_only=True)
    invited = serializers.IntegerField(read_only=True, default=0)
    signed_in = serializers.IntegerField(read_only=True, default=0)
    attendees = serializers.SerializerMethodField()
    positions = serializers.SerializerMethodField()
    options = serializers.SerializerMethodField()

    class Meta:
        model = Consultation
        fields = ["id", "topic", "topic_title", "topic_status", "starts_at", "place_kind", "place", "agenda", "status",
                  "method", "consensus", "closed_at", "version", "invited", "signed_in", "attendees", "positions",
                  "options"]
        read_only_fields = fields

    @extend_schema_field(MeetingAttendeeSerializer(many=True, allow_null=True))
    def get_attendees(self, obj):
        rows = getattr(obj, "attendee_rows", None)
        return None if rows is None else MeetingAttendeeSerializer(rows, many=True).data

    @extend_schema_field(MeetingPositionRowSerializer(many=True, allow_null=True))
    def get_positions(self, obj):
        rows = getattr(obj, "position_rows", None)
        return None if rows is None else [{"id": p.pk, "attendee": p.attendee_id, "speaker": p.speaker,
                                           "stance": p.stance, "text": p.text, "created_at": p.created_at}
                                          for p in rows]

    @extend_schema_field(MeetingOptionRowSerializer(many=True, allow_null=True))
    def get_options(self, obj):
        return getattr(obj, "option_rows", None)


class MeetingCreateSerializer(serializers.Serializer):
    topic = ScopedPrimaryKeyField(queryset=Topic.objects.all())
    starts_at = serializers.DateTimeField()
    place_kind = serializers.ChoiceField(choices=PlaceKind.choices, required=False)
    place = _text(200, required=True)
    agenda = _text(5000)
    residents = serializers.ListField(child=ScopedPrimaryKeyField(queryset=Resident.objects.all()), required=False,
                                      max_length=500, help_text="residents invited")
    users = serializers.ListField(child=AccountField(), required=False, max_length=100, help_text="staff invited")


class MeetingUpdateSerializer(serializers.Serializer):
    version = _version()
    starts_at = serializers.DateTimeField(required=False)
    place_kind = serializers.ChoiceField(choices=PlaceKind.choices, required=False)
    place = _text(200)
    agenda = _text(5000)


class MeetingInviteSerializer(serializers.Serializer):
    residents = serializers.ListField(child=ScopedPrimaryKeyField(queryset=Resident.objects.all()), required=False,
                                      max_length=500)
    users = serializers.ListField(child=AccountField(), required=False, max_length=100)


class MeetingSignInSerializer(serializers.Serializer):
    attendee = serializers.IntegerField(min_value=1, required=False, help_text="an invitee of this meeting")
    resident = ScopedPrimaryKeyField(queryset=Resident.objects.all(), required=False,
                                     help_text="a resident not invited who came")
    user = AccountField(required=False)
    name = _text(60, help_text="a walk-in's name")
    sign_in_key = _text(64, help_text="the phone's key: a resend (offline queue) answers the first sign-in")
    signed_at = serializers.DateTimeField(required=False, help_text="when it was recorded on the phone")

    def validate(self, data):
        given = [k for k in ("attendee", "resident", "user") if data.get(k) is not None]
        if len(given) > 1:
            raise serializers.ValidationError({given[1]: [_("Name one person: an attendee, a resident or a user.")]})
        return data


class MeetingPositionSerializer(serializers.Serializer):
    attendee = serializers.IntegerField(min_value=1, required=False)
    speaker = _text(60)
    stance = serializers.ChoiceField(choices=Stance.choices, required=False)
    text = _text(5000, required=True)


class MeetingOptionSerializer(serializers.Serializer):
    label = _text(200, required=True)


class MeetingVoteSerializer(serializers.Serializer):
    attendee = serializers.IntegerField(min_value=1)
    option = serializers.IntegerField(min_value=1)


class CloseMeetingSerializer(serializers.Serializer):
    version = _version()
    method = serializers.ChoiceField(choices=DecisionMethod.choices)
    consensus = _text(5000, help_text="the consensus reached (method consensus)")


class TopicStatsRowSerializer(serializers.Serializer):
    grid = serializers.IntegerField()
    grid_name = serializers.CharField()
    grid_level = serializers.CharField()
    raised = serializers.IntegerField()
    decided = serializers.IntegerField()
    followed_through = serializers.IntegerField()
    open = serializers.IntegerField()


class TopicStatsSerializer(serializers.Serializer):
    grids = TopicStatsRowSerializer(many=True)
    total = serializers.DictField(child=serializers.IntegerField())


class InvitableResidentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    place = serializers.CharField()
