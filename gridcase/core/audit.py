"""Writing the audit log: one INSERT per request, however many objects were revealed and however many times the
request recorded.

A request runs inside `batched()` (`AuditBatchMiddleware`): rows recorded on a read — outside any transaction
the request opened — wait and are written together in one INSERT when the response is ready (a page of sensitive
cases, a detail that also reveals a phone, a round with its numbers: one statement). Rows recorded inside a
transaction (a move, a status change, an import) are written at once in it, so they roll back with the change
they describe. Outside a request (tasks, commands) every record is written at once.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection

from .clientaddr import client_address
from .models import AuditLog

# (rows waiting, the connection's transaction depth when the request began), while a request is batched.
_pending: ContextVar = ContextVar("gridcase_audit_pending", default=None)


def client_ip(request):
    """The reader's address as our trusted proxies saw it (behind nginx REMOTE_ADDR is nginx itself)."""
    if request is None:
        return None
    address = client_address(request)
    return None if address == "unknown" else address


def grid_id_of(obj):
    """The grid an object belongs to (its `grid`, or itself when it is a grid), for scoping the log."""
    if obj._meta.label_lower == "grids.grid":
        return obj.pk
    return getattr(obj, "grid_id", None)


def record(actor, action: str, objects, fields, request=None, **extra):
    """Record that `actor` did `action` on each of `objects` (touching `fields`)."""
    ip = client_ip(request)
    actor_id = getattr(actor, "pk", None)
    rows = [
        AuditLog(
            actor_id=actor_id,
            action=action,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            fields=list(fields),
            ip=ip,
            extra=extra,
            grid_id=grid_id_of(obj),
        )
        for obj in objects
    ]
    if not rows:
        return
    pending = _pending.get()
    if pending is not None and len(connection.atomic_blocks) <= pending[1]:
        pending[0].extend(rows)  # a read: written with the request's other rows
    else:
        AuditLog.objects.bulk_create(rows)


def flush() -> int:
    """Write the rows waiting in this request now (one INSERT); returns how many."""
    pending = _pending.get()
    if pending is None or not pending[0]:
        return 0
    rows, pending[0][:] = list(pending[0]), []
    AuditLog.objects.bulk_create(rows)
    return len(rows)


@contextmanager
def batched():
    """Collect the audit rows recorded on reads inside the block and write them in one INSERT at its end."""
    token = _pending.set(([], len(connection.atomic_blocks)))
    try:
        yield
        flush()
    finally:
        _pending.reset(token)


class AuditBatchMiddleware:
    """Every request's read audit rows in one INSERT, written before the response leaves: a read whose record
    cannot be written fails (500) rather than going unrecorded."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with batched():
            return self.get_response(request)
