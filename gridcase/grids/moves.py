"""Moving places between grids (调整网格): a unit to another micro-grid, a building to another general grid, a grid
under another parent. One transaction carries everything that hangs on the place, and the structural rules
(三不破) are checked on every path that can move one.

The rules, each with the machine-readable code the API answers (400):

- `unit_needs_micro_grid` / `building_needs_general_grid`: a unit sits in a micro-grid, a building in a general grid.
- `unit_outside_building_grid`: a unit's micro-grid lies inside the general grid that holds its building (a
  micro-grid never splits a building unit; a unit moves only between micro-grids of its building's general grid).
- `building_split`: a building is never split across general grids — its general grid changes only together with
  every one of its units (`move_building`); a micro-grid changes general grid only when each building it touches
  lies wholly inside it (the buildings go along).
- `unit_orphaned`: a building moved to a general grid needs a micro-grid of that grid for each of its units.
- `invalid_parent_level`, `tree_cycle`, `level_locked`: the tree's own rules (Grid.clean).
- `no_change`: the place is already there.

The models call `check_unit`, `check_building` and `check_grid` from `clean()` (admin forms, the API's serializers,
the import) and `saving()` from `save()` (any other writer): a save that breaks a rule raises, and a unit or
micro-grid saved somewhere else carries its people (`carry_people`) or buildings with it. `move_unit`,
`move_building` and `move_grid` are the mover's operations: permission, the rules, the carrying, the open cases
(`follow`: their grid and owner grid change through the case workflow's `relocate` row, with an event and a hop;
`stay`: they keep their owner), an audit entry with the before/after summary, one notice to the new grid's staff.
(Over 400 lines on purpose: the three moves share their checks, carrying and summary; each step is a short
function, and apart they would import one another.)
With `preview=True` the same code runs and is rolled back: the answer is the summary of what would happen.
"""

from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.core import audit
from gridcase.core.errors import Forbidden, ValidationFailed

from . import tree
from .choices import Level
from .roles import CASE_WORKERS, EDITOR_ROLES, MANAGER_ROLES, TREE_ROLES

FOLLOW, STAY = "follow", "stay"

MESSAGES = {
    "unit_needs_micro_grid": _("A unit belongs to a micro-grid."),
    "building_needs_general_grid": _("A building belongs to a general grid."),
    "unit_outside_building_grid": _("The micro-grid must belong to the general grid of the building."),
    "building_split": _("A building cannot be split across general grids: move the building with all its units."),
    "unit_orphaned": _("Choose a micro-grid of the new general grid for every unit of the building."),
    "no_change": _("The place is already there."),
}


class RuleBroken(ValidationFailed):
    """A move refused by a structural rule: `code` names the rule."""


def rule_error(rule: str, field: str, **params) -> ValidationError:
    message = MESSAGES[rule] % params if params else MESSAGES[rule]
    return ValidationError({field: ValidationError(message, code=rule)})


def as_rule(exc: ValidationError) -> RuleBroken:
    """A model's ValidationError as the API's error: the first rule code found names it."""
    code, fields = None, {}
    for name, errors in (exc.error_dict.items() if hasattr(exc, "error_dict") else [("non_field_errors", exc.error_list)]):
        for e in errors:
            code = code or getattr(e, "code", None)
            fields.setdefault(name, []).extend(str(m) for m in e.messages)
    message = next((m for ms in fields.values() for m in ms), MESSAGES["no_change"])
    return RuleBroken(message, code=code or "validation_error", fields=fields)


# --- the rules, for the models' clean() and save() ------------------------------------------------------------

def check_unit(unit) -> None:
    if not unit.micro_grid_id:
        return
    micro = unit.micro_grid
    if micro.level != Level.MICRO_GRID:
        raise rule_error("unit_needs_micro_grid", "micro_grid")
    if unit.building_id and micro.parent_id != unit.building.grid_id:
        raise rule_error("unit_outside_building_grid", "micro_grid")


