"""The base viewset: every queryset is restricted to the caller's scope here, once.

Objects outside the scope are absent from lists and answer 404 by id. A reference to another object in
a request body (a foreign key given by id) resolves only inside the scope too (`ScopedPrimaryKeyField`): an
id outside it is refused at validation, 400, as if it did not exist. Writes run in one transaction and are
checked against the caller's roles on the object's grid after the save (a grid they can see but may not
edit: rolled back, 403). Models' own `full_clean()` runs in the serializers (see `CleanModelSerializer`),
so the tree and place rules are enforced exactly as in admin and import.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, viewsets

from gridcase.core import replica
from gridcase.core.errors import Forbidden
from gridcase.grids import accounts
from gridcase.grids.scoping import forget_scope, scope_for

from .errors import django_validation_to_fields


class ReplicaReads:
    """A view whose GET answers read from the replica when one is configured (gridcase/core/replica.py):
    dashboards, stats, exports, reports. Sign-in, permissions and throttles run first, on the primary."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method in ("GET", "HEAD"):
            self._replica_token = replica.start_reading()

    def finalize_response(self, request, response, *args, **kwargs):
        token = getattr(self, "_replica_token", None)
        if token is not None:
            replica.stop_reading(token)
            self._replica_token = None
        return super().finalize_response(request, response, *args, **kwargs)


class StrictBooleanField(serializers.BooleanField):
    """true or false (JSON), or the strings "true"/"false" (a form). DRF's own also takes 0, 1, 0.0, "yes",
    "on", "T" …, which the schema (`type: boolean`) calls invalid."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and data in ("true", "false"):
            return data == "true"
        self.fail("invalid", input=data)


class StrictText:
    """Text is a JSON string (or a form's text). DRF's own CharField also takes 12 or 1.5 and stores "12",
    which the schema (`type: string`) calls invalid."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(StrictText, serializers.CharField):
    pass


class StrictSlugField(StrictText, serializers.SlugField):
    pass


class StrictEmailField(StrictText, serializers.EmailField):
    pass


STRICT_FIELD_MAPPING = {**serializers.ModelSerializer.serializer_field_mapping, models.BooleanField: StrictBooleanField,
                        models.CharField: StrictCharField, models.TextField: StrictCharField,
                        models.SlugField: StrictSlugField, models.EmailField: StrictEmailField}


def in_scope(queryset, user):
    """The rows of `queryset` the caller may see: the model's own scope (`ScopedQuerySet.restrict`)."""
    return queryset.restrict(user)


def same_for_everyone(queryset, user):
    """For references to rows that have no scope (case categories): every caller may name any of them."""
    return queryset


def visible_accounts(queryset, user):
    """Accounts the caller may list, read and refer to (`gridcase.grids.accounts.visible_users`)."""
    return queryset & accounts.visible_users(user)


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A foreign key given by id that resolves only among the rows the caller may see; others do not exist for
    them (400 `does_not_exist` at validation, the id in the message), so nothing outside the scope is saved and
    then rolled back. Every foreign-key input of the API is one of these (`CleanModelSerializer` builds them
    for its model's foreign keys).

    `scoped(queryset, user)` narrows the queryset to the caller's rows: `in_scope` (the default, the model's
    `restrict(user)`), `visible_accounts` or `same_for_everyone`. Still one query per field, as for any id."""

    default_error_messages = {
        # DRF fills these with str.format: `{pk_value}`, not `%(pk_value)s`.
        "does_not_exist": _("Nothing with id {pk_value} in your area."),
        "incorrect_type": _("Expected an id, got {data_type}."),
    }

    def __init__(self, scoped=in_scope, **kwargs):
        self.scoped = scoped
        super().__init__(**kwargs)
        if scoped is in_scope and self.queryset is not None and not hasattr(self.queryset, "restrict"):
            raise ImproperlyConfigured(f"{self.queryset.model.__name__} has no scope: say how it is scoped "
                                       "(scoped=same_for_everyone, visible_accounts, …)")

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        if request is None:
            return queryset.none()
        return self.scoped(queryset, request.user)


class AccountField(ScopedPrimaryKeyField):
    """A reference to an account the caller can see (`gridcase.grids.accounts.visible_users`)."""

    default_error_messages = {"does_not_exist": _("No account with id {pk_value} in your area.")}

    def __init__(self, **kwargs):
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", get_user_model().objects.all())
        super().__init__(scoped=visible_accounts, **kwargs)


class CleanModelSerializer(serializers.ModelSerializer):
    """Runs the model's `full_clean()` during validation: invariants live in the model, once."""

    serializer_field_mapping = STRICT_FIELD_MAPPING
    # Its foreign keys are ScopedPrimaryKeyFields: an id outside the caller's scope is refused before any save.
    # (The docstring above is the schema's description of every serializer without its own: kept as it is.)
    serializer_related_field = ScopedPrimaryKeyField

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


