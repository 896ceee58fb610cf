"""A job's life: created (and queued after commit), claimed by one worker, progress, a result file or an error.

- `create(owner, kind, params, total=None)` writes the row and queues `gridcase.jobs.tasks.run_job` by name after
  commit (a broker that is down costs nothing: `requeue_stale` finds the job again).
- `process(job_id)` is what the task runs: claim with a compare-and-set (a second delivery does nothing), call the
  kind's runner (`kinds.KINDS`), store its file under a random name in private storage, finish.
- `purge_expired()` deletes results older than JOB_RESULT_DAYS (rows stay, without the file).
"""

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import IO

from django.conf import settings
from django.core.files import File
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from gridcase.core.errors import DomainError
from gridcase.core.files import random_name
from gridcase.core.queue import enqueue, enqueue_on_commit

from .kinds import KINDS
from .models import Job

logger = logging.getLogger("gridcase.jobs")

RUN_JOB = "gridcase.jobs.tasks.run_job"
UNQUEUED_AFTER = timedelta(minutes=2)  # still pending after this: the task was never queued (broker down)
STALE_AFTER = timedelta(minutes=30)  # running longer than this: its worker died (tasks are acked late)


@dataclass
class Output:
    """What a runner wrote: an open binary file (a temporary file, closed by the caller), its download name."""

    file: IO[bytes]
    filename: str
    content_type: str


def time_limit() -> int:
    """Seconds a job may run (the task's soft limit is just above); under STALE_AFTER so no live job is re-claimed."""
    return min(int(getattr(settings, "JOB_TIME_LIMIT", 900)), 25 * 60)


def create(owner, kind: str, params: dict, total: int | None = None) -> Job:
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job.objects.create(owner=owner, kind=kind, params=params, total=total)
    enqueue_on_commit(RUN_JOB, job.pk)
    return job


class Progress:
    """`progress(done, total)`: written to the row at most once per `every` seconds (and always at the end)."""

    def __init__(self, job_id: int, every: float = 1.0):
        self.job_id, self.every, self.last = job_id, every, 0.0

    def __call__(self, done: int, total: int | None = None, force: bool = False):
        now = time.monotonic()
        if force or now - self.last >= self.every:
            self.last = now
            fields = {"done": done} if total is None else {"done": done, "total": total}
            Job.objects.filter(pk=self.job_id).update(**fields)


def process(job_id: int) -> Job | None:
    """Run a pending job (or one whose worker died); None when another worker holds it or it is finished."""
    now = timezone.now()
    claimable = Q(status=Job.Status.PENDING) | Q(status=Job.Status.RUNNING, started_at__lt=now - STALE_AFTER)
    if not Job.objects.filter(claimable, pk=job_id).update(status=Job.Status.RUNNING, started_at=now):
        return None
    job = Job.objects.select_related("owner").get(pk=job_id)
    runner = import_string(KINDS[job.kind])
    try:
        out = runner(job, Progress(job_id))
    except DomainError as exc:  # the job's parameters no longer hold (e.g. the grid left the owner's scope)
        return finish(job, Job.Status.FAILED, error=getattr(exc, "code", "") or type(exc).__name__)
    except Exception as exc:  # never leave a job "running": fail it, and let Celery log the error
        finish(job, Job.Status.FAILED, error=type(exc).__name__)
        raise
    try:
        ext = out.filename.rsplit(".", 1)[-1] if "." in out.filename else "bin"
        out.file.seek(0)
        job.result.save(random_name(ext), File(out.file), save=False)
    finally:
        out.file.close()
    return finish(job, Job.Status.DONE, result=job.result.name, filename=out.filename[:200],
                  content_type=out.content_type)


def finish(job: Job, status: str, **fields) -> Job:
    Job.objects.filter(pk=job.pk).update(status=status, finished_at=timezone.now(), **fields)
    job.refresh_from_db()
    return job


def requeue_stale(now=None) -> int:
    """Queue again the jobs whose task was lost (broker down) or whose worker died; claiming is a compare-and-set."""
    now = now or timezone.now()
    stale = (Q(status=Job.Status.PENDING, created_at__lt=now - UNQUEUED_AFTER)
             | Q(status=Job.Status.RUNNING, started_at__lt=now - STALE_AFTER))
    ids = list(Job.objects.filter(stale).values_list("pk", flat=True)[:100])
    return sum(enqueue(RUN_JOB, pk) for pk in ids)


def purge_expired(now=None) -> int:
    """Delete result files older than JOB_RESULT_DAYS (they may hold personal data); the rows stay."""
    now = now or timezone.now()
    days = int(getattr(settings, "JOB_RESULT_DAYS", 7))
    old = Job.objects.filter(finished_at__lt=now - timedelta(days=days)).exclude(result="")
    purged = 0
    for job in old[:500]:
        try:
            job.result.delete(save=False)
        except OSError as exc:  # already gone: clear the name anyway
            logger.warning("Could not delete %s: %s", job.result.name, exc)
        Job.objects.filter(pk=job.pk).update(result="")
        purged += 1
    return purged

