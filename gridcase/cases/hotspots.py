"""Hotspots (未诉先办): problems that keep coming back, found before residents have to complain again.

A hotspot is one category of case, again and again:
- `building`: at least `count` cases in one building within `days` days;
- `micro_grid`: the same in one micro-grid (when the building alone does not already explain them);
- `nearby`: the same within `metres` of one located case (cases without a building, across micro-grid lines);
- `rising`: in one general grid, this week's cases at least `rising_min` and `rising_factor` × last week's.
Thresholds come from settings (`HOTSPOT_DEFAULTS`, per category code `HOTSPOT_RULES`). Sensitive categories,
rejected and merged cases and the preventive cases opened from hotspots never count.

`detect(now)` is pure: a few set-based queries (GROUP BY … HAVING count >= the category's threshold; the nearby
rule counts cases per category and square cell first, and measures distances only in dense cells), never a walk
over all cases. `store(found, now)` upserts them
(one current row per kind, category and place; rows no longer found stop being current) and is idempotent: a
rerun over the same cases changes nothing but `detected_at`. `run()` is both, for the beat job and the seeders.
`open_preventive_case()` opens one case from a hotspot through the normal case creation, exactly once.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case as When_
from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Max,
    Min,
    Q,
    Value,
    When,
)
from django.db.models.functions import Cos, Floor, Radians
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gridcase.core.errors import Conflict, Forbidden, NotFound
from gridcase.grids.choices import Level
from gridcase.grids.models import Building
from gridcase.grids.roles import MANAGER_ROLES
from gridcase.grids.scoping import scope_for

from .choices import HotspotKind, HotspotStatus, Source, Status
from .models import Case, Category, Hotspot

WEEK = timedelta(days=7)
M_PER_DEG = 111_195.0  # metres per degree of latitude (and of longitude at the equator)
LOCK_KEY = 0x686F7473  # "hots": one detection at a time (PostgreSQL advisory lock)
OPEN_ROLES = MANAGER_ROLES
"""Who opens a preventive case from a hotspot or dismisses one: secretaries, street dispatchers, administrators."""
FIELDS = ("count", "days", "metres", "rising_factor", "rising_min")


@dataclass(frozen=True)
class Rule:
    count: int
    days: int
    metres: int
    rising_factor: float
    rising_min: int


def rules(categories=None) -> dict[int, Rule]:
    """{category id: Rule} for every active, non-sensitive category: the defaults with the category's overrides."""
    defaults, per_code = settings.HOTSPOT_DEFAULTS, settings.HOTSPOT_RULES
    if categories is None:
        categories = Category.objects.filter(is_active=True, sensitive=False).only("id", "code")
    return {c.pk: Rule(**{**{k: defaults[k] for k in FIELDS}, **per_code.get(c.code, {})}) for c in categories}


@dataclass
class Found:
    kind: str
    category_id: int
    key: str
    grid_id: int
    count: int
    threshold: int
    window_days: int
    first_seen: datetime
    last_seen: datetime
    case_ids: set = field(default_factory=set)
    building_id: int | None = None
    previous_count: int | None = None
    metres: int | None = None
    lat: float | None = None
    lng: float | None = None


# --- detection ------------------------------------------------------------------------------------------------

def counted(now):
    """The cases a hotspot counts: reported up to `now`, not sensitive, not rejected or merged (a duplicate is
    the same problem once), not a preventive case opened from a hotspot."""
    return (Case.objects.filter(sensitive=False, created_at__lte=now)
            .exclude(status__in=[Status.REJECTED, Status.MERGED])
            .exclude(pk__in=Hotspot.objects.filter(preventive_case__isnull=False).values("preventive_case_id")))


def _per_category(by_category: dict, value, output):
    """A CASE over category_id giving each category's value (a threshold) in SQL."""
    return When_(*[When(category_id=c, then=Value(value(r))) for c, r in by_category.items()], default=Value(None),
                 output_field=output)


def _in_window(by_category: dict, now) -> Q:
    """Each category's cases of its own window: one (categories, since) pair per distinct window length."""
    by_days = defaultdict(list)
    for c, r in by_category.items():
        by_days[r.days].append(c)
    q = Q(pk__in=[])
    for d, cats in by_days.items():
        q |= Q(category_id__in=cats, created_at__gte=now - timedelta(days=d))
    return q


