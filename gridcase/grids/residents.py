"""A resident's place in the register over time: moved out (迁出), moved back in (迁入), deceased (死亡).

A resident is never deleted: one who leaves is marked, the round and the care plan end (the plan is kept,
inactive, with the day it ended; visits and cases stay as they were), and the change is written to the audit
log with who made it, when, and the status before and after — that is the register's history.
"""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.core import audit, dates
from gridcase.core.errors import Forbidden, InvalidTransition, ValidationFailed

from . import moves
from .choices import ResidentStatus as S
from .models import Household, Resident
from .roles import EDITOR_ROLES
from .scoping import scope_for

# From which status each status may be reached. Deceased is final: a mistake is corrected by an administrator.
ALLOWED_FROM = {
    S.ACTIVE: {S.MOVED_OUT, S.ACTIVE},  # moving back in; active → active only to another household (a move)
    S.MOVED_OUT: {S.ACTIVE},
    S.DECEASED: {S.ACTIVE, S.MOVED_OUT},
}

AUDIT_ACTION = "resident_status"


def _may_edit(user, grid) -> bool:
    scope = scope_for(user)
    return scope.is_global or bool(scope.roles_at(grid) & EDITOR_ROLES)


def change_status(actor, resident: Resident, status: str, *, on: date | None = None, household: Household | None = None,
                  note: str = "", request=None) -> Resident:
    """Move a resident out, back in (optionally into another household of the caller's grids) or mark them
    deceased. Refuses: a status it cannot come from (`invalid_transition`), a date in the future, a household the
    caller does not edit (403), a household given with anything but a move in. Ends or restarts the care plan
    through `is_active` (visits.signals)."""
    if status not in S.values:
        raise ValidationFailed(fields={"status": [_("Choose one of: %(values)s.") % {"values": ", ".join(S.values)}]})
    on = dates.check(on, "date") or timezone.localdate()
    if on > timezone.localdate():
        raise ValidationFailed(_("The date cannot lie in the future."), fields={"date": [_("The date cannot lie in the future.")]})
    if household is not None and status != S.ACTIVE:
        raise ValidationFailed(fields={"household": [_("A household is given only when moving in.")]})
    if not _may_edit(actor, resident.grid):
        raise Forbidden()
    moving = household is not None and household.pk != resident.household_id
    if household is not None and not _may_edit(actor, household.grid):
        raise Forbidden()
    with transaction.atomic():
        current = Resident.objects.select_for_update().get(pk=resident.pk)
        if current.status not in ALLOWED_FROM[status] or (status == current.status == S.ACTIVE and not moving):
            raise InvalidTransition(
                _("A resident who is %(current)s cannot become %(target)s.")
                % {"current": S(current.status).label, "target": S(status).label})
        before = {"status": current.status, "household": current.household_id}
        current.status, current.status_since, current.is_active = status, on, status == S.ACTIVE
        fields = ["status", "status_since", "is_active", "updated_at"]
        if moving:
            current.household, current.grid_id = household, household.grid_id
            fields += ["household", "grid"]
        current.save(update_fields=fields)
        if moving:
            from gridcase.visits import coverage  # noqa: PLC0415 (visits builds on grids)

            moves.follow_people([current.pk])
            coverage.moved([current.pk], current.grid_id)
        audit.record(actor, AUDIT_ACTION, [current], fields[:-1], request, before=before,
                     after={"status": status, "household": current.household_id}, on=on.isoformat(),
                     note=note[:200])
    return current
