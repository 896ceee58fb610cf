from collections.abc import Mapping

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

from gridcase.cases import categories, journey, merged, workflow
from gridcase.cases.choices import CaseScope, Priority, Source
from gridcase.cases.models import Attachment, Case, CaseEvent, Category, ResponseTemplate
from gridcase.cases.overlap import nameable_dedicated_q, nameable_places_q
from gridcase.core import statements
from gridcase.deliberation import links as deliberation_links
from gridcase.grids import tree
from gridcase.grids.accounts import display_name
from gridcase.grids.models import Building, Grid, Household, Resident, Unit
from gridcase.grids.scoping import scope_for

from ..base import ScopedPrimaryKeyField, same_for_everyone
from ..files import attachment_url

User = get_user_model()


_DATETIME = serializers.DateTimeField()


def _report_places(queryset, user):
    """Grids a reporter may name as the place: their own, and the grids their dedicated grid overlaps."""
    scope = scope_for(user)
    if scope.is_global or scope.user_id is None:
        return queryset.restrict(scope)
    return queryset.filter(Grid.scope_q(scope) | nameable_places_q(scope))


def _report_dedicated(queryset, user):
    """Dedicated grids a reporter may name: their own, and those of the communities they work in."""
    scope = scope_for(user)
    if scope.is_global or scope.user_id is None:
        return queryset.restrict(scope)
    return queryset.filter(Grid.scope_q(scope) | nameable_dedicated_q(scope))


def _ts(value):
    if value and timezone.is_aware(value):
        return _iso(value, timezone.get_current_timezone())
    return _DATETIME.to_representation(value) if value else None


def _iso(value, zone) -> str:
    """What DRF's DateTimeField writes for an aware datetime with the ISO 8601 format and no time zone of its own
    (in the current time zone `zone`), without looking the format and the zone up again for every value."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _plain_iso_datetime(field) -> bool:
    return (type(field) is serializers.DateTimeField and not hasattr(field, "timezone")
            and str(getattr(field, "format", api_settings.DATETIME_FORMAT)).lower() == ISO_8601)


class CaseHopSerializer(serializers.Serializer):
    """One hop of the ledger: a grid (with its level) or a department held the case from `started_at` to
    `ended_at` (null: still holding; `held_seconds` counts up to now)."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["grid", "department"])
    grid = serializers.IntegerField(allow_null=True)
    grid_name = serializers.CharField(allow_null=True)
    grid_level = serializers.CharField()
    department = serializers.IntegerField(allow_null=True)
    department_name = serializers.CharField(allow_null=True)
    start_action = serializers.CharField()
    end_action = serializers.CharField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    open = serializers.BooleanField()
    held_seconds = serializers.IntegerField()


