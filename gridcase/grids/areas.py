"""The community (社区) a grid lies in, by its place in the tree: one rule for case numbering, visit cadences,
points, the residents' notice board, located reports and volunteers."""

from . import tree
from .choices import Level


def community_of(grid, ancestors=None):
    """The grid itself when it is a community, else its nearest community ancestor: from `ancestors` (root first)
    when the caller has just read them, else by one query on the tree as stored. None where there is none (a
    street, a district, a grid outside any community)."""
    if grid is None:
        return None
    if grid.level == Level.COMMUNITY:
        return grid
    if ancestors is not None:
        return next((node for node in reversed(list(ancestors)) if node.level == Level.COMMUNITY), None)
    from .models import Grid

    return Grid.objects.filter(tree.ancestors_q(grid), level=Level.COMMUNITY).first()
