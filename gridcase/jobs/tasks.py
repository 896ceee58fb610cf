"""Celery tasks of background jobs: run one (queued by name, `services.RUN_JOB`) and the sweep."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=services.time_limit() + 60,
             time_limit=services.time_limit() + 120)
def run_job(job_id: int) -> None:
    """Run a pending job; one already claimed by another worker, or finished, is left alone."""
    services.process(job_id)


@shared_task(ignore_result=True)
def sweep_jobs() -> dict:
    """Queue again jobs whose task was lost; delete expired result files."""
    return {"requeued": services.requeue_stale(), "purged": services.purge_expired()}
