"""What a lead's or volunteer's light account may see: decided from their `Volunteer` rows alone.

A light account holds no grid membership, so every scoped list of the API is empty for it; its own pages
(`/api/v1/lead/…`) ask here. A building lead sees their building, a unit lead their unit: residents' names and
room numbers only (never a phone, ID number, birth date or tag), and the notices sent to them. A volunteer on a
micro-grid sees that micro-grid's notices and no residents. Anyone outside answers "not in your building" (404),
as if they did not exist.
"""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridcase.core.errors import NotFound
from gridcase.grids import tree
from gridcase.grids.choices import ResidentStatus
from gridcase.grids.models import Resident, Unit

from .models import LEAD_ROLES, Volunteer, VolunteerRole

NOT_YOURS = _("This resident is not in your building.")


def roles_of(user):
    return list(Volunteer.objects.filter(user=user, is_active=True).select_related("building", "unit", "grid")
                .order_by("id"))


def is_light_account(user) -> bool:
    """A resident's account (lead or volunteer): volunteer roles and no place in the grid tree or a department."""
    return (Volunteer.objects.filter(user=user, is_active=True).exists()
            and not user.memberships.exists() and not user.department_memberships.exists() and not user.is_staff)


def neighbours_q(roles) -> Q:
    """Residents a lead may name: their building's (building lead) or their unit's (unit lead), living there."""
    q = Q(pk__in=[])
    buildings = [r.building_id for r in roles if r.role == VolunteerRole.BUILDING_LEAD]
    units = [r.unit_id for r in roles if r.role == VolunteerRole.UNIT_LEAD]
    if buildings:
        q |= Q(household__unit__building_id__in=buildings)
    if units:
        q |= Q(household__unit_id__in=units)
    return q & Q(status=ResidentStatus.ACTIVE)


def neighbours(user, search: str = ""):
    """Names and rooms (and the unit), nothing else: a values() query, so no other column is even read."""
    roles = roles_of(user)
    qs = Resident.objects.filter(neighbours_q(roles))
    if search:
        qs = qs.filter(Q(name__contains=search) | Q(household__room__contains=search))
    return (qs.order_by("household__unit__building__name", "household__unit__name", "household__room", "id")
            .values("id", "name", "household__room", "household__unit__name", "household__unit__building__name"))


def neighbour(user, resident_id):
    """One neighbour the lead may name (id, name, room, unit, micro-grid), or 404 'not in your building'."""
    try:
        pk = int(resident_id)
    except (TypeError, ValueError):
        raise NotFound(NOT_YOURS)
    row = (Resident.objects.filter(neighbours_q(roles_of(user)), pk=pk)
           .values("id", "name", "grid_id", "household__room", "household__unit__name",
                   "household__unit__building__name").first())
    if row is None:
        raise NotFound(NOT_YOURS)
    return row


def notice_recipients(span):
    """(user id, grid id, role) of the active leads and volunteers a notice to the subtree `span` reaches: those whose
    place lies in it, and building leads of a building with a unit in it (a notice to one micro-grid concerns the
    buildings it holds a part of)."""
    in_subtree = tree.subtree_q([span], "grid__")
    partly = Q(role=VolunteerRole.BUILDING_LEAD,
               building_id__in=Unit.objects.filter(tree.subtree_q([span], "micro_grid__")).values("building_id"))
    rows = (Volunteer.objects.filter(in_subtree | partly, is_active=True, user__is_active=True)
            .order_by("user_id", "id").values_list("user_id", "grid_id", "role"))
    return list(rows)


def place_spans(roles) -> list:
    """Tree spans of the grids a lead's or volunteer's places lie in: a building's general grid and the micro-grids
    of its units, a unit's micro-grid, a volunteer's micro-grid."""
    from gridcase.grids.models import Grid

    ids = {r.grid_id for r in roles}
    buildings = [r.building_id for r in roles if r.role == VolunteerRole.BUILDING_LEAD]
    if buildings:
        ids |= set(Unit.objects.filter(building_id__in=buildings).values_list("micro_grid_id", flat=True))
    return [tree.Span(*row) for row in Grid.objects.filter(pk__in=ids).values_list(*tree.span_fields())]


def visible_notices(user, roles=None):
    """The notices for residents, published and not expired, sent to a grid that holds the caller's places (or above
    it): their building's notices. Decided now, so a lead registered after a notice went out still sees it."""
    from gridcase.notices.board import current_q
    from gridcase.notices.models import Audience, Notice

    spans = place_spans(roles if roles is not None else roles_of(user))
    return Notice.objects.filter(tree.covering_q(spans, "grid__"), current_q(), audience=Audience.RESIDENTS)


def anchor_grid_ids(roles) -> list[int]:
    return sorted({r.grid_id for r in roles})


def is_lead(roles) -> bool:
    return any(r.role in LEAD_ROLES for r in roles)
