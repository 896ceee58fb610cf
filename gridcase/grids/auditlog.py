"""The audit log seen from the grid tree: which entries a caller may read, and what each entry is about.

`gridcase.core.audit.record` stores the grid of each object (a resident's or a case's grid); a reader holding an
audit-reading role (`roles.AUDIT_READERS`) on a grid reads the entries of that grid's subtree. Entries with no grid
(none are written today) are for administrators only.
"""

from django.db.models import Q

from . import tree
from .roles import AUDIT_READERS

RESIDENT = "grids.resident"
CASE = "cases.case"


def scope_q(scope) -> Q:
    spans = [h.span for h in scope.holds if h.role in AUDIT_READERS]
    if not spans:
        return Q(pk__in=[])
    return tree.subtree_q(spans, "grid__")


def subjects(entries) -> dict:
    """{(object_type, object_id): label} for a page of entries: residents by name, cases by number. Two queries
    at most, whatever the page size. Labels only: the reader sees the names in the registry anyway."""
    from gridcase.cases.models import Case

    from .models import Resident

    ids: dict = {RESIDENT: set(), CASE: set()}
    for e in entries:
        if e.object_type in ids and e.object_id.isdigit():
            ids[e.object_type].add(int(e.object_id))
    out = {}
    if ids[RESIDENT]:
        out |= {(RESIDENT, str(pk)): name for pk, name in
                Resident.objects.filter(pk__in=ids[RESIDENT]).values_list("pk", "name")}
    if ids[CASE]:
        out |= {(CASE, str(pk)): number for pk, number in
                Case.objects.filter(pk__in=ids[CASE]).values_list("pk", "number")}
    return out
