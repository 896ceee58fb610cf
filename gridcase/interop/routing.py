"""Where an outside report happened: a point → the micro-grid whose boundary (GeoJSON) contains it; an address
→ the building whose address it names. Both stay inside the area the sender serves (a subtree)."""

from django.db.models import F, Value
from django.db.models.functions import Length

from gridcase.grids import tree
from gridcase.grids.choices import Level
from gridcase.grids.models import Building, Grid, Unit

# Candidates are micro-grids whose centroid lies within this many degrees of the point (≈ 5 km), then tested
# exactly: a micro-grid is a few hundred metres across.
NEAR_DEGREES = 0.05


def _in_ring(lng: float, lat: float, ring) -> bool:
    inside = False
    n = len(ring)
    for i in range(n):
        x1, y1 = ring[i][0], ring[i][1]
        x2, y2 = ring[i - 1][0], ring[i - 1][1]
        if (y1 > lat) != (y2 > lat) and lng < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def contains(boundary, lat: float, lng: float) -> bool:
    """Is (lat, lng) inside a GeoJSON Polygon or MultiPolygon (holes excluded; [lng, lat] order)?"""
    if not isinstance(boundary, dict):
        return False
    kind, coords = boundary.get("type"), boundary.get("coordinates") or []
    polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    try:
        for rings in polygons:
            if rings and _in_ring(lng, lat, rings[0]) and not any(_in_ring(lng, lat, h) for h in rings[1:]):
                return True
    except (TypeError, IndexError, ZeroDivisionError):
        return False
    return False


def micro_grids(area):
    qs = Grid.objects.filter(level=Level.MICRO_GRID)
    return qs.filter(tree.subtree_q([tree.span(area)])) if area is not None else qs


def has_boundaries(area) -> bool:
    return micro_grids(area).filter(boundary__isnull=False).exists()


def grid_at(lat: float, lng: float, area=None):
    """The micro-grid (inside `area`) whose boundary contains the point, or None."""
    rows = (micro_grids(area).filter(boundary__isnull=False,
                                     centroid_lat__range=(lat - NEAR_DEGREES, lat + NEAR_DEGREES),
                                     centroid_lng__range=(lng - NEAR_DEGREES, lng + NEAR_DEGREES))
            .order_by("id"))
    for grid in rows:
        if contains(grid.boundary, lat, lng):
            return grid
    return None


def building_for_address(address: str, area=None):
    """The building whose (non-empty) address is the longest part of `address`: "成都市…东篱苑1栋2单元501" names
    "东篱苑1栋"."""
    address = " ".join(str(address or "").split())
    if len(address) < 2:
        return None
    qs = Building.objects.exclude(address="").annotate(given=Value(address)).filter(given__contains=F("address"))
    if area is not None:
        qs = qs.filter(tree.subtree_q([tree.span(area)], "grid__"))
    return qs.order_by(Length("address").desc(), "id").select_related("grid").first()


def grid_of_building(building):
    """The micro-grid of a building: by its point when it has one, else the one micro-grid all its units are in,
    else its general grid."""
    if building.lat is not None and building.lng is not None:
        grid = grid_at(building.lat, building.lng, building.grid)
        if grid is not None:
            return grid
    ids = set(Unit.objects.filter(building=building).values_list("micro_grid_id", flat=True))
    if len(ids) == 1:
        return Grid.objects.get(pk=ids.pop())
    return building.grid
