"""Monthly partitions (PostgreSQL declarative range partitioning) for the big append-only tables.

Case events, case hops, visits and notifications grow by tens of millions of rows a year in a city and are
read by time: a timeline, a month's figures, an inbox. Each is a table `PARTITION BY RANGE (<time column>)`
with one partition per month (`<table>_pYYYYMM`, months in settings.TIME_ZONE) and a DEFAULT partition, so
an insert never fails for a month nobody created. Queries that name a time range read only that range's
partitions (pruning); queries without one read every partition, as before.

- `convert(connection, table)`: today's plain table → partitioned, in the migration (PostgreSQL only):
  new table, partitions for the data's months and the next ones, rows copied, names swapped, constraints
  and indexes recreated, the id identity continued. The primary key becomes (id, time) — PostgreSQL wants
  the partition key in every unique key; the ORM keeps `id` as the primary key.
- `ensure(connection)`: the daily job (`manage.py partitions`, beat `ensure-partitions`) creates the next
  months' partitions; rows that landed in the default partition meanwhile are moved into their month's new
  partition. Idempotent: a second run creates nothing.
- `unconvert(connection, table)`: the way back (the migrations' reverse), one plain table again.

Unique keys that cannot include the time column keep holding through a small unpartitioned key table
filled by a trigger on every insert, in the inserting transaction (`KEYS`):
- visits: `client_uuid` (a phone's resend) → `visits_visit_key`; a second insert of a client_uuid fails
  with a unique violation, as the column's UNIQUE did (record_visit reads the winner's row);
- notifications: (recipient, dedupe_key) → `notifications_notification_key`; a second insert is skipped
  silently, as `INSERT … ON CONFLICT DO NOTHING` did (notify's bulk_create), so an event notifies once
  even when two workers send it at the same time (the second waits on the key's index, then skips).
Their key and time columns never change (a trigger refuses it): the key table always matches the rows.
Rows are deleted through the ORM, which deletes a notification's deliveries first (Delivery's foreign key
has no database constraint: PostgreSQL cannot reference `id` alone on a partitioned table).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import OperationalError, transaction
from django.utils import timezone

# table → its time column (the partition key)
TABLES = {
    "cases_caseevent": "at",
    "cases_casehop": "started_at",
    "visits_visit": "visited_at",
    "notifications_notification": "created_at",
}
MONTHS_AHEAD = 3  # partitions that exist ahead of today (the daily job keeps it so)
LOCK_TIMEOUT = "5s"  # the daily job's wait for a table (then it retries the next day)
MOVING = "gridcase.partition_move"  # transaction setting: rows are being moved, the key triggers stand aside


@dataclass(frozen=True)
class Key:
    table: str  # the unpartitioned key table
    columns: tuple[str, ...]  # the unique key on the partitioned table
    ref: str  # the key table's column holding the row's id
    on_duplicate: str  # "raise" (unique violation) or "skip" (the insert is dropped: ON CONFLICT DO NOTHING)


KEYS = {
    "visits_visit": Key("visits_visit_key", ("client_uuid",), "visit_id", "raise"),
    "notifications_notification": Key("notifications_notification_key", ("recipient_id", "dedupe_key"),
                                      "notification_id", "skip"),
}


def applies(connection) -> bool:
    return connection.vendor == "postgresql"


# --- months ----------------------------------------------------------------------------------------------

def month_of(moment: datetime) -> date:
    local = timezone.localtime(moment, ZoneInfo(settings.TIME_ZONE))
    return date(local.year, local.month, 1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def bound(month: date) -> str:
    """The month's first instant in settings.TIME_ZONE, as a timestamptz literal."""
    return datetime(month.year, month.month, 1, tzinfo=ZoneInfo(settings.TIME_ZONE)).isoformat()


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month:%Y%m}"


def default_name(table: str) -> str:
    return f"{table}_default"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- inspection ------------------------------------------------------------------------------------------

def is_partitioned(cursor, table: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
                   "WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace", [table])
    return cursor.fetchone() is not None


