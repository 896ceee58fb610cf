"""Writing many rows fast: the COPY and bulk-mode helpers every seeder and the stats rollups share.

- `copy_rows(model, columns, rows)`: PostgreSQL COPY; elsewhere (SQLite) executemany in batches.
- `CopyTable`: rows for one model, with every column the caller does not compute at its default.
- `CopyPipeline`: on PostgreSQL, COPY one batch in a worker thread while the caller computes the next.
- `copy_text(rows)` / `CopyTable.text(rows)`: rows in COPY's text format, for callers that format rows once and
  write them many times (the city's case replicas); a batch of such text is written as it is.
- `next_id` / `reset_sequence`: explicit primary keys before a load, the id sequence moved past them after.
- `bulk_mode(models)` / `restore_indexes(defs)`: for very large loads on PostgreSQL, skip foreign-key
  triggers and drop the secondary indexes for the rest of the transaction, then rebuild them once.
- `SideLoad(models)`: the same for some tables on a second connection, which a `CopyPipeline` writes beside the
  caller's (two cores parsing COPY instead of one).
- `analyze(models)`: fresh planner statistics after a load.

No model `save()` or signal runs for rows written here: the caller computes every column.
"""

import json
import queue
import threading
import time
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import NOT_PROVIDED, Max
from psycopg._copy_base import format_row_text  # psycopg's COPY text formatter (its version is pinned)
from psycopg.adapt import Transformer


def copy_rows(model, columns: list[str], rows, batch: int = 50_000) -> int:
    """Insert many rows fast. `columns` are database column names (e.g. "grid_id"); rows are tuples.

    On PostgreSQL this streams with COPY; elsewhere it falls back to executemany in batches.
    Returns the number of rows written. No model save() or signals run: the caller computes every column.
    """
    table = model._meta.db_table
    count = 0
    if connection.vendor == "postgresql":
        cols = ", ".join(f'"{c}"' for c in columns)
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg 3 cursor
            with raw.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count
    # Elsewhere (SQLite): let each field turn the Python value into what the backend stores
    # (UUIDs as hex, aware datetimes, JSON), then insert in batches.
    by_column = {f.column: f for f in model._meta.concrete_fields}
    fields = [by_column[c] for c in columns]

    def prep(row):
        out = []
        for f, v in zip(fields, row, strict=True):
            if v is None or (isinstance(v, str) and f.get_internal_type() == "JSONField"):
                out.append(v)
            else:
                out.append(f.get_db_prep_save(v, connection))
        return out

    placeholders = ", ".join(["%s"] * len(columns))
    sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({placeholders})'
    chunk = []
    with connection.cursor() as cursor:
        for row in rows:
            chunk.append(prep(row))
            if len(chunk) >= batch:
                cursor.executemany(sql, chunk)
                count += len(chunk)
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)
            count += len(chunk)
    return count


def copy_text(rows) -> bytes:
    """Rows in COPY's text format, formatted by psycopg's own COPY formatter (the C one `write_row` uses, with the
    connection's adapters), for callers that format rows once and write them many times (the city's case
    replicas). PostgreSQL only."""
    raw = connection.connection
    if raw is None:
        connection.ensure_connection()
        raw = connection.connection
    if getattr(copy_text, "raw", None) is not raw:
        copy_text.raw, copy_text.tx = raw, Transformer(raw)
    out, tx = bytearray(), copy_text.tx
    for row in rows:
        format_row_text(row, tx, out)
    return bytes(out)


class CopyTable:
    """Rows for one model: the columns we compute, plus every other column at its default.

    Another app may add a column to a model we load; it gets its field default (or NULL) instead of
    breaking the seed.
    """

    def __init__(self, model, attnames, now):
        self.model = model
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        self.columns = [by_attname[a].column for a in attnames]
        self.extra = ()
        extra_values = []
        for f in model._meta.concrete_fields:
            if f.attname in attnames or (f.primary_key and f.get_internal_type() in ("AutoField", "BigAutoField")):
                continue  # computed by the caller, or numbered by the database
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            elif getattr(f, "db_default", NOT_PROVIDED) is not NOT_PROVIDED and not f.has_default():
                continue  # the database fills it
            elif f.has_default():
                value = f.get_default()
            elif f.null:
                value = None
            else:
                raise RuntimeError(f"seed: {model.__name__}.{f.name} needs a value; update the seeder loading it")
            if isinstance(value, dict | list):
                value = json.dumps(value)
            self.columns.append(f.column)
            extra_values.append(value)
        self.extra = tuple(extra_values)

    def text(self, rows) -> bytes:
        """The rows in COPY's text format, each with the defaults after it (PostgreSQL)."""
        extra = self.extra
        return copy_text((tuple(r) + extra for r in rows) if extra else rows)

    def copy(self, rows) -> int:
        extra = self.extra
        if extra:
            rows = (tuple(r) + extra for r in rows)
        return copy_rows(self.model, self.columns, rows)

    def copy_raw(self, raw_connection, rows) -> int:
        """COPY on a psycopg connection directly (used from the pipeline's worker thread). Rows are tuples, or
        bytes already in COPY's text format (`text`), written as they are."""
        extra, count = self.extra, 0
        cols = ", ".join(f'"{c}"' for c in self.columns)
        with raw_connection.cursor() as cursor:
            with cursor.copy(f'COPY "{self.model._meta.db_table}" ({cols}) FROM STDIN') as copy:
                if rows and type(rows[0]) is bytes:
                    data = b"".join(rows)
                    copy.write(data)
                    return data.count(b"\n")  # escaped inside values: one per row
                for r in rows:
                    copy.write_row(tuple(r) + extra if extra else r)
                    count += 1
        return count


