"""Pagination. Every page parameter is checked: a bad cursor or an absurd page size answers 400 naming the
parameter (never a 500 from the database, never a silently different page)."""

from types import SimpleNamespace

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination

from .filters import check_query_params


class StrictPageSizeMixin:
    """`page_size` must be a whole number from 1 to `max_page_size` (DRF silently falls back instead)."""

    page_size_query_param = "page_size"

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        raw = raw.strip()
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [
                _("Choose a page size from 1 to %(max)d.") % {"max": self.max_page_size}]})
        return int(raw)

    def paginate_queryset(self, queryset, request, view=None):
        check_query_params(request, view, self.query_params())
        return super().paginate_queryset(queryset, request, view)


class StrictCursorPagination(StrictPageSizeMixin, CursorPagination):
    """A cursor whose position is not a value of the ordering field answers 400 (`cursor`), not a 500."""

    invalid_cursor_message = _("Invalid cursor.")

    def query_params(self) -> set:
        return {self.cursor_query_param, self.page_size_query_param}

    def paginate_queryset(self, queryset, request, view=None):
        self._model_query = queryset
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:  # DRF answers 404 for a cursor it cannot decode; it is bad input
            raise self.invalid()
        if cursor is not None and cursor.position is not None:
            self.check_position(cursor.position)
        return cursor

    def invalid(self):
        return ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})

    def check_position(self, position):
        queryset = self._model_query
        name = self.ordering[0].lstrip("-")
        annotation = queryset.query.annotations.get(name)  # PreparedIds: none
        try:
            field = annotation.output_field if annotation is not None else queryset.model._meta.get_field(name)
        except FieldDoesNotExist:
            return
        try:
            value = field.to_python(position)
            field.run_validators(value)  # e.g. the database's integer range
        except (DjangoValidationError, TypeError, ValueError, OverflowError):
            raise self.invalid()


class IdCursorPagination(StrictCursorPagination):
    """Cursor pagination on the primary key: stable under inserts and fast at any depth."""

    ordering = "-id"
    page_size = 20
    max_page_size = 200


class IdsFirstMixin:
    """Pages the ids alone, then reads the page's rows by id (a "deferred join"). The narrow statement — no join,
    no wide row — can be answered from an index alone: residents within a street by tag walk (street, id)
    index-only instead of the primary key through every other street's rows (175 ms -> 15 ms at 630,000
    residents). The rows are read by the view's `rows_of(ids)` when it has one (the ids came from the scoped,
    filtered list: reading them by id alone is safe), else by the same queryset narrowed to the ids. One query
    more, whatever the page size."""

    def paginate_queryset(self, queryset, request, view=None):
        narrow = queryset if isinstance(queryset, PreparedIds) else \
            queryset.select_related(None).prefetch_related(None).values("id")
        page = super().paginate_queryset(narrow, request, view)
        if page is None:
            return None
        ids = [row["id"] for row in page]
        if not ids:
            return []
        reader = getattr(view, "rows_of", None)
        found = reader(ids) if reader is not None else queryset.filter(pk__in=ids)
        rows = {obj.pk: obj for obj in found}
        return [rows[pk] for pk in ids if pk in rows]


class IdsFirstCursorPagination(IdsFirstMixin, IdCursorPagination):
    pass


class AscendingIdCursorPagination(IdCursorPagination):
    ordering = "id"


class CountedIdCursorPagination(IdCursorPagination):
    """`?with_count=true` adds `count`, the number of rows of the whole filtered list (one query more): a
    dashboard figure's drill-down list shows the count the figure showed. Without it, no count is taken."""

    count_query_param = "with_count"

    def query_params(self) -> set:
        return {*super().query_params(), self.count_query_param}

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.count_query_param)
        if raw not in (None, "true", "false"):
            raise ValidationError({self.count_query_param: [_("Enter true or false.")]})
        self.count = queryset.order_by().count() if raw == "true" else None
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        if self.count is not None:
            response.data["count"] = self.count
        return response

    def get_paginated_response_schema(self, schema):
        out = super().get_paginated_response_schema(schema)
        out["properties"]["count"] = {"type": "integer", "description": "rows of the whole list (`with_count=true`)"}
        return out

    def get_schema_operation_parameters(self, view):
        return [*super().get_schema_operation_parameters(view), {
            "name": self.count_query_param, "required": False, "in": "query",
            "description": "true: answer `count`, the rows of the whole filtered list",
            "schema": {"type": "boolean"}}]


