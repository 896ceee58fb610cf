"""Registering leads and volunteers with a light account; neighbour check-ins; activities, sign-up, attendance.

Rules enforced here (the API and the seed call them):
- Staff with a volunteer-managing role (`VOLUNTEER_MANAGERS`) on the place's grid register a lead or volunteer.
  The light account's login is the phone number; an existing account with grid roles or a department is never
  turned into one (`phone_taken`).
- A check-in names a resident of the lead's own building (else 404 "not in your building"); it is stored once per
  `client_uuid` (a replay answers the first, a different body under the same uuid is a 409) and tells the
  resident's micro-grid workers, who confirm it.
- Sign-up is once per volunteer and activity, within its places; attendance and service hours are recorded by
  staff once (a second record of the same values changes nothing) and announced with `service_recorded`, the
  signal the points ledger listens to.
"""

import re
import uuid as uuidlib
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from gridcase.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from gridcase.grids import areas, tree
from gridcase.grids.models import Membership
from gridcase.grids.roles import FIELD_WORKERS, VOLUNTEER_MANAGERS
from gridcase.grids.scoping import scope_for
from gridcase.notifications.models import Kind as NotificationKind
from gridcase.notifications.services import notify

from . import places
from .models import Activity, CheckIn, SignUp, Volunteer, VolunteerRole, Wellbeing

User = get_user_model()

service_recorded = Signal()
"""Sent after commit when a volunteer's attendance and service hours are recorded: `sign_up` (a SignUp with
`attended` and `hours`). The points ledger (gridcase.points) turns it into an entry, once per sign-up."""

PHONE = re.compile(r"^1[3-9]\d{9}$")


def check_manager(actor, grid) -> None:
    from gridcase.grids.models import Grid

    grid = Grid.objects.get(pk=grid.pk)  # its tree position as stored now
    scope = scope_for(actor)
    if not scope.covers(grid):
        raise ValidationFailed(_("Nothing with id {pk_value} in your area.").format(pk_value=grid.pk),
                               code="out_of_scope", fields={"grid": [_("Not in your area.")]})
    if not scope.is_global and not scope.roles_at(grid) & VOLUNTEER_MANAGERS:
        raise Forbidden(_("Only the grid's workers and managers may do this."))


@transaction.atomic
def register(actor, *, role, phone, display_name, password="", building=None, unit=None, grid=None,
             resident=None) -> Volunteer:
    """Give a resident a lead or volunteer role and a light account (login: the phone number)."""
    if role not in VolunteerRole.values:
        raise ValidationFailed(fields={"role": [_("Unknown role.")]})
    phone = (phone or "").strip()
    if not PHONE.match(phone):
        raise ValidationFailed(fields={"phone": [_("Enter an 11-digit mobile number.")]})
    display_name = (display_name or "").strip()[:150]
    if not display_name:
        raise ValidationFailed(fields={"display_name": [_("This field is required.")]})
    row = Volunteer(role=role, building=building, unit=unit, grid=grid, resident=resident, created_by=actor)
    if role == VolunteerRole.BUILDING_LEAD and building is not None:
        row.grid = building.grid
    elif role == VolunteerRole.UNIT_LEAD and unit is not None:
        row.grid = unit.micro_grid
    if row.grid_id is None and role != VolunteerRole.BUILDING_LEAD and role != VolunteerRole.UNIT_LEAD:
        raise ValidationFailed(fields={"grid": [_("A volunteer serves a micro-grid.")]})
    from django.core.exceptions import ValidationError

    try:
        row.clean()
    except ValidationError as exc:
        raise ValidationFailed(fields={k: [str(m) for m in v] for k, v in exc.message_dict.items()})
    check_manager(actor, row.grid)
    if resident is not None and not _lives_at(resident, row):
        raise ValidationFailed(fields={"resident": [_("The resident does not live at this place.")]})
    user = User.objects.filter(username=phone).first()
    if user is not None:
        if user.is_staff or user.is_superuser or user.memberships.exists() or user.department_memberships.exists():
            raise ValidationFailed(_("This phone number belongs to a staff account."), code="phone_taken",
                                   fields={"phone": [_("This phone number belongs to a staff account.")]})
    else:
        if len(password or "") < 8:
            raise ValidationFailed(fields={"password": [_("At least 8 characters.")]})
        user = User(username=phone, first_name=display_name)
        user.set_password(password)
        user.save()
    row.user = user
    if Volunteer.objects.filter(user=user, role=row.role, building=row.building, unit=row.unit, grid=row.grid).exists():
        raise Conflict(_("This person already holds this role here."), code="already_registered")
    row.save()
    return row


