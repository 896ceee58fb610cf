"""Background work of the grids app: large imports of households and residents."""

from celery import shared_task

from . import imports
from .imports import jobs


# The job stops itself at IMPORT_TIME_LIMIT (jobs.process); the soft limit stops a job stuck in one long step
# (a prefork worker only), the hard limit a job that ignores even that.
@shared_task(ignore_result=True, acks_late=True, soft_time_limit=imports.time_limit() + 60,
             time_limit=imports.time_limit() + 120)
def process_import(job_id: int) -> None:
    """Run a pending ImportJob; a job already claimed by another worker is left alone."""
    jobs.process(job_id)


@shared_task(ignore_result=True)
def requeue_pending_imports() -> int:
    """Sweep: queue again the import jobs whose task never reached a worker (the broker was down)."""
    return jobs.requeue_pending()
