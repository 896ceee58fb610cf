"""Rules for people, places and accounts that views, import and seeds share."""

from django.contrib.auth import get_user_model
from django.db import transaction

from gridcase.core.errors import Forbidden

from .choices import MANAGER_ROLES, Role
from .models import DepartmentMember, Membership, Resident
from .scoping import scope_for

User = get_user_model()

# Who may grant which role: a role can be granted by a manager holding a role at least as high.
ROLE_RANK = {
    Role.VIEWER: 0,
    Role.MICRO_GRID_WORKER: 1,
    Role.GRID_WORKER: 2,
    Role.GRID_LEADER: 3,
    Role.SECRETARY: 4,
    Role.STREET_DISPATCHER: 5,
    Role.ADMIN: 6,
}


def set_resident_tags(resident: Resident, tags) -> None:
    """Replace a resident's key-population tags; care plans follow tag changes via signals."""
    resident.tags.set(tags)


def check_can_grant(actor, grid, role) -> None:
    """A manager may grant roles on grids inside their subtree, up to their own rank there."""
    scope = scope_for(actor)
    if scope.is_global:
        return
    held = scope.roles_at(grid) & MANAGER_ROLES
    if not held or ROLE_RANK[role] > max(ROLE_RANK[r] for r in held):
        raise Forbidden()


@transaction.atomic
def create_account(actor, *, username, password, display_name="", email="", grid=None, role=None, department=None):
    """Create a worker's or officer's account with its first role (or department)."""
    if grid is not None:
        check_can_grant(actor, grid, role)
    if department is not None and not scope_for(actor).is_global and not scope_for(actor).has_role(
        Role.STREET_DISPATCHER, Role.ADMIN
    ):
        raise Forbidden()
    user = User(username=username, first_name=display_name, email=email)
    user.set_password(password)
    user.save()
    if grid is not None:
        Membership.objects.create(user=user, grid=grid, role=role)
    if department is not None:
        DepartmentMember.objects.create(user=user, department=department)
    return user
