from celery import shared_task

from . import due


@shared_task(ignore_result=True)
def compute_due_visits(day: str | None = None):
    """Today's round and overdue visits for every worker and grid; idempotent, catches up after downtime."""
    from datetime import date

    run = due.run_due_job(date.fromisoformat(day) if day else None)
    return {"day": run.day.isoformat(), "due_today": run.due_today, "overdue": run.overdue}