def check_building(building) -> None:
    from .models import Building, Unit

    if not building.grid_id:
        return
    if building.grid.level != Level.GRID:
        raise rule_error("building_needs_general_grid", "grid")
    if building.pk:
        old = Building.objects.filter(pk=building.pk).values_list("grid_id", flat=True).first()
        if old is not None and old != building.grid_id and Unit.objects.filter(building_id=building.pk).exclude(
                micro_grid__parent_id=building.grid_id).exists():
            raise rule_error("building_split", "grid")


def check_grid(grid) -> None:
    """A micro-grid changing general grid takes its buildings along: each must lie wholly inside it."""
    from .models import Grid, Unit

    if not grid.pk or grid.level != Level.MICRO_GRID:
        return
    old_parent = Grid.objects.filter(pk=grid.pk).values_list("parent_id", flat=True).first()
    if old_parent is None or old_parent == grid.parent_id:
        return
    buildings = Unit.objects.filter(micro_grid_id=grid.pk).values("building_id")
    if Unit.objects.filter(building_id__in=buildings).exclude(micro_grid_id=grid.pk).exists():
        raise rule_error("building_split", "parent")


@contextmanager
def saving(instance):
    """Wrap a Unit, Building or Grid save: check the rules when the place is new or changed, then carry what
    hangs on it (a unit's households and residents, a micro-grid's buildings)."""
    from .models import Building, Grid, Unit

    model = type(instance)
    field = {Unit: "micro_grid_id", Building: "grid_id", Grid: "parent_id"}[model]
    old = model.objects.filter(pk=instance.pk).values_list(field, flat=True).first() if instance.pk else None
    new = getattr(instance, field)
    changed = instance.pk is not None and old != new
    if model is Unit and (changed or instance.pk is None):
        check_unit(instance)
    elif model is Building and (changed or instance.pk is None):
        check_building(instance)
    elif model is Grid and changed:
        check_grid(instance)
    with transaction.atomic():
        yield
        if changed and model is Unit:
            carry_people([instance.pk], new)
        elif changed and model is Grid and instance.level == Level.MICRO_GRID:
            Building.objects.filter(pk__in=Unit.objects.filter(micro_grid_id=instance.pk).values("building_id")) \
                .update(grid_id=new, updated_at=timezone.now())
        if changed and model is Grid:
            # The subtree's people may now have another community or street (ids stay; spans were renumbered).
            from .models import Resident

            moved = Grid.objects.filter(pk=instance.pk).values_list(*tree.SPAN_FIELDS).first()
            if moved is not None:
                follow_people(Resident.objects.filter(tree.in_subtrees_q(Grid, [tree.Span(*moved)], "grid_id")))
                from gridcase.stats import areas  # noqa: PLC0415 (stats builds on grids: the dashboards' copies)

                areas.follow(tree.Span(*moved))


# --- where people live: their micro-grid's community and street, copied onto them ----------------------------------

# Each grid with its community and street (itself or its ancestors at those levels): the few communities and
# streets each read their subtree's range of the (tree, lft) index, never a search of the tree per row. Also what
# the dashboards' rollups copy onto their rows (stats.areas).
_AREA = ("SELECT a.id, d.id AS grid_id FROM grids_grid a JOIN grids_grid d ON d.tree_id = a.tree_id "
         "AND d.lft BETWEEN a.lft AND a.rght WHERE a.level = '{}'")
ANCESTRY = (f"SELECT g.id AS grid_id, c.id AS community_id, s.id AS street_id FROM grids_grid g "
            f"LEFT JOIN ({_AREA.format(Level.COMMUNITY)}) c ON c.grid_id = g.id "
            f"LEFT JOIN ({_AREA.format(Level.STREET)}) s ON s.grid_id = g.id")


def ancestry(grid_id) -> tuple:
    """(community id, street id) of the grid `grid_id` (None where it has none), in one query."""
    with connection.cursor() as cursor:
        cursor.execute(ANCESTRY + " WHERE g.id = %s", [grid_id])
        row = cursor.fetchone()
    return (row[1], row[2]) if row else (None, None)


def _ids_sql(residents) -> tuple[str, list]:
    if hasattr(residents, "query"):
        sql, params = residents.values("pk").query.sql_with_params()
        return sql, list(params)
    ids = [int(r) for r in residents]
    if not ids:
        return "SELECT id FROM grids_resident WHERE 1 = 0", []
    return "SELECT id FROM grids_resident WHERE id IN ({})".format(", ".join(["%s"] * len(ids))), ids


