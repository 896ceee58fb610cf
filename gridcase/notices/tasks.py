from celery import shared_task

from . import publishing


@shared_task(ignore_result=True)
def publish_due():
    """Send scheduled notices whose time has come and expire old ones; beat runs it every minute."""
    return publishing.publish_due()