class CaseDuplicateSerializer(serializers.Serializer):
    """A report merged into this case (its `merged_into` is this case), one the caller may see."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    created_at = serializers.DateTimeField()
    source = serializers.CharField()


# DRF's field classes whose `get_attribute` and `to_representation` read only the instance and the field's own
# settings (never the serializer, its context or the request): one built field may serve every serializer of its
# class. The exact classes: a subclass may read more.
_SHARED_FIELDS = {serializers.IntegerField, serializers.BigIntegerField, serializers.FloatField,
                  serializers.DecimalField, serializers.CharField, serializers.ChoiceField, serializers.BooleanField,
                  serializers.DateTimeField, serializers.DateField, serializers.ReadOnlyField,
                  serializers.PrimaryKeyRelatedField}


def _model_column(model, field):
    """The attribute DRF's `get_attribute` ends up reading for a field that names one of the model's own columns
    (its `source` a single name): ("value", attname) for a plain column, ("id", attname) for a foreign key shown
    by id (a PrimaryKeyRelatedField reads `serializable_value`, i.e. the `_id` attribute). None otherwise."""
    if len(field.source_attrs) != 1:
        return None
    try:
        column = model._meta.get_field(field.source_attrs[0])
    except FieldDoesNotExist:
        return None
    if not column.concrete:
        return None
    if type(field) is serializers.PrimaryKeyRelatedField:
        return ("id", column.attname) if column.many_to_one or column.one_to_one else None
    return None if column.is_relation or column.attname != column.name else ("value", column.attname)


class FieldsBuiltOnce:
    """A ModelSerializer whose output is DRF's, field for field, without DRF building its fields again for every
    serializer (a ModelSerializer builds each of them from the model on first use, per instance: most of the time
    a case took to show). The fields are built once per class; then each is read as DRF's own loop
    (`Serializer.to_representation`) reads it: a column of the model straight from the instance, then through the
    built field where it depends on nothing but the value; the serializer's own `get_<name>` for a method field;
    DRF's per-serializer field for anything else. The declared fields stay what they are, for the schema and for
    input."""

    @classmethod
    def representation_plan(cls):
        plan = cls.__dict__.get("_representation_plan")
        if plan is None:
            plan = []
            for name, field in cls(context={}).fields.items():
                if field.write_only:
                    continue
                if isinstance(field, serializers.SerializerMethodField):
                    plan.append((name, field.method_name, None, None))
                elif type(field) in _SHARED_FIELDS and getattr(field, "pk_field", None) is None:
                    column = _model_column(cls.Meta.model, field)
                    if column is not None and _plain_iso_datetime(field):
                        column = ("datetime", column[1])
                    plan.append((name, None, field, column))
                else:
                    plan.append((name, None, None, None))
            cls._representation_plan = plan
        return plan

    def to_representation(self, instance):
        if isinstance(instance, Mapping):  # not a model instance: DRF's own loop
            return super().to_representation(instance)
        ret = {}
        zone = timezone.get_current_timezone()
        for name, method, field, column in self.representation_plan():
            if method is not None:
                ret[name] = getattr(self, method)(instance)
            elif column is not None:
                value = getattr(instance, column[1])
                if value is None or column[0] == "id":
                    ret[name] = value
                elif column[0] == "datetime" and timezone.is_aware(value):
                    ret[name] = _iso(value, zone)
                else:
                    ret[name] = field.to_representation(value)
            else:
                field = field or self.fields[name]
                try:
                    attribute = field.get_attribute(instance)
                except SkipField:
                    continue
                check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
                ret[name] = None if check_for_none is None else field.to_representation(attribute)
        return ret


class CaseSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    """The case as every client sees it (DESIGN §5); `allowed_actions` are the caller's."""

    location = serializers.SerializerMethodField()
    deadlines = serializers.SerializerMethodField()
    departments = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()
    category_name = serializers.CharField(source="category.name", read_only=True)
    grid_name = serializers.CharField(source="grid.name", read_only=True)
    owner_grid_name = serializers.CharField(source="owner_grid.name", read_only=True)
    owner_grid_level = serializers.CharField(source="owner_grid.level", read_only=True)
    assignee_name = serializers.SerializerMethodField()
    has_pending_extension = serializers.BooleanField(read_only=True, default=False)
    contact_phone_masked = serializers.SerializerMethodField(
        help_text="a resident reporter's contact phone, masked (POST /cases/{id}/contact/ reveals it, audited)")
    hops = serializers.SerializerMethodField(
        help_text="the hop ledger (who held the case, from when to when): on one case, null in lists")
    duplicates = serializers.SerializerMethodField(
        help_text="reports merged into this case that the caller may see: on one case, null in lists")
    deliberation = serializers.SerializerMethodField(
        help_text="deliberation topics raised from this case and the topic whose follow-up action it is (议事), as "
                  "the caller may see them: on one case, null in lists")

    class Meta:
        model = Case
        fields = ["id", "number", "title", "description", "category", "grid", "owner_grid", "scope", "priority",
                  "source", "status", "assignee", "departments", "building", "unit", "household", "resident",
                  "location", "version", "deadlines", "sla_state", "allowed_actions", "created_at", "updated_at",
                  # extras
                  "category_name", "grid_name", "owner_grid_name", "owner_grid_level", "assignee_name",
                  "dedicated_grid", "sensitive", "reporter", "reporter_name", "rating", "rating_comment",
                  "rating_source", "callback_at", "contact_phone_masked",
                  "merged_into", "sla_stage", "has_pending_extension", "escalation_count", "reopen_count",
                  "first_response_at", "accepted_at", "assigned_at", "started_at", "resolved_at", "verified_at",
                  "closed_at", "rated_at", "hops", "duplicates", "deliberation"]
        read_only_fields = fields

    def get_location(self, obj) -> dict | None:
        return obj.location

    def get_deadlines(self, obj) -> dict:
        return {"accept_by": _ts(obj.accept_by), "handle_by": _ts(obj.handle_by), "verify_by": _ts(obj.verify_by)}

    def get_departments(self, obj) -> list[dict]:
        return [{"id": cd.department_id, "name": cd.department.name, "whistled_at": _ts(cd.whistled_at),
                 "report_by": _ts(cd.report_by), "reported_in_at": _ts(cd.reported_in_at),
                 "replied_at": _ts(cd.replied_at), "reply": cd.reply, "score": cd.score,
                 "score_comment": cd.score_comment} for cd in obj.case_departments.all()]

    def get_allowed_actions(self, obj) -> list[str]:
        scope = self.context.get("scope")
        return workflow.allowed_actions(obj, scope) if scope is not None else []

    def get_contact_phone_masked(self, obj) -> str:
        try:
            return obj.intake_ticket.contact_phone_masked
        except ObjectDoesNotExist:
            return ""

    def get_assignee_name(self, obj) -> str | None:
        return display_name(obj.assignee) if obj.assignee_id else None

    @extend_schema_field(CaseHopSerializer(many=True, allow_null=True))
    def get_hops(self, obj):
        rows = getattr(obj, "hop_rows", None)
        return None if rows is None else journey.present(rows)

    @extend_schema_field({"type": "object", "nullable": True, "properties": {
        "raised": {"type": "array", "items": {"type": "object"}}, "action_of": {"type": "object", "nullable": True}}})
    def get_deliberation(self, obj):
        return deliberation_links.present(obj)

    @extend_schema_field(CaseDuplicateSerializer(many=True, allow_null=True))
    def get_duplicates(self, obj):
        rows = getattr(obj, "duplicate_rows", None)
        if rows is None:
            return None
        return [{**row, "created_at": _ts(merged.when(row["created_at"]))} for row in rows]