def follow_people(residents=None) -> int:
    """The residents `residents` (ids or a queryset; None: every resident) live in another grid, or their grid
    has moved in the tree: copy their micro-grid's community and street onto them (`Resident.community`,
    `.street`), and their grid, community and street onto their care plans (`CarePlan.grid`, …). Two UPDATE …
    FROM statements, whatever the number of people. Returns the residents written."""
    where, params = ("", []) if residents is None else _ids_sql(residents)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE grids_resident SET community_id = a.community_id, street_id = a.street_id FROM ({ANCESTRY}) a "
            f"WHERE a.grid_id = grids_resident.grid_id" + (f" AND grids_resident.id IN ({where})" if where else ""),
            params)
        written = cursor.rowcount
        _copy_to_plans(cursor, f" AND visits_careplan.resident_id IN ({where})" if where else "", params)
    return written


def _copy_to_plans(cursor, where: str, params) -> None:
    cursor.execute("UPDATE visits_careplan SET grid_id = r.grid_id, community_id = r.community_id, "
                   "street_id = r.street_id FROM grids_resident r WHERE r.id = visits_careplan.resident_id" + where,
                   params)


def fill_people() -> None:
    """After a bulk load that wrote residents or care plans around `save()` (the seeders): fill the residents'
    copied community and street, and the plans' grid, community and street, where they are empty."""
    from gridcase.core.bulk import analyze  # noqa: PLC0415
    from gridcase.visits.models import CarePlan  # noqa: PLC0415 (visits builds on grids)

    from .models import Resident

    follow_people(Resident.objects.filter(community__isnull=True, street__isnull=True))
    with connection.cursor() as cursor:
        _copy_to_plans(cursor, " AND visits_careplan.grid_id IS NULL", [])
    analyze([Resident, CarePlan])  # the planner sees the copied values at once


# --- carrying -----------------------------------------------------------------------------------------------

def carry_people(unit_ids, micro_id) -> dict:
    """The households and residents of `unit_ids` now live in micro-grid `micro_id`; a care plan whose worker
    has no role there goes back to the micro-grid's own workers (worker empty)."""
    from gridcase.visits import coverage
    from gridcase.visits.models import CarePlan

    from .models import Grid, Household, Membership, Resident

    now = timezone.now()
    households = Household.objects.filter(unit_id__in=unit_ids).update(grid_id=micro_id, updated_at=now)
    residents = Resident.objects.filter(household__unit_id__in=unit_ids).update(grid_id=micro_id, updated_at=now)
    follow_people(Resident.objects.filter(household__unit_id__in=unit_ids))
    coverage.moved(Resident.objects.filter(household__unit_id__in=unit_ids).values("pk"), micro_id)
    plans = CarePlan.objects.filter(resident__household__unit_id__in=unit_ids)
    micro = Grid.objects.get(pk=micro_id)
    workers = set(plans.filter(worker__isnull=False).values_list("worker_id", flat=True))
    staying = set(Membership.objects.filter(tree.ancestors_q(micro, include_self=True, prefix="grid__"),
                                            user_id__in=workers, role__in=EDITOR_ROLES).values_list("user_id", flat=True))
    released = plans.filter(worker_id__in=workers - staying).update(worker=None, updated_at=now)
    return {"households": households, "residents": residents, "care_plans": plans.count(),
            "care_plans_released": released}


# --- what a grid carries (the before/after figures of a move's summary) -----------------------------------------

