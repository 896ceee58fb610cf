"""Who hears of a case: its owner grid's staff, its assignee, the officers of whistled departments.

A plan names its notices as data (`Notice`: to whom, what kind, which title); the engine sends them once
the case's row is written (`tell`), so the plans themselves never query.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import translation

from gridcase.grids import tree
from gridcase.grids.choices import Role
from gridcase.grids.models import DepartmentMember, Membership
from gridcase.grids.roles import CASE_STAFF
from gridcase.notifications.services import notify


def staff_of(grid) -> list[int]:
    """Staff holding a handling role on `grid`, or on its nearest ancestor that has any."""
    rows = list(Membership.objects.filter(tree.ancestors_q(grid, include_self=True, prefix="grid__"),
                                          role__in=CASE_STAFF - {Role.ADMIN})
                .order_by(tree.nearest_first("grid__")).values_list("grid_id", "user_id"))  # one query
    if not rows:
        return []
    nearest = rows[0][0]
    return sorted({u for g, u in rows if g == nearest})


def responsible_users(case) -> list[int]:
    """The owner grid's staff and the assignee."""
    users = set(staff_of(case.owner_grid))
    if case.assignee_id:
        users.add(case.assignee_id)
    return sorted(users)


def officers_of(department_ids) -> list[int]:
    return sorted(set(DepartmentMember.objects.filter(department_id__in=department_ids)
                      .values_list("user_id", flat=True)))


def render(message, **params) -> str:
    """Stored notification text, in the site's language (the recipient is not the caller)."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(message) % params


# --- whom a notice goes to: functions of the case as written -----------------------------------------------

def users(ids) -> Callable:
    ids = [i for i in ids if i]
    return lambda case: ids


def staff(grid) -> Callable:
    """The staff of `grid` (the grid object itself; for the owner grid use `owner_staff`)."""
    return lambda case: staff_of(grid)


def owner_staff(case) -> list[int]:
    return staff_of(case.owner_grid)


def officers(department_ids) -> Callable:
    return lambda case: officers_of(department_ids)


responsible = responsible_users


def responsible_but(user_id) -> Callable:
    """The owner grid's staff and the assignee, except `user_id` (who acted)."""
    return lambda case: [u for u in responsible_users(case) if u != user_id]


@dataclass(frozen=True)
class Notice:
    """One message about the case: `to(case)` gives the recipients; `key` (with `{version}` for the version
    the action wrote) makes it idempotent; `params` fill the title besides the case's number."""

    to: Callable
    kind: str
    title: object
    key: str
    params: dict = field(default_factory=dict)


def tell(case, notice: Notice, recipients=None) -> int:
    """Send `notice` about the case as written (`recipients`: `notice.to(case)` when the caller read it already)."""
    title = render(notice.title, number=case.number, **notice.params)
    return notify(notice.to(case) if recipients is None else recipients, notice.kind, title, case.title,
                  dedupe_key=f"case:{case.pk}:{notice.key.format(version=case.version)}", case_id=case.pk)
