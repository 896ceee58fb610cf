from celery import shared_task

from . import rollup


@shared_task(ignore_result=True)
def refresh_rollups():
    """Recompute the rollup days touched since the last run and today. Idempotent; one run at a time."""
    return rollup.refresh()