class StrictPageNumberPagination(StrictPageSizeMixin, PageNumberPagination):
    """Pages by number; `page` must be a page that exists (400 otherwise, naming `page`)."""

    def query_params(self) -> set:
        return {self.page_query_param, self.page_size_query_param}

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param, "1")
        if raw in self.last_page_strings:
            return raw
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise ValidationError({self.page_query_param: [_("Enter a page number from 1.")]})
        return raw

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:  # past the last page
            raise ValidationError({self.page_query_param: [_("There is no such page.")]})


class CountedIdsFirstCursorPagination(IdsFirstMixin, CountedIdCursorPagination):
    """The case list: counted on request, ids first (the list's conditions and the case's joins in two statements:
    each plans and runs in a fraction of the one that carried both)."""


class PreparedIds:
    """A filtered list's page of ids from a statement compiled once per `key` (gridcase.core.statements), the
    cursor's position its one slot: what the cursor paginator asks of a queryset (`order_by`, a position's
    `filter`, a slice) answered without building the filters, the scope or the SQL again.

    `key` must name everything the filtered list depends on (the caller's `Scope.key`, each filter parameter's
    value or what it resolves to); `build()` returns the filtered queryset (the list's filters run, and refuse bad
    values, on the first request of each key). A list that cannot be compiled once — a filter reading the clock,
    an empty subtree — is read through the ORM (`statements.prepared` remembers the refusal)."""

    def __init__(self, model, key, build):
        self.model, self.key, self.build = model, key, build
        self.query = SimpleNamespace(annotations={})  # what `check_position` looks at: no annotations
        self.ordering, self.position = (), None

    def order_by(self, *ordering):
        self.ordering = ordering
        return self

    def filter(self, **position):
        ((lookup, value),) = position.items()  # the paginator's `id__lt=<position>` (or `__gt`)
        self.position = (lookup, int(value))  # a valid id: `check_position` has checked it
        return self

    def _narrow(self, qs):
        return qs.select_related(None).prefetch_related(None).values("id").order_by(*self.ordering)

    def __getitem__(self, window: slice) -> list[dict]:
        from gridcase.core import statements

        lookup, value = self.position or (None, None)
        key = (self.key, self.ordering, lookup, window.start, window.stop)
        try:
            if lookup is None:
                stmt = statements.prepared(key, lambda: self._narrow(self.build())[window], slots=())
            else:
                stmt = statements.prepared(key, lambda pk: self._narrow(self.build()).filter(**{lookup: pk})[window])
        except statements.NotPreparable:
            qs = self._narrow(self.build())
            return list((qs if lookup is None else qs.filter(**{lookup: value}))[window])
        return [{"id": pk} for (pk,) in stmt.rows(pk=value)]


class PreparedRows:
    """A queryset's count and pages, for page-number pagination, from statements compiled once per `key`
    (gridcase.core.statements): `build(**values)` returns the queryset; `day_slots` name the values that are dates
    (a round's day), compiled as slots. The key must name everything else the queryset depends on. A queryset
    that cannot be compiled once is read through the ORM."""

    ordered = True  # Django's paginator asks

    def __init__(self, key, build, day_slots: tuple[str, ...] = (), **values):
        self.key, self.build, self.day_slots, self.values = key, build, day_slots, values

    def _read(self, key, build, count=False):
        from gridcase.core import statements

        try:
            stmt = statements.prepared(key, build, slots=(), day_slots=self.day_slots, count=count)
        except statements.NotPreparable:
            return None
        return stmt.rows(**self.values)[0][0] if count else stmt.objects(**self.values)

    def count(self) -> int:
        found = self._read((self.key, "count"), self.build, count=True)
        return self.build(**self.values).count() if found is None else found

    def __getitem__(self, window: slice) -> list:
        found = self._read((self.key, window.start, window.stop), lambda **markers: self.build(**markers)[window])
        return list(self.build(**self.values)[window]) if found is None else found
