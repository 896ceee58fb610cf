"""The hop ledger and the rows that go with it, as data.

An action's plan lists what it writes besides the case's own row: grid hops opened and closed, departments
whistled (with their hops), reports-in, replies, scores, extension requests, photos marked. `write()` does
it in the database, one action at a time; the seeders write the same operations in bulk (cases/seeding.py),
so both keep one ledger by one set of decisions.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ..choices import AttachmentKind, ExtensionState, HopKind
from ..models import Attachment, CaseDepartment, CaseHop, ExtensionRequest


@dataclass(frozen=True)
class CloseGridHop:
    action: str


@dataclass(frozen=True)
class OpenGridHop:
    grid_id: int
    level: str
    action: str


@dataclass(frozen=True)
class CloseDepartmentHops:
    action: str
    departments: tuple | None = None  # None: every open department hop


@dataclass(frozen=True)
class Whistle:
    """Departments join the case: one link each (with its report-in deadline) and one open department hop."""

    departments: tuple
    by: int | None
    from_grid_id: int
    report_by: datetime
    note: str = ""
    action: str = "whistle"


@dataclass(frozen=True)
class ReportIn:
    departments: tuple
    by: int | None


@dataclass(frozen=True)
class Reply:
    """The departments reply (reporting in at the same instant if they had not)."""

    departments: tuple
    by: int | None
    reply: str


@dataclass(frozen=True)
class Score:
    department: int
    score: int
    comment: str
    by: int | None


@dataclass(frozen=True)
class MarkPhotosAfter:
    attachments: tuple


@dataclass(frozen=True)
class RequestExtension:
    stage: str
    hours: Decimal
    reason: str
    by: int | None
    old_deadline: datetime | None


@dataclass(frozen=True)
class DecideExtension:
    extension: int
    approve: bool
    by: int | None
    note: str
    new_deadline: datetime | None


def write(case_id: int, ops, at: datetime) -> None:
    """Carry out a plan's operations for one case at instant `at`."""
    for op in ops:
        WRITERS[type(op)](case_id, op, at)


def _close_grid(case_id, op: CloseGridHop, at):
    CaseHop.objects.filter(case_id=case_id, kind=HopKind.GRID, ended_at__isnull=True).update(
        ended_at=at, end_action=op.action)


def _open_grid(case_id, op: OpenGridHop, at):
    CaseHop.objects.create(case_id=case_id, kind=HopKind.GRID, grid_id=op.grid_id, grid_level=op.level,
                           start_action=op.action, started_at=at)


def _close_departments(case_id, op: CloseDepartmentHops, at):
    qs = CaseHop.objects.filter(case_id=case_id, kind=HopKind.DEPARTMENT, ended_at__isnull=True)
    if op.departments is not None:
        qs = qs.filter(department_id__in=op.departments)
    qs.update(ended_at=at, end_action=op.action)


def _whistle(case_id, op: Whistle, at):
    CaseDepartment.objects.bulk_create([
        CaseDepartment(case_id=case_id, department_id=d, whistled_at=at, whistled_by_id=op.by,
                       whistled_from_id=op.from_grid_id, report_by=op.report_by, note=op.note)
        for d in op.departments])
    CaseHop.objects.bulk_create([CaseHop(case_id=case_id, kind=HopKind.DEPARTMENT, department_id=d,
                                         start_action=op.action, started_at=at) for d in op.departments])


def _links(case_id, departments):
    return CaseDepartment.objects.filter(case_id=case_id, department_id__in=departments)


def _report_in(case_id, op: ReportIn, at):
    _links(case_id, op.departments).filter(reported_in_at__isnull=True).update(reported_in_at=at,
                                                                               reported_in_by_id=op.by)


def _reply(case_id, op: Reply, at):
    _links(case_id, op.departments).filter(reported_in_at__isnull=True).update(reported_in_at=at,
                                                                               reported_in_by_id=op.by)
    _links(case_id, op.departments).update(replied_at=at, replied_by_id=op.by, reply=op.reply)


def _score(case_id, op: Score, at):
    _links(case_id, [op.department]).update(score=op.score, score_comment=op.comment, scored_at=at,
                                            scored_by_id=op.by)


def _photos(case_id, op: MarkPhotosAfter, at):
    if op.attachments:
        Attachment.objects.filter(case_id=case_id, pk__in=op.attachments).update(kind=AttachmentKind.AFTER)


def _request_extension(case_id, op: RequestExtension, at):
    ExtensionRequest.objects.create(case_id=case_id, stage=op.stage, hours=op.hours, reason=op.reason,
                                    requested_by_id=op.by, requested_at=at, old_deadline=op.old_deadline)


def _decide_extension(case_id, op: DecideExtension, at):
    ExtensionRequest.objects.filter(pk=op.extension).update(
        state=ExtensionState.APPROVED if op.approve else ExtensionState.REFUSED, decided_by_id=op.by,
        decided_at=at, decision_note=op.note, new_deadline=op.new_deadline)


WRITERS = {CloseGridHop: _close_grid, OpenGridHop: _open_grid, CloseDepartmentHops: _close_departments,
           Whistle: _whistle, ReportIn: _report_in, Reply: _reply, Score: _score, MarkPhotosAfter: _photos,
           RequestExtension: _request_extension, DecideExtension: _decide_extension}
