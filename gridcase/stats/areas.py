"""The community and street copied onto the dashboards' rollup rows (`models.InArea`): one rule, here.

A row's community and street are those of its `grid` (the grid's ancestors at those levels, `grids.moves.ANCESTRY`):
written with the rows (`select_sql` wraps the INSERT … SELECT of every rollup, `of` serves the Python paths) and
rewritten when a grid moves in the tree (`follow`, called by `grids.moves.saving`). A case moving to another grid
changes its rows at the next refresh like any other change of a case; a resident moving to another micro-grid
takes their coverage rows along (`visits.coverage.moved`).
"""

from django.db import connection

from gridcase.grids import tree
from gridcase.grids.models import Grid
from gridcase.grids.moves import ANCESTRY

AREA_COLUMNS = ("community_id", "street_id")


def models_in_area():
    from . import models  # noqa: PLC0415

    return [models.CaseDailyRollup, models.CaseRollupBucket, models.CaseMonthlyRollup, models.CaseMonthlyBucket,
            models.DepartmentDailyRollup, models.HoldRollup, models.VisitCoverageGap]


def select_sql(rows_sql: str, columns, grid_column: str = "grid_id") -> str:
    """SELECT `columns` of the query `rows_sql`, then its grid's community and street (AREA_COLUMNS): the grids'
    areas joined once to the grouped rows. In the order a street's figures read them (street, then the rows' day
    or month): a street's period is then a run of adjacent pages, not a row on every page of those days."""
    picked = ", ".join(f'rows."{c}"' for c in columns)
    when = [f'rows."{c}"' for c in ("day", "month") if c in columns]
    order = ", ".join(["a.street_id", *when, "a.community_id", f'rows."{grid_column}"'])
    return (f"SELECT {picked}, a.community_id, a.street_id FROM ({rows_sql}) AS rows "
            f'LEFT JOIN ({ANCESTRY}) a ON a.grid_id = rows."{grid_column}" ORDER BY {order}')


def of(grid_ids) -> dict:
    """{grid id: (community id, street id)} of the grids `grid_ids` (one query)."""
    ids = sorted({int(g) for g in grid_ids if g is not None})
    if not ids:
        return {}
    out = {}
    with connection.cursor() as cursor:
        for i in range(0, len(ids), 5000):
            chunk = ids[i:i + 5000]
            cursor.execute(f"SELECT * FROM ({ANCESTRY}) a WHERE a.grid_id IN ({', '.join(['%s'] * len(chunk))})", chunk)
            out.update({g: (c, s) for g, c, s in cursor.fetchall()})
    return out


def follow(span: tree.Span | None) -> int:
    """The grids of the subtree `span` (just moved in the tree; None: every grid, the migration that added the
    copies) may now lie in another community or street: rewrite the copies on every rollup's rows of those grids
    (one UPDATE … FROM per rollup), then the street rows of the streets they left and joined. Returns the rows
    written."""
    where, params = "", []
    if span is not None:
        grids_sql, params = Grid.objects.filter(tree.subtree_q([span])).values("pk").query.sql_with_params()
        where = f" AND {{table}}.grid_id IN ({grids_sql})"

    def rewrite() -> int:
        written = 0
        with connection.cursor() as cursor:
            for model in models_in_area():
                table = model._meta.db_table
                cursor.execute(f"UPDATE {table} SET community_id = a.community_id, street_id = a.street_id "
                               f"FROM ({ANCESTRY}) a WHERE a.grid_id = {table}.grid_id" + where.format(table=table),
                               list(params))
                written += cursor.rowcount
        return written

    if span is None:  # the migration that added the copies, before the street rows existed
        return rewrite()
    from . import rollup  # noqa: PLC0415 (rollup writes the rows through this module)

    # The street rows sum the daily rows by their copied street: those of the streets the grids left and joined.
    return rollup.follow_streets(Grid.objects.filter(tree.subtree_q([span])).values("pk"), rewrite)
