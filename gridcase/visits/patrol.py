"""The patrol log (巡查日志 / 民情日志): a worker's daily walk, line by line.

- An entry is written by grid staff of its grid (a worker of the micro-grid, the secretary of the community…),
  stored once per `client_uuid`: the same entry resent answers the stored one, a different entry under the
  same uuid is a conflict (409) and nothing is overwritten.
- A building, when named, lies in the entry's grid (or the grid lies in the building's general grid).
- An entry is not edited afterwards; only its link to a case is set, once: the worker chooses the report's
  `client_key` before sending the report (which may wait offline); the case that arrives with that key from
  the same worker is linked (`link_reported`).
- Secretaries read the log per worker and day; nobody reads outside their area (`PatrolEntry.scope_q`).
"""

from datetime import UTC

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.core.errors import Conflict, Forbidden, ValidationFailed
from gridcase.grids import tree
from gridcase.grids.roles import VISIT_ROLES
from gridcase.grids.scoping import scope_for

from .digest import content_digest
from .models import PatrolEntry
from .services import CLOCK_SKEW

PATROL_ROLES = VISIT_ROLES


def content_hash(data: dict) -> str:
    canonical = {
        "grid": getattr(data.get("grid"), "pk", data.get("grid")),
        "building": getattr(data.get("building"), "pk", data.get("building")),
        "at": data["at"].astimezone(UTC).replace(microsecond=0).isoformat(),
        "lat": data.get("lat"), "lng": data.get("lng"),
        "note": (data.get("note") or "").strip(),
    }
    return content_digest(canonical, data.get("photo"))


def _replay(existing: PatrolEntry, actor, digest: str):
    if existing.content_hash == digest and existing.worker_id == getattr(actor, "pk", None):
        return existing, False
    raise Conflict(_("A different patrol entry was already sent with this client_uuid."), code="conflict")


def check(actor, data: dict) -> None:
    grid, building = data["grid"], data.get("building")
    scope = scope_for(actor)
    if not scope.is_global and not scope.roles_at(grid) & PATROL_ROLES:
        raise Forbidden(_("Only grid staff of this grid can write its patrol log."))
    if building is not None and not (tree.is_inside(grid, building.grid) or tree.is_inside(building.grid, grid)
                                     or building.units.filter(micro_grid=grid).exists()):
        raise ValidationFailed(fields={"building": [_("This building is not in the chosen grid.")]})
    if data["at"] > timezone.now() + CLOCK_SKEW:
        raise ValidationFailed(fields={"at": [_("A patrol entry cannot be in the future.")]})
    if (data.get("lat") is None) != (data.get("lng") is None):
        raise ValidationFailed(fields={"lat": [_("Give both latitude and longitude, or neither.")]})
    if not (data.get("note") or "").strip() and building is None and not data.get("photo"):
        raise ValidationFailed(fields={"note": [_("Say what you saw, or name the building you checked in at.")]})


def record(actor, data: dict) -> tuple[PatrolEntry, bool]:
    """Store an entry once per client_uuid; returns (entry, created)."""
    check(actor, data)
    digest = content_hash(data)
    with transaction.atomic():
        existing = PatrolEntry.objects.filter(client_uuid=data["client_uuid"]).first()
        if existing is not None:
            return _replay(existing, actor, digest)
        entry = PatrolEntry(client_uuid=data["client_uuid"], content_hash=digest, worker=actor, grid=data["grid"],
                            building=data.get("building"), at=data["at"], lat=data.get("lat"), lng=data.get("lng"),
                            note=(data.get("note") or "").strip())
        try:
            with transaction.atomic():
                entry.save(force_insert=True)
        except IntegrityError:
            existing = PatrolEntry.objects.filter(client_uuid=data["client_uuid"]).first()
            if existing is None:
                raise
            return _replay(existing, actor, digest)
        photo = data.get("photo")
        if photo:
            entry.photo.save(photo.name, photo, save=False)
            PatrolEntry.objects.filter(pk=entry.pk).update(photo=entry.photo.name)
    return entry, True


def mark_reported(actor, entry: PatrolEntry, case_key: str) -> PatrolEntry:
    """The worker turns this observation into a case whose report carries `case_key`. Once per entry: the same
    key again is fine (a resend), another key is a conflict."""
    if entry.worker_id != actor.pk:
        raise Forbidden(_("Only the worker who wrote this entry can report it as a case."))
    case_key = (case_key or "").strip()
    if not case_key or len(case_key) > 64:
        raise ValidationFailed(fields={"case_key": [_("Give the report's client key.")]})
    with transaction.atomic():
        entry = PatrolEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.case_key and entry.case_key != case_key:
            raise Conflict(_("This observation was already reported as another case."), code="conflict")
        if not entry.case_key:
            entry.case_key = case_key
            entry.save(update_fields=["case_key"])
    link_reported([entry])
    return entry


def link_reported(entries) -> None:
    """Link entries whose report has arrived to its case (one query to find them, one update per link)."""
    from gridcase.cases.models import Case

    waiting = [e for e in entries if e.case_key and e.case_id is None and e.worker_id]
    if not waiting:
        return
    found = {(r, k): pk for pk, r, k in Case.objects.filter(
        client_key__in={e.case_key for e in waiting}, reporter_id__in={e.worker_id for e in waiting}
    ).values_list("pk", "reporter_id", "client_key")}
    for entry in waiting:
        case_id = found.get((entry.worker_id, entry.case_key))
        if case_id:
            PatrolEntry.objects.filter(pk=entry.pk, case__isnull=True).update(case_id=case_id)
            entry.case_id = case_id
