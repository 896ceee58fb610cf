"""The deliberation rules as data: a topic's states and who may move it. Pure: no database.

    open ──schedule──▶ deliberating ──decide──▶ decided ──(every action's case closed)──▶ followed_through
      │                     │                     │
      └──close (withdrawn)──┴─────────────────────┴── close (a decision with no action left open) ──▶ closed

A decided topic stays open until the cases its actions became are closed (`follow_through`, run by the case
workflow's close through `services.on_case_event`); a case reopened after that takes the topic back to `decided`.
"""

from dataclasses import dataclass

from gridcase.grids.roles import CASE_STAFF, CASE_WORKERS

from .models import MeetingStatus, TopicStatus

S = TopicStatus

# Raise topics, schedule and close meetings, decide, add actions, close topics: the grid's staff (grid workers,
# leaders, secretaries, the street, admins) on the topic's grid or above it (the same people who handle cases).
STAFF_ROLES = CASE_STAFF
# Sign attendees in, record positions and votes at a meeting: also the micro-grid workers (the phone at the door).
SIGN_IN_ROLES = CASE_WORKERS

OPEN_STATES = frozenset({S.OPEN, S.DELIBERATING, S.DECIDED})
FINISHED = frozenset({S.FOLLOWED_THROUGH, S.CLOSED})


@dataclass(frozen=True)
class Move:
    name: str
    sources: frozenset
    target: str


MOVES = {m.name: m for m in [
    Move("schedule", frozenset({S.OPEN, S.DELIBERATING}), S.DELIBERATING),
    Move("decide", frozenset({S.OPEN, S.DELIBERATING}), S.DECIDED),
    Move("add_action", frozenset({S.DECIDED}), S.DECIDED),
    Move("follow_through", frozenset({S.DECIDED}), S.FOLLOWED_THROUGH),
    Move("resume", frozenset({S.FOLLOWED_THROUGH}), S.DECIDED),
    Move("close", frozenset({S.OPEN, S.DELIBERATING, S.DECIDED}), S.CLOSED),
]}


def can(move: str, status: str) -> bool:
    return status in MOVES[move].sources


def target(move: str) -> str:
    return MOVES[move].target


def followed_through(case_statuses: list[str]) -> bool:
    """Every action has become a case and every one of those cases is closed (at least one action)."""
    return bool(case_statuses) and all(s == "closed" for s in case_statuses)


def close_refusal(status: str, open_actions: int, note: str) -> str | None:
    """Why a topic cannot be closed now (None: it can). A decided topic closes only once nothing of it is left
    to do; one withdrawn before a decision needs a note saying why."""
    if status not in MOVES["close"].sources:
        return "status"
    if status == S.DECIDED and open_actions:
        return "open_actions"
    if status in (S.OPEN, S.DELIBERATING) and not note.strip():
        return "note"
    return None


def meeting_open(status: str) -> bool:
    """Sign-ins, positions, options and votes are recorded only while the meeting is not closed."""
    return status == MeetingStatus.SCHEDULED


def allowed_moves(status: str, open_actions: int, actions: int) -> list[str]:
    """The moves a member of staff can start from the console now."""
    out = []
    for name in ("schedule", "decide", "add_action"):
        if can(name, status):
            out.append(name)
    if close_refusal(status, open_actions, "x") is None:
        out.append("close")
    return out
