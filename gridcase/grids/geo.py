"""Grid boundaries as geometry: the one place that reads a boundary (GeoJSON, [lng, lat]) as a shape.

- `grid_at(lat, lng, area)`: point-in-polygon routing — the micro-grid (inside `area`, a subtree) whose boundary
  holds the point. Used for every located report: resident intake, a worker's case report, Open311, the 12345
  hotline (through `gridcase.interop.routing`, which adds the address rules).
- `check_boundaries` / `redraw`: a new boundary is a valid GeoJSON polygon, does not cross itself, and does not
  overlap a sibling (same parent, same level) beyond `OVERLAP_TOLERANCE_M2` (shared edges drawn by hand never
  meet exactly). Refusals are `RuleBroken` (400) naming the rule: `boundary_invalid`, `boundary_self_intersects`,
  `boundary_overlaps_sibling`. A redrawn micro-grid takes the buildings whose point it gains (moved, all units,
  through `moves.move_building`, so 三不破 holds); `moves.redistrict(boundaries=…)` runs it with the moves'
  preview.

Why an in-process shapely STRtree and not PostGIS or a bounding-box column: micro-grids change a few times a year
and a city has ~10⁴–10⁵ of them, so the whole set fits in memory (a few MB) and a packed R-tree answers a lookup in
microseconds (measured in `tests/benchmarks/geo.py`: see README, "The map"), on SQLite as on PostgreSQL with no
extension to install or start. The tree is built lazily per process (≈0.1–0.3 s at 10,000 micro-grids) and
rebuilt when the shared cache's version key changes: every Grid save/delete and every bulk writer
(`invalidate()`) bumps it, now and again on commit, so all web processes drop a stale tree (read at most every
VERSION_CHECK_SECONDS: a Redis round trip costs more than the lookup itself). The previous linear
scan (micro-grids whose centroid is within 0.05° then a Python ray test) read thousands of JSON boundaries per
lookup at city scale; a bounding-box query on indexed min/max columns would still parse every candidate's JSON
per request and need a migration of the grid table for no gain.
"""

import math
import threading
import time
import uuid
from dataclasses import dataclass

import numpy
import shapely
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import tree
from .choices import Level

VERSION_KEY = "grids:geo:version"
# Another process's boundary change is seen within this many seconds.
VERSION_CHECK_SECONDS = 2.0
# A sibling overlap smaller than this (square metres) is a shared edge drawn twice, not an overlap.
OVERLAP_TOLERANCE_M2 = 1.0
METRES_PER_DEGREE = 111_320.0

MESSAGES = {
    "boundary_invalid": _("The boundary must be a GeoJSON Polygon: one closed ring of at least three points "
                          "[longitude, latitude]."),
    "boundary_self_intersects": _("The boundary crosses itself. Redraw it so that its edges do not cross."),
    "boundary_overlaps_sibling": _("The boundary overlaps %(sibling)s. Neighbouring grids may share an edge but "
                                   "not an area: shrink the neighbour first, or redraw both together."),
}


# --- reading a boundary ----------------------------------------------------------------------------------------

def shape(boundary):
    """The shapely geometry of a stored GeoJSON Polygon/MultiPolygon, or None when it is not one (never raises)."""
    if not isinstance(boundary, dict) or boundary.get("type") not in ("Polygon", "MultiPolygon"):
        return None
    try:
        geom = shapely.geometry.shape(boundary)
    except (TypeError, ValueError, IndexError, KeyError, AttributeError, shapely.errors.ShapelyError):
        return None
    return None if geom.is_empty else geom


def contains(boundary, lat: float, lng: float) -> bool:
    """Is (lat, lng) inside a GeoJSON Polygon or MultiPolygon (holes excluded; on the edge counts as inside)?"""
    geom = shape(boundary)
    return geom is not None and geom.intersects(shapely.Point(lng, lat))


def area_m2(geom) -> float:
    """Approximate area in square metres of a small lng/lat shape (equirectangular at its latitude)."""
    if geom is None or geom.is_empty:
        return 0.0
    lat = geom.centroid.y
    return geom.area * METRES_PER_DEGREE ** 2 * math.cos(math.radians(lat))


# --- the index --------------------------------------------------------------------------------------------------

