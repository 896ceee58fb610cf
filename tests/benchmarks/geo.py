"""Benchmark: point-in-polygon routing at 10,000 micro-grids (issue 9, the map).

Prints the median time per lookup of `gridcase.grids.geo` (shapely STRtree, the one routing rule), its index build
time, and — for the comparison the choice rests on — the linear scan it replaced (micro-grids whose centroid lies
within 0.05° of the point, then a ray test on each). Two sources:

- synthetic (always): a 0.16° × 0.16° district (≈ the demo city's) cut into 100 × 100 micro-grids whose shared
  edges are jittered, so boundaries are real polygons, not boxes; lookups at random points inside it, some with an
  `area` (one of 100 communities);
- the database (when it holds micro-grids with a boundary: `seed demo`, or `seed city` for ≥ 10,000):
  `geo.grid_at` end to end, including the index build from the table and the one query that loads the grid.

    python -m tests.benchmarks.geo [--lookups 20000] [--grids 10000] [--json out.json]
"""

import argparse
import json
import os
import random
import statistics
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridcase.settings")
django.setup()

from gridcase.grids import geo, tree  # noqa: E402

SOUTH, WEST, SIZE = 30.60, 104.03, 0.16
NEAR_DEGREES = 0.05  # the replaced scan's candidate window


def synthetic_city(n_side: int, rng) -> list:
    """(id, GeoJSON, span) for n_side² micro-grids tiling the district; 100 communities of equal blocks."""
    step = SIZE / n_side
    # Jitter each interior vertex of the lattice: neighbours share the same jittered vertices, so no gaps.
    lattice = [[(WEST + i * step + (rng.uniform(-0.3, 0.3) * step if 0 < i < n_side else 0),
                 SOUTH + j * step + (rng.uniform(-0.3, 0.3) * step if 0 < j < n_side else 0))
                for j in range(n_side + 1)] for i in range(n_side + 1)]
    per_community = max(1, n_side // 10)
    rows, pk = [], 0
    for i in range(n_side):
        for j in range(n_side):
            pk += 1
            ring = [lattice[i][j], lattice[i + 1][j], lattice[i + 1][j + 1], lattice[i][j + 1], lattice[i][j]]
            community = (i // per_community) * 10 + j // per_community
            # A span inside its community's: tree 1, community c holds lft range [c*10⁵, c*10⁵+10⁵).
            lft = community * 100_000 + (i % per_community) * 1000 + (j % per_community) * 2 + 1
            rows.append((pk, {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}, tree.Span(1, lft, lft + 1)))
    return rows


def linear_scan(rows, centroids, lat, lng):
    """The routing this replaced: centroid window, then the exact test on each candidate (as the old module did)."""
    for (pk, boundary, _span), (clat, clng) in zip(rows, centroids, strict=True):
        if abs(clat - lat) <= NEAR_DEGREES and abs(clng - lng) <= NEAR_DEGREES and _ray(boundary, lat, lng):
            return pk
    return None


def _ray(boundary, lat, lng) -> bool:
    ring = boundary["coordinates"][0]
    inside = False
    for k in range(len(ring)):
        x1, y1 = ring[k]
        x2, y2 = ring[k - 1]
        if (y1 > lat) != (y2 > lat) and lng < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def timed(fn, points) -> tuple[list, list]:
    times, answers = [], []
    for p in points:
        started = time.perf_counter()
        answers.append(fn(*p))
        times.append(time.perf_counter() - started)
    return times, answers


def us(values) -> float:
    return round(statistics.median(values) * 1e6, 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--grids", type=int, default=10_000)
    parser.add_argument("--lookups", type=int, default=20_000)
    parser.add_argument("--scan-lookups", type=int, default=300, help="the linear scan is slow: fewer points")
    parser.add_argument("--json")
    args = parser.parse_args()
    rng = random.Random(9)
    n_side = round(args.grids ** 0.5)
    rows = synthetic_city(n_side, rng)
    points = [(rng.uniform(SOUTH, SOUTH + SIZE), rng.uniform(WEST, WEST + SIZE)) for _ in range(args.lookups)]
    out = {"micro_grids": len(rows), "lookups": len(points)}

    builds = []
    for _ in range(3):
        idx = geo.build_from(rows)
        builds.append(idx.built_in)
    out["strtree_build_ms"] = round(statistics.median(builds) * 1000, 1)
    times, answers = timed(lambda lat, lng: geo.lookup(idx, lat, lng), points)
    out["strtree_median_us"] = us(times)
    out["strtree_p99_us"] = round(sorted(times)[int(len(times) * 0.99)] * 1e6, 1)
    out["strtree_found"] = sum(a is not None for a in answers)
    area = tree.Span(1, 0, 100_000)  # the first community
    times, _answers = timed(lambda lat, lng: geo.lookup(idx, lat, lng, area), points)
    out["strtree_with_area_median_us"] = us(times)

    centroids = []
    for _pk, b, _s in rows:
        ring = b["coordinates"][0][:-1]
        centroids.append((sum(p[1] for p in ring) / len(ring), sum(p[0] for p in ring) / len(ring)))
    scan_points = points[:args.scan_lookups]
    times, scanned = timed(lambda lat, lng: linear_scan(rows, centroids, lat, lng), scan_points)
    out["linear_scan_median_us"] = us(times)
    agree = sum(a == b for a, b in zip(answers[:len(scan_points)], scanned, strict=True))
    out["linear_scan_agrees"] = f"{agree}/{len(scan_points)}"

    from gridcase.grids.choices import Level
    from gridcase.grids.models import Grid

    try:
        in_db = Grid.objects.filter(level=Level.MICRO_GRID, boundary__isnull=False).count()
    except Exception as exc:  # no database configured: the synthetic figures stand alone
        in_db, out["database"] = 0, f"not measured ({type(exc).__name__})"
    if in_db:
        started = time.perf_counter()
        db_idx = geo.build()
        out["database_micro_grids"] = len(db_idx.ids)
        out["database_build_ms"] = round((time.perf_counter() - started) * 1000, 1)
        bounds = db_idx.tree.geometries
        w = min(g.bounds[0] for g in bounds)
        s = min(g.bounds[1] for g in bounds)
        e = max(g.bounds[2] for g in bounds)
        n = max(g.bounds[3] for g in bounds)
        db_points = [(rng.uniform(s, n), rng.uniform(w, e)) for _ in range(min(2000, args.lookups))]
        geo.grid_at(*db_points[0])  # the process's index, built once
        times, _answers = timed(lambda lat, lng: geo.grid_id_at(lat, lng), db_points)
        out["database_index_median_us"] = us(times)
        times, _answers = timed(lambda lat, lng: geo.grid_at(lat, lng), db_points)
        out["database_grid_at_median_us"] = us(times)
        # For scale: one primary-key query on the same connection (grid_at is the lookup plus one such query).
        some = db_idx.ids[0]
        times, _answers = timed(lambda lat, lng: Grid.objects.filter(pk=some).first(), db_points)
        out["database_pk_query_median_us"] = us(times)

    width = max(len(k) for k in out)
    for k, v in out.items():
        print(f"{k:<{width}}  {v}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
