"""The assign picker: exactly the people the `assign` action accepts for a case (`workflow.eligible_memberships`,
the one rule both use), each with their load — open cases assigned to them and care-plan visits due by today —
searchable by name, login name or pinyin (full or initials). The case's own grid worker(s) come first.

A fixed number of queries whatever the number of people: the memberships, the open cases, the due visits of
plans naming a worker, the due visits of plans left to their micro-grid's workers.
"""

from django.db.models import Count
from django.utils import timezone

from gridcase.grids.accounts import display_name
from gridcase.grids.choices import Role
from gridcase.grids.models import Membership
from gridcase.grids.pinyin import full_pinyin, initials
from gridcase.grids.roles import FIELD_WORKERS, ROLE_RANK
from gridcase.visits.due import due_by
from gridcase.visits.models import CarePlanItem

from .choices import ACTIVE
from .models import Case
from .workflow import eligible_memberships


def _due_visits(user_ids) -> dict[int, int]:
    due = due_by(timezone.localdate(), CarePlanItem.objects.all())
    out: dict[int, int] = {}
    for uid, n in (due.filter(care_plan__worker_id__in=user_ids).values_list("care_plan__worker_id")
                   .annotate(n=Count("id")).order_by()):
        out[uid] = out.get(uid, 0) + n
    micro = Membership.objects.filter(user_id__in=user_ids, role=Role.MICRO_GRID_WORKER)
    by_grid = dict(due.filter(care_plan__worker__isnull=True, care_plan__resident__grid_id__in=micro.values("grid_id"))
                   .values_list("care_plan__resident__grid_id").annotate(n=Count("id")).order_by())
    if by_grid:
        for uid, grid_id in micro.filter(grid_id__in=list(by_grid)).values_list("user_id", "grid_id"):
            out[uid] = out.get(uid, 0) + by_grid[grid_id]
    return out


def matches(person: dict, q: str) -> bool:
    q = q.strip().lower().replace(" ", "")
    if not q:
        return True
    name = person["display_name"]
    return any(q in s for s in (name.lower(), person["username"].lower(), full_pinyin(name), initials(name)))


def candidates(case, q: str = "") -> list[dict]:
    """The eligible people for `case` (see the module), own grid worker(s) first, then the least loaded."""
    people: dict[int, dict] = {}
    for m in eligible_memberships(case).select_related("user", "grid").order_by("id"):
        p = people.get(m.user_id)
        if p is None:
            p = people[m.user_id] = {"id": m.user_id, "username": m.user.username, "display_name": display_name(m.user),
                                     "roles": [], "own_worker": False, "_rank": -1}
        p["roles"].append({"role": m.role, "grid": m.grid_id, "grid_name": m.grid.name})
        p["_rank"] = max(p["_rank"], ROLE_RANK.get(m.role, 0))
        if m.grid_id == case.grid_id and m.role in FIELD_WORKERS:
            p["own_worker"] = True
    rows = [p for p in people.values() if matches(p, q or "")]
    ids = [p["id"] for p in rows]
    open_cases = dict(Case.objects.filter(assignee_id__in=ids, status__in=ACTIVE).values_list("assignee_id")
                      .annotate(n=Count("id")).order_by()) if ids else {}
    due = _due_visits(ids) if ids else {}
    for p in rows:
        p["open_cases"] = open_cases.get(p["id"], 0)
        p["due_visits"] = due.get(p["id"], 0)
    rows.sort(key=lambda p: (not p["own_worker"], p["_rank"], p["open_cases"], full_pinyin(p["display_name"]), p["id"]))
    for p in rows:
        del p["_rank"]
    return rows