def load_of(grids) -> dict:
    """Per grid: households, residents, key-population residents, active care plans, contacts due per week
    (sum of 7 / cadence over the plans' items), open cases owned there or below, and its field workers."""
    from gridcase.cases.models import Case
    from gridcase.cases.state import UNFINISHED
    from gridcase.visits.models import CarePlanItem

    from .models import Grid, Household, Membership, Resident

    grids = list(Grid.objects.filter(pk__in=[g.pk for g in grids]))  # fresh spans: a move renumbers the tree
    out = {}
    for g in grids:
        inside = [tree.span(g)]
        residents = Resident.objects.filter(tree.subtree_q(inside, "grid__"), is_active=True)
        items = CarePlanItem.objects.filter(tree.subtree_q(inside, "care_plan__resident__grid__"),
                                            care_plan__active=True, every_n_days__gt=0)
        cadences = items.order_by().values("every_n_days").annotate(n=Count("id")).values_list("every_n_days", "n")
        per_week = sum(7 / days * n for days, n in cadences)
        out[g.pk] = {
            "households": Household.objects.filter(tree.subtree_q(inside, "grid__")).count(),
            "residents": residents.count(),
            "key_population": residents.filter(tags__isnull=False).distinct().count(),
            "care_plans": items.values("care_plan_id").distinct().count(),
            "contacts_due_per_week": round(per_week, 1),
            "open_cases": Case.objects.filter(tree.subtree_q(inside, "owner_grid__"), status__in=UNFINISHED).count(),
        }
    names = {}
    for grid_id, name, username in Membership.objects.filter(grid__in=list(grids), role__in=CASE_WORKERS).order_by(
            "id").values_list("grid_id", "user__first_name", "user__username"):
        names.setdefault(grid_id, []).append(name or username)
    return {pk: dict(v, workers=names.get(pk, [])) for pk, v in out.items()}


def _node(g) -> dict:
    return {"id": g.pk, "code": g.code, "name": g.name, "level": g.level}


# --- the movers ----------------------------------------------------------------------------------------------

class _DryRun(Exception):
    def __init__(self, summary):
        self.summary = summary


def check_mover(actor, grids, roles) -> None:
    from .scoping import scope_for

    scope = scope_for(actor)
    if scope.is_global:
        return
    if not all(scope.roles_at(g) & roles for g in grids):
        raise Forbidden(_("Moving a place needs a manager role on both the old and the new grid."))


def cases_choice(value) -> str:
    if value in (None, ""):
        return STAY
    if value not in (FOLLOW, STAY):
        raise ValidationFailed(_("Choose whether open cases follow the place or stay."),
                               fields={"cases": [_("Choose follow or stay.")]})
    return value


def _run(actor, kind, obj, source, target, affected, write, cases_of, anchors_of, *, cases, preview, request):
    """The shared course of a move: figures before, writes, open cases, figures after, audit, notice."""
    from gridcase.notifications.models import Kind
    from gridcase.notifications.services import notify

    cases = cases_choice(cases)
    affected = list({g.pk: g for g in affected if g is not None}.values())
    try:
        with transaction.atomic():
            before = load_of(affected)
            open_cases = list(cases_of())
            moved = write()
            followed = unassigned = 0
            if cases == FOLLOW:
                followed, unassigned = _follow(actor, open_cases, anchors_of)
            after = load_of(affected)
            summary = {
                "kind": kind, "id": obj.pk, "name": str(obj), "from": _node(source), "to": _node(target),
                "cases": cases, "preview": preview,
                "moved": dict(moved, open_cases=len(open_cases), cases_followed=followed,
                              cases_unassigned=unassigned),
                "grids": [dict(_node(g), workers=after[g.pk].pop("workers"),
                               before={k: v for k, v in before[g.pk].items() if k != "workers"}, after=after[g.pk])
                          for g in affected],
            }
            if preview:
                raise _DryRun(summary)
            audit.record(actor, "move", [obj], ["place"], request, summary=summary)
            _tell(notify, Kind.OTHER, actor, target, summary)
    except _DryRun as dry:
        return dry.summary
    return summary


def _tell(notify, kind, actor, target, summary):
    from gridcase.cases.workflow import staff_of

    moved = summary["moved"]
    title = _("%(place)s moved to %(grid)s: %(households)s households, %(cases)s open cases followed") % {
        "place": summary["name"], "grid": target.name, "households": moved["households"],
        "cases": moved["cases_followed"]}
    receivers = [u for u in staff_of(target) if u != getattr(actor, "pk", None)]
    notify(receivers, kind, title, dedupe_key=f"move:{summary['kind']}:{summary['id']}:{timezone.now().isoformat()}",
           payload={"move": summary["kind"], "id": summary["id"]})