class CopyPipeline:
    """On PostgreSQL, COPY one batch in a worker thread while the main thread generates the next one (and the
    batches of `side_keys` in a second thread on the `side` connection).

    The server then inserts and indexes rows while Python computes (names, encryption) instead of each
    waiting for the other. The worker uses the same psycopg connection, hence the same transaction; the
    main thread does not touch the database until `close()` has drained the queue.
    Elsewhere (SQLite) batches are written in line.
    """

    def __init__(self, side: "SideLoad | None" = None, side_keys=()):
        self.threaded = connection.vendor == "postgresql"
        self.counts: dict = {}
        self.busy: dict = {}  # seconds each connection spent writing
        self.error = None
        self.side_keys = set(side_keys) if side is not None else set()
        if self.threaded:
            connection.ensure_connection()
            self.queues = {"main": queue.Queue(maxsize=2)}
            self.threads = [threading.Thread(target=self.work, args=("main", connection.connection),
                                             name="seed-copy", daemon=True)]
            if self.side_keys:
                self.queues["side"] = queue.Queue(maxsize=2)
                self.threads.append(threading.Thread(target=self.work, args=("side", side.raw),
                                                     name="seed-copy-side", daemon=True))
            for thread in self.threads:
                thread.start()

    def put(self, key, table: CopyTable, rows):
        if not self.threaded:
            self.counts[key] = self.counts.get(key, 0) + table.copy(rows)
            return
        if self.error is not None:
            raise self.error
        self.queues["side" if key in self.side_keys else "main"].put((key, table, rows))

    def work(self, name, raw):
        work_queue = self.queues[name]
        while True:
            item = work_queue.get()
            if item is None:
                return
            if self.error is not None:
                continue  # drain; the main thread raises
            key, table, rows = item
            started = time.monotonic()
            try:
                self.counts[key] = self.counts.get(key, 0) + table.copy_raw(raw, rows)
            except BaseException as exc:  # handed to the main thread
                self.error = exc
            self.busy[name] = self.busy.get(name, 0.0) + time.monotonic() - started

    def close(self):
        if self.threaded:
            for work_queue in self.queues.values():
                work_queue.put(None)
            for thread in self.threads:
                thread.join()
            self.threaded = False
        if self.error is not None:
            raise self.error
        return self.counts


def next_id(model) -> int:
    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


def reset_sequence(model) -> None:
    """After COPY with explicit ids, move the id sequence past them (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{pk}'), "
            f"COALESCE((SELECT MAX(\"{pk}\") FROM \"{table}\"), 1))"
        )


def bulk_mode(models) -> list:
    """For big loads on PostgreSQL, inside a transaction: skip per-row foreign-key triggers (rows are
    consistent by construction) and drop the models' secondary indexes (and a partitioned table's primary key),
    rebuilt once by `restore_indexes`. Returns the definitions to restore (none elsewhere)."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        return _bulk_mode(cursor, [m._meta.db_table for m in models], transaction.atomic)


def _bulk_mode(cursor, tables, savepoint) -> list:
    """`bulk_mode` on a cursor of a connection in a transaction (`savepoint()`: a savepoint of it)."""
    cursor.execute("SET LOCAL synchronous_commit = off")
    # Deferred checks queued by earlier statements of the transaction run now (PostgreSQL refuses to build an
    # index on a table with pending trigger events); later ones are deferred again, as Django expects.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    try:
        with savepoint():
            cursor.execute("SET LOCAL session_replication_role = replica")
    except Exception:  # noqa: BLE001 - not a superuser: keep the checks, only slower
        pass
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)", [tables])
    indexes = cursor.fetchall()
    # A partitioned table's primary key (id, time) is referenced by no foreign key (PostgreSQL cannot
    # reference a partitioned table's id alone): built once after the load too, rather than row by row.
    cursor.execute(
        "SELECT c.conname, format('ALTER TABLE %%I ADD CONSTRAINT %%I %%s', t.relname, c.conname, "
        "pg_get_constraintdef(c.oid)) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
        "WHERE t.relname = ANY(%s) AND t.relkind = 'p' AND c.contype = 'p' "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.confrelid = t.oid)", [tables])
    keys = cursor.fetchall()
    for name, definition in keys:
        table = definition.split(" ")[2]
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT \"{name}\"")
    for name, _ in indexes:
        # On a partitioned table this drops the index of every partition with it.
        cursor.execute(f'DROP INDEX "{name}"')
    return list(keys) + list(indexes)