@extend_schema_field({"type": "object", "nullable": True,
                     "properties": {"lat": {"type": "number"}, "lng": {"type": "number"}}})
class LocationField(serializers.Field):
    def to_internal_value(self, data):
        if data in (None, ""):
            return None
        if not isinstance(data, dict):
            raise serializers.ValidationError(_("Send {lat, lng}."))
        try:
            lat, lng = float(data["lat"]), float(data["lng"])
        except (KeyError, TypeError, ValueError):
            raise serializers.ValidationError(_("Send {lat, lng}."))
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise serializers.ValidationError(_("The location is out of range."))
        return {"lat": lat, "lng": lng}

    def to_representation(self, value):
        return value


def _pk_of(field, model, data):
    """`data` as a primary key of `model`, converted as the lookup `queryset.get(pk=data)` converts it; a bad one
    fails as DRF's PrimaryKeyRelatedField fails (`incorrect_type`)."""
    try:
        if isinstance(data, bool):
            raise TypeError
        return model._meta.pk.get_prep_value(data)
    except (TypeError, ValueError):
        field.fail("incorrect_type", data_type=type(data).__name__)


class ActiveCategoryField(ScopedPrimaryKeyField):
    """An active category by id, from the process's copy of the categories (`categories.active`: current as of
    this request, no query)."""

    def to_internal_value(self, data):
        pk = _pk_of(self, Category, data)
        category = categories.active(pk)
        if category is None:
            self.fail("does_not_exist", pk_value=data)
        return category


class ReportGridField(ScopedPrimaryKeyField):
    """The grid a case is reported at, looked up in the caller's places with its ancestors in one statement
    (`tree.chain_query`, prepared once per caller's scope on PostgreSQL): `ancestors` (root first) keeps them for
    `services.create_case`, which then reads neither."""

    ancestors = None

    def to_internal_value(self, data):
        pk = _pk_of(self, Grid, data)
        chain = self._chain(pk)
        if not chain:
            self.fail("does_not_exist", pk_value=data)
        self.ancestors = chain[:-1]
        return chain[-1]

    def _chain(self, pk) -> list:
        request = self.context.get("request")
        if request is None:  # no caller: no places (`ScopedPrimaryKeyField.get_queryset`)
            return []
        if connection.vendor != "postgresql" or not statements.in_bigint(pk):
            return tree.chain(Grid, pk, among=self.get_queryset())
        key = ("grid.report_chain", self.scoped.__module__, self.scoped.__qualname__, scope_for(request.user).key)
        try:
            stmt = statements.prepared(key, lambda pk: tree.chain_query(Grid, pk, among=self.get_queryset()))
        except statements.NotPreparable:  # e.g. a caller with no places at all: the statement has no `pk`
            return tree.chain(Grid, pk, among=self.get_queryset())
        return stmt.objects(pk=pk)


