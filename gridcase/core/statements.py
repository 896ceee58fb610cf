"""Prepared reads: a queryset's SQL compiled once per shape and run as a server-side prepared statement.

Building and compiling an ORM statement is pure Python, on every call: for one case as its screen shows it (the
scope, the hop ledger, merged reports, deliberation topics and departments as arrays of JSON) that is ~30 ms, and
PostgreSQL then plans the 8 KB statement for another ~10 ms. A `Prepared` read is built once per key, with a
marker standing for each value that changes from call to call (a case id), and compiled once; each call puts its
values where the markers were and runs the SQL through psycopg's server-side binding with `prepare=True`. Each
database connection prepares it once, and PostgreSQL keeps a generic plan after five runs. Rows become model
instances as Django's own `ModelIterable` makes them (`select_related` objects, annotations).

The key must name everything the SQL depends on besides the marked values: for a read restricted to a scope,
`Scope.key`. Nothing that changes with time may be compiled in: a statement whose parameters hold a date or a
time is refused (it would freeze "now"), and so is one whose marker cannot be found exactly once.

`DB_PREPARED_STATEMENTS=false` (a connection pooler in transaction mode that does not carry prepared statements)
runs the same compiled SQL unprepared. Elsewhere than PostgreSQL (SQLite, `make run`'s default) `prepared` is not
used: callers build and run their queryset as usual.
"""

import threading
from collections import OrderedDict
from datetime import date, time, timedelta
from types import SimpleNamespace

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import BigAutoField, Lookup, Prefetch, QuerySet, prefetch_related_objects
from django.db.models.query import get_related_populators

# Markers inside the range of a 32-bit integer column (an integer lookup outside its column's range is answered
# empty without SQL, so a marker must be a value the column could hold).
MARKER_BASE = 2_147_480_011
# A slot holding a day (a round's date, chosen by the request, not the clock) is marked by a day no row has.
DATE_MARKER_BASE = date(2999, 12, 31)
MAX_STATEMENTS = 256
BIGINT = 2**63


@BigAutoField.register_lookup
class AnyOf(Lookup):
    """`pk__any=<list>`: `id = ANY(%s)`, the list sent as one array, so a page of any size is one statement (an
    `IN (…)` list is a different statement for each length). Built with a marker, called with the list."""

    lookup_name = "any"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return "%s", [value]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


class NotPreparable(Exception):
    """The queryset cannot be compiled once and reused (see the module's docstring)."""


class Prepared:
    """One compiled statement and what turns its rows into model instances."""

    def __init__(self, qs, slots: tuple[str, ...], day_slots: tuple[str, ...] = (), count=False):
        if qs._prefetch_related_lookups:
            raise NotPreparable("prefetch_related needs more statements")
        self.db = qs.db
        if count:  # how many rows the queryset has: its statement, counted
            qs = qs.order_by().values("pk")
        compiler = qs.query.get_compiler(using=self.db)
        try:
            self.sql, params = compiler.as_sql()
        except EmptyResultSet:  # a condition that matches nothing: Django sends no statement at all
            raise NotPreparable("the queryset is empty by construction") from None
        self.params = list(params)
        self.slots = {}
        markers = [(name, MARKER_BASE + i, int) for i, name in enumerate(slots)]
        markers += [(name, DATE_MARKER_BASE - timedelta(days=i), date) for i, name in enumerate(day_slots)]
        for name, marker, kind in markers:
            at = [n for n, p in enumerate(params) if type(p) is kind and p == marker]
            if len(at) != 1:
                raise NotPreparable(f"the marker of {name!r} is in the statement {len(at)} times")
            self.slots[name] = at[0]
        marked = set(self.slots.values())
        if any(isinstance(p, date | time | timedelta) for n, p in enumerate(params) if n not in marked):
            raise NotPreparable("a date or time is compiled in")
        if count:
            self.sql, self.converters = f'SELECT COUNT(*) FROM ({self.sql}) "counted"', []
            return
        select, klass_info, self.annotations = compiler.select, compiler.klass_info, compiler.annotation_col_map
        # What Django's compiler applies to each row (JSON, arrays, time zones); the compiler itself is not kept.
        self.converters = list(compiler.get_converters([s[0] for s in select[: compiler.col_count]]).items())
        if klass_info is None:  # values() / values_list(): rows only
            return
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.model_cols = (fields[0], fields[-1] + 1)
        self.init_list = [f[0].target.attname for f in select[self.model_cols[0]:self.model_cols[1]]]
        self.related = get_related_populators(klass_info, select, self.db)

    def rows(self, **values) -> list[tuple]:
        """The rows as `values_list()` gives them (converted, in the statement's column order)."""
        params = self.params.copy()
        for name, at in self.slots.items():
            params[at] = values[name]
        connection = connections[self.db]
        connection.close_if_health_check_failed()
        connection.ensure_connection()
        with connection.wrap_database_errors:
            cursor = connection._prepare_cursor(_server_binding_cursor(connection))
        with cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = [self._convert(row, connection) for row in rows]
        return rows

    def _convert(self, row, connection) -> list:
        row = list(row)
        for at, (converters, expression) in self.converters:
            value = row[at]
            for converter in converters:
                value = converter(value, expression, connection)
            row[at] = value
        return row

    def objects(self, **values) -> list:
        start, end = self.model_cols
        out = []
        for row in self.rows(**values):
            obj = self.model.from_db(self.db, self.init_list, row[start:end])
            for populator in self.related:
                populator.populate(row, obj)
            for attr, col in self.annotations.items():
                setattr(obj, attr, row[col])
            out.append(obj)
        return out


