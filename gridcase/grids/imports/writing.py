"""Writing one checked row, step by step, inside its savepoint (the caller's `transaction.atomic()`):

1. `ensure_unit`: the row's unit, created when the row names a valid micro-grid for it;
2. `ensure_household`: the household at (unit, room), created when missing;
3. the resident the row is about (`matching.ResidentMatcher.find`), or a new one;
4. `apply_fields`: non-empty cells change the resident's fields (empty cells never erase), saved if changed;
5. `apply_tags`: a non-empty 重点人群 cell replaces the resident's tags.

`write_row` returns the row's outcome and what the import's caches may learn (`Learned`) once the savepoint
held. A step that refuses the row raises `Refused` (or `NeedsReview`); Django's `ValidationError` and
`IntegrityError` pass through to the caller, which reports them.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from .. import moves, services
from ..models import Household, Resident, Unit
from .reasons import Refused, reason

# Fields a non-empty cell sets as it is (phone and ID number are compared through their stored forms).
PLAIN_FIELDS = ("name", "gender", "birth_date", "relation", "note")


@dataclass
class Learned:
    """What a written row created, for the import's caches once its savepoint held."""

    name_key: tuple = ()  # (household id, name)
    units: dict = field(default_factory=dict)  # (building id, lower-case name) -> unit
    households: dict = field(default_factory=dict)  # (unit id, room) -> household id


def ensure_unit(building: dict, micro: dict, name: str) -> dict:
    """Create the unit a row names in its building, under its micro-grid (Unit.clean rules apply)."""
    obj = Unit(building_id=building["id"], name=name, micro_grid_id=micro["id"])
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise Refused(reason("unit_invalid", "unit", detail="; ".join(str(m) for m in exc.messages)))
    obj.save()
    return {"id": obj.id, "building_id": building["id"], "name": obj.name, "micro_grid_id": micro["id"]}


def ensure_household(households: dict, unit: dict, room: str) -> tuple[int, bool]:
    """(household id, created) at (unit, room); `households` is preloaded for the grid's units."""
    household_id = households.get((unit["id"], room))
    if household_id is not None:
        return household_id, False
    hh = Household(unit_id=unit["id"], room=room, grid_id=unit["micro_grid_id"])
    hh.save()
    return hh.id, True


def apply_fields(resident: Resident | None, values: dict, id_hash: str, household_id: int,
                 grid_id: int) -> tuple[Resident, bool, list]:
    """(resident, fresh, changed fields): the row's values on the matched resident (or a new one), saved
    when new or changed. Empty cells never erase stored values."""
    if resident is None:
        resident = Resident(household_id=household_id, grid_id=grid_id, name=values["name"])
    fresh = resident.pk is None
    changed = []
    if resident.household_id != household_id:
        resident.household_id, resident.grid_id = household_id, grid_id
        changed.append("household")
    for key in PLAIN_FIELDS:
        value = values.get(key)
        if value in (None, ""):
            continue
        if getattr(resident, key) != value:
            setattr(resident, key, value)
            changed.append(key)
    if values["phone"] and (fresh or resident.phone != values["phone"]):
        resident.phone = values["phone"]
        changed.append("phone")
    if values["id_number"] and (fresh or resident.id_number_hash != id_hash):
        resident.id_number = values["id_number"]
        changed.append("id_number")
    if fresh or changed:
        resident.full_clean(exclude=[f.name for f in Resident._meta.fields if not f.editable] + ["household"])
        resident.save()
        if not fresh and "household" in changed:
            from gridcase.visits import coverage  # noqa: PLC0415 (visits builds on grids)

            moves.follow_people([resident.pk])  # their community, street and care plan follow
            coverage.moved([resident.pk], grid_id)
    return resident, fresh, changed


def apply_tags(resident: Resident, tags, fresh: bool) -> bool:
    """Replace the resident's tags with the row's (None: the cell was empty, keep them). True if changed."""
    if tags is None:
        return False
    current = set(resident.tags.values_list("id", flat=True)) if not fresh else set()
    if current == {t.id for t in tags}:
        return False
    services.set_resident_tags(resident, tags)
    return True


def write_row(row, places, matcher, building: dict, micro: dict | None, unit: dict | None, new_unit_name,
              id_hash: str) -> tuple[dict, Learned]:
    """Write one row (see the module's steps); returns its outcome and what the caches may learn."""
    v = row.values
    learned = Learned()
    created_unit = unit is None
    if created_unit:
        unit = ensure_unit(building, micro, new_unit_name)
        learned.units[(building["id"], unit["name"].lower())] = unit
    household_id, created_household = ensure_household(places.households, unit, v["room"])
    learned.households[(unit["id"], v["room"])] = household_id

    resident = matcher.find(v, id_hash, household_id, created_household)
    learned.name_key = (household_id, v["name"])

    resident, fresh, changed = apply_fields(resident, v, id_hash, household_id, unit["micro_grid_id"])
    if apply_tags(resident, v["tags"], fresh) and not fresh:
        changed.append("tags")

    status = "created" if fresh else "updated" if changed else "unchanged"
    outcome = {"status": status, "resident": resident.pk, "household": household_id}
    if status == "updated":
        outcome["changed"] = changed
    if created_household:
        outcome["household_created"] = True
    if created_unit:
        outcome["unit_created"] = True
    return outcome, learned
