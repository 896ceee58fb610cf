"""The routing rules of a case, used alike by the live code (services.create_case, the workflow) and the seeders.

- **Skip rule** (越级): a category may enter above the micro-grid (`entry_level`) from a priority up
  (`skip_min_priority`; every priority when empty). Priorities are ranked: a skip from "high" applies to
  "urgent" too.
- **Copy** (抄送): when the skip rule lifts a case above the grids it happened in, the grids of the category's
  `copy_levels` among them are told (they see the case anyway: it lies in their subtree).
- **Whistle at creation** (吹哨): a skipped case brings in the category's copy departments and the departments
  of its `department_kinds` serving the owner's area.
- **Escalation target**: the nearest ancestor of a higher rank (micro-grid → grid → community → street); a case
  the street (or a district) owns is not escalated: the street whistles departments instead.

Grid rules work on nodes (anything with `pk` and `level`: a Grid, or a seeder's in-memory node) and their
ancestors, root first (the order of `tree.ancestors`), so a seeder can answer from the tree it holds in memory.
"""

from gridcase.grids import tree
from gridcase.grids.choices import LEVEL_RANK, Level
from gridcase.grids.models import Department, Grid

from .choices import PRIORITY_RANK


def rank(level: str) -> int:
    return LEVEL_RANK.get(level, 0)


def reaches_threshold(category, priority: str) -> bool:
    """Is `priority` at or above the category's skip threshold (always, without one)?"""
    threshold = category.skip_min_priority
    return not threshold or PRIORITY_RANK[priority] >= PRIORITY_RANK[threshold]


def skip_applies(category, priority: str) -> bool:
    """Does the category's skip rule lift a case reported at `priority`?"""
    return bool(category.entry_level) and reaches_threshold(category, priority)


def entry_grid(category, priority: str, grid, ancestors):
    """The grid that owns a new case reported in `grid`: `grid` itself, or its nearest ancestor at the
    category's entry level or above when the skip rule applies."""
    if not skip_applies(category, priority):
        return grid
    want = rank(category.entry_level)
    if rank(grid.level) >= want:
        return grid
    for node in reversed(ancestors):
        if rank(node.level) >= want:
            return node
    return grid


def copy_grids(category, grid, owner, ancestors) -> list:
    """Grids copied when the skip rule lifted the case from `grid` to `owner`: `grid` and its ancestors at the
    category's copy levels, except the owner; root first."""
    levels = {v.strip() for v in category.copy_levels.split(",") if v.strip()}
    if not levels or owner.pk == grid.pk:
        return []
    return [g for g in [*ancestors, grid] if g.level in levels and g.pk != owner.pk]


def department_kinds(category) -> list[str]:
    return [k.strip() for k in category.department_kinds.split(",") if k.strip()]


def skip_departments(category, priority: str, owner) -> list[int]:
    """Departments whistled when a case is reported (sorted ids): from the skip threshold up, the category's
    copy departments and the departments of its kinds serving the owner's area (or above it, or city-wide).
    `owner` is a Grid or a node (read from the database only when the rule applies). Queries the departments
    (few); seeders may remember the answer per (category, priority, owner)."""
    if owner is None or not (category.entry_level or category.department_kinds):
        return []
    if not reaches_threshold(category, priority):
        return []
    ids = set(category.copy_departments.values_list("pk", flat=True))
    kinds = department_kinds(category)
    if kinds:
        if not tree.has_span(owner):
            owner = Grid.objects.get(pk=owner.pk)
        area = [tree.span(owner)]
        ids |= set(Department.objects.filter(kind__in=kinds).filter(
            tree.covering_q(area, "area__") | tree.subtree_q(area, "area__")).values_list("pk", flat=True))
        ids |= set(Department.objects.filter(kind__in=kinds, area__isnull=True).values_list("pk", flat=True))
    return sorted(ids)


TOP_LEVELS = (Level.STREET, Level.DISTRICT)


def escalates_from(level: str) -> bool:
    """Can a case owned at `level` be escalated (by hand or by the SLA sweep)?"""
    return level not in TOP_LEVELS


def next_owner(grid, ancestors):
    """Where an escalation takes a case owned by `grid`: the nearest ancestor of a higher rank, or None."""
    here = rank(grid.level)
    for node in reversed(ancestors):
        if rank(node.level) > here:
            return node
    return None