def _follow(actor, open_cases, anchors_of) -> tuple[int, int]:
    """Each open case follows its place: grid and owner grid remapped from the old anchor's branch to the new
    one's, through the workflow's `relocate` row (event, hop, compare-and-set)."""
    from gridcase.cases.workflow.engine import with_related
    from gridcase.cases.workflow.places import transition

    from .models import Membership

    chains: dict = {}

    def chain(node):
        if node.pk not in chains:
            chains[node.pk] = list(tree.ancestors(node, include_self=True))
        return chains[node.pk]

    def remap(node, old_anchor, new_anchor):
        old, new = chain(old_anchor), chain(new_anchor)
        common = {n.pk for n in old} & {n.pk for n in new}
        if node.pk not in {n.pk for n in old} or node.pk in common:
            return node
        same = [n for n in new if n.level == node.level]
        return same[-1] if same else [n for n in new if n.pk in common][-1]

    followed = unassigned = 0
    from gridcase.cases.models import Case

    for case in with_related(Case.objects.filter(pk__in=[c.pk for c in open_cases])).order_by("id"):
        anchors = anchors_of(case)
        if anchors is None:
            continue
        old_anchor, new_anchor = anchors
        owner = remap(case.owner_grid, old_anchor, new_anchor)
        grid = remap(case.grid, old_anchor, new_anchor)
        if owner.pk == case.owner_grid_id and grid.pk == case.grid_id:
            continue
        let_go = False
        if case.assignee_id and owner.pk != case.owner_grid_id:
            holds = Membership.objects.filter(user_id=case.assignee_id, role__in=CASE_WORKERS).select_related("grid")
            let_go = not any(tree.is_inside(m.grid, owner) or tree.is_inside(owner, m.grid) for m in holds)
        if transition(case, "relocate", actor, check_role=False, owner=owner, grid=grid, unassign=let_go):
            followed += 1
            unassigned += int(let_go and case.assignee_id is None)
    return followed, unassigned


def _still(qs, count=1, same=None) -> None:
    """Lock the rows a move read before its transaction and check nobody moved them meanwhile (409)."""
    from gridcase.core.errors import Conflict

    rows = list(qs.select_for_update().values_list("pk", flat=True))
    if len(rows) != count or (same is not None and not same(qs)):
        raise Conflict(_("This place was changed meanwhile. Reload and try again."))


def _open_cases(q):
    from gridcase.cases.models import Case
    from gridcase.cases.state import UNFINISHED

    return Case.objects.filter(q, status__in=UNFINISHED).only("pk")


def move_unit(actor, unit, to, *, cases=STAY, preview=False, request=None) -> dict:
    """Move `unit` to micro-grid `to` (of the same general grid: `unit_outside_building_grid` otherwise)."""
    from .models import Grid, Unit

    unit = Unit.objects.select_related("building__grid", "micro_grid").get(pk=unit.pk)
    old = unit.micro_grid
    if to.pk == old.pk:
        raise RuleBroken(MESSAGES["no_change"], code="no_change", fields={"to": [MESSAGES["no_change"]]})
    unit.micro_grid = to
    try:
        check_unit(unit)
    except ValidationError as exc:
        raise as_rule(exc)
    check_mover(actor, [old, to], MANAGER_ROLES)

    def write():
        _still(Unit.objects.filter(pk=unit.pk, micro_grid_id=old.pk))
        Unit.objects.filter(pk=unit.pk).update(micro_grid_id=to.pk, updated_at=timezone.now())
        return {"units": 1} | carry_people([unit.pk], to.pk)

    in_unit = Q(unit_id=unit.pk) | Q(household__unit_id=unit.pk) | Q(resident__household__unit_id=unit.pk)
    return _run(actor, "unit", unit, old, to, [old, to], write, lambda: _open_cases(in_unit),
                lambda case: (Grid.objects.get(pk=old.pk), to), cases=cases, preview=preview, request=request)


