import json

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from gridcase.cases.models import Category
from gridcase.core import dates
from gridcase.grids.accounts import display_name
from gridcase.grids.models import Household, Resident
from gridcase.visits.choices import ContactKind, Need, Wellbeing
from gridcase.visits.models import CarePlan, CarePlanItem, Visit

from ..base import AccountField, ScopedPrimaryKeyField, StrictBooleanField, same_for_everyone
from ..files import visit_photo_url
from ..grids.serializers import household_label


class OpenCaseSerializer(serializers.Serializer):
    category = ScopedPrimaryKeyField(queryset=Category.objects.filter(is_active=True), scoped=same_for_everyone)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True, required=False, max_length=4000)


@extend_schema_field(OpenCaseSerializer)
class JSONObjectField(serializers.Field):
    """An object given as JSON, or as a JSON string (multipart forms that also carry a photo)."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else {}
            except ValueError:
                raise serializers.ValidationError(_("Expected a JSON object."))
        if not isinstance(data, dict):
            raise serializers.ValidationError(_("Expected a JSON object."))
        return data

    def to_representation(self, value):
        return value


class VisitCreateSerializer(serializers.Serializer):
    client_uuid = serializers.UUIDField()
    resident = ScopedPrimaryKeyField(queryset=Resident.objects.select_related("grid", "household"), required=False,
                                     allow_null=True)
    household = ScopedPrimaryKeyField(queryset=Household.objects.select_related("grid"), required=False,
                                      allow_null=True)
    kind = serializers.ChoiceField(choices=ContactKind.choices)
    visited_at = serializers.DateTimeField()
    wellbeing = serializers.ChoiceField(choices=Wellbeing.choices)
    findings = serializers.CharField(allow_blank=True, required=False, default="", max_length=4000)
    needs = serializers.ListField(child=serializers.ChoiceField(choices=Need.choices), required=False, default=list,
                                  max_length=len(Need.values))
    pension_certified = StrictBooleanField(required=False, default=False)
    photo = serializers.ImageField(required=False, allow_null=True)
    open_case = JSONObjectField(required=False, allow_null=True)

    def validate_visited_at(self, value):
        from gridcase.visits.services import CLOCK_SKEW

        if value > timezone.now() + CLOCK_SKEW:
            raise serializers.ValidationError(_("A visit cannot be in the future."))
        if not dates.in_range(value):
            raise serializers.ValidationError(dates.message())
        return value

    def validate_photo(self, value):
        from django.conf import settings

        if value is not None and value.size > settings.ATTACHMENT_MAX_BYTES:
            raise serializers.ValidationError(_("The photo is too large."))
        return value

    def validate_open_case(self, value):
        if not value:
            return None
        inner = OpenCaseSerializer(data=value, context=self.context)
        if not inner.is_valid():
            raise serializers.ValidationError([str(m) for messages in inner.errors.values() for m in messages])
        return dict(inner.validated_data)

    def validate(self, data):
        if not data.get("resident") and not data.get("household"):
            raise serializers.ValidationError({"resident": [_("A visit names a resident or a household.")]})
        return data


class VisitSerializer(serializers.ModelSerializer):
    visitor_name = serializers.SerializerMethodField()
    # The photo is read through the scoped file view (api/files.py), never from a public /media/ URL.
    photo = serializers.SerializerMethodField()
    resident_name = serializers.SerializerMethodField()
    household_label = serializers.SerializerMethodField()
    case = serializers.IntegerField(source="case_id", read_only=True)

    class Meta:
        model = Visit
        fields = ["id", "client_uuid", "visitor", "visitor_name", "resident", "resident_name", "household",
                  "household_label", "grid", "kind", "visited_at", "wellbeing", "findings", "needs",
                  "pension_certified", "photo", "case", "created_at"]
        read_only_fields = fields

    def get_visitor_name(self, obj) -> str:
        return display_name(obj.visitor)

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_photo(self, obj) -> str | None:
        return visit_photo_url(obj, self.context.get("request"))

    def get_resident_name(self, obj) -> str:
        return obj.resident.name if obj.resident_id else ""

    def get_household_label(self, obj) -> str:
        return household_label(obj.household) if obj.household_id else ""


class CarePlanItemSerializer(serializers.ModelSerializer):
    overdue_days = serializers.SerializerMethodField()

    class Meta:
        model = CarePlanItem
        fields = ["kind", "every_n_days", "rule_days", "custom_days", "last_contact_on", "due_on", "overdue_days"]

    def get_overdue_days(self, obj) -> int:
        if obj.due_on is None:
            return 0
        return max(0, (self.context.get("today", timezone.localdate()) - obj.due_on).days)


class CadencesField(serializers.DictField):
    """{kind: days or null}: a worker's cadence for this resident; null goes back to the rules."""

    child = serializers.IntegerField(allow_null=True, min_value=1, max_value=366)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        unknown = [k for k in value if k not in ContactKind.values]
        if unknown:
            raise serializers.ValidationError(_("Unknown kind of contact: %(kind)s") % {"kind": ", ".join(unknown)})
        return value


