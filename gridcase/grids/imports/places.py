"""Places inside the import's grid: micro-grids, buildings, units and households, loaded once per import
and matched by name or code. Buildings are never created; a unit is created only where the row names a
valid micro-grid (writing.py); a household is found by (unit, room)."""

from .. import tree
from ..choices import Level
from ..models import Building, Grid, Household, Unit
from .reasons import reason


class Places:
    """What the rows of one import may land on: the grid's micro-grids, buildings and units (and, once
    `preload_households` ran, their households). Lookups add a reason to the row when they refuse it."""

    def __init__(self, grid: Grid, span):
        self.grid_label = f"{grid.name} ({grid.code})"
        inside = tree.subtree_q([span])
        micros = list(Grid.objects.filter(inside, level=Level.MICRO_GRID).values("id", "code", "name", "parent_id"))
        self.micro_by_id = {m["id"]: m for m in micros}
        self.micro_by_key: dict = {}
        for m in micros:
            self.micro_by_key.setdefault(m["code"].lower(), []).append(m)
            if m["name"].lower() != m["code"].lower():
                self.micro_by_key.setdefault(m["name"].lower(), []).append(m)
        if grid.level == Level.MICRO_GRID:
            buildings = Building.objects.filter(grid_id=grid.parent_id)
        else:
            buildings = Building.objects.filter(tree.subtree_q([span], "grid__"))
        self.buildings: dict = {}
        for b in buildings.values("id", "code", "name", "grid_id"):
            for key in {b["name"].strip().lower(), b["code"].strip().lower()}:
                self.buildings.setdefault(key, []).append(b)
        self.units: dict = {}  # (building_id, name) -> {"id", "micro_grid_id"}
        building_ids = {b["id"] for bs in self.buildings.values() for b in bs}
        for u in Unit.objects.filter(building_id__in=building_ids).values("id", "building_id", "name", "micro_grid_id"):
            self.units[(u["building_id"], u["name"].strip().lower())] = u
        self.households: dict = {}  # (unit_id, room) -> household id

    def preload_households(self):
        """Every household of the grid's units, by (unit, room), in batches of 5,000 units."""
        unit_ids = [u["id"] for u in self.units.values()]
        for start in range(0, len(unit_ids), 5_000):
            part = unit_ids[start:start + 5_000]
            for hid, unit_id, room in Household.objects.filter(unit_id__in=part).values_list("id", "unit_id", "room"):
                self.households[(unit_id, room)] = hid


    def find_micro(self, row):
        text = row.values["micro_grid"]
        if not text:
            return None
        found = self.micro_by_key.get(text.lower(), [])
        if not found:
            row.reasons.append(reason("micro_grid_not_found", "micro_grid", value=text, grid=self.grid_label))
        elif len(found) > 1:
            row.reasons.append(reason("micro_grid_ambiguous", "micro_grid", value=text))
        return found[0] if len(found) == 1 else None

    def find_building(self, row, micro):
        text = row.values["building"]
        candidates = []
        for key in self.name_forms(text, ("栋", "号楼", "幢", "号")):
            candidates = self.buildings.get(key.lower(), [])
            if candidates:
                break
        if micro is not None:
            candidates = [b for b in candidates if b["grid_id"] == micro["parent_id"]] or candidates
        if not candidates:
            row.reasons.append(reason("building_not_found", "building", value=text, grid=self.grid_label))
            return None
        if len(candidates) > 1:
            row.reasons.append(reason("building_ambiguous", "building", value=text, grid=self.grid_label))
            return None
        return candidates[0]

    @staticmethod
    def name_forms(text, suffixes):
        yield text
        if text.isdigit():
            for s in suffixes:
                yield text + s

    def find_unit(self, row, building, micro):
        """The existing unit, or (None, name) when it may be created, or (None, None) when refused."""
        text = row.values["unit"]
        for key in self.name_forms(text, ("单元",)):
            unit = self.units.get((building["id"], key.lower()))
            if unit:
                if micro is not None and unit["micro_grid_id"] != micro["id"]:
                    actual = self.micro_label(unit["micro_grid_id"])
                    row.reasons.append(reason("unit_micro_grid_mismatch", "micro_grid", value=text, actual=actual,
                                              given=micro["code"]))
                    return None, None
                if unit["micro_grid_id"] not in self.micro_by_id:
                    row.reasons.append(reason("unit_out_of_scope", "unit", value=text, grid=self.grid_label))
                    return None, None
                return unit, None
        if micro is None:
            row.reasons.append(reason("unit_not_found", "unit", value=text, building=building["name"]))
            return None, None
        name = f"{text}单元" if text.isdigit() else text
        return None, name

    def learn(self, units: dict, households: dict) -> None:
        """Units and households a row created, once its savepoint held."""
        self.units.update(units)
        self.households.update(households)

    def micro_label(self, micro_id):
        m = self.micro_by_id.get(micro_id)
        if m:
            return m["code"]
        return Grid.objects.filter(pk=micro_id).values_list("code", flat=True).first() or str(micro_id)
