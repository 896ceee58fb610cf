"""Queueing background work from request paths without ever failing the request.

The database is the source of truth; the broker only says "there is work". So a task is queued after
the transaction commits, and a broker that is down (Redis stopped, network cut) is logged and left to
the periodic sweeps in `gridcase/beat.py`, which find the work in the database (the notification
outbox, pending import jobs) and queue it again. A request whose data is saved answers as saved.

Use `enqueue_on_commit(task, *args)` instead of `transaction.on_commit(lambda: task.delay(*args))`.
`task` is a Celery task or its registered name: a domain module names the task that runs it
("gridcase.grids.tasks.process_import") instead of importing the task module, which imports it.
"""

import logging
from importlib import import_module

from django.db import transaction

logger = logging.getLogger("gridcase.queue")


def enqueue(task, *args, **kwargs) -> bool:
    """Queue `task(*args, **kwargs)` now; False (and a warning in the log) when the broker refused it.
    (Celery's publish retry policy bounds the wait: three quick retries, under a second when refused.)"""
    try:
        resolve(task).delay(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any broker failure: the sweep finds the work in the database
        logger.warning("Could not queue %s (%s: %s); the periodic sweep will pick the work up.",
                       getattr(task, "name", task), type(exc).__name__, exc)
        return False
    return True


def resolve(task):
    """The task object for a task or its registered name.

    A web process never runs Celery's autodiscovery (only a worker does), so a task whose module nothing has imported
    yet is not registered there: its module (the name up to the last dot) is imported now, which registers it."""
    if isinstance(task, str):
        from celery import current_app

        if task not in current_app.tasks:
            import_module(task.rsplit(".", 1)[0])
        return current_app.tasks[task]
    return task


class _AfterCommit:
    def __init__(self, task, args, kwargs):
        self.key = (task if isinstance(task, str) else getattr(task, "name", id(task)), args, tuple(sorted(kwargs.items())))
        self.task, self.args, self.kwargs = task, args, kwargs

    def __call__(self):
        enqueue(self.task, *self.args, **self.kwargs)

    def __eq__(self, other):
        return isinstance(other, _AfterCommit) and other.key == self.key

    __hash__ = None


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Queue `task` once the current transaction commits (at once outside one). Never raises.

    The same task with the same arguments is queued once per transaction, however often it is asked for
    (e.g. one `notify()` per recipient group): a broker that is down then costs the request one try."""
    callback = _AfterCommit(task, args, kwargs)
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        # Already registered in this block or one enclosing it (so it survives as long as this one): done.
        live = set(connection.savepoint_ids)
        if any(entry[1] == callback and set(entry[0]) <= live for entry in connection.run_on_commit):
            return
    transaction.on_commit(callback)
