"""Filters shared by resources: `within=<grid id>` expands a grid to its whole subtree."""

import django_filters
from django.utils.translation import gettext_lazy as _

from gridcase.grids import tree
from gridcase.grids.models import Grid


class WithinFilter(django_filters.NumberFilter):
    """Rows whose grid (reached through `field_name`) lies in the subtree of the given grid."""

    def __init__(self, *args, prefix="grid__", **kwargs):
        self.prefix = prefix
        kwargs.setdefault("label", _("within grid (subtree)"))
        kwargs.setdefault("field_name", "within")
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        node = Grid.objects.filter(pk=value).only("tree_id", "lft", "rght").first()
        if node is None:
            return qs.none()
        return qs.filter(tree.subtree_q([tree.span(node)], self.prefix))
