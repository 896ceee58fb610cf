from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def deliver_pending():
    """Send what the outbox holds, including rows whose worker died (expired lease); safe to run often and
    from several workers. Beat runs it every minute: the sweep that catches anything a broker outage lost."""
    return services.deliver_pending()