def partitions(cursor, table: str) -> list[str]:
    cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                   "WHERE i.inhparent = %s::regclass ORDER BY c.relname", [table])
    return [name for (name,) in cursor.fetchall()]


def months(cursor, table: str) -> set[date]:
    pattern = re.compile(re.escape(table) + r"_p(\d{4})(\d{2})$")
    found = set()
    for name in partitions(cursor, table):
        m = pattern.match(name)
        if m:
            found.add(date(int(m[1]), int(m[2]), 1))
    return found


def _months_between(first: date, last: date) -> list[date]:
    out, month = [], first
    while month <= last:
        out.append(month)
        month = add_months(month, 1)
    return out


# --- the daily job ---------------------------------------------------------------------------------------

@dataclass
class Made:
    table: str
    partition: str
    moved: int  # rows moved out of the default partition
    busy: bool = False  # not made: the table stayed locked by others past LOCK_TIMEOUT (the next run retries)


def create_month(cursor, table: str, month: date) -> Made:
    """Create one month's partition; rows of that month waiting in the default partition move into it.
    Call inside a transaction: the table stays locked until commit (as creating a partition needs anyway), so
    no row of the month can land in the default partition in between. The lock is taken on the table first,
    in the order queries take theirs (no deadlock), and waits at most LOCK_TIMEOUT: a long export holding the
    table must not queue every request behind the daily job."""
    column, name, default = TABLES[table], partition_name(table, month), default_name(table)
    lo, hi = bound(month), bound(add_months(month, 1))
    cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    cursor.execute(f"LOCK TABLE {_q(table)} IN ACCESS EXCLUSIVE MODE")
    cursor.execute(f"SELECT count(*) FROM {_q(default)} WHERE {_q(column)} >= %s AND {_q(column)} < %s", [lo, hi])
    waiting = cursor.fetchone()[0]
    if not waiting:
        cursor.execute(f"CREATE TABLE {_q(name)} PARTITION OF {_q(table)} FOR VALUES FROM (%s) TO (%s)", [lo, hi])
        return Made(table, name, 0)
    # PostgreSQL refuses a partition whose rows still sit in the default one: move them first (the key
    # triggers stand aside: the rows, their keys and their deliveries stay what they were).
    cursor.execute(f"SET LOCAL {MOVING} = 'on'")
    cursor.execute(f"CREATE TABLE {_q(name)} (LIKE {_q(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    cursor.execute(f"WITH moved AS (DELETE FROM {_q(default)} WHERE {_q(column)} >= %s AND {_q(column)} < %s "
                   f"RETURNING *) INSERT INTO {_q(name)} SELECT * FROM moved", [lo, hi])
    moved = cursor.rowcount
    cursor.execute(f"ALTER TABLE {_q(table)} ATTACH PARTITION {_q(name)} FOR VALUES FROM (%s) TO (%s)", [lo, hi])
    cursor.execute(f"SET LOCAL {MOVING} = 'off'")
    return Made(table, name, moved)


def ensure(connection, ahead: int = MONTHS_AHEAD, now: datetime | None = None) -> list[Made]:
    """Partitions for this month and the next `ahead` ones, and for every month with rows in the default
    partition. Returns what was made (nothing when all exist). Tables not yet converted are skipped."""
    if not applies(connection):
        return []
    current = month_of(now or timezone.now())
    made = []
    for table, column in TABLES.items():
        with connection.cursor() as cursor:
            if not is_partitioned(cursor, table):
                continue
            have = months(cursor, table)
            cursor.execute(f"SELECT DISTINCT date_trunc('month', {_q(column)} AT TIME ZONE %s)::date "
                           f"FROM {_q(default_name(table))}", [settings.TIME_ZONE])
            stray = {m for (m,) in cursor.fetchall()}
        wanted = sorted(({add_months(current, n) for n in range(ahead + 1)} | stray) - have)
        for month in wanted:
            try:
                with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                    made.append(create_month(cursor, table, month))
            except OperationalError as exc:
                if getattr(exc.__cause__, "sqlstate", None) != "55P03":  # lock_not_available
                    raise
                made.append(Made(table, partition_name(table, month), 0, busy=True))
    return made


# --- the conversion (migration) --------------------------------------------------------------------------

def _key_sql(table: str, key: Key, column: str) -> list[str]:
    """The key table, filled from the rows, and the triggers that keep it: insert, delete, truncate, and a
    guard that refuses changing the key or the time column."""
    cols = ", ".join(_q(c) for c in key.columns)
    new = ", ".join(f"NEW.{_q(c)}" for c in key.columns)
    match_old = " AND ".join(f"{_q(c)} = OLD.{_q(c)}" for c in key.columns)
    fn = f"{table}_key_sync"
    if key.on_duplicate == "skip":
        on_insert = (f"INSERT INTO {_q(key.table)} ({cols}, {_q(key.ref)}) VALUES ({new}, NEW.id) "
                     f"ON CONFLICT DO NOTHING; IF NOT FOUND THEN RETURN NULL; END IF;")
    else:
        on_insert = f"INSERT INTO {_q(key.table)} ({cols}, {_q(key.ref)}) VALUES ({new}, NEW.id);"
    changed = " OR ".join(f"NEW.{_q(c)} IS DISTINCT FROM OLD.{_q(c)}" for c in (*key.columns, column))
    return [
        f"CREATE TABLE {_q(key.table)} AS SELECT {cols}, id AS {_q(key.ref)} FROM {_q(table)}",
        f"ALTER TABLE {_q(key.table)} ADD CONSTRAINT {_q(key.table + '_once')} PRIMARY KEY ({cols})",
        f"ALTER TABLE {_q(key.table)} ALTER COLUMN {_q(key.ref)} SET NOT NULL",
        f"""CREATE FUNCTION {_q(fn)}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('{MOVING}', true) = 'on' THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  END IF;
  IF TG_OP = 'INSERT' THEN
    {on_insert}
    RETURN NEW;
  ELSIF TG_OP = 'UPDATE' THEN
    IF {changed} THEN
      RAISE EXCEPTION '{table}: the unique key and the time column of a row never change';
    END IF;
    RETURN NEW;
  ELSE
    DELETE FROM {_q(key.table)} WHERE {match_old} AND {_q(key.ref)} = OLD.id;
    RETURN OLD;
  END IF;
END $$""",
        f"CREATE FUNCTION {_q(fn + '_truncate')}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN TRUNCATE {_q(key.table)}; RETURN NULL; END $$",
        f"CREATE TRIGGER {_q(table + '_key_insert')} BEFORE INSERT ON {_q(table)} "
        f"FOR EACH ROW EXECUTE FUNCTION {_q(fn)}()",
        f"CREATE TRIGGER {_q(table + '_key_update')} BEFORE UPDATE ON {_q(table)} "
        f"FOR EACH ROW EXECUTE FUNCTION {_q(fn)}()",
        f"CREATE TRIGGER {_q(table + '_key_delete')} AFTER DELETE ON {_q(table)} "
        f"FOR EACH ROW EXECUTE FUNCTION {_q(fn)}()",
        f"CREATE TRIGGER {_q(table + '_key_truncate')} AFTER TRUNCATE ON {_q(table)} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {_q(fn + '_truncate')}()",
        # Bulk loads run with session_replication_role = replica (gridcase.core.bulk): the keys still hold.
        *(f"ALTER TABLE {_q(table)} ENABLE ALWAYS TRIGGER {_q(table + suffix)}"
          for suffix in ("_key_insert", "_key_update", "_key_delete", "_key_truncate")),
    ]


def convert(connection, table: str, ahead: int = MONTHS_AHEAD, now: datetime | None = None) -> dict:
    """Turn a plain table into a monthly-partitioned one with the same rows, name, columns, constraints,
    indexes and id sequence. No-op (returns {}) elsewhere than PostgreSQL or when already partitioned.
    Runs in the caller's transaction (the migration's) with the table locked."""
    if not applies(connection):
        return {}
    column, old = TABLES[table], f"{table}__old"
    key = KEYS.get(table)
    with connection.cursor() as cursor:
        if is_partitioned(cursor, table):
            return {}
        cursor.execute(f"LOCK TABLE {_q(table)} IN ACCESS EXCLUSIVE MODE")
        cursor.execute("SELECT conname, conrelid::regclass::text FROM pg_constraint "
                       "WHERE confrelid = %s::regclass AND contype = 'f'", [table])
        incoming = cursor.fetchall()
        if incoming:
            raise RuntimeError(f"{table}: foreign keys point at it ({incoming}); a partitioned table's id alone "
                               f"is not unique, make them db_constraint=False first")
        cursor.execute("SELECT conname, contype, pg_get_constraintdef(oid), "
                       "ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = conrelid AND attnum = ANY(conkey)) "
                       "FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f', 'x')", [table])
        constraints = cursor.fetchall()
        cursor.execute("SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), i.indisunique, "
                       "ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = i.indrelid AND attnum = ANY(i.indkey)) "
                       "FROM pg_index i WHERE i.indrelid = %s::regclass "
                       "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)", [table])
        indexes = cursor.fetchall()
        for name, kind, _definition, cols in constraints:
            if kind in "ux" and column not in cols and not (key and set(cols) == set(key.columns)):
                raise RuntimeError(f"{table}: unique constraint {name} {cols} lacks {column} and has no key table")
        for name, _definition, unique, cols in indexes:
            if unique and column not in cols:
                raise RuntimeError(f"{table}: unique index {name} {cols} lacks {column}")
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (sequence,) = cursor.fetchone()
        cursor.execute(f"SELECT last_value + CASE WHEN is_called THEN 1 ELSE 0 END FROM {sequence}")
        (next_id,) = cursor.fetchone()
        cursor.execute(f"SELECT min({_q(column)}), max({_q(column)}), count(*) FROM {_q(table)}")
        first, last, rows = cursor.fetchone()

        # The old table steps aside and gives up its names (constraints, indexes, the id sequence).
        cursor.execute(f"ALTER TABLE {_q(table)} RENAME TO {_q(old)}")
        for name, _kind, _definition, _cols in constraints:
            cursor.execute(f"ALTER TABLE {_q(old)} DROP CONSTRAINT {_q(name)}")
        for name, _definition, _unique, _cols in indexes:
            cursor.execute(f"DROP INDEX {name}")
        cursor.execute(f"ALTER TABLE {_q(old)} ALTER COLUMN id DROP IDENTITY IF EXISTS")
        cursor.execute(f"ALTER TABLE {_q(old)} ALTER COLUMN id DROP DEFAULT")
        cursor.execute(f"DROP SEQUENCE IF EXISTS {sequence}")

        cursor.execute(f"CREATE TABLE {_q(table)} (LIKE {_q(old)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                       f"INCLUDING STORAGE INCLUDING COMMENTS) PARTITION BY RANGE ({_q(column)})")
        cursor.execute(f"ALTER TABLE {_q(table)} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY "
                       f"(SEQUENCE NAME {sequence} START WITH {int(next_id)})")
        cursor.execute(f"CREATE TABLE {_q(default_name(table))} PARTITION OF {_q(table)} DEFAULT")
        current = month_of(now or timezone.now())
        span = _months_between(min(month_of(first), current) if first else current,
                               max(add_months(current, ahead), month_of(last) if last else current))
        for month in span:
            cursor.execute(f"CREATE TABLE {_q(partition_name(table, month))} PARTITION OF {_q(table)} "
                           f"FOR VALUES FROM (%s) TO (%s)", [bound(month), bound(add_months(month, 1))])
        cursor.execute(f"INSERT INTO {_q(table)} SELECT * FROM {_q(old)}")

        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(table + '_pkey')} PRIMARY KEY (id, {_q(column)})")
        for name, kind, definition, cols in constraints:
            if kind == "f" or (kind in "ux" and column in cols):
                cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}")
        for _name, definition, _unique, _cols in indexes:
            cursor.execute(re.sub(r" ON (ONLY )?(\w+\.)?\"?" + re.escape(old) + r"\"? ", f" ON {_q(table)} ",
                                  definition, count=1))
        if key:
            for statement in _key_sql(table, key, column):
                cursor.execute(statement)
        cursor.execute(f"DROP TABLE {_q(old)}")
        cursor.execute(f"ANALYZE {_q(table)}")
    return {"table": table, "rows": rows, "partitions": len(span) + 1}


