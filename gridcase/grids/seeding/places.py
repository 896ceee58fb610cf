"""Buildings, units and households under each general grid, with their residents (`residents.py`),
streamed batch by batch through a `CopyPipeline`: bounded memory at any scale."""

import multiprocessing

from gridcase.core.bulk import CopyPipeline, CopyTable, reset_sequence
from gridcase.core.seeding import detach_database

from ..choices import Level
from ..models import Building, Household, Resident, Unit
from .plans import OCCUPANCY
from .residents import PERSONAL, personal_columns, sealed

ENCRYPT_APART_FROM = 100  # general grids: from this many (a city), personal data is encrypted in another process


def load_places_and_people(loader):
    generals = [n for n in loader.plan.nodes if n.level == Level.GRID]
    micros_of: dict = {}
    for n in loader.plan.nodes:
        if n.level == Level.MICRO_GRID:
            micros_of.setdefault(n.parent.id, []).append(n)
    # Progress counts micro-grids (known in advance; households are drawn as we go).
    progress = loader.ctx.progress("micro-grids filled", sum(len(v) for v in micros_of.values()))
    tables = {
        "building": CopyTable(Building, ["id", "grid_id", "code", "name", "address", "lat", "lng",
                                     "created_at", "updated_at"], loader.now),
        "unit": CopyTable(Unit, ["id", "building_id", "name", "micro_grid_id", "created_at", "updated_at"], loader.now),
        "household": CopyTable(Household, ["id", "unit_id", "room", "grid_id", "note", "created_at", "updated_at"],
                           loader.now),
        "resident": CopyTable(Resident, [
            "id", "household_id", "grid_id", "name", "name_pinyin", "name_initials", "gender", "birth_date",
            "phone_encrypted", "phone_masked", "phone_last4", "id_number_encrypted", "id_number_masked",
            "id_number_hash", "relation", "is_active", "note", "created_at", "updated_at", *AREA_COLUMNS], loader.now),
        "tag": CopyTable(Resident.tags.through, ["id", "resident_id", "tag_id"], loader.now),
    }
    # Stream one batch of general grids at a time: bounded memory at any scale. For a city, the residents' personal
    # data is encrypted in a forked process while the next batch is drawn (Fernet is most of a resident's cost).
    batch: dict = {k: [] for k in tables}
    pool = None
    if len(generals) >= ENCRYPT_APART_FROM:
        pool = multiprocessing.get_context("fork").Pool(1, initializer=detach_database)
    pipeline = CopyPipeline()
    pending = None  # (batch, its residents' personal columns being computed)

    def write(done, columns):
        done["resident"] = sealed(done["resident"], columns.get() if columns is not None else None)
        for key, table in tables.items():
            pipeline.put(key, table, done[key])

    try:
        for i, general in enumerate(generals):
            places_for_general(loader, general, micros_of.get(general.id, []), batch, progress)
            if len(batch["resident"]) > 20_000 or i == len(generals) - 1:
                columns = None
                if pool is not None:
                    columns = pool.apply_async(personal_columns, ([r[PERSONAL] for r in batch["resident"]],))
                if pending is not None:
                    write(*pending)
                pending = (batch, columns)
                batch = {k: [] for k in tables}
        if pending is not None:
            write(*pending)
    finally:
        counts = pipeline.close()
        if pool is not None:
            pool.terminate()
    for key, n in counts.items():
        loader.count(key, n)
    progress.finish()
    for model in (Building, Unit, Household, Resident, Resident.tags.through):
        reset_sequence(model)



# The micro-grid's community and street copied onto each resident (grids.moves keeps them), written with the row
# rather than by an UPDATE of every resident after the load; the levels each column names.
AREA_LEVELS = {"community_id": Level.COMMUNITY, "street_id": Level.STREET}
AREA_COLUMNS = [c for c in AREA_LEVELS if c in {f.attname for f in Resident._meta.concrete_fields}]


def _area(node) -> tuple:
    """The ids of the node's ancestors at AREA_COLUMNS' levels (None where it has none)."""
    found = {}
    while node is not None:
        found.setdefault(node.level, node.id)
        node = node.parent
    return tuple(found.get(AREA_LEVELS[c]) for c in AREA_COLUMNS)


def places_for_general(loader, general, micros, batch, progress):
    rng, now = loader.rng, loader.now
    area = _area(general)
    shapes = general.shapes
    weights = [s[3] for s in shapes]
    micro_index, placed = 0, 0
    building_no = 0
    s, w, n, e = general.box
    while micro_index < len(micros):
        floors, per_floor, units, _ = rng.choices(shapes, weights)[0]
        building_no += 1
        building_id = loader.ids.take(Building)
        lat, lng = rng.uniform(s, n), rng.uniform(w, e)
        bname = f"{general.courtyard}{building_no}栋"
        batch["building"].append((building_id, general.id, f"{general.code}-B{building_no:02d}", bname,
                                  f"{general.courtyard}{building_no}栋", round(lat, 6), round(lng, 6), now, now))
        for u in range(1, units + 1):
            if micro_index >= len(micros):
                break
            micro = micros[micro_index]
            unit_id = loader.ids.take(Unit)
            batch["unit"].append((unit_id, building_id, f"{u}单元", micro.id, now, now))
            for floor in range(1, floors + 1):
                for r in range(1, per_floor + 1):
                    if rng.random() > OCCUPANCY:
                        continue
                    household_id = loader.ids.take(Household)
                    batch["household"].append((household_id, unit_id, f"{floor}{r:02d}", micro.id, "", now, now))
                    loader.residents.household(household_id, micro.id, batch, area)
                    placed += 1
            if placed >= micro.households:
                micro_index += 1
                placed = 0
                progress.advance()