def move_building(actor, building, to, *, units=None, cases=STAY, preview=False, request=None) -> dict:
    """Move `building` with all its units to general grid `to` (or to micro-grid `to`, whose general grid it
    joins). `units`: {unit id: micro-grid} for units going elsewhere than the default micro-grid (`to` itself
    when it is a micro-grid, or the new general grid's only micro-grid)."""
    from .models import Building, Grid, Unit

    building = Building.objects.select_related("grid").get(pk=building.pk)
    general = Grid.objects.get(pk=to.parent_id) if to.level == Level.MICRO_GRID else to
    if general.level != Level.GRID:
        raise as_rule(rule_error("building_needs_general_grid", "to"))
    default = to if to.level == Level.MICRO_GRID else None
    if default is None:
        micros = list(Grid.objects.filter(parent_id=general.pk, level=Level.MICRO_GRID)[:2])
        default = micros[0] if len(micros) == 1 else None
    unit_rows = list(Unit.objects.filter(building_id=building.pk).select_related("micro_grid").order_by("id"))
    chosen = {u.pk: (units or {}).get(u.pk, default) for u in unit_rows}
    orphans = [u.name for u in unit_rows if chosen[u.pk] is None]
    if orphans:
        raise RuleBroken(MESSAGES["unit_orphaned"], code="unit_orphaned", fields={"units": orphans})
    for u in unit_rows:
        target = chosen[u.pk]
        if target.level != Level.MICRO_GRID or target.parent_id != general.pk:
            raise RuleBroken(MESSAGES["unit_outside_building_grid"], code="unit_outside_building_grid",
                             fields={"units": [u.name]})
    if general.pk == building.grid_id and all(chosen[u.pk].pk == u.micro_grid_id for u in unit_rows):
        raise RuleBroken(MESSAGES["no_change"], code="no_change", fields={"to": [MESSAGES["no_change"]]})
    old_micros = {u.micro_grid_id: u.micro_grid for u in unit_rows}
    check_mover(actor, [building.grid, general, *old_micros.values()], MANAGER_ROLES)

    def write():
        now = timezone.now()
        _still(Building.objects.filter(pk=building.pk, grid_id=building.grid_id))
        _still(Unit.objects.filter(pk__in=[u.pk for u in unit_rows]), len(unit_rows),
               lambda qs: sorted(qs.values_list("pk", "micro_grid_id")) == sorted((u.pk, u.micro_grid_id) for u in unit_rows))
        Building.objects.filter(pk=building.pk).update(grid_id=general.pk, updated_at=now)
        totals = {"units": len(unit_rows), "households": 0, "residents": 0, "care_plans": 0, "care_plans_released": 0}
        by_target: dict = {}
        for u in unit_rows:
            by_target.setdefault(chosen[u.pk].pk, []).append(u.pk)
        for micro_id, ids in by_target.items():
            Unit.objects.filter(pk__in=ids).update(micro_grid_id=micro_id, updated_at=now)
            for k, v in carry_people(ids, micro_id).items():
                totals[k] += v
        return totals

    unit_of = {u.pk: u for u in unit_rows}
    in_building = (Q(building_id=building.pk) | Q(unit__building_id=building.pk)
                   | Q(household__unit__building_id=building.pk) | Q(resident__household__unit__building_id=building.pk))

    def anchors(case):
        unit_id = case.unit_id or (case.household.unit_id if case.household_id else None) or (
            case.resident.household.unit_id if case.resident_id else None)
        if unit_id in unit_of:
            return unit_of[unit_id].micro_grid, chosen[unit_id]
        return building.grid, general

    affected = [building.grid, general, *old_micros.values(), *chosen.values()]
    return _run(actor, "building", building, building.grid, general, affected, write,
                lambda: _open_cases(in_building), anchors, cases=cases, preview=preview, request=request)


