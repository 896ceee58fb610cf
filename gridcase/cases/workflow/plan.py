"""What an action does, as data, and the registry of actions.

An action is one registered function, its *plan*: from the case as it is (`At`) and the action's input it
returns a `Plan` — the case fields it sets, the event's payload and comment, the ledger rows it writes
(hops.py) and the notices it sends (recipients.py). Plans are pure: no queries, no writes, no status.
The status comes from the table (state.py): `settle()` adds it, with the SLA timers a new stage starts, so
the live engine and the seeders turn a plan into the same row by the same code.

    @action("verify", guard=not_by_the_resolver)          # one table row in state.py, one function here
    def verify(at, note=""):
        return Plan({"verified_at": at.now}, comment=note)

`inputs(ctx) -> dict` reads and checks the request's data (it may query: the assignee exists, the
departments serve the area); `guard(ctx)` refuses the action for this actor now (it also hides the action
from `allowed_actions`). Both run only in the live engine; the seeders pass the input they chose.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ImproperlyConfigured

from .. import sla, state


@dataclass
class At:
    """The case a plan starts from (a Case, or a seeder's row with the same attributes), the instant, the
    acting user's id and the SLA policy lookup."""

    case: object
    now: datetime
    by: int | None = None
    limits: Callable | None = None


@dataclass
class Plan:
    changes: dict = field(default_factory=dict)  # case fields (never `status`: the table decides it)
    payload: dict = field(default_factory=dict)
    comment: str = ""
    ops: list = field(default_factory=list)  # hops.py operations
    notices: list = field(default_factory=list)  # recipients.Notice
    outcome: str | None = None  # a named alternative target of the table row (rate: "dissatisfied")
    owner_level: str | None = None  # restart the running stage's timers under this owning level (escalate)


@dataclass
class Step:
    """A plan settled against the table: every field the case's row gets, and the event it writes."""

    action: str
    from_status: str
    to_status: str
    changes: dict
    payload: dict
    comment: str
    ops: list
    notices: list


def settle(at: At, name: str, plan: Plan) -> Step:
    """Add the table's status (and the timers of a new stage) to the plan's changes; build the event payload."""
    if "status" in plan.changes:
        raise ImproperlyConfigured(f"the plan of {name!r} sets the status: the table in state.py decides it")
    t, case = state.row(name), at.case
    changes = dict(plan.changes)
    from_status = case.status
    to_status = t.to(from_status, plan.outcome)
    if t.moves(plan.outcome):
        changes["status"] = to_status
        changes.update(sla.stage_changes(case, to_status, at.now, plan.owner_level, at.limits))
    payload = dict(plan.payload)
    if "status" in changes or "sla_state" in changes:
        payload.setdefault("sla_state", changes.get("sla_state", case.sla_state))
    return Step(name, from_status, to_status, changes, payload, str(plan.comment or ""), plan.ops, plan.notices)


def step(at: At, name: str, **inputs) -> Step | None:
    """Run the plan of `name` with `inputs` and settle it (None: nothing to change)."""
    plan = REGISTRY[name].plan(at, **inputs)
    return None if plan is None else settle(at, name, plan)


# --- the registry -----------------------------------------------------------------------------------------

def no_input(ctx) -> dict:
    return {}


@dataclass(frozen=True)
class Action:
    name: str
    plan: Callable  # (at, **inputs) -> Plan | None
    inputs: Callable = no_input  # (ctx) -> dict of the plan's keyword arguments
    guard: Callable | None = None  # (ctx) -> None; raises Forbidden / InvalidTransition
    refused: object = None  # message when the case's status is not a source of the row

    @property
    def transition(self) -> state.Transition:
        return state.row(self.name)


REGISTRY: dict[str, Action] = {}


def action(name: str, *, inputs: Callable = no_input, guard: Callable | None = None, refused=None):
    """Register the decorated plan as the action `name` of the table (returns the plan unchanged)."""
    state.row(name)  # KeyError: add the table row first

    def register(plan):
        if name in REGISTRY:
            raise ImproperlyConfigured(f"action {name!r} registered twice")
        REGISTRY[name] = Action(name, plan, inputs, guard, refused)
        return plan

    return register


def check_registry() -> None:
    """Every row of the table has exactly one registered action, and nothing else is registered."""
    wanted = set(state.TRANSITIONS) | set(state.INTERNAL)
    if set(REGISTRY) != wanted:
        raise ImproperlyConfigured(f"actions without a table row or a plan: {sorted(set(REGISTRY) ^ wanted)}")
