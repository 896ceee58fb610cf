"""Cases carried by operations on places and people (the internal rows of state.py, not POST actions):

- `relocate`: a unit, building or grid moved (grids.moves) and the mover chose that its open cases follow it —
  the case's grid and owner grid change, the owner's grid hop closes and the new owner's opens; an assignee who
  does not work under the new owner is let go (the table's `unassigned` outcome: back to accepted).
- `reassign`: a worker's cases handed to a colleague (grids.handover) or a console selection reassigned: the
  `assign` plan from any handled status, its per-case notice left out (the handover tells each receiver once).

Both are applied with `transition()`: the engine's checks (role on the owner grid, compare-and-set on the
version, event, ledger) without a request's version, inside the caller's transaction.
"""

from django.utils import timezone

from gridcase.core.errors import Conflict, Forbidden

from .. import state
from . import hops
from .actions import assign, assignee_input
from .engine import Lost, commit, context
from .plan import REGISTRY, Plan, action, settle


@action("relocate")
def relocate(at, owner, grid=None, unassign=False, move=None):
    """`owner`/`grid`: the case's new owner grid and grid (nodes with `pk` and `level`); `move`: the audit id."""
    case = at.case
    changes, payload, ops = {}, {"move": move} if move else {}, []
    if owner.pk != case.owner_grid_id:
        changes["owner_grid_id"] = owner.pk
        payload.update(owner_grid=owner.pk, from_grid=case.owner_grid_id, owner_grid_level=owner.level)
        ops = [hops.CloseGridHop("relocate"), hops.OpenGridHop(owner.pk, owner.level, "relocate")]
    if grid is not None and grid.pk != case.grid_id:
        changes["grid_id"] = grid.pk
        payload.update(grid=grid.pk, from_place=case.grid_id)
    plan = Plan(changes, payload, ops=ops)
    if unassign and case.assignee_id and case.status in (state.S.ASSIGNED, state.S.IN_PROGRESS):
        changes["assignee_id"] = None
        payload["assignee"] = None
        plan.outcome = "unassigned"
        plan.owner_level = owner.level
    return plan if changes else None


@action("reassign", inputs=assignee_input)
def reassign(at, assignee, note="", handover=None):
    plan = assign(at, assignee, note)
    if handover is not None:
        plan.payload["handover"] = handover
        plan.notices = []  # the handover tells each receiver once, for all their new work
    return plan


def transition(case, name: str, actor, *, check_role=True, now=None, data=None, **inputs) -> bool:
    """Run the internal row `name` on `case` (loaded with `engine.with_related`) as `actor`: role on the owner
    grid (unless `check_role` is off: the mover's rights were checked on the place), status, input (`data` read
    by the action's `inputs`, or `inputs` given), plan and compare-and-set. A concurrent change raises Conflict.
    Call inside a transaction: the caller's whole operation is undone with it."""
    from gridcase.grids.scoping import scope_for

    now = now or timezone.now()
    act = REGISTRY[name]
    ctx = context(case, actor, scope_for(actor), data, now)
    if check_role and not state.permitted(name, ctx.roles, ctx.relations):
        raise Forbidden()
    if case.status not in act.transition.sources:
        return False
    kwargs = act.inputs(ctx) if data is not None else {}
    kwargs.update(inputs)
    plan = act.plan(ctx, **kwargs)
    if plan is None:
        return False
    try:
        commit(case, settle(ctx, name, plan), actor, now)
    except Lost:
        raise Conflict()
    return True