@dataclass
class Index:
    version: str
    ids: list
    spans: list  # tree.Span per id, for the `area` filter
    tree: object  # shapely.STRtree over the boundaries
    built_in: float  # seconds


_local = threading.local()
_lock = threading.Lock()
_shared: dict = {}


def invalidate() -> None:
    """Boundaries or the tree changed: every process rebuilds its index on its next lookup (now, and again when
    the transaction commits, so a tree built from uncommitted rows does not outlive them)."""
    def bump():
        cache.set(VERSION_KEY, uuid.uuid4().hex, None)
        _shared.pop("checked_at", None)  # this process looks again at once

    bump()
    transaction.on_commit(bump)


def _version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        cache.add(VERSION_KEY, version, None)
        version = cache.get(VERSION_KEY) or version
    return version


def build(version: str = "") -> Index:
    """Read every micro-grid with a boundary (one query) into a packed R-tree."""
    from .models import Grid

    rows = Grid.objects.filter(level=Level.MICRO_GRID, boundary__isnull=False).order_by("id").values_list(
        "id", "boundary", *tree.SPAN_FIELDS)
    return build_from(((pk, b, tree.Span(t, lft, rght)) for pk, b, t, lft, rght in rows.iterator(chunk_size=2000)),
                      version)


def build_from(rows, version: str = "") -> Index:
    """The index of (id, GeoJSON boundary, tree.Span) rows; boundaries that are not polygons are left out.
    Single-ring polygons (nearly all) are made in one vectorised call, 4–5× faster than one by one."""
    started = time.perf_counter()
    ids, spans, geoms = [], [], []
    simple, flat, ring_of = [], [], []
    for pk, boundary, span in rows:
        rings = boundary.get("coordinates") if isinstance(boundary, dict) and boundary.get("type") == "Polygon" else None
        if isinstance(rings, list) and len(rings) == 1 and isinstance(rings[0], list) and len(rings[0]) >= 4:
            simple.append((pk, boundary, span))
            flat.extend(rings[0])
            ring_of.extend([len(simple) - 1] * len(rings[0]))
            continue
        geom = shape(boundary)
        if geom is not None:
            ids.append(pk)
            spans.append(span)
            geoms.append(geom)
    try:
        made = list(shapely.polygons(shapely.linearrings(numpy.asarray(flat, dtype=float),
                                                         indices=numpy.asarray(ring_of, dtype=numpy.intp))))
    except (TypeError, ValueError, shapely.errors.ShapelyError):
        made = [shape(b) for _pk, b, _s in simple]  # a malformed one among them: one by one, leaving it out
    for (pk, _b, span), geom in zip(simple, made, strict=True):
        if geom is not None and not geom.is_empty:
            ids.append(pk)
            spans.append(span)
            geoms.append(geom)
    return Index(version, ids, spans, shapely.STRtree(geoms), time.perf_counter() - started)


def index() -> Index:
    """This process's index, rebuilt when the shared version changed. The version is read from the shared cache
    at most every VERSION_CHECK_SECONDS (a cache round trip costs more than a lookup); this process's own
    changes are seen at once."""
    now = time.monotonic()
    current = _shared.get("index")
    if current is not None and now - _shared.get("checked_at", -1e9) < VERSION_CHECK_SECONDS:
        return current
    version = _version()
    _shared["checked_at"] = now
    if current is None or current.version != version:
        with _lock:
            current = _shared.get("index")
            if current is None or current.version != version:
                current = build(version)
                _shared["index"] = current
    return current


def grid_id_at(lat: float, lng: float, area=None):
    """The id of the micro-grid (inside `area`) whose boundary holds the point; the lowest id when two do."""
    return lookup(index(), lat, lng, area)


def lookup(idx: Index, lat: float, lng: float, area=None):
    """`grid_id_at` on a given index (the benchmark measures it on a synthetic city)."""
    hits = idx.tree.query(shapely.Point(lng, lat), predicate="intersects")
    if len(hits) == 0:
        return None
    span = tree.span(area) if area is not None else None
    best = None
    for i in hits:
        if span is not None and not span.contains(idx.spans[i]):
            continue
        pk = idx.ids[i]
        best = pk if best is None or pk < best else best
    return best


