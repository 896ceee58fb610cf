"""Monthly partitions (gridcase/core/partitions.py, PostgreSQL only): case events, hops, visits and
notifications are partitioned by month; a row lands in its month's partition (or the default one); the daily
command creates the next months once and moves rows waiting in the default partition; a time range reads
only its partitions; the unique keys the partition key cannot carry still hold; the conversion of a plain
table keeps its rows, ids, constraints and indexes."""

import uuid
from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from gridcase.cases.models import CaseEvent
from gridcase.core import partitions
from gridcase.notifications.models import Delivery, Notification
from gridcase.notifications.services import notify
from gridcase.visits import services as visits
from gridcase.visits.models import Visit
from tests.cases.conftest import case_maker, category  # noqa: F401 - the category fixture

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL only")

SH = ZoneInfo("Asia/Shanghai")


def sql(query, params=()):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else None


@pytest.fixture
def make_case(city, category):  # noqa: F811
    return case_maker(city, category)


def home_of(model, pk):
    """The partition a row is stored in."""
    table = model._meta.db_table
    return sql(f'SELECT tableoid::regclass::text FROM "{table}" WHERE id = %s', [pk])[0][0]


def event(case, at):
    return CaseEvent.objects.create(case=case, action="comment", version=case.version, comment="x", at=at)


def visit_data(resident, when, client_uuid=None):
    return {"client_uuid": client_uuid or uuid.uuid4(), "resident": resident, "kind": "phone", "visited_at": when,
            "wellbeing": "good", "findings": ""}


@pytest.mark.django_db
def test_the_four_tables_are_partitioned_by_month_with_a_default_partition():
    rows = dict(sql("SELECT c.relname, p.partstrat FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid"))
    for table in ("cases_caseevent", "cases_casehop", "visits_visit", "notifications_notification"):
        assert rows.get(table) == "r", table  # range
        names = set(partitions.partitions(connection.cursor(), table))
        this_month = partitions.month_of(timezone.now())
        assert f"{table}_default" in names
        assert {partitions.partition_name(table, partitions.add_months(this_month, n)) for n in range(4)} <= names


@pytest.mark.django_db
def test_a_row_lands_in_its_months_partition_and_an_old_one_in_the_default(city, make_case):
    case = make_case()
    now = timezone.now()
    recent = event(case, now)
    ancient = event(case, datetime(2001, 5, 3, tzinfo=SH))
    assert home_of(CaseEvent, recent.pk) == partitions.partition_name("cases_caseevent", partitions.month_of(now))
    assert home_of(CaseEvent, ancient.pk) == "cases_caseevent_default"
    # The ORM still addresses rows by id alone, wherever they are stored.
    assert CaseEvent.objects.get(pk=ancient.pk).at.year == 2001
    # The daily command gives the waiting rows their months; a month's first local instant belongs to that
    # month (months are Asia/Shanghai months: 00:00 on 1 January there is still December in UTC).
    edge = event(case, datetime(2001, 6, 1, 0, 0, tzinfo=SH))
    call_command("partitions", stdout=StringIO())
    assert home_of(CaseEvent, ancient.pk) == "cases_caseevent_p200105"
    assert home_of(CaseEvent, edge.pk) == "cases_caseevent_p200106"


@pytest.mark.django_db
def test_the_command_creates_the_next_months_once():
    out = StringIO()
    call_command("partitions", ahead=6, stdout=out)
    month = partitions.add_months(partitions.month_of(timezone.now()), 6)
    made = [line for line in out.getvalue().splitlines() if line.endswith(": created")]
    assert f"visits_visit_p{month:%Y%m}: created" in made and len(made) == 4 * 3  # months +4, +5, +6 per table
    assert partitions.partition_name("notifications_notification", month) in partitions.partitions(
        connection.cursor(), "notifications_notification")
    again = StringIO()
    call_command("partitions", ahead=6, stdout=again)
    assert again.getvalue().strip() == "partitions: all in place"


@pytest.mark.django_db
def test_rows_waiting_in_the_default_partition_move_into_their_new_month(city, make_case, settings):
    settings.NOTIFICATION_CHANNELS = ["email"]
    case = make_case()
    when = datetime(2003, 2, 10, 9, tzinfo=SH)
    ev = event(case, when)
    data = visit_data(city.resident, when)
    visit, created = visits.record_visit(city.worker, data)
    assert created and home_of(Visit, visit.pk) == "visits_visit_default"
    made = partitions.ensure(connection, ahead=0, now=when)
    moved = {m.partition: m.moved for m in made}
    assert moved["cases_caseevent_p200302"] == 1 and moved["visits_visit_p200302"] == 1
    assert home_of(CaseEvent, ev.pk) == "cases_caseevent_p200302"
    assert home_of(Visit, visit.pk) == "visits_visit_p200302"
    # The moved visit is still the one its client_uuid names: a resend replays it, nothing is stored twice.
    again, created = visits.record_visit(city.worker, data)
    assert not created and again.pk == visit.pk
    assert Visit.objects.filter(client_uuid=data["client_uuid"]).count() == 1
    assert partitions.ensure(connection, ahead=0, now=when) == []


