from celery import shared_task
from django.db import connection

from . import partitions


@shared_task(ignore_result=True)
def ensure_partitions():
    """The next months' partitions of the partitioned tables (daily; idempotent, PostgreSQL only)."""
    made = partitions.ensure(connection)
    return [f"{m.partition} ({'busy, retried tomorrow' if m.busy else f'+{m.moved} moved'})" for m in made]
