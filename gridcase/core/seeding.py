"""Shared machinery for `gridcase seed demo|city`: a context handed to each app's seeder and a progress bar.
Fast bulk loading (PostgreSQL COPY, bulk mode) lives in `gridcase.core.bulk`.

Each domain app may provide `gridcase/<app>/seeding.py` with `seed_demo(ctx)` and `seed_city(ctx)`;
the seed command calls them in order: grids, cases, visits, then any others. Seeders must be idempotent
(a second `seed demo` creates nothing new).
"""

import random
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

APP_ORDER = ["grids", "cases", "visits", "notifications", "stats", "intake", "interop", "deliberation", "campaigns", "points", "volunteers",
             "notices"]
DEMO_PASSWORD = "gridcase123"


def detach_database() -> None:
    """In a forked process: never use the parent's database connections (their sockets are the parent's
    sessions, inside its transaction); a query opens this process's own connection. The old objects are kept,
    never closed (closing would end the parent's sessions)."""
    from django.db import connections

    kept = detach_database.__dict__.setdefault("kept", [])
    for conn in connections.all(initialized_only=True):
        kept.append(conn.connection)
        conn.connection = None
        conn.in_atomic_block, conn.savepoint_ids, conn.atomic_blocks = False, [], []
        conn.needs_rollback, conn.run_on_commit = False, []


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
    rows: dict = field(default_factory=dict)  # what -> rows written (cases, events, residents, …)
    phase: str = ""  # the seeder running now (the command sets it)
    phase_rows: dict = field(default_factory=dict)  # phase -> {what: rows}, for the command's timing table

    def __post_init__(self):
        self.rng = random.Random(self.seed)

    def count(self, what: str, n: int) -> None:
        """Rows written by the running phase, for the command's table (rows and rows per second)."""
        self.rows[what] = self.rows.get(what, 0) + n
        detail = self.phase_rows.setdefault(self.phase, {})
        detail[what] = detail.get(what, 0) + n

    def log(self, message: str) -> None:
        stream = self.stdout or sys.stdout
        stream.write(message + "\n")

    def progress(self, label: str, total: int) -> Progress:
        return Progress(label, total)
