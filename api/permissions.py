from rest_framework.permissions import BasePermission

from gridcase.grids.scoping import scope_for


class HasAnyRole(BasePermission):
    """Allow unsafe methods only to callers holding one of the view's `write_roles` somewhere."""

    def has_permission(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        roles = getattr(view, "write_roles", set())
        return scope_for(request.user).has_role(*roles)
