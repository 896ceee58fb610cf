"""The persona city, built once and rolled back per test.

Building the street (nine grids, places, three residents, nine accounts) costs more than most tests that use it.
So each test process builds it once, inside a transaction of its own that stays open (`CitySnapshot`), and every
test that asks for `city` runs inside it as a savepoint (pytest-django's `db`, i.e. Django's `TestCase`, nests
its atomic block in ours) that is rolled back at the end of the test: the next test sees the city as built.

The `city` fixture hands out a deep copy of the built instances, so what a test changes in memory stays in that
test; what it changes in the database is rolled back with its savepoint.

The snapshot is closed (rolled back, so the database is empty again) before any test that must not see it:
  - a test that uses the database but not `city` (it expects the tables as migrations left them);
  - a transactional test (`transactional_db`, `live_server`, `django_db(transaction=True)`): its writes are
    committed and the tables flushed afterwards, which a transaction left open underneath cannot survive, and
    its other connections (live server, threads, workers) would not see uncommitted rows. Such tests build the
    city in the test itself, as before.
pytest-django runs the plain database tests first, then the transactional ones, then the rest, so a process
builds the city about once per run of consecutive city tests.

The city is built under the clock the test sees (`timezone.now` pinned by a fixture, or the real date): a test
under another clock gets a city built for it. When the snapshot cannot serve a test (another clock, a broken
connection), `city` builds the city inside the test, exactly as it always did: slower, never different.

Heavier worlds built on the city (the fuzzer's cases in every stage, a hand-computed visit history) can join the
snapshot as *layers*: `@layer(name)` registers a builder `build(city) -> value` under the name of the fixture
that uses it; a test whose fixtures include that name gets the snapshot built with the layer on top, and the fixture
takes a copy with `layer_value(request, name)` (None when the snapshot cannot serve: build it in the test).
"""

import copy
from dataclasses import dataclass

from django.utils import timezone

from gridcase.grids.choices import Level, Role

from . import factories as f

_REAL_NOW = timezone.now  # before any test pins the clock


@dataclass
class City:
    street: object
    community: object
    other_community: object
    grid: object
    micro: object
    sibling_micro: object
    other_grid: object
    other_micro: object
    dedicated: object
    building: object
    unit: object
    sibling_unit: object
    household: object
    sibling_household: object
    other_household: object
    resident: object
    sibling_resident: object
    other_resident: object
    worker: object
    sibling_worker: object
    grid_worker: object
    secretary: object
    outsider: object
    dispatcher: object
    viewer: object
    department: object
    officer: object
    admin: object


REFERENCE_DATA = [
    ("gridcase.grids.migrations.0002_default_tags", "create_tags"),
    ("gridcase.cases.migrations.0002_taxonomy", "forwards"),
    ("gridcase.cases.migrations.0003_category_copy_levels", "set_copies"),
    ("gridcase.visits.migrations.0002_default_cadences", "create_rules"),
    ("gridcase.cases.migrations.0004_calendar", "seed"),
]


def ensure_reference_data():
    """Transactional tests (live server, concurrency) flush the tables that data migrations filled —
    key-population tags, the case taxonomy, default cadences. Put them back, as a fresh install has them."""
    from importlib import import_module

    from django.apps import apps

    from gridcase.grids.models import Tag

    if Tag.objects.exists():
        return
    for module, function in REFERENCE_DATA:
        getattr(import_module(module), function)(apps, None)


