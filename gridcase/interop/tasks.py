from celery import shared_task

from . import hotline


@shared_task(ignore_result=True)
def sync_hotline_callbacks():
    """Write any 12345 callback a case's events call for and that is missing (idempotent per stage)."""
    return hotline.sync_recent()