def move_grid(actor, grid, to, *, cases=STAY, preview=False, request=None) -> dict:
    """Put `grid` under `to` (the tree's level rules, no cycles, and a micro-grid's buildings wholly inside it)."""
    from .models import Grid

    grid = Grid.objects.get(pk=grid.pk)
    old_parent = grid.parent
    if old_parent is not None and to.pk == old_parent.pk:
        raise RuleBroken(MESSAGES["no_change"], code="no_change", fields={"to": [MESSAGES["no_change"]]})
    grid.parent = to
    try:
        grid.full_clean()
    except ValidationError as exc:
        raise as_rule(exc)
    check_mover(actor, [g for g in (old_parent, to) if g is not None], TREE_ROLES)
    inside = tree.subtree_q([tree.span(grid)], "grid__")
    owned_inside = tree.subtree_q([tree.span(grid)], "owner_grid__")

    def write():
        from .models import Building, Household, Resident, Unit

        moving = Grid.objects.get(pk=grid.pk)
        moving.parent = to
        moving.save()
        span = [tree.span(Grid.objects.get(pk=grid.pk))]
        return {"units": Unit.objects.filter(tree.subtree_q(span, "micro_grid__")).count(),
                "buildings": Building.objects.filter(tree.subtree_q(span, "grid__")).count(),
                "households": Household.objects.filter(tree.subtree_q(span, "grid__")).count(),
                "residents": Resident.objects.filter(tree.subtree_q(span, "grid__")).count(),
                "care_plans": 0, "care_plans_released": 0}

    return _run(actor, "grid", grid, old_parent or grid, to, [old_parent, to, grid], write,
                lambda: _open_cases(inside & ~owned_inside),
                lambda case: (Grid.objects.get(pk=old_parent.pk), Grid.objects.get(pk=to.pk)) if old_parent else None,
                cases=cases, preview=preview, request=request)


# --- redistricting: several moves as one change, previewed ----------------------------------------------------------

def redistrict(actor, changes, *, cases=STAY, preview=True, request=None, boundaries=None) -> dict:
    """Several moves as one boundary change (a street redrawing its micro-grids): `changes` is a list of
    (kind, place, to, units) with kind "unit", "building" or "grid", each run by the mover above, in one transaction
    (one refused: nothing is kept). The answer adds up every affected grid's load before the first move that touched
    it and after the last — the load each worker would carry. With `preview` (the default) it is all rolled back.
    `boundaries` ([(grid, GeoJSON)]): grids redrawn on the map, checked and written first (`geo.redraw`); the
    buildings they gain are moved after `changes`."""
    from . import geo
    from .models import Grid

    movers = {"unit": move_unit, "building": move_building, "grid": move_grid}
    if not changes and not boundaries:
        raise ValidationFailed(fields={"moves": [_("Give at least one move.")]})
    redrawn = outside = gained = None
    try:
        with transaction.atomic():
            done, before, order = [], {}, []
            if boundaries:
                for pk, load in load_of([g for g, _b in boundaries]).items():
                    load.pop("workers")
                    before[pk] = load
                    order.append(pk)
                derived, redrawn, outside, gained = geo.redraw(actor, boundaries)
                changes = list(changes) + derived
            for i, (kind, place, to, units) in enumerate(changes):
                extra = {"units": units} if kind == "building" and units else {}
                try:
                    summary = movers[kind](actor, place, to, cases=cases, preview=False, request=request, **extra)
                except ValidationFailed as exc:
                    exc.fields = {f"moves[{i}].{k}": v for k, v in (exc.fields or {}).items()} or {f"moves[{i}]": [
                        str(exc.message)]}
                    raise
                done.append({k: summary[k] for k in ("kind", "id", "name", "from", "to", "moved")})
                for g in summary["grids"]:
                    if g["id"] not in before:
                        before[g["id"]] = g["before"]
                        order.append(g["id"])
            grids = {g.pk: g for g in Grid.objects.filter(pk__in=order)}
            after = load_of(list(grids.values()))
            result = {"preview": preview, "cases": cases, "moves": done, "grids": [
                dict(_node(grids[pk]), workers=after[pk].pop("workers"), before=before[pk], after=after[pk])
                for pk in order]}
            if redrawn is not None:
                result.update(boundaries=redrawn, outside=outside, buildings=gained)
                audit.record(actor, "redraw", list(Grid.objects.filter(pk__in=[b["id"] for b in redrawn])),
                             ["boundary"], request, summary={"boundaries": [b["id"] for b in redrawn],
                                                             "moves": len(done), "preview": preview})
            if preview:
                raise _DryRun(result)
    except _DryRun as dry:
        if redrawn is not None:
            geo.invalidate()  # the rolled-back boundaries must not stay in an index built meanwhile
        return dry.summary
    return result
