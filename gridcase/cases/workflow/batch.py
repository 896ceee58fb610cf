"""Bulk actions over a console selection (issue 12): one workflow action applied to each selected case in turn
through `engine.apply`, so every case gets its own checks, transaction, compare-and-set and event. A case
refused or changed meanwhile is reported on its own and left untouched; the others go ahead. One result per
case, in the order given: `{"id", "ok": True, "version", "status"}` or `{"id", "ok": False, "code", "message"}`.
"""

from gridcase.core.errors import DomainError

from .engine import apply

BULK_ACTIONS = ("accept", "assign", "escalate")
MAX_CASES = 100


def apply_each(actor, action: str, selection, data: dict | None = None) -> list[dict]:
    """`selection`: (case id, version seen) pairs; `data`: the action's input, the same for every case."""
    results = []
    for case_id, version in selection:
        try:
            case = apply(case_id, action, actor, dict(data or {}), version=version)
        except DomainError as e:
            results.append({"id": case_id, "ok": False, "code": e.code, "message": str(e.message)})
            continue
        results.append({"id": case_id, "ok": True, "version": case.version, "status": case.status})
    return results