@pytest.mark.django_db
def test_a_time_range_reads_only_its_months_partitions(city, make_case):
    case = make_case()
    partitions.ensure(connection, ahead=0, now=datetime(2004, 3, 5, tzinfo=SH))
    partitions.ensure(connection, ahead=0, now=datetime(2004, 4, 5, tzinfo=SH))
    lo, hi = datetime(2004, 3, 1, tzinfo=SH), datetime(2004, 4, 1, tzinfo=SH)
    plan = CaseEvent.objects.filter(at__gte=lo, at__lt=hi).explain()
    assert "cases_caseevent_p200403" in plan
    assert "cases_caseevent_p200404" not in plan and "cases_caseevent_default" not in plan
    assert partitions.partition_name("cases_caseevent", partitions.month_of(timezone.now())) not in plan
    # Without a time range every partition is read (the timeline of a case, by its index on each).
    assert "cases_caseevent_p200404" in CaseEvent.objects.filter(case=case).explain()


@pytest.mark.django_db
def test_a_notification_is_stored_and_sent_once_per_dedupe_key(city, settings):
    settings.NOTIFICATION_CHANNELS = ["email"]
    assert notify([city.worker], "other", "停水通知", dedupe_key="water:1") == 1
    assert notify([city.worker], "other", "停水通知", dedupe_key="water:1") == 0
    # A racing second insert (the check before it saw nothing) is skipped, as ON CONFLICT DO NOTHING did.
    Notification.objects.bulk_create([Notification(recipient=city.worker, kind="other", title="停水通知",
                                                   dedupe_key="water:1")], ignore_conflicts=True)
    assert Notification.objects.filter(recipient=city.worker, dedupe_key="water:1").count() == 1
    assert Delivery.objects.filter(notification__dedupe_key="water:1").count() == 1
    # Another recipient, or another key, is another notification.
    assert notify([city.secretary, city.worker], "other", "停水通知", dedupe_key="water:1") == 1
    assert notify([city.worker], "other", "停水通知", dedupe_key="water:2") == 1


def resent_elsewhere(first, city):
    """A second visit with the client_uuid of `first`, in another month."""
    return Visit(client_uuid=first.client_uuid, content_hash="x", visitor=city.worker, resident=city.resident,
                 household=city.resident.household, grid=first.grid, kind="phone",
                 visited_at=datetime(2002, 1, 1, tzinfo=SH), wellbeing="good")


@pytest.mark.django_db
def test_a_visit_client_uuid_stays_unique_even_in_another_month(city):
    first, _ = visits.record_visit(city.worker, visit_data(city.resident, timezone.now()))
    with pytest.raises(IntegrityError), transaction.atomic():
        resent_elsewhere(first, city).save(force_insert=True)
    # The key and time of a stored visit never change (the key table stays true).
    with pytest.raises(Exception, match="never change"), transaction.atomic():
        Visit.objects.filter(pk=first.pk).update(visited_at=datetime(2002, 1, 1, tzinfo=SH))


@pytest.mark.django_db
def test_deleting_a_user_deletes_their_notifications_deliveries_and_keys(city, settings):
    settings.NOTIFICATION_CHANNELS = ["email"]
    notify([city.viewer], "other", "演练", dedupe_key="drill")
    pk = Notification.objects.get(recipient=city.viewer).pk
    assert Delivery.objects.filter(notification_id=pk).exists()
    uid = city.viewer.pk
    city.viewer.delete()
    assert not Notification.objects.filter(pk=pk).exists()
    assert not Delivery.objects.filter(notification_id=pk).exists()  # no orphan: the ORM cascades
    assert sql("SELECT count(*) FROM notifications_notification_key WHERE recipient_id = %s", [uid]) == [(0,)]


