from celery import shared_task

from . import rollup


@shared_task(ignore_result=True)
def refresh_rollups():
    """Recompute the rollup days touched since the last run and today (and the hold times' end days).
    Idempotent; one run at a time."""
    from . import holds  # noqa: PLC0415

    result = rollup.refresh()
    holds.refresh()
    return result


@shared_task(ignore_result=True)
def refresh_visit_coverage():
    """Visit coverage's rollup for the residents touched since the last run (gridcase.visits.coverage.refresh)."""
    from gridcase.visits import coverage  # noqa: PLC0415

    return coverage.refresh()