def _server_binding_cursor(connection):
    """A psycopg cursor with server-side binding on Django's connection (Django's own cursors bind on the client,
    which cannot prepare), given the session's time zone as Django's cursors are."""
    from django.db.backends.postgresql.base import ServerBindingCursor
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    raw = ServerBindingCursor(connection.connection)
    loader = connection.connection.adapters.get_loader(1184, Format.TEXT)  # timestamptz
    if connection.timezone != loader.timezone:
        register_tzloader(connection.timezone, raw)
    return _Preparing(raw)


class _Preparing:
    """The psycopg cursor, asking for the statement to be prepared on this connection (psycopg keeps the name)."""

    def __init__(self, cursor):
        self._cursor = cursor
        self._last = None

    def execute(self, sql, params=None):
        self._last = (sql, params)
        prepare = self._cursor.connection.prepare_threshold is not None
        return self._cursor.execute(sql, params, prepare=prepare or None)

    @property
    def _query(self):
        """What Django's query log records (DEBUG, tests' query capture): the statement with its values."""
        from psycopg import ClientCursor

        sql, params = self._last
        return SimpleNamespace(query=ClientCursor(self._cursor.connection).mogrify(sql, params).encode())

    def __getattr__(self, name):
        return getattr(self._cursor, name)


_cache: OrderedDict = OrderedDict()
_lock = threading.Lock()


def prepared(key, build, slots: tuple[str, ...] = ("pk",), day_slots: tuple[str, ...] = (), count=False) -> Prepared:
    """The statement of `build(**markers)` for `key`, compiled on first use (least recently used dropped past
    MAX_STATEMENTS). `build` takes one keyword per slot (`slots`: integers, `day_slots`: dates) and returns the
    queryset; `count`: the statement counts its rows. A key whose statement was refused (`NotPreparable`) is
    remembered as refused: the next call raises again without building it."""
    with _lock:
        stmt = _cache.get(key)
        if stmt is not None:
            _cache.move_to_end(key)
    if stmt is _REFUSED:
        raise NotPreparable("refused before")
    if stmt is not None:
        return stmt
    markers = {name: MARKER_BASE + i for i, name in enumerate(slots)}
    markers.update({name: DATE_MARKER_BASE - timedelta(days=i) for i, name in enumerate(day_slots)})
    try:
        stmt = Prepared(build(**markers), slots, day_slots, count)
    except NotPreparable:
        _remember(key, _REFUSED)
        raise
    _remember(key, stmt)
    return stmt


_REFUSED = object()  # a key whose statement cannot be compiled once


def _remember(key, stmt) -> None:
    with _lock:
        _cache[key] = stmt
        while len(_cache) > MAX_STATEMENTS:
            _cache.popitem(last=False)


def prefetch_many(instances, name: str, order_by: str = "pk") -> None:
    """What `prefetch_related_objects(instances, Prefetch(name, queryset=<related>.order_by(order_by)))` leaves, for
    a many-to-many field `name` of their model, from one statement compiled once for any number of instances (the
    link table joined to the related rows, `<source>_id = ANY(array)`). Elsewhere (SQLite) Django's prefetch."""
    if not instances:
        return
    model = type(instances[0])
    field = model._meta.get_field(name)
    related = field.related_model
    if connections[related.objects.db].vendor != "postgresql":
        prefetch_related_objects(instances, Prefetch(name, queryset=related.objects.order_by(order_by)))
        return
    through, source, target = field.remote_field.through, field.m2m_field_name(), field.m2m_reverse_field_name()
    stmt = prepared(("prefetch_many", model._meta.label, name, order_by), lambda pk: through.objects.filter(
        **{f"{source}__id__any": pk}).select_related(target).order_by(f"{target}__{order_by}", f"{target}__pk"))
    by_owner = {}
    for link in stmt.objects(pk=[i.pk for i in instances]):
        by_owner.setdefault(getattr(link, f"{source}_id"), []).append(getattr(link, target))
    for instance in instances:
        cached = QuerySet(related)
        cached._result_cache, cached._prefetch_done = by_owner.get(instance.pk, []), True
        if not hasattr(instance, "_prefetched_objects_cache"):
            instance._prefetched_objects_cache = {}
        instance._prefetched_objects_cache[field.name] = cached


def in_bigint(value: int) -> bool:
    """A value a bigint column could hold (anything else would be sent as numeric and compared as numeric)."""
    return -BIGINT <= value < BIGINT


def forget() -> None:
    """Drop every compiled statement (tests that change what a statement would compile to)."""
    with _lock:
        _cache.clear()
