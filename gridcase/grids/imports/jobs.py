"""ImportJob lifecycle: create from an upload, claim with a compare-and-set, process, record progress."""

import time
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.db.models import Q
from django.utils import timezone

from gridcase.core.queue import enqueue, enqueue_on_commit

from ..models import ImportJob
from .importer import import_file
from .limits import time_limit
from .reasons import ImportFileError

PROCESS_IMPORT = "gridcase.grids.tasks.process_import"
"""The Celery task that runs a job (grids/tasks.py, which imports this module), queued by name."""


def create(user, grid, data: bytes, filename: str, file_type: str, total_rows: int) -> ImportJob:
    """Queue a checked file for a worker (dispatched after commit). `total_rows` may be an estimate (a
    workbook's row count read from its zip); the worker sets the exact figure once it has parsed the file."""
    job = ImportJob.objects.create(user=user, grid=grid, filename=filename[:200], file_type=file_type,
                                   content=data, total_rows=total_rows)
    # A broker that is down does not fail the upload: `requeue_pending` queues the job again.
    enqueue_on_commit(PROCESS_IMPORT, job.pk)
    return job


# A job still "pending" this long after upload was never queued (the broker was down): queue it again.
UNQUEUED_AFTER = timedelta(minutes=2)


def requeue_pending(now=None) -> int:
    """Queue again the jobs whose task was lost; claiming is a compare-and-set, so a duplicate is harmless."""
    now = now or timezone.now()
    stale = (Q(status=ImportJob.Status.PENDING, created_at__lt=now - UNQUEUED_AFTER)
             | Q(status=ImportJob.Status.RUNNING, started_at__lt=now - STALE_AFTER))
    ids = list(ImportJob.objects.filter(stale).values_list("pk", flat=True)[:100])
    return sum(enqueue(PROCESS_IMPORT, pk) for pk in ids)


# A job "running" for longer than this lost its worker (the task is acked late, so it is delivered again):
# it may be claimed again, which is safe because importing the same file twice changes nothing.
STALE_AFTER = timedelta(minutes=30)


def process(job_id: int) -> ImportJob | None:
    now = timezone.now()
    claimable = Q(status=ImportJob.Status.PENDING) | Q(status=ImportJob.Status.RUNNING, started_at__lt=now - STALE_AFTER)
    claimed = ImportJob.objects.filter(claimable, pk=job_id).update(status=ImportJob.Status.RUNNING, started_at=now)
    if not claimed:
        return None
    job = ImportJob.objects.select_related("grid", "user").get(pk=job_id)

    def progress(done, total, counts):
        ImportJob.objects.filter(pk=job_id).update(rows_done=done, total_rows=total, counts=dict(counts))

    # The worker stops the import itself at the time limit; the task's soft limit (tasks.py) is the backstop.
    deadline = time.monotonic() + time_limit()
    try:
        report = import_file(job.user, job.grid, bytes(job.content), progress=progress, job=job,
                             deadline=deadline)
    except ImportFileError as exc:
        finish(job, ImportJob.Status.FAILED, error=exc.code)
    except SoftTimeLimitExceeded:
        finish(job, ImportJob.Status.FAILED, error="time_limit")
    except Exception as exc:  # the job must never stay "running" forever
        finish(job, ImportJob.Status.FAILED, error=type(exc).__name__)
        raise
    else:
        counts = {k: report[k] for k in ("created", "updated", "unchanged", "refused")}
        finish(job, ImportJob.Status.DONE, report=report, counts=counts, rows_done=report["total"])
    job.refresh_from_db()
    return job


def finish(job, status, **fields):
    # The upload holds personal data: drop it once processed.
    ImportJob.objects.filter(pk=job.pk).update(status=status, finished_at=timezone.now(), content=b"", **fields)