def _lives_at(resident, row) -> bool:
    unit = resident.household.unit
    if row.role == VolunteerRole.BUILDING_LEAD:
        return unit.building_id == row.building_id
    if row.role == VolunteerRole.UNIT_LEAD:
        return unit.pk == row.unit_id
    return tree.is_inside(resident.grid, row.grid)


@dataclass
class Stored:
    check_in: CheckIn
    created: bool


def _uuid(value):
    try:
        return uuidlib.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise ValidationFailed(fields={"client_uuid": [_("Expected a UUID.")]})


def check_in(user, body: dict, now=None) -> Stored:
    """A lead's look-in on a neighbour of their building; idempotent on `client_uuid`."""
    now = now or timezone.now()
    client_uuid = _uuid(body.get("client_uuid"))
    wellbeing = body.get("wellbeing")
    if wellbeing not in Wellbeing.values:
        raise ValidationFailed(fields={"wellbeing": [_("Choose good, needs attention or urgent.")]})
    note = body.get("note") or ""
    if not isinstance(note, str) or len(note) > 500:
        raise ValidationFailed(fields={"note": [_("At most %(n)d characters.") % {"n": 500}]})
    at = body.get("checked_at")
    checked_at = parse_datetime(at) if isinstance(at, str) else None
    if at is not None and checked_at is None:
        raise ValidationFailed(fields={"checked_at": [_("Expected a date and time.")]})
    checked_at = min(checked_at or now, now)
    existing = CheckIn.objects.filter(client_uuid=client_uuid).first()
    if existing is not None:
        return _replay(user, existing, body, wellbeing, note)
    neighbour = places.neighbour(user, body.get("resident"))
    roles = [r for r in places.roles_of(user) if r.role in (VolunteerRole.BUILDING_LEAD, VolunteerRole.UNIT_LEAD)]
    try:
        with transaction.atomic():
            row = CheckIn.objects.create(volunteer=roles[0], resident_id=neighbour["id"], grid_id=neighbour["grid_id"],
                                         client_uuid=client_uuid, wellbeing=wellbeing, note=note.strip(),
                                         checked_at=checked_at)
            workers = _workers_of(neighbour["grid_id"])
            title = _("Neighbour check-in: %(name)s") % {"name": neighbour["name"]}
            notify(workers, NotificationKind.CHECK_IN, title, note, dedupe_key=f"checkin-{row.pk}",
                   payload={"check_in": row.pk, "wellbeing": wellbeing})
    except IntegrityError:
        return _replay(user, CheckIn.objects.get(client_uuid=client_uuid), body, wellbeing, note)
    return Stored(row, True)


def _workers_of(grid_id) -> list[int]:
    """The micro-grid's worker and its general grid's worker: the people who look after the resident."""
    from gridcase.grids.models import Grid

    parent = Grid.objects.filter(pk=grid_id).values_list("parent_id", flat=True).first()
    return list(Membership.objects.filter(grid_id__in=[grid_id, parent], role__in=FIELD_WORKERS)
                .values_list("user_id", flat=True))


def _replay(user, existing, body, wellbeing, note) -> Stored:
    if existing.volunteer.user_id != user.pk:
        raise Conflict(_("This check-in was already sent with different content."), code="conflict")
    same = (str(existing.resident_id) == str(body.get("resident")) and existing.wellbeing == wellbeing
            and existing.note == note.strip())
    if not same:
        raise Conflict(_("This check-in was already sent with different content."), code="conflict")
    return Stored(existing, False)


