"""Who sees what. The one place that turns a user into the part of the tree they may see.

A user's scope is the union of the subtrees of the grids they hold a role on. Every model that
can be listed declares `scope_q(scope)`: the Q that keeps its rows inside those subtrees, as tree ranges
(`tree.subtree_q`: a join on the grid and `lft BETWEEN` the held grid's span), never as a list of ids.
`Model.objects.restrict(user)` applies it; the API's base viewset calls it on every request, so an
object outside the scope is absent from lists and answers 404 by id. `within(qs, span)` narrows a
restricted list to one subtree (the lists' `?within=`) in the same single condition.
"""

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q

from gridcase.core import statements

from . import tree
from .choices import Level


@dataclass(frozen=True)
class Hold:
    grid_id: int
    role: str
    span: tree.Span
    level: str


@dataclass
class Scope:
    user_id: int | None
    is_global: bool = False
    holds: list[Hold] = field(default_factory=list)
    department_ids: list[int] = field(default_factory=list)

    @property
    def key(self) -> tuple:
        """Everything a statement restricted to this scope depends on (a compiled statement's cache key,
        gridcase.core.statements)."""
        return (self.user_id, self.is_global, tuple(self.holds), tuple(self.department_ids))

    @property
    def spans(self) -> list[tree.Span]:
        return [h.span for h in self.holds]

    @property
    def grid_ids(self) -> list[int]:
        return [h.grid_id for h in self.holds]

    def roles_at(self, grid) -> set[str]:
        """Roles the user holds on `grid` itself or on any of its ancestors."""
        target = tree.span(grid)
        return {h.role for h in self.holds if h.span.contains(target)}

    def covers(self, grid) -> bool:
        return self.is_global or any(h.span.contains(tree.span(grid)) for h in self.holds)

    def has_role(self, *roles) -> bool:
        return self.is_global or any(h.role in roles for h in self.holds)


def scope_for(user) -> Scope:
    """The caller's scope, computed once per request (cached on the user object)."""
    if user is None or not user.is_authenticated:
        return Scope(user_id=None)
    cached = getattr(user, "_gridcase_scope", None)
    if cached is not None:
        return cached
    from .models import DepartmentMember, Membership

    def holds_of(user_id):
        return Membership.objects.filter(user_id=user_id).values_list("grid_id", "role", "grid__level",
                                                                       *tree.span_fields("grid__"))

    def departments_of(user_id):
        return DepartmentMember.objects.filter(user_id=user_id).values_list("department_id")

    if connection.vendor == "postgresql":  # every request asks: compiled once (gridcase.core.statements)
        rows = statements.prepared("scope.holds", holds_of, ("user_id",)).rows(user_id=user.pk)
        departments = [d for (d,) in statements.prepared("scope.departments", departments_of, ("user_id",))
                       .rows(user_id=user.pk)]
    else:
        rows, departments = list(holds_of(user.pk)), [d for (d,) in departments_of(user.pk)]
    holds = [Hold(g, role, tree.Span(*span), level) for g, role, level, *span in rows]
    scope = Scope(user_id=user.pk, is_global=user.is_superuser, holds=holds, department_ids=departments)
    user._gridcase_scope = scope
    return scope


def forget_scope(user) -> None:
    if hasattr(user, "_gridcase_scope"):
        del user._gridcase_scope


def scope_of(user_or_scope) -> Scope:
    """A user's scope, or the scope given (what `ScopedQuerySet.restrict` accepts)."""
    return user_or_scope if isinstance(user_or_scope, Scope) else scope_for(user_or_scope)


def within(qs, span: tree.Span, prefix: str = "grid__"):
    """The rows of `qs` whose node (reached through `prefix`) lies in the subtree `span`.

    On a restricted queryset the restriction and the subtree become one condition (`ScopedQuerySet.narrow`): a
    model declaring `scope_within_q(scope, span)` builds it (cases: three grids and sensitivity; `scope` is None
    on a queryset that is not restricted); a model whose scope is the plain subtree condition on `prefix` keeps
    the scope's spans cut down to `span` (one range when a hold covers it); any other ANDs its scope condition
    and the range in that one condition.
    """
    scope = qs.restriction()
    combined = getattr(qs.model, "scope_within_q", None)
    if combined is not None:
        return qs.narrow(combined(scope, span))
    if scope is None:
        return qs.filter(tree.subtree_q([span], prefix))
    scope_q = qs.model.scope_q(scope)
    if scope_q == tree.subtree_q(scope.spans, prefix):
        return qs.narrow(tree.subtree_q(tree.intersect(scope.spans, span), prefix))
    return qs.narrow(scope_q & tree.subtree_q([span], prefix))


# --- people's area: a resident (and their care plan) carries its micro-grid, community and street ------------------

Node = tuple  # (grid id, level, span): a grid of the tree, as a hold names one


def nodes_within(scope: Scope | None, span: tree.Span) -> list[Node]:
    """The part of `scope` inside the subtree `span`, as grids: the node at `span` when a hold covers it (or the
    scope is None: not restricted), else the held grids inside it. One query when the node at `span` is not
    itself held (its id and level)."""
    holds = [] if scope is None else scope.holds
    if scope is not None and not tree.covers(scope.spans, span):
        return [(h.grid_id, h.level, h.span) for h in holds if span.contains(h.span)]
    held = next((h for h in holds if h.span == span), None)
    if held is not None:
        return [(held.grid_id, held.level, held.span)]
    from .models import Grid

    row = Grid.objects.filter(tree_id=span.tree_id, lft=span.lft).values_list("pk", "level").first()
    return [(row[0], row[1], span)] if row else []


def area_q(nodes, prefix: str = "") -> Q:
    """Rows of people (residents, care plans: reached through `prefix`) living in the subtrees of `nodes`: a
    street or community by the copied `street_id` / `community_id` (one value of an index, walked in id order),
    any other grid by `grid_id IN (its subtree's grids)`. Never a join to the tree, never a list of ids."""
    from .models import Grid

    q = Q(pk__in=[])
    others = []
    for grid_id, level, span in nodes:
        if level == Level.STREET:
            q |= Q(**{f"{prefix}street_id": grid_id})
        elif level == Level.COMMUNITY:
            q |= Q(**{f"{prefix}community_id": grid_id})
        else:
            others.append(span)
    if others:
        q |= tree.in_subtrees_q(Grid, others, f"{prefix}grid_id")
    return q
