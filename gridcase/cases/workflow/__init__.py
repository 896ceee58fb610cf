"""The case workflow: the table (state.py) applied by one engine to actions registered with their plans.

- `plan.py`: `At`, `Plan`, `Step`, `settle()` and the registry (`@action(name, inputs=, guard=)`).
- `engine.py`: loading a case, who-is-who, `allowed_actions`, `apply` (scope, role, version, status,
  guard, input, plan, compare-and-set commit, event, ledger rows, notices), conflicts and versions.
- `actions.py`: the case's own path (accept … close, escalate, rate) and the PATCH `edit`, the plan of a new
  case (`opening`), the sweep's `auto_escalate` and the resident's `rate_by_resident`.
- `coordination.py`: working with others — whistle, report in, reply, score a department, extensions.
- `places.py`: the internal rows `relocate` (a place moved, grids.moves) and `reassign` (grids.handover).
- `hops.py`: the hop ledger and department links as operations; `recipients.py`: who hears of a case.
- `inputs.py`: reading an action's input.

Callers use this package's names: `workflow.apply(...)`, `workflow.load(...)`, `workflow.step(...)`.
"""

from . import actions, coordination, places
from .actions import (
    AUTO_ESCALATE_REASON,
    auto_escalate,
    eligible_assignee,
    eligible_memberships,
    opening,
    rate_by_resident,
)
from .engine import (
    Ctx,
    Lost,
    PreconditionFailed,
    allowed_actions,
    apply,
    commit,
    conflict,
    load,
    parse_version,
    perform,
    read_many,
    read_one,
    read_prepared,
    record_event,
    relations_to,
    roles_on,
    with_related,
)
from .hops import write as write_ledger
from .inputs import MAX_EXTENSION_HOURS
from .plan import REGISTRY, At, Plan, Step, action, check_registry, settle, step
from .recipients import Notice, officers_of, render, responsible_users, staff_of, tell

check_registry()

__all__ = [
    "AUTO_ESCALATE_REASON", "MAX_EXTENSION_HOURS", "REGISTRY", "At", "Ctx", "Lost", "Notice", "Plan",
    "PreconditionFailed", "Step", "action", "actions", "allowed_actions", "coordination", "apply", "auto_escalate",
    "check_registry", "commit", "conflict", "eligible_assignee", "eligible_memberships", "load", "officers_of",
    "opening", "parse_version", "perform", "places", "rate_by_resident", "read_many", "read_one", "read_prepared", "record_event", "relations_to", "render",
    "responsible_users", "roles_on", "settle", "staff_of", "step", "tell", "with_related", "write_ledger",
]
