"""Playing a case's history in memory with the live rules, for the seeders.

A `Row` holds a case's columns and reads like a `Case` to the workflow's plans; a `Ledger` keeps the hop
ledger, department links and extension requests of one case as rows, doing hops.py's operations in memory;
a `Player` creates the case (`rules.py` and `workflow.opening`), runs actions (`workflow.step`, which settles
the status from the table) and does what the SLA sweep would have done between them (`sweep.due`,
`sweep.escalates`, the automatic escalation). The seeders only choose the input — who acts, when, with what —
and write the rows in bulk: they never decide anything the live code decides.
"""

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import NamedTuple

from . import rules, state, sweep, workflow
from .choices import ExtensionState, HopKind, Status

CASE_COLUMNS = [
    "id", "number", "title", "description", "category_id", "scope", "priority", "sensitive", "grid_id",
    "owner_grid_id", "dedicated_grid_id", "building_id", "unit_id", "household_id", "resident_id", "lat", "lng",
    "source", "reporter_id", "reporter_name", "assignee_id", "merged_into_id", "status", "version", "client_key",
    "accept_by", "handle_by", "verify_by", "sla_stage", "sla_yellow_at", "sla_red_at", "sla_state", "rating",
    "rating_comment", "rating_source", "callback_at", "created_at", "updated_at", "first_response_at",
    "accepted_at", "assigned_at", "started_at", "resolved_at", "verified_at", "closed_at", "rated_at", "escalation_count", "reopen_count",
]
EVENT_COLUMNS = ["case_id", "action", "actor_id", "from_status", "to_status", "version", "comment", "payload", "at"]
HOP_COLUMNS = ["case_id", "kind", "grid_id", "department_id", "grid_level", "start_action", "end_action",
               "started_at", "ended_at"]
DEPT_COLUMNS = ["case_id", "department_id", "whistled_at", "whistled_by_id", "whistled_from_id", "report_by", "note",
                "reported_in_at", "reported_in_by_id", "replied_at", "replied_by_id", "reply", "score",
                "score_comment", "scored_at", "scored_by_id"]
EXTENSION_COLUMNS = ["id", "case_id", "stage", "hours", "reason", "state", "requested_by_id", "requested_at",
                     "decided_by_id", "decided_at", "decision_note", "old_deadline", "new_deadline"]
# The usual next steps, to bring a case back to where the next step of its story can run (an escalated case
# is assigned again before work starts).
FORWARD = ("accept", "assign", "start", "resolve", "verify", "close")


class Node(NamedTuple):
    """A grid as the rules see it."""

    pk: int
    level: str


class Row:
    """A case being played: its row's columns as attributes, read by the plans like a Case."""

    __slots__ = (*CASE_COLUMNS, "node")

    def __init__(self, node: Callable[[int], Node], **columns):
        self.node = node
        for name in CASE_COLUMNS:
            setattr(self, name, columns.get(name))

    @property
    def pk(self):
        return self.id

    @property
    def owner_grid(self) -> Node:
        return self.node(self.owner_grid_id)

    def values(self) -> tuple:
        return tuple(getattr(self, name) for name in CASE_COLUMNS)


class Ledger:
    """One case's hops, department links and extension requests, as rows (columns above)."""

    def __init__(self, case_id, extension_ids):
        self.case_id, self.extension_ids = case_id, extension_ids
        self.hops, self.links, self.extensions = [], {}, []

    def write(self, ops, at) -> None:
        for op in ops:
            getattr(self, type(op).__name__)(op, at)

    def open_hops(self, kind, departments=None):
        return [h for h in self.hops if h[1] == kind and h[8] is None
                and (departments is None or h[3] in departments)]

    def CloseGridHop(self, op, at):  # noqa: N802 - named after the operation
        for hop in self.open_hops(HopKind.GRID):
            hop[6], hop[8] = op.action, at

    def OpenGridHop(self, op, at):  # noqa: N802
        self.hops.append([self.case_id, HopKind.GRID, op.grid_id, None, op.level, op.action, "", at, None])

    def CloseDepartmentHops(self, op, at):  # noqa: N802
        for hop in self.open_hops(HopKind.DEPARTMENT, op.departments):
            hop[6], hop[8] = op.action, at

    def Whistle(self, op, at):  # noqa: N802
        for d in op.departments:
            self.links[d] = [self.case_id, d, at, op.by, op.from_grid_id, op.report_by, op.note, None, None, None,
                             None, "", None, "", None, None]
        self.hops += [[self.case_id, HopKind.DEPARTMENT, None, d, "", op.action, "", at, None] for d in op.departments]

    def ReportIn(self, op, at):  # noqa: N802
        for d in op.departments:
            if self.links[d][7] is None:
                self.links[d][7:9] = [at, op.by]

    def Reply(self, op, at):  # noqa: N802
        self.ReportIn(op, at)
        for d in op.departments:
            self.links[d][9:12] = [at, op.by, op.reply]

    def Score(self, op, at):  # noqa: N802
        self.links[op.department][12:16] = [op.score, op.comment, at, op.by]

    def MarkPhotosAfter(self, op, at):  # noqa: N802 - seeded cases have no photos
        pass

    def RequestExtension(self, op, at):  # noqa: N802
        self.extensions.append([next(self.extension_ids), self.case_id, op.stage, op.hours, op.reason,
                                ExtensionState.PENDING, op.by, at, None, None, "", op.old_deadline, None])

    def DecideExtension(self, op, at):  # noqa: N802
        row = next(e for e in self.extensions if e[0] == op.extension)
        row[5] = ExtensionState.APPROVED if op.approve else ExtensionState.REFUSED
        row[8:13] = [op.by, at, op.note, row[11], op.new_deadline]

    def pending_extension(self):
        """The pending request as the `decide_extension` plan reads it, or None."""
        row = next((e for e in self.extensions if e[5] == ExtensionState.PENDING), None)
        return None if row is None else SimpleNamespace(pk=row[0], stage=row[2], hours=row[3], requested_by_id=row[6])


