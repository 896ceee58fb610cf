"""The case workflow as data: which action may run from which status, by whom, to which status.

Pure: no database, no Django models. The table's `target` is the only place a status change is declared:
`workflow.engine` writes `Transition.to(...)` and the actions never set `status` themselves. `replay` folds
a case's events back into its state (the event-replay property the tests check against the stored rows).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from gridcase.grids.choices import Role
from gridcase.grids.roles import CASE_LEADS as LEADS
from gridcase.grids.roles import CASE_STAFF as STAFF
from gridcase.grids.roles import CASE_WORKERS as WORKERS
from gridcase.grids.roles import SUPERVISORS

from .choices import Status

S = Status
ASSIGNEE, OFFICER, REPORTER = "assignee", "officer", "reporter"
# The resident who reported a case through the QR intake, holding its tracking code (no account, no role):
# the only one who may `rate`. Staff record a resident's answer on a call-back (`callback`) instead.
RESIDENT = "resident"

# The table's role sets (held at the case's owner grid or above it) are named in gridcase.grids.roles.

HANDLING = frozenset({S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS})
OPEN = frozenset({S.REPORTED}) | HANDLING
UNFINISHED = OPEN | {S.RESOLVED, S.VERIFIED}


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset
    # The status after it: one status, None (unchanged), or {source status: status} when it depends on where
    # the case is (escalate: a reported case stays reported, a handled one goes back to accepted).
    target: str | Mapping | None
    roles: frozenset = frozenset()  # grid roles at the owner grid that may run it
    actors: frozenset = frozenset()  # relations to the case that may run it: assignee, officer, reporter
    requires: tuple = ()  # input fields that must be present
    notes: str = ""
    # Named alternative targets the input can choose (rate: a dissatisfied rating reopens the case).
    outcomes: Mapping = field(default_factory=dict)

    def to(self, status: str, outcome: str | None = None) -> str:
        """The status after running from `status` (with the input's `outcome`, if the row names one)."""
        target = self.outcomes[outcome] if outcome else self.target
        if isinstance(target, Mapping):
            return target[status]
        return target or status

    def moves(self, outcome: str | None = None) -> bool:
        """Does the row declare a status (even the same one) that the engine writes?"""
        return (self.outcomes[outcome] if outcome else self.target) is not None


def _t(name, sources, target, roles=frozenset(), actors=(), requires=(), notes="", outcomes=None):
    return Transition(name, frozenset(sources), target, frozenset(roles), frozenset(actors), tuple(requires), notes,
                      dict(outcomes or {}))


TRANSITIONS: dict[str, Transition] = {t.name: t for t in [
    _t("accept", {S.REPORTED}, S.ACCEPTED, STAFF),
    _t("reject", {S.REPORTED, S.ACCEPTED}, S.REJECTED, STAFF, requires=("reason",)),
    _t("merge", {S.REPORTED, S.ACCEPTED}, S.MERGED, STAFF, requires=("into",)),
    _t("assign", {S.ACCEPTED, S.ASSIGNED}, S.ASSIGNED, STAFF, requires=("assignee",)),
    _t("start", {S.ASSIGNED}, S.IN_PROGRESS, {Role.ADMIN}, {ASSIGNEE}),
    _t("resolve", {S.IN_PROGRESS}, S.RESOLVED, {Role.ADMIN}, {ASSIGNEE}, requires=("note",)),
    _t("verify", {S.RESOLVED}, S.VERIFIED, STAFF, notes="not by the person who resolved it"),
    _t("reopen", {S.RESOLVED, S.VERIFIED, S.CLOSED}, S.ASSIGNED, STAFF, requires=("reason",)),
    _t("close", {S.VERIFIED}, S.CLOSED, STAFF, notes="sensitive: secretary only"),
    _t("escalate", OPEN, {S.REPORTED: S.REPORTED, **{s: S.ACCEPTED for s in HANDLING}}, WORKERS, {ASSIGNEE},
       notes="reported stays reported; otherwise back to accepted"),
    _t("whistle", HANDLING, None, LEADS, requires=("departments",)),
    _t("supervise", UNFINISHED, None, SUPERVISORS, requires=("comment",),
       notes="by a dispatcher or secretary above the owner grid; tells the owner grid's staff and the assignee"),
    _t("report_in", HANDLING | {S.RESOLVED}, None, actors={OFFICER}),
    _t("reply", HANDLING | {S.RESOLVED}, None, actors={OFFICER}, requires=("note",)),
    _t("score_department", HANDLING | {S.RESOLVED, S.VERIFIED, S.CLOSED}, None, LEADS,
       requires=("department", "score")),
    _t("request_extension", HANDLING, None, STAFF, {ASSIGNEE}, requires=("hours", "reason")),
    _t("decide_extension", HANDLING, None, STAFF, requires=("approve",)),
    _t("rate", {S.CLOSED}, None, actors={RESIDENT}, requires=("rating",),
       notes="the resident through the tracking code only; dissatisfied reopens (to assigned)",
       outcomes={"dissatisfied": S.ASSIGNED}),
    _t("callback", {S.CLOSED}, None, WORKERS, requires=("rating", "called_at"),
       notes="回访: staff record the resident's answer and the call's time, on a case no resident can rate "
             "through a tracking code; dissatisfied reopens", outcomes={"dissatisfied": S.ASSIGNED}),
]}

ACTIONS = list(TRANSITIONS)

# The PATCH of a case's title, description, priority and scope: a row like the others (same engine, same
# compare-and-set and event), but not a POST action and not among `allowed_actions`.
EDIT = _t("edit", UNFINISHED, None, STAFF, {REPORTER},
          notes="the reporter only while the case is reported")

# Rows run by other domain operations, not POST actions (like EDIT): a place moved with its open cases
# following it (grids.moves: the owner grid and grid change; an assignee who no longer works there is let go,
# the case back to accepted) and a worker's cases handed to a colleague (grids.handover, and the console's bulk
# reassignment: `assign` from any handled status, an in-progress case back to assigned for its new holder).
RELOCATE = _t("relocate", UNFINISHED, None, STAFF, notes="grids.moves: the case follows its place",
              outcomes={"unassigned": {S.ASSIGNED: S.ACCEPTED, S.IN_PROGRESS: S.ACCEPTED}})
REASSIGN = _t("reassign", HANDLING, S.ASSIGNED, STAFF, requires=("assignee",),
              notes="grids.handover and bulk reassignment")
INTERNAL = {t.name: t for t in (EDIT, RELOCATE, REASSIGN)}


def row(action: str) -> Transition:
    """The table row of `action` (the POST actions, the PATCH edit and the internal rows)."""
    return INTERNAL.get(action) or TRANSITIONS[action]


def permitted(action: str, roles: set, relations: set) -> bool:
    """Could someone holding `roles` (at the owner grid) with `relations` to the case ever run `action`?"""
    t = row(action)
    return bool(t.roles & roles) or bool(t.actors & relations)


# --- event replay --------------------------------------------------------------------------------------------

REPLAYED = ("status", "owner_grid_id", "assignee_id", "rating", "merged_into_id", "sla_state", "version",
            "departments")


def replay(events) -> dict:
    """Fold events (dicts or objects with action, to_status, version, payload) into the case's state."""
    state = {"status": None, "owner_grid_id": None, "assignee_id": None, "rating": "", "merged_into_id": None,
             "sla_state": "ok", "version": 0, "departments": set()}
    for e in events:
        get = e.get if isinstance(e, dict) else lambda k, _e=e: getattr(_e, k)
        payload = get("payload") or {}
        if get("to_status"):
            state["status"] = get("to_status")
        state["version"] = max(state["version"], get("version"))
        for key, attr in (("owner_grid", "owner_grid_id"), ("assignee", "assignee_id"), ("rating", "rating"),
                          ("merged_into", "merged_into_id"), ("sla_state", "sla_state")):
            if key in payload:
                state[attr] = payload[key]
        for d in payload.get("departments", []):
            state["departments"].add(d)
    return state