def restore_indexes(defs) -> None:
    """Rebuild the indexes `bulk_mode` dropped and turn the foreign-key triggers back on.

    A partitioned table's index reads `CREATE INDEX … ON ONLY table` (the parent's index alone, invalid until
    each partition's is attached); without ONLY it is built on every partition and attached at once."""
    if not defs:
        return
    with connection.cursor() as cursor:
        _restore_indexes(cursor, defs)


def _restore_indexes(cursor, defs) -> None:
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for _, definition in defs:
        cursor.execute(definition.replace(" ON ONLY ", " ON ", 1))
    cursor.execute("SET LOCAL session_replication_role = origin")


class SideLoad:
    """Some tables of a big load written on a second connection, in its own transaction in bulk mode, while the
    caller's connection writes the others: PostgreSQL parses a COPY on one core per connection, so two
    connections keep two cores busy. The caller's transaction must not touch these tables until `finish()`
    (which rebuilds their indexes beside the caller's `restore_indexes`, see `restore_beside`, and commits);
    `abort()` rolls the side back. The side commits just before the caller does: should the caller's commit
    fail after it, the side's rows stay (acceptable for seeding, which is its only use)."""

    def __init__(self, models):
        self.models = models
        self.raw = connection.get_new_connection(connection.get_connection_params())
        self.raw.autocommit = False
        with self.raw.cursor() as cursor:
            # Should the caller's transaction hold one of these tables, fail rather than wait for it forever.
            cursor.execute("SET lock_timeout = '60s'")
            self.dropped = _bulk_mode(cursor, [m._meta.db_table for m in models], self.raw.transaction)
        self.thread, self.error = None, None

    def restore_beside(self, restore):
        """Rebuild the side's indexes in a thread while `restore()` (the caller's own rebuild) runs."""
        def work():
            try:
                with self.raw.cursor() as cursor:
                    _restore_indexes(cursor, self.dropped)
            except BaseException as exc:  # handed to the caller in finish()
                self.error = exc

        self.thread = threading.Thread(target=work, name="seed-side-indexes", daemon=True)
        self.thread.start()
        restore()
        self.thread.join()

    def finish(self) -> None:
        if self.thread is None:
            self.restore_beside(lambda: None)
        if self.error is not None:
            self.abort()
            raise self.error
        self.raw.commit()
        self.raw.close()

    def abort(self) -> None:
        if not self.raw.closed:
            self.raw.rollback()
            self.raw.close()


def ensure_months(tables, first, last) -> int:
    """Before loading rows of `first`..`last` into monthly-partitioned tables (gridcase.core.partitions): each
    month's partition, so the rows land in their month and not in the default partition. Returns those made."""
    from gridcase.core import partitions  # noqa: PLC0415 (partitions imports settings-dependent modules)

    if connection.vendor != "postgresql":
        return 0
    made = 0
    month, stop = partitions.month_of(first), partitions.month_of(last)
    with connection.cursor() as cursor:
        for table in tables:
            if not partitions.is_partitioned(cursor, table):
                continue
            have, m = partitions.months(cursor, table), month
            while m <= stop:
                if m not in have:
                    with transaction.atomic():
                        # One creation at a time across the seeders running side by side (cases and visits): each
                        # locks the tables its foreign keys name, in its own order, and two at once can deadlock.
                        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('gridcase.ensure_months'))")
                        partitions.create_month(cursor, table, m)
                    made += 1
                m = partitions.add_months(m, 1)
    return made


@contextmanager
def keys_after(model, first_id):
    """A monthly-partitioned table's unique key kept in its key table (gridcase.core.partitions.KEYS) by one
    INSERT … SELECT after the load instead of a trigger per row: inside, rows are written with the key trigger
    standing aside; on leaving, the keys of the rows from `first_id` on are added (a duplicate fails as the
    trigger would). Call inside the load's transaction."""
    from gridcase.core import partitions  # noqa: PLC0415

    table = model._meta.db_table
    key = partitions.KEYS.get(table)
    if connection.vendor != "postgresql" or key is None:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'on', true)", [partitions.MOVING])
    yield
    cols = ", ".join(f'"{c}"' for c in key.columns)
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'off', true)", [partitions.MOVING])
        cursor.execute(f'INSERT INTO "{key.table}" ({cols}, "{key.ref}") SELECT {cols}, id FROM "{table}" '
                       f"WHERE id >= %s", [first_id])


def analyze(models=None) -> None:
    """Fresh planner statistics after a load (PostgreSQL): for the given models' tables, or everything."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if models is None:
            cursor.execute("ANALYZE")
            return
        for model in models:
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')
