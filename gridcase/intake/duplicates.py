"""Duplicate suggestions: open cases of the same category in the same place, reported in the last days.

"The same place" is the same building, or (when both have a location) within INTAKE_DUPLICATE_METRES, or — for a
resident's report that names neither — the same micro-grid (a QR code hangs in one micro-grid's stairwells). The
resident sees them before sending ("已有人反映，点此关注") and the dispatcher sees them as merge candidates.
"""

import math
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from gridcase.cases.models import Case
from gridcase.cases.state import UNFINISHED

EARTH_M = 6_371_000


def metres() -> float:
    return float(getattr(settings, "INTAKE_DUPLICATE_METRES", 150))


def days() -> int:
    return int(getattr(settings, "INTAKE_DUPLICATE_DAYS", 7))


def distance_m(a_lat, a_lng, b_lat, b_lng) -> float:
    p1, p2 = math.radians(a_lat), math.radians(b_lat)
    dp, dl = p2 - p1, math.radians(b_lng - a_lng)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_M * math.asin(min(1.0, math.sqrt(h)))


def candidates(qs, *, category_id, grid_id=None, building_id=None, lat=None, lng=None, exclude_id=None, now=None,
               limit=5) -> list:
    """Open cases of `category_id` from the last days in the same building, near the point, or (with neither)
    in the same grid; nearest and newest first. `qs` is already scoped by the caller."""
    now = now or timezone.now()
    place = Q()
    if building_id:
        place |= Q(building_id=building_id)
    has_point = lat is not None and lng is not None
    if has_point:
        dlat = metres() / 111_320
        dlng = metres() / max(1.0, 111_320 * math.cos(math.radians(lat)))
        place |= Q(lat__range=(lat - dlat, lat + dlat), lng__range=(lng - dlng, lng + dlng))
    if not building_id and grid_id:
        place |= Q(grid_id=grid_id)
    if not place:
        return []
    rows = (qs.filter(place, category_id=category_id, status__in=list(UNFINISHED),
                      created_at__gte=now - timedelta(days=days()))
            .exclude(pk=exclude_id).order_by("-created_at")[:50])
    out = []
    for case in rows:
        near = None
        if has_point and case.lat is not None and case.lng is not None:
            near = distance_m(lat, lng, case.lat, case.lng)
            if near > metres() and case.building_id != building_id and case.grid_id != grid_id:
                continue  # inside the box, outside the circle
        out.append((case, near))
    out.sort(key=lambda pair: (pair[1] is None, pair[1] or 0, -pair[0].created_at.timestamp()))
    return out[:limit]


def for_resident(grid, category_id, lat=None, lng=None) -> list:
    return candidates(Case.objects.filter(sensitive=False), category_id=category_id, grid_id=grid.pk, lat=lat, lng=lng)