class CaseCreateSerializer(serializers.Serializer):
    # Places and grids outside the caller's part of the tree do not exist for them; categories are everyone's.
    category = ActiveCategoryField(queryset=Category.objects.filter(is_active=True), scoped=same_for_everyone)
    # A dedicated grid (school, hospital, market) overlaps the grids of its community: its worker may name them
    # as the place, and their workers may name it (gridcase.cases.overlap).
    grid = ReportGridField(queryset=Grid.objects.all(), scoped=_report_places)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    scope = serializers.ChoiceField(choices=CaseScope.choices, required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    source = serializers.ChoiceField(choices=Source.choices, required=False)
    building = ScopedPrimaryKeyField(queryset=Building.objects.all(), required=False, allow_null=True)
    unit = ScopedPrimaryKeyField(queryset=Unit.objects.all(), required=False, allow_null=True)
    household = ScopedPrimaryKeyField(queryset=Household.objects.all(), required=False, allow_null=True)
    resident = ScopedPrimaryKeyField(queryset=Resident.objects.all(), required=False, allow_null=True)
    dedicated_grid = ScopedPrimaryKeyField(queryset=Grid.objects.all(), required=False, allow_null=True,
                                           scoped=_report_dedicated)
    location = LocationField(required=False, allow_null=True)
    reporter_name = serializers.CharField(required=False, allow_blank=True, max_length=60)
    client_key = serializers.CharField(required=False, allow_blank=True, max_length=64)

    @property
    def grid_ancestors(self) -> list:
        """The ancestors of the validated `grid`, root first, read with it."""
        return self.fields["grid"].ancestors


class ReportGridSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()
    kind = serializers.CharField(help_text="a dedicated grid's kind (school, hospital, …); blank otherwise")
    parent_id = serializers.IntegerField(allow_null=True)


class CaseEventSerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="at", read_only=True)

    class Meta:
        model = CaseEvent
        fields = ["id", "action", "actor", "actor_name", "from_status", "to_status", "version", "comment", "payload",
                  "at", "created_at"]

    def get_actor_name(self, obj) -> str | None:
        return display_name(obj.actor) if obj.actor_id else None


class AttachmentSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text="before | after | other")
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "kind", "url", "thumbnail_url", "content_type", "size", "width", "height", "original_name",
                  "uploaded_by", "created_at"]

    # Photos are read through the scoped file view (api/files.py), never from a public /media/ URL.
    def get_url(self, obj) -> str | None:
        return attachment_url(obj, self.context.get("request"))

    def get_thumbnail_url(self, obj) -> str | None:
        return attachment_url(obj, self.context.get("request"), thumbnail=True)


class CategorySerializer(serializers.ModelSerializer):
    depth = serializers.IntegerField(read_only=True, default=0)
    # Plain strings: the same choice sets are named once, on Case (priority) and Grid (level).
    default_priority = serializers.CharField(read_only=True)
    entry_level = serializers.CharField(read_only=True)
    skip_min_priority = serializers.CharField(read_only=True)

    class Meta:
        model = Category
        fields = ["id", "code", "name", "name_en", "parent", "depth", "default_priority", "sensitive", "entry_level",
                  "skip_min_priority", "sort"]


class ResponseTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ResponseTemplate
        fields = ["id", "category", "status", "title", "body", "sort"]


class AssigneeRoleSerializer(serializers.Serializer):
    role = serializers.CharField()
    grid = serializers.IntegerField()
    grid_name = serializers.CharField()


class AssigneeSerializer(serializers.Serializer):
    """One person the assign picker offers (gridcase.cases.assignees)."""

    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    roles = AssigneeRoleSerializer(many=True)
    own_worker = serializers.BooleanField(help_text="works the case's own grid (its micro-grid worker)")
    open_cases = serializers.IntegerField(help_text="open cases assigned to them")
    due_visits = serializers.IntegerField(help_text="care-plan visits due by today (overdue included)")
