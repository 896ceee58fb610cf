"""Writing the audit log. One INSERT per request, however many objects were revealed."""

from .clientaddr import client_address
from .models import AuditLog


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
    if rows:
        AuditLog.objects.bulk_create(rows)