def convert_all(connection, tables=None, **kwargs) -> list[dict]:
    return [r for r in (convert(connection, t, **kwargs) for t in (tables or TABLES)) if r]


# The names the unique keys had as plain tables' constraints (a field's `unique=True` as PostgreSQL names it,
# a model's UniqueConstraint by its name): the way back restores them.
PLAIN_UNIQUE = {"visits_visit": "visits_visit_client_uuid_key", "notifications_notification": "notification_once"}


def unconvert(connection, table: str) -> dict:
    """The way back (the migrations' reverse): a partitioned table becomes one plain table again with the same
    rows, ids, foreign keys, indexes and id sequence, its primary key `id` alone and its unique key a
    constraint again (the key table and its triggers dropped). No-op (returns {}) when not partitioned."""
    if not applies(connection):
        return {}
    part = f"{table}__part"
    key = KEYS.get(table)
    with connection.cursor() as cursor:
        if not is_partitioned(cursor, table):
            return {}
        cursor.execute(f"LOCK TABLE {_q(table)} IN ACCESS EXCLUSIVE MODE")
        cursor.execute("SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                       "WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f', 'x') AND conparentid = 0",
                       [table])
        constraints = cursor.fetchall()
        cursor.execute("SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                       "FROM pg_index i WHERE i.indrelid = %s::regclass "
                       "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)", [table])
        indexes = cursor.fetchall()
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (sequence,) = cursor.fetchone()
        cursor.execute(f"SELECT last_value + CASE WHEN is_called THEN 1 ELSE 0 END FROM {sequence}")
        (next_id,) = cursor.fetchone()

        cursor.execute(f"ALTER TABLE {_q(table)} RENAME TO {_q(part)}")
        for name, _kind, _definition in constraints:
            cursor.execute(f"ALTER TABLE {_q(part)} DROP CONSTRAINT {_q(name)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        cursor.execute(f"ALTER TABLE {_q(part)} ALTER COLUMN id DROP IDENTITY IF EXISTS")

        cursor.execute(f"CREATE TABLE {_q(table)} (LIKE {_q(part)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                       f"INCLUDING STORAGE INCLUDING COMMENTS)")
        cursor.execute(f"ALTER TABLE {_q(table)} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY "
                       f"(SEQUENCE NAME {sequence} START WITH {int(next_id)})")
        cursor.execute(f"INSERT INTO {_q(table)} SELECT * FROM {_q(part)}")
        rows = cursor.rowcount
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(table + '_pkey')} PRIMARY KEY (id)")
        for name, kind, definition in constraints:
            if kind != "p":
                cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}")
        if key:
            cols = ", ".join(_q(c) for c in key.columns)
            cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(PLAIN_UNIQUE[table])} UNIQUE ({cols})")
        for _name, definition in indexes:
            cursor.execute(re.sub(r" ON (ONLY )?(\w+\.)?\"?" + re.escape(table) + r"\"? ", f" ON {_q(table)} ",
                                  definition, count=1))
        cursor.execute(f"DROP TABLE {_q(part)} CASCADE")
        if key:
            fn = f"{table}_key_sync"
            cursor.execute(f"DROP TABLE {_q(key.table)}")
            cursor.execute(f"DROP FUNCTION {_q(fn)}(), {_q(fn + '_truncate')}()")
        cursor.execute(f"ANALYZE {_q(table)}")
    return {"table": table, "rows": rows}


def unconvert_all(connection, tables=None) -> list[dict]:
    return [r for r in (unconvert(connection, t) for t in (tables or TABLES)) if r]
