"""Background work of the grids app: large imports of households and residents."""

from celery import shared_task

from . import jobs


@shared_task(ignore_result=True, acks_late=True)
def process_import(job_id: int) -> None:
    """Run a pending ImportJob; a job already claimed by another worker is left alone."""
    jobs.process(job_id)