def grid_at(lat: float, lng: float, area=None):
    """The micro-grid (inside `area`) whose boundary holds the point, or None."""
    from .models import Grid

    pk = grid_id_at(lat, lng, area)
    return Grid.objects.filter(pk=pk).first() if pk is not None else None


@receiver(post_save, sender="grids.Grid")
@receiver(post_delete, sender="grids.Grid")
def _grid_changed(sender, **kwargs):
    if not kwargs.get("raw"):
        invalidate()


# --- validating and redrawing -------------------------------------------------------------------------------------

def _refuse(rule: str, field: str, **params):
    from .moves import RuleBroken

    message = MESSAGES[rule] % params if params else MESSAGES[rule]
    return RuleBroken(message, code=rule, fields={field: [message]})


def _broken_move(rule: str, place: str):
    from .moves import MESSAGES as MOVE_RULES
    from .moves import RuleBroken

    return RuleBroken(MOVE_RULES[rule], code=rule, fields={"boundaries": [f"{place}: {MOVE_RULES[rule]}"]})


def polygon_of(boundary, field: str = "boundary"):
    """A drawn boundary as a shapely Polygon, or the rule it breaks (`boundary_invalid`, `boundary_self_intersects`)."""
    if not isinstance(boundary, dict) or boundary.get("type") != "Polygon":
        raise _refuse("boundary_invalid", field)
    rings = boundary.get("coordinates")
    if not isinstance(rings, list) or not rings or not all(isinstance(r, list) for r in rings):
        raise _refuse("boundary_invalid", field)
    for ring in rings:
        if len(ring) < 4 or ring[0] != ring[-1] or not all(
                isinstance(p, list | tuple) and len(p) == 2 and all(isinstance(c, int | float) and not isinstance(
                    c, bool) and math.isfinite(c) for c in p) for p in ring):
            raise _refuse("boundary_invalid", field)
        if not all(-180 <= p[0] <= 180 and -90 <= p[1] <= 90 for p in ring):
            raise _refuse("boundary_invalid", field)
    geom = shape(boundary)
    if geom is None:
        raise _refuse("boundary_invalid", field)
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise _refuse("boundary_self_intersects" if "intersection" in reason.lower() else "boundary_invalid", field)
    if geom.area == 0:
        raise _refuse("boundary_invalid", field)
    return geom


def check_boundaries(drawn) -> dict:
    """`drawn`: [(grid, GeoJSON)]. Each is a valid, simple polygon and overlaps none of its siblings — neither the
    ones kept nor the ones redrawn with it. Answers {grid id: polygon}; raises the first rule broken."""
    from .models import Grid

    shapes, seen = {}, set()
    for i, (grid, boundary) in enumerate(drawn):
        field = f"boundaries[{i}].boundary"
        if grid.pk in seen:
            raise _refuse("boundary_invalid", f"boundaries[{i}].grid")
        seen.add(grid.pk)
        shapes[grid.pk] = polygon_of(boundary, field)
    by_id = {g.pk: g for g, _b in drawn}
    parents = {(g.parent_id, g.level) for g, _b in drawn}
    siblings = []
    for parent_id, level in parents:
        rows = Grid.objects.filter(parent_id=parent_id, level=level, boundary__isnull=False).exclude(
            pk__in=list(by_id)).order_by("id").values_list("id", "name", "boundary")
        siblings += [(pk, name, parent_id, level, shape(b)) for pk, name, b in rows]
    siblings += [(g.pk, g.name, g.parent_id, g.level, shapes[g.pk]) for g, _b in drawn]
    for i, (grid, _b) in enumerate(drawn):
        mine = shapes[grid.pk]
        for pk, name, parent_id, level, other in siblings:
            if pk == grid.pk or other is None or (parent_id, level) != (grid.parent_id, grid.level):
                continue
            if mine.intersects(other) and area_m2(mine.intersection(other)) > OVERLAP_TOLERANCE_M2:
                raise _refuse("boundary_overlaps_sibling", f"boundaries[{i}].boundary", sibling=name)
    return shapes


def check_grid_boundary(grid) -> None:
    """The same rules for a boundary written on the grid itself (admin, `PATCH /grids/{id}/`), as the model's
    ValidationError. Such a write moves no building: redraw through `moves.redistrict(boundaries=…)` for that."""
    from django.core.exceptions import ValidationError

    from .moves import RuleBroken

    try:
        check_boundaries([(grid, grid.boundary)])
    except RuleBroken as exc:
        raise ValidationError({"boundary": ValidationError(str(exc.message), code=exc.code)})


