from rest_framework.permissions import IsAuthenticated

from gridcase.grids.scoping import scope_for


class HasAnyRole(IsAuthenticated):
    """Signed-in callers may read; unsafe methods need one of the view's `write_roles` somewhere.

    Where exactly they may write is checked per object by the base viewset (roles on that grid).
    """

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        roles = getattr(view, "write_roles", set())
        return scope_for(request.user).has_role(*roles)
