"""Where an outside report happened: a point → the micro-grid whose boundary (GeoJSON) contains it; an address
→ the building whose address it names. Both stay inside the area the sender serves (a subtree)."""

from django.db.models import F, Value
from django.db.models.functions import Length

from gridcase.grids import geo, tree
from gridcase.grids.choices import Level
from gridcase.grids.models import Building, Grid, Unit

# The point rules are gridcase.grids.geo's (one spatial index for every located report); kept here by name for the
# adapters that import them from this module.
contains = geo.contains


def micro_grids(area):
    qs = Grid.objects.filter(level=Level.MICRO_GRID)
    return qs.filter(tree.subtree_q([tree.span(area)])) if area is not None else qs


def has_boundaries(area) -> bool:
    return micro_grids(area).filter(boundary__isnull=False).exists()


def grid_at(lat: float, lng: float, area=None):
    """The micro-grid (inside `area`) whose boundary contains the point, or None (gridcase.grids.geo's index)."""
    return geo.grid_at(lat, lng, area)


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