def redraw(actor, drawn) -> tuple[list, list, list, list]:
    """Write the new boundaries of `drawn` ([(grid, GeoJSON)], checked first; call inside a transaction) and derive
    the building moves they imply: a building whose point a redrawn micro-grid now holds, and did not before, moves
    there with all its units (`moves.move_building` — a building outside that micro-grid's general grid breaks
    `unit_outside_building_grid`). A building left outside every boundary keeps its units where they are.
    Answers (changes for `moves.redistrict`, boundaries before/after, buildings left outside, buildings gained with
    their old and new micro-grids)."""
    from .models import Building, Grid, Unit
    from .moves import check_mover
    from .roles import MANAGER_ROLES

    shapes = check_boundaries(drawn)
    grids = {g.pk: g for g in Grid.objects.select_for_update().filter(pk__in=list(shapes)).order_by("id")}
    check_mover(actor, list(grids.values()), MANAGER_ROLES)
    old = {pk: shape(g.boundary) for pk, g in grids.items()}
    now = timezone.now()
    written = []
    for pk, geom in shapes.items():
        boundary = shapely.geometry.mapping(shapely.set_precision(geom, 1e-7))
        boundary = {"type": "Polygon", "coordinates": [[list(p) for p in ring] for ring in boundary["coordinates"]]}
        c = geom.centroid
        Grid.objects.filter(pk=pk).update(boundary=boundary, centroid_lat=round(c.y, 6), centroid_lng=round(c.x, 6),
                                          updated_at=now)
        written.append({"id": pk, "name": grids[pk].name, "before": grids[pk].boundary, "after": boundary,
                        "area_m2": {"before": round(area_m2(old[pk])), "after": round(area_m2(geom))}})
    invalidate()

    micro = {pk: g for pk, g in grids.items() if g.level == Level.MICRO_GRID}
    if not micro:
        return [], written, [], []
    # Where each nearby building was (old boundaries of every sibling) and is now (new ones replace the old).
    parent_ids = {g.parent_id for g in micro.values()}
    kept = {pk: shape(b) for pk, b in Grid.objects.filter(parent_id__in=parent_ids, level=Level.MICRO_GRID).exclude(
        pk__in=list(micro)).values_list("id", "boundary")}
    before = {**kept, **{pk: old[pk] for pk in micro}}
    after = {**kept, **{pk: shapes[pk] for pk in micro}}
    area = shapely.union_all([g for g in [*(old[pk] for pk in micro), *(shapes[pk] for pk in micro)] if g is not None])
    w, s, e, n = area.bounds
    buildings = list(Building.objects.filter(lat__range=(s, n), lng__range=(w, e)).select_related("grid").order_by("id"))

    def holder(where, point):
        return next((pk for pk, g in sorted(where.items()) if g is not None and g.intersects(point)), None)

    changes, outside, gained = [], [], []
    units_in = {}
    for building_id, micro_id in Unit.objects.filter(building__in=buildings).values_list("building_id", "micro_grid_id"):
        units_in.setdefault(building_id, set()).add(micro_id)
    for b in buildings:
        point = shapely.Point(b.lng, b.lat)
        was, now_in = holder(before, point), holder(after, point)
        if was == now_in or (was not in micro and now_in not in micro):
            continue
        if now_in is None:
            outside.append({"id": b.pk, "name": b.name})
            continue
        target = micro.get(now_in) or Grid.objects.get(pk=now_in)
        if units_in.get(b.pk, set()) <= {now_in}:
            continue  # already all there (or no units)
        if b.grid_id != target.parent_id:
            raise _broken_move("unit_outside_building_grid", b.name)
        changes.append(("building", b, target, None))
        gained.append({"id": b.pk, "name": b.name, "from": sorted(units_in.get(b.pk, set())),
                       "to": {"id": target.pk, "name": target.name}})
    names = dict(Grid.objects.filter(pk__in={pk for g in gained for pk in g["from"]}).values_list("id", "name")) \
        if gained else {}
    for g in gained:
        g["from"] = [{"id": pk, "name": names.get(pk, "")} for pk in g["from"]]
    return changes, written, outside, gained