def confirm(actor, row: CheckIn, now=None) -> CheckIn:
    """The micro-grid worker (or anyone managing volunteers there) confirms a check-in; once."""
    check_manager(actor, row.grid)
    CheckIn.objects.filter(pk=row.pk, confirmed_at__isnull=True).update(confirmed_by=actor,
                                                                         confirmed_at=now or timezone.now())
    row.refresh_from_db()
    return row


# --- activities -------------------------------------------------------------------------------------------------

def may_join(volunteer: Volunteer, activity: Activity) -> bool:
    """A volunteer joins the activities of their community (or of a grid above or around theirs)."""
    community = areas.community_of(volunteer.grid)
    if community is not None and tree.is_inside(activity.grid, community):
        return True
    return tree.is_inside(volunteer.grid, activity.grid)


@transaction.atomic
def sign_up(user, activity_id) -> tuple[SignUp, bool]:
    """Sign the caller (a volunteer or lead) up once; a full activity refuses (409 `full`)."""
    activity = Activity.objects.select_for_update().filter(pk=activity_id).first()
    roles = places.roles_of(user)
    mine = [r for r in roles if activity is not None and may_join(r, activity)]
    if activity is None or not mine:
        raise NotFound()
    existing = SignUp.objects.filter(activity=activity, volunteer__user=user).first()
    if existing is not None:
        return existing, False
    if activity.ends_at <= timezone.now():
        raise ValidationFailed(_("This activity has ended."), code="ended")
    if activity.capacity and SignUp.objects.filter(activity=activity).count() >= activity.capacity:
        raise Conflict(_("This activity is full."), code="full")
    return SignUp.objects.create(activity=activity, volunteer=mine[0]), True


def _hours(value, default):
    if value is None:
        return default
    try:
        hours = Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(fields={"hours": [_("Expected a number of hours.")]})
    if not (Decimal(0) <= hours <= Decimal(24)) or hours != hours.quantize(Decimal("0.1")):
        raise ValidationFailed(fields={"hours": [_("Between 0 and 24 hours, in tenths.")]})
    return hours


@transaction.atomic
def record_attendance(actor, sign_up_row: SignUp, attended, hours=None, now=None) -> SignUp:
    """Staff record whether a volunteer came and the hours served (the activity's hours by default; 0 if absent).
    Recording the same again changes nothing; a correction overwrites and is announced again."""
    check_manager(actor, sign_up_row.activity.grid)
    if not isinstance(attended, bool):
        raise ValidationFailed(fields={"attended": [_("Expected true or false.")]})
    hours = _hours(hours, sign_up_row.activity.hours) if attended else Decimal(0)
    row = SignUp.objects.select_for_update().get(pk=sign_up_row.pk)
    if row.attended == attended and row.hours == hours:
        return row
    row.attended, row.hours, row.recorded_by, row.recorded_at = attended, hours, actor, now or timezone.now()
    row.save(update_fields=["attended", "hours", "recorded_by", "recorded_at"])
    if attended and hours > 0:
        _award_hours(row, hours)
    transaction.on_commit(lambda: service_recorded.send(sender=SignUp, sign_up=row))
    return row


def _award_hours(row: SignUp, hours: Decimal) -> None:
    """Service hours earn points (gridcase.points), once per sign-up: the resident's credit when the volunteer is a
    registered resident, else their account's. A later correction of the hours is the points desk's to correct."""
    from django.apps import apps

    if not apps.is_installed("gridcase.points"):
        return
    from gridcase.points.rules import award

    volunteer = row.volunteer
    quantity = int(hours.to_integral_value(rounding=ROUND_HALF_UP)) or 1
    if volunteer.resident_id:
        award("resident_volunteer_hour", row, volunteer.resident, grid=row.activity.grid, quantity=quantity,
              by=row.recorded_by)
    else:
        award("volunteer_hour", row, volunteer.user, grid=row.activity.grid, quantity=quantity, by=row.recorded_by)


def service_hours(volunteer_ids) -> dict[int, Decimal]:
    """Total recorded service hours per volunteer row."""
    from django.db.models import Sum

    rows = (SignUp.objects.filter(volunteer_id__in=volunteer_ids, attended=True)
            .values("volunteer_id").annotate(total=Sum("hours")))
    return {r["volunteer_id"]: r["total"] or Decimal(0) for r in rows}
