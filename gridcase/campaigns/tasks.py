"""Background work of campaigns: the launch job, its sweep, and the deadline reminders."""

from celery import shared_task

from . import launching, reminders


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=1200, time_limit=1260)
def launch_campaign(campaign_id: int) -> None:
    """Create a launching campaign's tasks (idempotent, resumable)."""
    launching.run(campaign_id)


@shared_task(ignore_result=True)
def requeue_stale_launches() -> int:
    return launching.requeue_stale()


@shared_task(ignore_result=True)
def campaign_reminders() -> int:
    return reminders.remind()
