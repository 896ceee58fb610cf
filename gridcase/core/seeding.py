"""Shared machinery for `gridcase seed demo|city`: a context handed to each app's seeder, a progress bar,
and fast bulk loading (PostgreSQL COPY; bulk_create elsewhere).

Each domain app may provide `gridcase/<app>/seeding.py` with `seed_demo(ctx)` and `seed_city(ctx)`;
the seed command calls them in order: grids, cases, visits, then any others. Seeders must be idempotent
(a second `seed demo` creates nothing new).
"""

import random
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.utils import timezone

APP_ORDER = ["grids", "cases", "visits", "notifications", "stats", "intake"]
DEMO_PASSWORD = "gridcase123"


class Progress:
    """A plain-text progress bar on stderr (or the command's stream) that never floods a log."""

    def __init__(self, label: str, total: int, stream=None):
        self.label, self.total, self.done = label, max(total, 1), 0
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self._last = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last > 0.5:
            self._last = now
            pct = min(100, int(100 * self.done / self.total))
            bar = "#" * (pct // 4) + "." * (25 - pct // 4)
            self.stream.write(f"\r{self.label:<28} [{bar}] {pct:3d}% {self.done:>10,}/{self.total:,} "
                              f"{now - self.start:6.1f}s")
            self.stream.flush()

    def finish(self) -> float:
        elapsed = time.monotonic() - self.start
        self.stream.write(f"\r{self.label:<28} done: {self.done:,} in {elapsed:.1f}s{' ' * 40}\n")
        self.stream.flush()
        return elapsed


@dataclass
class SeedContext:
    kind: str  # "demo" or "city"
    scale: float = 1.0
    seed: int = 20240601
    stdout: object = None
    now: datetime = field(default_factory=timezone.now)
    timings: dict = field(default_factory=dict)

    def __post_init__(self):
        self.rng = random.Random(self.seed)

    def log(self, message: str) -> None:
        stream = self.stdout or sys.stdout
        stream.write(message + "\n")

    def progress(self, label: str, total: int) -> Progress:
        return Progress(label, total)


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


def next_id(model) -> int:
    from django.db.models import Max

    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


def analyze() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