def build_city() -> City:
    """A small street: two communities, grids and micro-grids, a school, places, three residents, and one
    account per persona."""
    ensure_reference_data()
    street = f.grid("ST", "八里街道", Level.STREET)
    community = f.grid("ST-BLZ", "八里庄社区", Level.COMMUNITY, street)
    other_community = f.grid("ST-HH", "和惠社区", Level.COMMUNITY, street)
    grid = f.grid("ST-BLZ-G01", "第一网格", Level.GRID, community)
    micro = f.grid("ST-BLZ-G01-M01", "第一微网格", Level.MICRO_GRID, grid)
    sibling_micro = f.grid("ST-BLZ-G01-M02", "第二微网格", Level.MICRO_GRID, grid)
    other_grid = f.grid("ST-HH-G01", "和惠一网格", Level.GRID, other_community)
    other_micro = f.grid("ST-HH-G01-M01", "和惠一微网格", Level.MICRO_GRID, other_grid)
    dedicated = f.grid("ST-BLZ-D01", "八里小学", Level.DEDICATED, community, kind="school")
    bldg = f.building(grid, "1栋")
    unit = f.unit(bldg, micro, "1单元")
    sibling_unit = f.unit(bldg, sibling_micro, "2单元")
    other_bldg = f.building(other_grid, "9栋")
    other_unit = f.unit(other_bldg, other_micro, "1单元")
    hh = f.household(unit, "101")
    sibling_hh = f.household(sibling_unit, "201")
    other_hh = f.household(other_unit, "301")
    res = f.resident(hh, "王秀英", phone="13812345678", tags=["elderly_alone"])
    sib_res = f.resident(sibling_hh, "李建国", phone="13900001111", id_number="110101195002021111")
    other_res = f.resident(other_hh, "赵敏", phone="13700002222", id_number="110101196003032222")
    worker = f.member(f.UserFactory(username="worker"), micro, Role.MICRO_GRID_WORKER)
    sibling_worker = f.member(f.UserFactory(username="sibling"), sibling_micro, Role.MICRO_GRID_WORKER)
    grid_worker = f.member(f.UserFactory(username="gridworker"), grid, Role.GRID_WORKER)
    secretary = f.member(f.UserFactory(username="secretary"), community, Role.SECRETARY)
    outsider = f.member(f.UserFactory(username="outsider"), other_community, Role.SECRETARY)
    dispatcher = f.member(f.UserFactory(username="dispatcher"), street, Role.STREET_DISPATCHER)
    viewer = f.member(f.UserFactory(username="viewer"), street, Role.VIEWER)
    dept = f.department(area=street)
    officer = f.officer(dept)
    admin = f.UserFactory(username="admin", is_superuser=True, is_staff=True)
    return City(street, community, other_community, grid, micro, sibling_micro, other_grid, other_micro, dedicated,
                bldg, unit, sibling_unit, hh, sibling_hh, other_hh, res, sib_res, other_res, worker, sibling_worker,
                grid_worker, secretary, outsider, dispatcher, viewer, dept, officer, admin)


def clock():
    """What the city's dates depend on: the pinned instant when a fixture pinned `timezone.now`, else today."""
    if timezone.now is _REAL_NOW:
        return ("today", timezone.localdate())
    return ("pinned", timezone.now())


def is_transactional(item) -> bool:
    """As pytest-django decides: a TransactionTestCase (commits, flushes) rather than a TestCase."""
    marker = item.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    names = set(getattr(item, "fixturenames", ()))
    return bool(names & {"transactional_db", "live_server", "django_db_reset_sequences"})


def wants_city(item) -> bool:
    return "city" in getattr(item, "fixturenames", ()) and not is_transactional(item)


LAYERS: dict = {}


def layer(name):
    """Register `build(city) -> value` as the snapshot layer `name` (the name of the fixture that uses it)."""

    def register(build):
        LAYERS[name] = build
        return build

    return register


def layers_of(item) -> tuple:
    names = set(getattr(item, "fixturenames", ()))
    return tuple(sorted(name for name in LAYERS if name in names))


def layer_value(request, name):
    """A copy of the layer `name` built in this test's snapshot, or None (then build it in the test)."""
    snapshot = request.getfixturevalue("_persona_snapshot")
    if not snapshot.serves() or name not in snapshot.layers:
        return None
    return copy.deepcopy(snapshot.layers[name])


def _order_class(item) -> int:
    """pytest-django's order: plain database tests, then transactional ones, then the rest."""
    if is_transactional(item):
        return 1
    if item.get_closest_marker("django_db") is not None or "db" in getattr(item, "fixturenames", ()):
        return 0
    return 2


