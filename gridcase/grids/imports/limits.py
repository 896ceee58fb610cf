"""How much an import may read and for how long: sizes, row counts, the request/job threshold, the time limit.

Every figure is read from settings when asked, so a test (or an operator) changes it without a restart."""

import time

from django.conf import settings

from .reasons import ImportFileError

MAX_COLUMNS = 60


def max_bytes() -> int:
    return settings.IMPORT_MAX_BYTES


def max_rows() -> int:
    return getattr(settings, "IMPORT_MAX_ROWS", 50_000)


def sync_max_rows() -> int:
    """Files with more rows than this are processed by a background job (HTTP 202)."""
    return getattr(settings, "IMPORT_SYNC_MAX_ROWS", 1_000)


# A title line and the header lie within the first lines; they (and blank lines) count as rows read.
HEADER_LINES = 10


def max_lines() -> int:
    """Rows read — blank ones, the title and the header included — before a file is refused."""
    return max_rows() + HEADER_LINES


def max_unpacked_bytes() -> int:
    """What a workbook may unpack to (the sum of its zip members' sizes), checked before parsing."""
    return getattr(settings, "IMPORT_MAX_UNPACKED_BYTES", 100 * 1024 * 1024)


def sync_max_unpacked_bytes() -> int:
    """Workbooks unpacking to more than this are never parsed during a request, only by a job."""
    return getattr(settings, "IMPORT_SYNC_MAX_UNPACKED_BYTES", 4 * 1024 * 1024)


def time_limit() -> int:
    """Seconds a background import may run before it stops (the Celery task's soft limit is just above).
    At most 25 minutes: a job running for 30 is taken for dead and claimed again (jobs.STALE_AFTER)."""
    return min(getattr(settings, "IMPORT_TIME_LIMIT", 600), 25 * 60)



def check_deadline(deadline: float | None) -> None:
    """Stop an import that has run out of time (`deadline` is a time.monotonic() value)."""
    if deadline is not None and time.monotonic() > deadline:
        raise ImportFileError("time_limit", seconds=time_limit())