class CarePlanSerializer(serializers.ModelSerializer):
    resident_name = serializers.CharField(source="resident.name", read_only=True)
    household = serializers.IntegerField(source="resident.household_id", read_only=True)
    household_label = serializers.SerializerMethodField()
    grid = serializers.IntegerField(source="resident.grid_id", read_only=True)
    grid_name = serializers.CharField(source="resident.grid.name", read_only=True)
    tags = serializers.SerializerMethodField()
    worker_name = serializers.SerializerMethodField()
    responsible_workers = serializers.SerializerMethodField()
    items = serializers.SerializerMethodField()
    next_due_on = serializers.SerializerMethodField()
    cadences = CadencesField(write_only=True, required=False)
    worker = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = CarePlan
        fields = ["id", "resident", "resident_name", "household", "household_label", "grid", "grid_name", "tags",
                  "active", "started_on", "ended_on", "wellbeing", "escalated", "last_contact_at", "worker",
                  "worker_name", "responsible_workers", "items", "next_due_on", "cadences", "note"]
        read_only_fields = ["resident", "active", "started_on", "ended_on", "wellbeing", "escalated",
                            "last_contact_at"]

    def get_household_label(self, obj) -> str:
        return household_label(obj.resident.household)

    def get_tags(self, obj) -> list[dict]:
        return [{"code": t.code, "name": t.name} for t in obj.resident.tags.all()]

    def get_worker_name(self, obj) -> str:
        return display_name(obj.worker) if obj.worker_id else ""

    def get_responsible_workers(self, obj) -> list[dict]:
        users = self.context.get("users", {})
        ids = self.context.get("responsible", {}).get(obj.pk, [])
        return [{"id": uid, "name": users.get(uid, "")} for uid in ids]

    def _items(self, obj):
        return [i for i in obj.items.all() if i.every_n_days]

    @extend_schema_field(CarePlanItemSerializer(many=True))
    def get_items(self, obj) -> list[dict]:
        # CarePlanItemSerializer's fields, written out: building a serializer per plan cost more than the query.
        today = self.context.get("today") or timezone.localdate()
        return [{"kind": i.kind, "every_n_days": i.every_n_days, "rule_days": i.rule_days,
                 "custom_days": i.custom_days,
                 "last_contact_on": i.last_contact_on.isoformat() if i.last_contact_on else None,
                 "due_on": i.due_on.isoformat() if i.due_on else None,
                 "overdue_days": max(0, (today - i.due_on).days) if i.due_on else 0} for i in self._items(obj)]

    def get_next_due_on(self, obj) -> str | None:
        dues = [i.due_on for i in self._items(obj) if i.due_on]
        return min(dues).isoformat() if dues else None


class CarePlanUpdateSerializer(serializers.Serializer):
    worker = AccountField(allow_null=True, required=False)
    cadences = CadencesField(required=False)
    note = serializers.CharField(allow_blank=True, required=False, max_length=200)


class TagRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class DueItemSerializer(serializers.Serializer):
    """One stop of the round: a resident and the kind of contact due."""

    resident = serializers.IntegerField()
    resident_name = serializers.CharField()
    household = serializers.IntegerField()
    household_label = serializers.CharField()
    room = serializers.CharField()
    building = serializers.IntegerField()
    building_name = serializers.CharField()
    unit = serializers.IntegerField()
    unit_name = serializers.CharField()
    tags = TagRefSerializer(many=True)
    kind = serializers.ChoiceField(choices=ContactKind.choices)
    every_n_days = serializers.IntegerField()
    escalated = serializers.BooleanField()
    due_on = serializers.DateField()
    overdue_days = serializers.IntegerField()
    last_contact_on = serializers.DateField(allow_null=True)
    care_plan = serializers.IntegerField()

    def to_representation(self, item):
        plan = item.care_plan
        resident = plan.resident
        household = resident.household
        unit = household.unit
        building = unit.building
        today = self.context["day"]
        return {
            "resident": resident.pk,
            "resident_name": resident.name,
            "household": household.pk,
            "household_label": household_label(household),
            "room": household.room,
            "building": building.pk,
            "building_name": building.name,
            "unit": unit.pk,
            "unit_name": unit.name,
            "tags": [{"code": t.code, "name": t.name} for t in resident.tags.all()],
            "kind": item.kind,
            "every_n_days": item.every_n_days,
            "escalated": plan.escalated,
            "due_on": item.due_on.isoformat(),
            "overdue_days": max(0, (today - item.due_on).days),
            "last_contact_on": item.last_contact_on.isoformat() if item.last_contact_on else None,
            "care_plan": plan.pk,
        }