def group_by_snapshot(items):
    """Within each run of consecutive tests of one module, put the tests that need the same snapshot (the city,
    its layers, or none) together, keeping their order otherwise: each switch costs a rebuild."""
    start = 0
    while start < len(items):
        end = start
        while end < len(items) and getattr(items[end], "module", None) is getattr(items[start], "module", None):
            end += 1
        items[start:end] = sorted(items[start:end],
                                  key=lambda it: (_order_class(it), not wants_city(it), layers_of(it)))
        start = end


class CitySnapshot:
    """The built city inside a transaction left open on the default connection."""

    def __init__(self, blocker):
        self.blocker = blocker
        self.conn = None  # the connection wrapper the transaction is open on
        self.atomic = None
        self.city = None
        self.clock = None
        self.layers = {}
        self.builds = 0

    # --- before a test's own transaction begins (pytest-django's _django_db_helper) ---

    def prepare(self, item):
        """Open (building the city) for a test that wants it; close for any other database test."""
        if not wants_city(item):
            self.close()
            return
        layers = layers_of(item)
        if self.atomic is not None and self.clock == clock() and tuple(self.layers) == layers and self._healthy():
            return
        self.close()
        self._open(layers)

    def _open(self, layers=()):
        from django.db import DEFAULT_DB_ALIAS, connections, transaction

        with self.blocker.unblock():
            self.conn = connections[DEFAULT_DB_ALIAS]
            atomic = transaction.atomic()
            atomic._from_testcase = True  # as Django's own class-level atomic: durable blocks inside are allowed
            atomic.__enter__()
            self.atomic = atomic
            try:
                self.clock = clock()
                self.city = build_city()
                for name in layers:
                    self.layers[name] = LAYERS[name](copy.deepcopy(self.city))
                self.builds += 1
            except BaseException:
                self.close()
                raise

    def _healthy(self) -> bool:
        from django.db import connection

        with self.blocker.unblock():
            return (self._current() and connection.in_atomic_block and connection.atomic_blocks[:1] == [self.atomic]
                    and len(connection.atomic_blocks) == 1 and not connection.needs_rollback
                    and not connection.closed_in_transaction and connection.is_usable())

    @staticmethod
    def _current_is(conn) -> bool:
        from django.db import DEFAULT_DB_ALIAS, connections

        return connections[DEFAULT_DB_ALIAS] is conn

    def _current(self) -> bool:
        """Is the snapshot's connection the one this code gets? Not always: with an event loop running in the
        thread (Playwright's sync API in the browser tests), Django hands out another connection object."""
        return self.conn is not None and self._current_is(self.conn)

    def close(self):
        """Roll the city back: the database is as the migrations left it."""
        from django.db import connection, transaction

        if self.atomic is None:
            return
        atomic, self.atomic, self.city, self.clock, self.layers = self.atomic, None, None, None, {}
        conn, self.conn = self.conn, None
        if not self._current_is(conn):
            # Out of reach of this context's transaction API: end the session, the server rolls back (and frees
            # the tree's advisory lock, which other connections would otherwise wait for); the wrapper reconnects
            # with a clean state when it is next used.
            if conn.connection is not None:
                conn.connection.close()
                conn.connection = None
            return
        with self.blocker.unblock():
            if connection.in_atomic_block and connection.atomic_blocks[:1] == [atomic]:
                # Leave whatever a test left open inside ours, then ours (a broken connection is closed).
                while len(connection.atomic_blocks) > 1:
                    transaction.set_rollback(True)
                    connection.atomic_blocks[-1].__exit__(None, None, None)
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)

    # --- inside the test ---

    def serves(self) -> bool:
        """The test runs inside this snapshot (its savepoint above ours) and under the clock it was built for."""
        from django.db import connection

        return (self.atomic is not None and self._current() and connection.in_atomic_block
                and connection.atomic_blocks[:1] == [self.atomic] and self.clock == clock())

    def fresh_city(self) -> City:
        """The built instances, copied: a test's changes to them in memory stay in that test."""
        return copy.deepcopy(self.city)
