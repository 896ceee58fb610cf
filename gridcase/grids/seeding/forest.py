"""The grid tree as seeded rows: numbered in memory (`tree.number_forest`, never MPTT's one-by-one
inserts), with boundaries and centroids from each node's box, written in one COPY."""

import json
import secrets

from gridcase.core.bulk import CopyTable, reset_sequence

from .. import geo, tree
from ..choices import Level
from ..models import Grid


def load_grids(loader) -> list:
    grids = []
    for node in loader.plan.nodes:
        node.id = loader.ids.take(Grid)
    for node in loader.plan.nodes:
        s, w, n, e = node.box
        boundary = None
        if node.level in (Level.STREET, Level.COMMUNITY, Level.GRID, Level.MICRO_GRID):
            boundary = {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}
        grids.append(Grid(id=node.id, code=node.code, name=node.name, level=node.level, kind=node.kind,
                          parent_id=node.parent.id if node.parent else None, boundary=boundary,
                          centroid_lat=round((s + n) / 2, 6), centroid_lng=round((w + e) / 2, 6),
                          qr_token=secrets.token_urlsafe(12), created_at=loader.now, updated_at=loader.now))
    # The tree's own columns are numbered by tree.py; the COPY below writes them like any other column (the
    # only place outside tree.py that stores them, because a seeded forest is written in bulk, not node by node).
    tree.number_forest(grids, key_of=lambda g: g.id, parent_key_of=lambda g: g.parent_id,
                       first_tree_id=tree.next_tree_id(Grid))
    fields = [f for f in Grid._meta.concrete_fields]
    table = CopyTable(Grid, [f.attname for f in fields], loader.now)
    rows = []
    for g in grids:
        row = []
        for f in fields:
            value = getattr(g, f.attname)
            if f.name == "boundary" and value is not None:
                value = json.dumps(value)
            row.append(value)
        rows.append(row)
    loader.count("grids", table.copy(rows))
    reset_sequence(Grid)
    geo.invalidate()  # COPY sends no signals: processes drop their spatial index of the boundaries
    return grids