@pytest.mark.django_db
def test_converting_a_plain_table_keeps_rows_ids_constraints_indexes_and_unique_keys(monkeypatch):
    table = "h_partition_probe"
    sql(f"""CREATE TABLE {table} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            at timestamptz NOT NULL, who integer REFERENCES auth_user(id), token uuid NOT NULL UNIQUE,
            n integer NOT NULL CHECK (n >= 0))""")
    sql(f"CREATE INDEX {table}_n_idx ON {table} (n, at)")
    sql(f"INSERT INTO {table} (at, token, n) SELECT timestamptz '2005-01-20' + i * interval '20 days', "
        f"gen_random_uuid(), i FROM generate_series(1, 6) i")
    monkeypatch.setitem(partitions.TABLES, table, "at")
    monkeypatch.setitem(partitions.KEYS, table, partitions.Key(f"{table}_key", ("token",), "row_id", "raise"))

    result = partitions.convert(connection, table, ahead=1, now=datetime(2005, 3, 1, tzinfo=SH))
    assert result["rows"] == 6
    assert partitions.is_partitioned(connection.cursor(), table)
    assert partitions.convert(connection, table) == {}  # twice is nothing
    homes = dict(sql(f"SELECT n, tableoid::regclass::text FROM {table}"))
    assert homes[1] == f"{table}_p200502" and homes[6] == f"{table}_p200505"  # 2005-02-09 … 2005-05-10
    assert len(partitions.partitions(connection.cursor(), table)) == 4 + 1
    # The id sequence continues after the copied ids; defaults, checks and foreign keys hold.
    (new_id,) = sql(f"INSERT INTO {table} (at, token, n) VALUES (now(), gen_random_uuid(), 7) RETURNING id")[0]
    assert new_id == 7
    for bad in (f"INSERT INTO {table} (at, token, n) VALUES (now(), gen_random_uuid(), -1)",
                f"INSERT INTO {table} (at, token, n, who) VALUES (now(), gen_random_uuid(), 1, -5)",
                f"INSERT INTO {table} (at, token, n) SELECT '2001-01-01', token, 1 FROM {table} WHERE n = 1"):
        with pytest.raises(IntegrityError), transaction.atomic():
            sql(bad)
            sql("SET CONSTRAINTS ALL IMMEDIATE")
    indexes = {name for (name,) in sql("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])}
    assert {f"{table}_pkey", f"{table}_n_idx"} <= indexes
    assert sql("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s", [f"{table}_pkey"]) == [
        ("PRIMARY KEY (id, at)",)]
    assert date(2005, 4, 1) in partitions.months(connection.cursor(), table)


@pytest.mark.django_db
def test_a_table_held_by_a_long_reader_is_left_for_the_next_run(monkeypatch):
    """The daily job waits a little for a busy table, then leaves it (requests must not queue behind it)."""
    import psycopg

    monkeypatch.setattr(partitions, "LOCK_TIMEOUT", "200ms")
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k not in ("cursor_factory", "context")}) as other:
        other.execute("LOCK TABLE cases_casehop IN ACCESS SHARE MODE")  # an export reading hops
        out = StringIO()
        with pytest.raises(CommandError, match="busy"):
            call_command("partitions", ahead=5, stdout=out)
        month = partitions.add_months(partitions.month_of(timezone.now()), 5)
        assert f"cases_casehop_p{month:%Y%m}: not created, the table was busy (run again)" in out.getvalue()
        assert f"visits_visit_p{month:%Y%m}: created" in out.getvalue()  # the other tables went on
    out = StringIO()
    call_command("partitions", ahead=5, stdout=out)
    assert out.getvalue().splitlines()[:2] == [f"cases_casehop_p{partitions.add_months(month, -1):%Y%m}: created",
                                               f"cases_casehop_p{month:%Y%m}: created"]


def schema_of(table):
    """What a table promises: its columns, constraints (by definition) and indexes (by name and columns)."""
    columns = sql("SELECT column_name, data_type, is_nullable, is_identity FROM information_schema.columns "
                  "WHERE table_name = %s ORDER BY ordinal_position", [table])
    constraints = sorted(sql("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                             "WHERE conrelid = %s::regclass", [table]))
    indexes = sorted(sql("SELECT indexname, regexp_replace(indexdef, ' ON (ONLY )?\\S+ ', ' ON t ') "
                         "FROM pg_indexes WHERE tablename = %s", [table]))
    return columns, constraints, indexes


@pytest.mark.django_db
def test_the_migrations_way_back_gives_plain_tables_and_forward_again_the_same_partitioned_ones(city, make_case):
    """`migrate` backwards (unconvert) and forwards (convert) on the real tables: rows and ids kept, the plain
    tables' keys back (a resent visit still refused, a notification still stored once), then the partitioned
    schema exactly as before."""
    case = make_case()
    event(case, timezone.now())
    notify([city.worker], "case_assigned", "x", dedupe_key="round-trip")
    first, _ = visits.record_visit(city.worker, visit_data(city.resident, timezone.now()))
    before = {t: schema_of(t) for t in partitions.TABLES}
    counts = {t: sql(f'SELECT count(*), max(id) FROM "{t}"')[0] for t in partitions.TABLES}
    sql("SET CONSTRAINTS ALL IMMEDIATE")  # as a migration starts: no deferred check pending on the tables

    assert [r["table"] for r in partitions.unconvert_all(connection)] == list(partitions.TABLES)
    for table in partitions.TABLES:
        assert not partitions.is_partitioned(connection.cursor(), table)
        assert sql(f'SELECT count(*), max(id) FROM "{table}"')[0] == counts[table]
    assert sql("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'cases_caseevent_pkey'") == [
        ("PRIMARY KEY (id)",)]
    assert not sql("SELECT 1 FROM pg_class WHERE relname IN ('visits_visit_key', 'notifications_notification_key')")
    # The plain tables hold their keys as constraints again.
    assert notify([city.worker], "case_assigned", "x", dedupe_key="round-trip") == 0
    with pytest.raises(IntegrityError), transaction.atomic():
        resent_elsewhere(first, city).save(force_insert=True)
    new_event = event(case, timezone.now())
    assert new_event.pk > counts["cases_caseevent"][1]  # the id sequence went on

    sql("SET CONSTRAINTS ALL IMMEDIATE")
    partitions.convert_all(connection)
    after = {t: schema_of(t) for t in partitions.TABLES}
    assert after == before