def _groups(qs, key_field, by_category):
    """(category, place, n, first, last) of the places holding at least the category's `count` cases."""
    return list(qs.filter(**{f"{key_field}__isnull": False}).values("category_id", key_field)
                .annotate(k=_per_category(by_category, lambda r: r.count, IntegerField()), n=Count("id"),
                          first=Min("created_at"), last=Max("created_at"))
                .filter(n__gte=F("k")).order_by("category_id", key_field)
                .values_list("category_id", key_field, "n", "first", "last", "k"))


def _members(qs, key_field, groups) -> dict:
    """{(category, place): {case id: grid id}} of the groups found, in one query."""
    wanted = {(g[0], g[1]) for g in groups}
    if not wanted:
        return {}
    out = defaultdict(dict)
    rows = qs.filter(category_id__in={w[0] for w in wanted}, **{f"{key_field}__in": {w[1] for w in wanted}})
    for case_id, category_id, place, grid_id in rows.values_list("id", "category_id", key_field, "grid_id"):
        if (category_id, place) in wanted:
            out[(category_id, place)][case_id] = grid_id
    return out


def _by_place(qs, by_category):
    """The building and micro-grid hotspots. A micro-grid whose cases one building hotspot (or several) already
    holds is not reported again."""
    found = []
    buildings = _groups(qs, "building_id", by_category)
    members = _members(qs, "building_id", buildings)
    grid_of_building = dict(Building.objects.filter(pk__in={g[1] for g in buildings}).values_list("id", "grid_id"))
    held = defaultdict(set)  # category -> cases already in a more specific hotspot
    for category_id, building_id, n, first, last, k in buildings:
        cases = members[(category_id, building_id)]
        grids = set(cases.values())
        grid_id = grids.pop() if len(grids) == 1 else grid_of_building[building_id]
        found.append(Found(HotspotKind.BUILDING, category_id, f"building:{building_id}", grid_id, n, k,
                           by_category[category_id].days, first, last, set(cases), building_id=building_id))
        held[category_id] |= set(cases)
    micro = qs.filter(grid__level=Level.MICRO_GRID)
    micros = _groups(micro, "grid_id", by_category)
    members = _members(micro, "grid_id", micros)
    for category_id, grid_id, n, first, last, k in micros:
        cases = set(members[(category_id, grid_id)])
        if cases <= held[category_id]:
            continue
        found.append(Found(HotspotKind.MICRO_GRID, category_id, f"grid:{grid_id}", grid_id, n, k,
                           by_category[category_id].days, first, last, cases))
        held[category_id] |= cases
    return found, held


def metres_apart(lat1, lng1, lat2, lng2) -> float:
    """The distance the nearby rule measures (equirectangular at the first point's latitude; exact enough
    for a few hundred metres)."""
    dy = (lat2 - lat1) * M_PER_DEG
    dx = (lng2 - lng1) * M_PER_DEG * math.cos(math.radians(lat1))
    return math.hypot(dx, dy)


def _float(expression):
    return ExpressionWrapper(expression, output_field=FloatField())


def _with_cells(qs, by_category):
    """Each located case's cell: squares as wide as its category's circle (a degree of longitude is shorter away
    from the equator), so two cases within the circle always lie in the same or adjacent cells."""
    size = _per_category(by_category, lambda r: float(r.metres), FloatField())
    return qs.annotate(cy=Floor(_float(F("lat") * M_PER_DEG / size)),
                       cx=Floor(_float(F("lng") * M_PER_DEG * Cos(Radians(F("lat"))) / size)))


