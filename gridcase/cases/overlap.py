"""Dedicated grids (专属网格: a school, hospital, market) overlap the general grids of their community.

A dedicated grid is a child of a community, beside its general grids, and lies inside their area. The rule:
**a case may name a dedicated grid only when the grid where it happened lies in that dedicated grid's
community**. So a case at a micro-grid and at the school of the same community is shared by both workers:

- the micro-grid worker may name any dedicated grid of the communities they work in (`nameable_dedicated`);
- the dedicated grid's worker may name any grid of its community as the place (`nameable_places`), together
  with the dedicated grid they hold (`may_report`);
- on the shared case, a worker holding its dedicated grid counts like one holding its grid for the actions,
  while the case is owned where it happened (`dedicated_roles`).
"""

from django.db.models import Exists, OuterRef, Q

from gridcase.grids import tree
from gridcase.grids.choices import Level
from gridcase.grids.models import Grid
from gridcase.grids.roles import CASE_WORKERS
from gridcase.grids.scoping import Scope


def _worker_holds(scope: Scope):
    return [h for h in scope.holds if h.role in CASE_WORKERS]


def nameable_dedicated_q(scope: Scope) -> Q:
    """Dedicated grids whose community holds (or is) a grid the caller works cases on."""
    spans = [h.span for h in _worker_holds(scope)]
    if not spans:
        return Q(pk__in=[])
    communities = Grid.objects.filter(tree.covering_q(spans), level=Level.COMMUNITY).values("pk")
    return Q(level=Level.DEDICATED, parent_id__in=communities)


def nameable_places_q(scope: Scope) -> Q:
    """Grids of the communities of the dedicated grids the caller works cases on (the places they overlap)."""
    held = [h.grid_id for h in _worker_holds(scope) if h.level == Level.DEDICATED]
    if not held:
        return Q(pk__in=[])
    parents = Grid.objects.filter(pk__in=Grid.objects.filter(pk__in=held).values("parent_id"),
                                  tree_id=OuterRef("tree_id"), lft__lte=OuterRef("lft"), rght__gte=OuterRef("rght"))
    return Q(Exists(parents))


def overlaps(grid, dedicated) -> bool:
    """May a case at `grid` name `dedicated`? Only when `grid` lies in the dedicated grid's community."""
    return dedicated.parent_id is not None and dedicated.parent is not None and tree.is_inside(grid, dedicated.parent)


def may_report(scope: Scope, grid, dedicated) -> bool:
    """A case reported at `grid` (naming `dedicated`, or None): the caller works cases on the grid, or on the
    dedicated grid it names (the overlap itself is checked with the case's places)."""
    if scope.is_global or scope.roles_at(grid) & CASE_WORKERS:
        return True
    return dedicated is not None and bool(scope.roles_at(dedicated) & CASE_WORKERS)


def dedicated_roles(case, scope: Scope) -> set:
    """The case-working roles the caller holds on the case's dedicated grid, counted on a case owned where it
    happened (a case sent up to the general grid or the community is theirs no more than the micro-grid
    worker's)."""
    if not case.dedicated_grid_id or case.owner_grid_id != case.grid_id or not scope.holds:
        return set()
    return set(scope.roles_at(case.dedicated_grid)) & CASE_WORKERS


def report_grids(scope: Scope) -> dict:
    """What a reporter's form offers beyond their own grids: `dedicated`, the dedicated grids they may name
    (their own and those of their communities), and `places`, the general and micro-grids of the communities of
    the dedicated grids they hold (not already theirs). Two queries."""
    fields = ("id", "code", "name", "level", "kind", "parent_id")
    dedicated = Grid.objects.filter(level=Level.DEDICATED)
    places = Grid.objects.filter(level__in=(Level.GRID, Level.MICRO_GRID))
    if scope.is_global:
        places = places.none()
    elif scope.user_id is None:
        dedicated, places = dedicated.none(), places.none()
    else:
        dedicated = dedicated.filter(Grid.scope_q(scope) | nameable_dedicated_q(scope))
        places = places.filter(nameable_places_q(scope)).exclude(Grid.scope_q(scope))
    return {"dedicated": list(tree.tree_order(dedicated).values(*fields)),
            "places": list(tree.tree_order(places).values(*fields))}