class Player:
    """Plays one case: `open()` it, then `run()` actions at chosen instants; `sweep()` catches up with the SLA
    sweep. `events` and `ledger` collect the rows to write."""

    def __init__(self, row: Row, ledger: Ledger, ancestors: Callable[[int], list], limits: Callable):
        self.case, self.ledger, self.ancestors, self.limits = row, ledger, ancestors, limits
        self.events = []

    def at(self, instant, by=None):
        return workflow.At(self.case, instant, by, self.limits)

    def open(self, category, grid: Node, departments: Callable, channel=""):
        """Report the case in `grid`: the skip rule picks the owner, the copies and the departments whistled
        (`departments(category, priority, owner)`: rules.skip_departments, remembered by the caller)."""
        c = self.case
        chain = self.ancestors(grid.pk)
        owner = rules.entry_grid(category, c.priority, grid, chain)
        plan = workflow.opening(self.at(c.created_at, c.reporter_id), grid, owner,
                                departments(category, c.priority, owner),
                                rules.copy_grids(category, grid, owner, chain), channel)
        c.owner_grid_id = owner.pk
        for key, value in plan.changes.items():
            setattr(c, key, value)
        self.events.append((c.id, "create", c.reporter_id, "", Status.REPORTED, c.version, plan.comment,
                            json.dumps(plan.payload), c.created_at))
        self.ledger.write(plan.ops, c.created_at)

    def run(self, name, actor, instant, **inputs) -> bool:
        """Run the action's plan as `actor` at `instant` (the caller chose a permitted actor and input); False
        when the case's status is not a source of the action's row."""
        if self.case.status not in state.TRANSITIONS[name].sources:
            return False
        step = workflow.step(self.at(instant, actor), name, **inputs)
        if step is None:
            return False
        c = self.case
        for key, value in step.changes.items():
            setattr(c, key, value)
        c.version += 1
        c.updated_at = instant
        self.events.append((c.id, step.action, actor, step.from_status, step.to_status, c.version, step.comment,
                            json.dumps(step.payload), instant))
        self.ledger.write(step.ops, instant)
        return True

    def route(self, name) -> list[str]:
        """The steps that bring the case to where `name` can run (`name` last); [] when none do."""
        wanted = state.TRANSITIONS[name].sources
        frontier, seen = [(self.case.status, [])], {self.case.status}
        while frontier:
            status, path = frontier.pop(0)
            if status in wanted:
                return [*path, name]
            for step in FORWARD:
                t = state.TRANSITIONS[step]
                if status in t.sources and t.to(status) not in seen:
                    seen.add(t.to(status))
                    frontier.append((t.to(status), [*path, step]))
        return []

    def escalation_target(self):
        """Where an escalation takes the case now (None: it stays)."""
        owner = self.case.owner_grid
        if not rules.escalates_from(owner.level):
            return None
        return rules.next_owner(owner, self.ancestors(owner.pk))

    def sweep(self, until) -> None:
        """What the SLA sweep does to the case up to `until`, at each warning and breach instant: marks it
        (sweep.due) and, where the policy says (sweep.escalates), escalates it on the system's behalf."""
        c = self.case
        while c.sla_stage:
            due = [(i, sweep.due(c, i)) for i in sorted(x for x in (c.sla_yellow_at, c.sla_red_at) if x) if i <= until]
            instant, level = next(((i, lv) for i, lv in due if lv), (None, None))
            if level is None:
                return
            self.events.append((c.id, f"sla_{level}", None, c.status, "", c.version, "",
                                json.dumps(sweep.mark_payload(c, level)), instant))
            c.sla_state = level
            owner = c.owner_grid
            if level == "red" and c.status in state.OPEN and sweep.escalates(
                    self.limits(c.category_id, c.priority, owner.level, c.sla_stage), owner.level):
                target = self.escalation_target()
                if target is not None:
                    self.run("escalate", None, instant, target=target, reason=str(workflow.AUTO_ESCALATE_REASON),
                             hop_action="auto_escalate")