def _around(cell):
    c, x, y = cell
    return [(c, x + dx, y + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]


def _nearby(qs, by_category, held):
    """Clusters of located cases: at least `count` cases of a category within `metres` of one of them (the centre).
    A cluster a building or micro-grid hotspot already holds is not reported again.

    Set-based first: one GROUP BY counts the cases per category and cell; only a cell whose 3×3 neighbourhood holds
    `count` cases can hold a cluster, and only the cases of those neighbourhoods are read. The busiest
    neighbourhoods go first; each proposes as centre its cell's case nearest the mean of the neighbourhood's free
    cases and takes the free cases within `metres` of it — linear in the cases read, however crowded a cell is."""
    located = _with_cells(qs.filter(lat__isnull=False, lng__isnull=False), by_category)
    cells = {(c, int(x), int(y)): n for c, x, y, n in located.values("category_id", "cx", "cy")
             .annotate(n=Count("id")).order_by().values_list("category_id", "cx", "cy", "n")}
    around = {cell: sum(cells.get(a, 0) for a in _around(cell)) for cell in cells}
    dense = sorted((cell for cell, n in around.items() if n >= by_category[cell[0]].count),
                   key=lambda cell: (-around[cell], cell))
    if not dense:
        return []
    wanted = {a for cell in dense for a in _around(cell)} & set(cells)
    by_cell = defaultdict(list)
    for r in (located.filter(category_id__in={w[0] for w in wanted}, cx__in={w[1] for w in wanted},
                             cy__in={w[2] for w in wanted}).order_by("id")
              .values_list("id", "category_id", "lat", "lng", "grid_id", "created_at", "cx", "cy")):
        cell = (r[1], int(r[6]), int(r[7]))
        if cell in wanted:
            by_cell[cell].append(r)
    found, taken = [], set()
    for cell in dense:
        rule = by_category[cell[0]]
        own = [r for r in by_cell.get(cell, ()) if r[0] not in taken]
        pool = [o for a in _around(cell) for o in by_cell.get(a, ()) if o[0] not in taken]
        if not own or len(pool) < rule.count:
            continue
        lat, lng = sum(o[2] for o in pool) / len(pool), sum(o[3] for o in pool) / len(pool)
        centre = min(own, key=lambda r: (metres_apart(lat, lng, r[2], r[3]), r[0]))
        cluster = [o for o in pool if metres_apart(centre[2], centre[3], o[2], o[3]) <= rule.metres]
        if len(cluster) < rule.count:
            continue
        ids = {o[0] for o in cluster}
        taken |= ids
        if ids <= held[cell[0]]:
            continue
        times = [o[5] for o in cluster]
        found.append(Found(HotspotKind.NEARBY, cell[0], f"near:{min(ids)}", centre[4], len(ids), rule.count,
                           rule.days, min(times), max(times), ids, metres=rule.metres,
                           lat=sum(o[2] for o in cluster) / len(cluster), lng=sum(o[3] for o in cluster) / len(cluster)))
    return found


def _general_grid():
    """The general grid a case lies in: its micro-grid's parent, or its own grid when reported higher up."""
    return When_(When(grid__level=Level.MICRO_GRID, then=F("grid__parent_id")), default=F("grid_id"),
                 output_field=IntegerField())


def _rising(base, by_category, now):
    """Per general grid and category: this week's cases (the last 7 days) against the 7 days before."""
    week_ago, fortnight = now - WEEK, now - 2 * WEEK
    this_week = Q(created_at__gt=week_ago)
    qs = base.filter(category_id__in=list(by_category), created_at__gt=fortnight).annotate(area=_general_grid())
    rows = list(qs.values("category_id", "area")
                .annotate(rmin=_per_category(by_category, lambda r: r.rising_min, IntegerField()),
                          factor=_per_category(by_category, lambda r: r.rising_factor, FloatField()),
                          n=Count("id", filter=this_week), before=Count("id", filter=~this_week),
                          first=Min("created_at", filter=this_week), last=Max("created_at", filter=this_week))
                .filter(Q(n__gte=F("rmin")) & Q(n__gte=F("factor") * F("before")))
                .order_by("category_id", "area")
                .values_list("category_id", "area", "n", "before", "first", "last", "rmin"))
    if not rows:
        return []
    wanted = {(r[0], r[1]) for r in rows}
    members = defaultdict(set)
    for case_id, category_id, area in (qs.filter(this_week, category_id__in={w[0] for w in wanted},
                                                 area__in={w[1] for w in wanted})
                                       .values_list("id", "category_id", "area")):
        if (category_id, area) in wanted:
            members[(category_id, area)].add(case_id)
    return [Found(HotspotKind.RISING, c, f"rising:{a}", a, n, k, WEEK.days, first, last, members[(c, a)],
                  previous_count=before) for c, a, n, before, first, last, k in rows]


def detect(now=None, by_category=None) -> list[Found]:
    """Every hotspot in the cases up to `now` (pure: reads only)."""
    now = now or timezone.now()
    by_category = by_category if by_category is not None else rules()
    if not by_category:
        return []
    base = counted(now)
    windowed = base.filter(_in_window(by_category, now))
    found, held = _by_place(windowed, by_category)
    found += _nearby(windowed, by_category, held)
    found += _rising(base, by_category, now)
    _locate(found)
    return found


def _locate(found) -> None:
    """A point for the map: a building's own, else the mean of the located cases (a nearby cluster has its own)."""
    todo = [f for f in found if f.lat is None]
    if not todo:
        return
    buildings = {f.building_id for f in todo if f.building_id}
    points = {b: (lat, lng) for b, lat, lng in Building.objects.filter(
        pk__in=buildings, lat__isnull=False, lng__isnull=False).values_list("id", "lat", "lng")} if buildings else {}
    located = {c: (lat, lng) for c, lat, lng in Case.objects.filter(
        pk__in={c for f in todo for c in f.case_ids}, lat__isnull=False, lng__isnull=False).values_list("id", "lat", "lng")}
    for f in todo:
        spots = [located[c] for c in f.case_ids if c in located]
        point = points.get(f.building_id) or (
            (sum(p[0] for p in spots) / len(spots), sum(p[1] for p in spots) / len(spots)) if spots else None)
        if point is not None:
            f.lat, f.lng = point


# --- storing --------------------------------------------------------------------------------------------------

STORED = ("grid_id", "building_id", "count", "threshold", "window_days", "previous_count", "metres", "lat", "lng",
          "last_seen")


@dataclass
class Stored:
    created: int = 0
    updated: int = 0
    ended: int = 0
    cases_added: int = 0

    def __str__(self):
        return (f"hotspots: {self.created} new, {self.updated} still current, {self.ended} ended, "
                f"{self.cases_added} cases linked")


def _lock():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def _nearby_keys(found, current):
    """A nearby cluster keeps the key of the current nearby hotspot of its category it shares cases with (its
    centre moves as cases come and go)."""
    rows = [h for h in current.values() if h.kind == HotspotKind.NEARBY]
    if not rows:
        return
    through = Hotspot.cases.through
    linked = defaultdict(set)
    for hotspot_id, case_id in through.objects.filter(hotspot_id__in=[h.pk for h in rows]).values_list(
            "hotspot_id", "case_id"):
        linked[hotspot_id].add(case_id)
    free = {h.pk: h for h in rows}
    for f in found:
        if f.kind != HotspotKind.NEARBY:
            continue
        match = next((h for h in free.values() if h.category_id == f.category_id and linked[h.pk] & f.case_ids), None)
        if match is not None:
            f.key = match.key
            del free[match.pk]


def store(found: list[Found], now=None) -> Stored:
    """Upsert the hotspots found: the current row of each (kind, category, key) is updated, a new one created;
    current rows not found any more stop being current. Their cases are linked (never unlinked: the episode's
    history). Idempotent, and one detection at a time."""
    now = now or timezone.now()
    out = Stored()
    with transaction.atomic():
        _lock()
        current = {(h.kind, h.category_id, h.key): h for h in Hotspot.objects.filter(current=True)}
        _nearby_keys(found, current)
        new, changed, links = [], [], []
        for f in found:
            row = current.pop((f.kind, f.category_id, f.key), None)
            if row is None:
                row = Hotspot(kind=f.kind, category_id=f.category_id, key=f.key, first_seen=f.first_seen,
                              created_at=now, detected_at=now, current=True, status=HotspotStatus.OPEN)
                new.append(row)
            else:
                row.first_seen = min(row.first_seen, f.first_seen)
                row.detected_at = now
                changed.append(row)
            for name in STORED:
                setattr(row, name, getattr(f, name))
            links.append((row, f.case_ids))
        Hotspot.objects.bulk_create(new)
        if changed:
            Hotspot.objects.bulk_update(changed, [*STORED, "first_seen", "detected_at"])
        if current:
            out.ended = Hotspot.objects.filter(pk__in=[h.pk for h in current.values()]).update(current=False)
        through = Hotspot.cases.through
        wanted = [through(hotspot_id=row.pk, case_id=c) for row, ids in links for c in sorted(ids)]
        before = through.objects.filter(hotspot_id__in=[row.pk for row, _ids in links]).count() if changed else 0
        through.objects.bulk_create(wanted, ignore_conflicts=True, batch_size=2000)
        after = through.objects.filter(hotspot_id__in=[row.pk for row, _ids in links]).count() if links else 0
        out.created, out.updated, out.cases_added = len(new), len(changed), after - before
    return out


def run(now=None) -> Stored:
    """Detect and store: the beat job and the seeders."""
    now = now or timezone.now()
    return store(detect(now), now)


# --- acting on a hotspot ----------------------------------------------------------------------------------------

class AlreadyOpened(Conflict):
    code = "hotspot_already_opened"
    default_message = _("A preventive case has already been opened from this hotspot.")


def _hotspot_for(actor, hotspot_id):
    hotspot = (Hotspot.objects.restrict(actor).select_for_update(of=("self",))
               .select_related("category", "grid", "building").filter(pk=hotspot_id).first())
    if hotspot is None:
        raise NotFound()
    scope = scope_for(actor)
    if not (scope.is_global or scope.roles_at(hotspot.grid) & OPEN_ROLES):
        raise Forbidden(_("Only the secretary or the street can act on a hotspot."))
    return hotspot


def describe(hotspot) -> dict:
    """Title and description of the preventive case, in the caller's language."""
    place = hotspot.building.name if hotspot.building_id else hotspot.grid.name
    title = gettext("Preventive: %(category)s keeps recurring at %(place)s") % {
        "category": hotspot.category.name, "place": place}
    if hotspot.kind == HotspotKind.RISING:
        body = gettext("%(count)s cases this week against %(before)s the week before.") % {
            "count": hotspot.count, "before": hotspot.previous_count or 0}
    else:
        body = gettext("%(count)s cases in %(days)s days.") % {"count": hotspot.count, "days": hotspot.window_days}
    numbers = list(hotspot.cases.order_by("created_at").values_list("number", flat=True)[:20])
    counted = gettext("Cases counted: %(numbers)s") % {"numbers": ", ".join(numbers)}
    return {"title": title[:200], "description": f"{body} {counted}"}


def open_preventive_case(actor, hotspot_id, *, now=None, priority=None) -> Case:
    """未诉先办: one preventive case from a hotspot, reported by `actor` through the normal case creation (skip
    rules, SLA, numbering, event with channel `hotspot`, notices) at the hotspot's grid and building, and linked
    back. Exactly once: a second try (or a concurrent one) is a 409 and creates nothing."""
    from . import services

    now = now or timezone.now()
    with transaction.atomic():
        hotspot = _hotspot_for(actor, hotspot_id)
        if hotspot.preventive_case_id is not None:
            raise AlreadyOpened(current={"id": hotspot.pk, "preventive_case": hotspot.preventive_case_id})
        data = {"category": hotspot.category, "grid": hotspot.grid, "building": hotspot.building,
                "source": Source.PATROL, "channel": "hotspot", **describe(hotspot)}
        if priority:
            data["priority"] = priority
        case = services.create_case(actor, data, now=now).case
        done = Hotspot.objects.filter(pk=hotspot.pk, preventive_case__isnull=True).update(
            preventive_case=case, status=HotspotStatus.HANDLED, status_by=actor, status_at=now)
        if not done:
            raise AlreadyOpened()
    return case


def dismiss(actor, hotspot_id, *, now=None) -> Hotspot:
    """Not a problem worth a case (e.g. already being fixed): an open hotspot is set aside."""
    now = now or timezone.now()
    with transaction.atomic():
        hotspot = _hotspot_for(actor, hotspot_id)
        if hotspot.status != HotspotStatus.OPEN:
            raise Conflict(_("Only an open hotspot can be dismissed."), code="invalid_transition",
                           current={"id": hotspot.pk, "status": hotspot.status})
        Hotspot.objects.filter(pk=hotspot.pk).update(status=HotspotStatus.DISMISSED, status_by=actor, status_at=now)
    return hotspot
