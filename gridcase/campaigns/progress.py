"""A campaign's progress by grid: done / not yet / problem found per child of a node, with the totals, each row
drilling down to the task list (`/campaign-tasks/?campaign=…&within=<grid>&status=…`) that produced it.

Three queries whatever the size: the task counts per (grid, status) inside the caller's scope and the node, the
spans of those grids, and the node's children; the counts are summed up the tree in memory (tree.Span).
"""

from django.db.models import Count

from gridcase.grids import scoping, tree
from gridcase.grids.models import Grid

from .models import CampaignTask, TaskStatus

STATUSES = tuple(TaskStatus.values)


def _empty():
    return {s: 0 for s in STATUSES} | {"total": 0}


def by_grid(campaign, node, user) -> dict:
    tasks = scoping.within(CampaignTask.objects.restrict(user).filter(campaign_id=campaign.pk), tree.span(node))
    counts = list(tasks.values("grid_id", "status").annotate(n=Count("id")).order_by())
    grid_ids = {row["grid_id"] for row in counts}
    spans = {pk: tree.Span(*s) for pk, *s in
             Grid.objects.filter(pk__in=grid_ids).values_list("pk", *tree.SPAN_FIELDS)} if grid_ids else {}
    children = list(tree.descendants(node, include_self=False, depth=1).values(
        "pk", "code", "name", "level", *tree.SPAN_FIELDS))
    rows = []
    for child in children:
        span = tree.Span(child["tree_id"], child["lft"], child["rght"])
        rows.append({"grid": {"id": child["pk"], "code": child["code"], "name": child["name"],
                              "level": child["level"], "has_children": span.size > 1},
                     "_span": span, **_empty()})
    totals = _empty()
    for row in counts:
        span = spans.get(row["grid_id"])
        totals[row["status"]] += row["n"]
        totals["total"] += row["n"]
        for r in rows:
            if span is not None and r["_span"].contains(span):
                r[row["status"]] += row["n"]
                r["total"] += row["n"]
                break
    for r in rows:
        del r["_span"]
    rows = [r for r in rows if r["total"]]
    return {"grid": {"id": node.pk, "code": node.code, "name": node.name, "level": node.level},
            "totals": totals, "children": rows}
