"""Querysets that know who is asking.

Every model that can be listed has `objects = ScopedQuerySet.as_manager()` and a classmethod `scope_q(scope)`:
the condition keeping its rows inside the caller's scope. `Model.objects.restrict(user)` applies it once (nothing
for a global scope, no rows for an anonymous caller).

A restricted queryset remembers its scope and which part of the WHERE clause is the restriction, so a narrower
condition that already implies it (the scope's rows inside one subtree, see `gridcase.grids.scoping.within`)
replaces it instead of being stacked on top: the statement carries one condition, not two.
"""

from typing import Any, NamedTuple

from django.db import models
from django.db.models.sql.where import AND
from django.utils.module_loading import import_string

# Turns a user (or a scope) into a scope. A dotted path, so that core imports no app: the grid tree decides who
# sees what (gridcase.grids.scoping).
SCOPE_OF = "gridcase.grids.scoping.scope_of"

# Where a restricted query keeps its Restriction (Query.clone copies the query's attributes).
_ATTR = "gridcase_restriction"


class Restriction(NamedTuple):
    scope: Any
    start: int  # the restriction's conditions are where.children[start:end]
    end: int


class ScopedQuerySet(models.QuerySet):
    def restrict(self, user):
        """The rows `user` (a user or a Scope) may see."""
        scope = import_string(SCOPE_OF)(user)
        if scope.is_global:
            return self
        if scope.user_id is None:
            return self.none()
        return self._restricted(scope, self.model.scope_q(scope))

    def restriction(self):
        """The scope this queryset is restricted to, while its condition can still be replaced (else None)."""
        found = self._restriction()
        return found.scope if found is not None else None

    def narrow(self, q):
        """Replace the restriction by `q`, a condition that keeps only rows the restriction keeps (e.g. the scope's
        rows inside one subtree). On a queryset that is not restricted, `q` is simply added."""
        found = self._restriction()
        if found is None:
            return self.filter(q)
        return self._restricted(found.scope, q, replacing=found)

    def _restriction(self) -> Restriction | None:
        found = self.query.__dict__.get(_ATTR)
        where = self.query.where
        # A combined query (`|`, union) or a restructured WHERE no longer holds the restriction where it was put.
        if found is None or self.query.combinator or where.connector != AND or where.negated \
                or len(where.children) < found.end:
            return None
        return found

    def _restricted(self, scope, q, replacing: Restriction | None = None):
        before = len(self.query.where.children)
        clone = self.filter(q)
        where = clone.query.where
        added = where.children[before:]
        start = before
        if replacing is not None:
            # Move the new conditions into the old restriction's place. Joins the old one set up are single-valued
            # (foreign keys), so a replacement through the same path reuses them.
            del where.children[before:]
            where.children[replacing.start:replacing.end] = added
            start = replacing.start
        clone.query.__dict__[_ATTR] = Restriction(scope, start, start + len(added))
        return clone
