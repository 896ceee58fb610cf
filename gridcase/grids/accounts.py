"""Who may see, create, change and grant roles to which accounts; API tokens end with the password.

The rule (the API's user and membership views call it, nothing else decides it):

- A manager (secretary, street dispatcher, administrator role) **manages** an account only when every
  grid role of that account lies inside the manager's area at a rank strictly below the manager's rank
  there, and every department it belongs to serves an area inside the manager's area where the manager
  outranks a department officer (a street dispatcher or above). Superusers and staff accounts are never
  managed this way (only by a superuser), nor is an account with no place in the tree, nor one's own.
- Changing an account (password, names, e-mail, active) needs to manage it; one's own names, e-mail and
  password may be changed too.
- Granting a role (creating or changing a membership) needs a manager role on the grid at least as high as
  the role granted, and to manage the account that receives it — so nobody can pull an outside or
  higher account into their area and then reset its password.
- Accounts are visible (listed, readable, referable) when they hold a role inside the caller's area or
  belong to a department serving it; others answer 404 (by id) or "no account with id …" (in a body).
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from gridcase.core.errors import Forbidden

from . import tree
from .choices import Role
from .models import DepartmentMember, Membership
from .roles import MANAGER_ROLES, ROLE_RANK
from .scoping import Scope, scope_for

User = get_user_model()

# Department officers are created and managed by the street (see `create_account`): a secretary's peer.
DEPARTMENT_RANK = ROLE_RANK[Role.SECRETARY]

NOT_YOURS = _("This account has roles outside your area or at your rank or above; ask a manager above you.")
PROTECTED = _("Administrator accounts can only be changed by a superuser.")


def display_name(user) -> str:
    """A user's shown name: the name given to the account (the API's `display_name`, stored in `first_name`, with
    a `last_name` if an admin set one), else the login name; "" for nobody."""
    if user is None:
        return ""
    return user.get_full_name() or user.username


def _scope(actor) -> Scope:
    return actor if isinstance(actor, Scope) else scope_for(actor)


def manager_rank(scope: Scope, grid) -> int:
    """The highest rank of a managing role the caller holds on `grid` or above it (-1: none)."""
    if scope.is_global:
        return max(ROLE_RANK.values()) + 1
    held = scope.roles_at(grid) & MANAGER_ROLES
    return max((ROLE_RANK[r] for r in held), default=-1)


def visible_users(actor):
    """Accounts the caller may list, read and refer to."""
    scope = _scope(actor)
    if scope.is_global:
        return User.objects.all()
    if scope.user_id is None:
        return User.objects.none()
    in_area = Membership.objects.filter(tree.subtree_q(scope.spans, "grid__")).values("user_id")
    officers = DepartmentMember.objects.filter(tree.subtree_q(scope.spans, "department__area__")).values("user_id")
    return User.objects.filter(Q(pk__in=in_area) | Q(pk__in=officers) | Q(pk=scope.user_id))


def manages(actor, target) -> bool:
    """True when the caller may change `target`'s account and roles (see the module's rule)."""
    scope = _scope(actor)
    if scope.is_global:
        return True
    if target.pk == scope.user_id or target.is_superuser or target.is_staff:
        return False
    roles = list(Membership.objects.filter(user=target).select_related("grid"))
    departments = list(DepartmentMember.objects.filter(user=target).select_related("department__area"))
    if not roles and not departments:
        return False
    for m in roles:
        if manager_rank(scope, m.grid) <= ROLE_RANK[m.role]:
            return False
    for d in departments:
        area = d.department.area
        if area is None or manager_rank(scope, area) <= DEPARTMENT_RANK:
            return False
    return True


def check_manages(actor, target) -> None:
    if not manages(actor, target):
        raise Forbidden(PROTECTED if (target.is_superuser or target.is_staff) else NOT_YOURS)


def check_can_change(actor, target, fields) -> None:
    """Changing an account: one's own names, e-mail and password, or any field of an account one manages."""
    scope = _scope(actor)
    if target.pk == scope.user_id and not scope.is_global and set(fields) <= {"first_name", "email", "password"}:
        return
    check_manages(scope, target)


def check_can_grant(actor, grid, role, user=None) -> None:
    """Granting `role` on `grid` (to `user`, when given): a manager role on the grid at least as high as the
    role, and, for an existing account, managing it."""
    scope = _scope(actor)
    if scope.is_global:
        return
    if manager_rank(scope, grid) < ROLE_RANK[role]:
        raise Forbidden()
    if user is not None:
        check_manages(scope, user)


def check_can_change_membership(actor, membership, *, grid, role, user) -> None:
    """Changing a membership: the account it belongs to now, and the grant it becomes."""
    scope = _scope(actor)
    if scope.is_global:
        return
    check_manages(scope, membership.user)
    check_can_grant(scope, grid, role, user if user.pk != membership.user_id else None)


def check_can_remove_membership(actor, membership) -> None:
    scope = _scope(actor)
    if not scope.is_global:
        check_manages(scope, membership.user)


@transaction.atomic
def create_account(actor, *, username, password, display_name="", email="", grid=None, role=None, department=None):
    """Create a worker's or officer's account with its first role (or department).

    A department officer's account is created by a street dispatcher (or above) whose area holds the
    department's area; a city-wide department's (no area) only by a superuser."""
    scope = _scope(actor)
    if grid is not None:
        check_can_grant(scope, grid, role)
    if department is not None and not scope.is_global:
        if department.area is None or manager_rank(scope, department.area) <= DEPARTMENT_RANK:
            raise Forbidden()
    user = User(username=username, first_name=display_name, email=email)
    user.set_password(password)
    user.save()
    if grid is not None:
        Membership.objects.create(user=user, grid=grid, role=role)
    if department is not None:
        DepartmentMember.objects.create(user=user, department=department)
    return user


@transaction.atomic
def update_account(actor, target, changes: dict):
    """Apply `changes` (first_name, email, is_active, password) to `target` after `check_can_change`.

    A new password is set hashed; every API token of the account ends with it (see `password_changed`)."""
    check_can_change(actor, target, changes.keys())
    password = changes.pop("password", None)
    for field, value in changes.items():
        setattr(target, field, value)
    if password:
        target.set_password(password)
    target.save()
    return target


# API tokens --------------------------------------------------------------------------------------------------

def revoke_tokens(user, keep=None) -> int:
    """End every API token of `user` (all but `keep`, a token instance)."""
    from knox.models import get_token_model

    tokens = get_token_model().objects.filter(user=user)
    if keep is not None:
        tokens = tokens.exclude(pk=keep.pk)
    deleted, _ = tokens.delete()
    return deleted


@receiver(post_save, sender=User, dispatch_uid="gridcase.accounts.password_changed")
def password_changed(sender, instance, created, **kwargs):
    """Whatever changed the password — the API, admin, a reset form, `changepassword` — went through
    `set_password()`, which leaves the raw password in `_password` until the save: the old tokens end.
    (Sessions end by themselves: Django checks each session against the password hash.)"""
    if not created and getattr(instance, "_password", None) is not None:
        revoke_tokens(instance)
