from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from gridcase.grids import tree
from gridcase.grids.accounts import display_name
from gridcase.grids.choices import Role
from gridcase.grids.models import (
    Building,
    Department,
    Grid,
    Household,
    Membership,
    Resident,
    Tag,
    Unit,
)

from ..base import AccountField, CleanModelSerializer, ScopedPrimaryKeyField

User = get_user_model()


class GridSerializer(CleanModelSerializer):
    path = serializers.SerializerMethodField()
    children_count = serializers.IntegerField(read_only=True, default=0)
    parent = ScopedPrimaryKeyField(queryset=Grid.objects.all(), allow_null=True, required=False)

    class Meta:
        model = Grid
        fields = ["id", "code", "name", "level", "kind", "parent", "path", "children_count",
                  "centroid_lat", "centroid_lng", "boundary", "qr_token"]
        read_only_fields = ["qr_token"]

    def get_path(self, obj) -> list[str]:
        paths = self.context.get("paths", {})
        if obj.pk not in paths:  # a single object just written: one query
            paths = tree.ancestor_paths([obj])
        return paths.get(obj.pk, [])


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "code", "name", "name_en"]


class BuildingSerializer(CleanModelSerializer):
    grid_name = serializers.CharField(source="grid.name", read_only=True)

    class Meta:
        model = Building
        fields = ["id", "code", "name", "address", "grid", "grid_name", "lat", "lng"]


class UnitSerializer(CleanModelSerializer):
    building_name = serializers.CharField(source="building.name", read_only=True)

    class Meta:
        model = Unit
        fields = ["id", "building", "building_name", "name", "micro_grid"]


class HouseholdSerializer(CleanModelSerializer):
    label = serializers.SerializerMethodField()
    grid = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Household
        fields = ["id", "unit", "room", "grid", "label", "note"]

    def get_label(self, obj) -> str:
        return household_label(obj)


def household_label(h) -> str:
    return f"{h.unit.building.name}{h.unit.name}{h.room}"


class MaskedCharField(serializers.CharField):
    """Written in clear (the model's setter encrypts); read from the masked copy, so a list never decrypts."""

    def get_attribute(self, instance):
        return getattr(instance, f"{self.source}_masked")


class ResidentSerializer(CleanModelSerializer):
    """Phone and ID number are masked unless the view put this resident in `context["reveal"]`."""

    phone = MaskedCharField(required=False, allow_blank=True, max_length=20)
    id_number = MaskedCharField(required=False, allow_blank=True, max_length=18, min_length=15)
    phone_revealed = serializers.SerializerMethodField()
    id_number_revealed = serializers.SerializerMethodField()
    age = serializers.SerializerMethodField()
    grid = serializers.PrimaryKeyRelatedField(read_only=True)
    grid_name = serializers.CharField(source="grid.name", read_only=True)
    household_label = serializers.SerializerMethodField()
    tags = serializers.SlugRelatedField(slug_field="code", many=True, queryset=Tag.objects.all(), required=False)
    tag_names = serializers.SerializerMethodField()

    class Meta:
        model = Resident
        fields = ["id", "name", "gender", "birth_date", "age", "phone", "phone_revealed", "id_number",
                  "id_number_revealed", "household", "household_label", "grid", "grid_name", "relation", "tags",
                  "tag_names", "is_active", "status", "status_since", "note", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate_phone(self, value):
        value = value.strip()
        if value and (not value.replace("-", "").isdigit() or len(value) < 7):
            raise serializers.ValidationError(_("Enter a valid phone number."))
        return value

    def validate_id_number(self, value):
        value = value.strip().upper()
        if value and not (value[:-1].isdigit() and (value[-1].isdigit() or value[-1] == "X")):
            raise serializers.ValidationError(_("Enter a valid ID number."))
        return value

    def validate_birth_date(self, value):
        if value and value > date.today():
            raise serializers.ValidationError(_("Birth date cannot be in the future."))
        return value

    def _revealed(self, obj) -> dict:
        return self.context.get("reveal", {}).get(obj.pk, {})

    def get_phone_revealed(self, obj) -> bool:
        return "phone" in self._revealed(obj)

    def get_id_number_revealed(self, obj) -> bool:
        return "id_number" in self._revealed(obj)

    def get_age(self, obj) -> int | None:
        if not obj.birth_date:
            return None
        today = date.today()
        b = obj.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))

    def get_household_label(self, obj) -> str:
        return household_label(obj.household)

    def get_tag_names(self, obj) -> list[str]:
        return [t.name for t in obj.tags.all()]

    def to_representation(self, obj):
        data = super().to_representation(obj)
        revealed = self._revealed(obj)
        data["phone"] = revealed.get("phone", obj.phone_masked)
        data["id_number"] = revealed.get("id_number", obj.id_number_masked)
        return data

    def create(self, validated_data):
        return self._save(Resident(), validated_data)

    def update(self, instance, validated_data):
        return self._save(instance, validated_data)

    def _save(self, instance, data):
        tags = data.pop("tags", None)
        for key, value in data.items():
            setattr(instance, key, value)  # phone / id_number go through the encrypting setters
        if instance.pk and "household" in data:
            instance.grid_id = instance.household.grid_id
        instance.save()
        if tags is not None:
            from gridcase.grids.services import set_resident_tags

            set_resident_tags(instance, tags)
        return instance

    def clean_exclude(self, instance):
        return super().clean_exclude(instance) + ["grid"]


class DepartmentSerializer(CleanModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "code", "name", "kind", "area", "phone"]


class MembershipSerializer(CleanModelSerializer):
    user = AccountField()
    username = serializers.CharField(source="user.username", read_only=True)
    display_name = serializers.SerializerMethodField()
    grid_name = serializers.CharField(source="grid.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "username", "display_name", "grid", "grid_name", "role", "title"]

    def get_display_name(self, obj) -> str:
        return display_name(obj.user)


class UserSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(source="first_name", required=False, allow_blank=True, max_length=150)
    password = serializers.CharField(write_only=True, required=False, max_length=128, trim_whitespace=False)
    grid = ScopedPrimaryKeyField(queryset=Grid.objects.all(), write_only=True, required=False)
    role = serializers.ChoiceField(choices=Role.choices, write_only=True, required=False)
    department = ScopedPrimaryKeyField(queryset=Department.objects.all(), write_only=True, required=False)
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "email", "is_active", "password", "grid", "role", "department",
                  "roles"]

    def get_roles(self, obj) -> list[dict]:
        return [{"grid": m.grid_id, "grid_name": m.grid.name, "role": m.role} for m in obj.memberships.all()]

    def validate(self, data):
        if data.get("password"):
            # The settings' validators (stricter in production), with this account's names for the similarity check.
            subject = self.instance or User(username=data.get("username", ""), first_name=data.get("first_name", ""),
                                            email=data.get("email", ""))
            try:
                validate_password(data["password"], user=subject)
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"password": list(exc.messages)})
        if self.instance is None:
            if not data.get("password"):
                raise serializers.ValidationError({"password": [_("This field is required.")]})
            if not data.get("department") and not (data.get("grid") and data.get("role")):
                raise serializers.ValidationError(
                    {"grid": [_("A new account needs a grid and a role, or a department.")]})
        return data
