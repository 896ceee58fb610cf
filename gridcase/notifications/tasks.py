from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def deliver_pending():
    """Send what the outbox holds; safe to run often and from several workers."""
    services.recover_stuck()
    return services.deliver_pending()
