"""Filters shared by resources: `within=<grid id>` expands a grid to its whole subtree; and the one check
that refuses query parameters a list does not take (400 `unknown_parameter`, naming them).

What a GET takes is what its schema documents: the filterset's filters (lists only), the paginator's
parameters, the parameters declared with `@extend_schema(parameters=…)` on the view or action, and
`format`. `check_query_params` compares the request with exactly that, so the schema and the behaviour
cannot drift apart. Lists reach it through the filter backend (every list filters) and the paginator
(every paged action); the few views that read parameters by hand call it themselves.
"""

from datetime import date

import django_filters
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from rest_framework.exceptions import ValidationError

from gridcase.core import dates
from gridcase.core.errors import ValidationFailed
from gridcase.grids import scoping, tree
from gridcase.grids.models import Grid

ALWAYS = frozenset({"format"})  # DRF's renderer override (?format=json)
_declared_cache: dict = {}


def declared_params(view) -> dict:
    """Query parameters declared with @extend_schema on the handler (action or method) serving `view`."""
    request = getattr(view, "request", None)
    method = request.method.lower() if request is not None else "get"
    name = getattr(view, "action", None) or method
    key = (type(view), name, method)
    if key not in _declared_cache:
        _declared_cache[key] = _read_declared(view, name, method)
    return _declared_cache[key]


def _read_declared(view, name, method) -> dict:
    """{name: OpenApiParameter or None} for the query parameters the handler's @extend_schema declares."""
    handler = getattr(view, name, None)
    schema_class = getattr(handler, "kwargs", {}).get("schema") if handler is not None else None
    if schema_class is None:
        class_schema = type(view).__dict__.get("schema")  # class-level @extend_schema
        schema_class = type(class_schema) if class_schema is not None else None
    if schema_class is None:
        return {}
    schema = schema_class()
    schema.view = view
    schema.method = method.upper()
    found = {}
    for param in schema.get_override_parameters():
        if getattr(param, "location", "query") == "query" and getattr(param, "name", None):
            found[param.name] = param
        elif hasattr(param, "fields"):  # a serializer class or instance describing the parameters
            instance = param() if isinstance(param, type) else param
            found.update(dict.fromkeys(instance.fields))
    return found


TRUE_FALSE = {"true", "false", "1", "0"}


def _check_declared_value(param, raw: str):
    """The value of a declared parameter matches its documented type (an int is digits, a bool true/false,
    an enum one of its values); a message when it does not. Views still parse the values themselves."""
    kind = getattr(param, "type", None)
    kind = {OpenApiTypes.INT: int, OpenApiTypes.BOOL: bool}.get(kind, kind) if isinstance(kind, OpenApiTypes) \
        else kind
    enum = getattr(param, "enum", None)
    if enum and raw not in [str(v) for v in enum]:
        return _("Choose one of: %(values)s.") % {"values": ", ".join(str(v) for v in enum)}
    if kind is int and not (raw.isascii() and raw.isdigit()):
        return _("Enter a whole number.")
    if kind is bool and raw.lower() not in TRUE_FALSE:
        return _("Enter true or false.")
    return None


def paginator_params(view) -> set:
    paginator = getattr(view, "paginator", None)
    if paginator is None:
        return set()
    if hasattr(paginator, "query_params"):
        return set(paginator.query_params())
    return {getattr(paginator, a) for a in ("cursor_query_param", "page_query_param", "page_size_query_param",
                                            "limit_query_param", "offset_query_param")
            if getattr(paginator, a, None)}


def filterset_params(view) -> set:
    if getattr(view, "action", "list") not in ("list", None):
        return set()  # filters apply to lists; the schema documents them there only
    filterset_class = getattr(view, "filterset_class", None)
    return set(filterset_class.base_filters) if filterset_class is not None else set()


def allowed_query_params(view, extra=()) -> set:
    return ALWAYS | set(extra) | paginator_params(view) | filterset_params(view) | set(declared_params(view)) \
        | set(getattr(view, "extra_query_params", ()))


MAX_QUERY_STRING = 2048


def check_query_params(request, view, extra=()) -> None:
    """400 naming every query parameter `view` does not take (`unknown_parameter`), and every declared one
    whose value is not of its documented type."""
    if view is None:
        return
    if len(request.META.get("QUERY_STRING", "")) > MAX_QUERY_STRING:
        raise ValidationFailed(_("The query string is too long (at most %(max)d characters).")
                               % {"max": MAX_QUERY_STRING}, code="query_too_long")
    unknown = sorted(set(request.query_params) - allowed_query_params(view, extra))
    if unknown:
        message = _("Unknown query parameter: %(names)s.") % {"names": ", ".join(unknown)}
        raise ValidationFailed(message, code="unknown_parameter",
                               fields={name: [_("This list does not take this parameter.")] for name in unknown})
    bad = {}
    for name, param in declared_params(view).items():
        for raw in request.query_params.getlist(name):
            problem = _check_declared_value(param, raw) if param is not None else None
            if problem:
                bad[name] = [problem]
    if bad:
        raise ValidationFailed(next(iter(bad.values()))[0], fields=bad)


def check_filter_values(request, filterset) -> None:
    """What django-filter would quietly drop: `?unit=` (no number), `?is_active=maybe` (no boolean), `?unit=1.5`
    (ids are whole numbers — every NumberFilter here names an object or counts). 400 naming each."""
    bad = {}
    for name, f in filterset.filters.items():
        for raw in request.query_params.getlist(name):
            if isinstance(f, django_filters.CharFilter):
                continue
            if raw == "":
                bad[name] = [_("Enter a value or leave the parameter out.")]
            elif isinstance(f, django_filters.BooleanFilter) and raw.lower() not in TRUE_FALSE:
                bad[name] = [_("Enter true or false.")]
            elif isinstance(f, django_filters.NumberFilter) and not (raw.isascii() and raw.lstrip("-").isdigit()):
                bad[name] = [_("Enter a whole number.")]
    if bad:
        raise ValidationFailed(next(iter(bad.values()))[0], fields=bad)


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter, refusing what it would silently ignore: unknown parameters and dates before 1900."""

    def filter_queryset(self, request, queryset, view):
        check_query_params(request, view)
        if getattr(view, "action", "list") not in ("list", None):
            return queryset  # a detail or an action: list filters do not narrow it
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        check_filter_values(request, filterset)
        if not filterset.is_valid() and self.raise_exception:
            raise translate_validation(filterset.errors)
        for name, value in filterset.form.cleaned_data.items():
            if isinstance(value, date) and not dates.in_range(value):
                raise ValidationError({name: [dates.message()]})
        return filterset.qs


class WithinFilter(django_filters.NumberFilter):
    """Rows whose grid (reached through `prefix`) lies in the subtree of the given grid (cases: whose grid, owner
    grid or dedicated grid does, `Case.scope_within_q`)."""

    def __init__(self, *args, prefix="grid__", **kwargs):
        self.prefix = prefix
        kwargs.setdefault("label", _("within grid (subtree)"))
        kwargs.setdefault("field_name", "within")
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        span = tree.span_of(Grid, value)
        if span is None:
            return qs.none()
        # One condition with the caller's scope (a tree range, see scoping.within), not a second one beside it.
        return scoping.within(qs, span, self.prefix)
