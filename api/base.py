"""The base viewset: every queryset is restricted to the caller's scope here, once.

Objects outside the scope are absent from lists and answer 404 by id. Writes run in one
transaction and are checked against the caller's roles on the object's grid after the save (so a
write that would land outside the caller's part of the tree is rolled back, 403). Models' own
`full_clean()` runs in the serializers (see `CleanModelSerializer`), so the tree and place rules are
enforced exactly as in admin and import.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from rest_framework import serializers, viewsets

from gridcase.core.errors import Forbidden
from gridcase.grids.scoping import forget_scope, scope_for

from .errors import django_validation_to_fields


class StrictBooleanField(serializers.BooleanField):
    """true or false (JSON), or the strings "true"/"false" (a form). DRF's own also takes 0, 1, 0.0, "yes",
    "on", "T" …, which the schema (`type: boolean`) calls invalid."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and data in ("true", "false"):
            return data == "true"
        self.fail("invalid", input=data)


STRICT_FIELD_MAPPING = {**serializers.ModelSerializer.serializer_field_mapping, models.BooleanField: StrictBooleanField}


class CleanModelSerializer(serializers.ModelSerializer):
    """Runs the model's `full_clean()` during validation: invariants live in the model, once."""

    serializer_field_mapping = STRICT_FIELD_MAPPING

    def validate(self, data):
        data = super().validate(data)
        model = self.Meta.model
        m2m = {f.name for f in model._meta.many_to_many}
        attrs = {k: v for k, v in data.items() if k not in m2m}
        if self.instance is not None:
            instance = model.objects.get(pk=self.instance.pk)
        else:
            instance = model()
        for key, value in attrs.items():
            setattr(instance, key, value)
        try:
            instance.full_clean(exclude=self.clean_exclude(instance))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(django_validation_to_fields(exc))
        return data

    def clean_exclude(self, instance):
        # Denormalised, non-editable columns are set on save, not supplied by the caller.
        return [f.name for f in type(instance)._meta.fields if not f.editable]


class ScopedViewSetMixin:
    write_roles: set = set()
    grid_field = "grid"

    def get_scope(self):
        return scope_for(self.request.user)

    def get_queryset(self):
        return super().get_queryset().restrict(self.request.user)

    def grid_of(self, instance):
        return getattr(instance, self.grid_field)

    def check_write(self, instance):
        scope = self.get_scope()
        if scope.is_global:
            return
        grid = self.grid_of(instance)
        if grid is None or not (scope.roles_at(grid) & set(self.write_roles)):
            raise Forbidden()

    def perform_create(self, serializer):
        with transaction.atomic():
            instance = serializer.save()
            self.check_write(instance)
        forget_scope(self.request.user)

    def perform_update(self, serializer):
        self.check_write(serializer.instance)
        with transaction.atomic():
            instance = serializer.save()
            self.check_write(instance)
        forget_scope(self.request.user)

    def perform_destroy(self, instance):
        self.check_write(instance)
        with transaction.atomic():
            instance.delete()


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


