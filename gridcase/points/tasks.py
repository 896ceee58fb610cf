"""Background work of points: the daily deduction sweep."""

from celery import shared_task

from . import sweeps


@shared_task(ignore_result=True)
def deduct_overdue_visits() -> int:
    return sweeps.deduct_overdue_visits()
