"""The grid tree engine. This is the only module that knows the tree is stored with django-mptt.

Everything else asks this module for a subtree filter, ancestors, children or a range, so the
engine can be replaced (e.g. by PostgreSQL ltree) without touching the rest of the code.

Tree writes renumber many rows, so every insert or move takes one advisory lock on PostgreSQL:
two admins editing the tree at once are serialised instead of corrupting the numbering.
"""

from contextlib import contextmanager
from typing import NamedTuple

from django.db import connection, models, transaction
from django.db.models import Q
from mptt.admin import DraggableMPTTAdmin
from mptt.models import MPTTModel, TreeForeignKey

TREE_LOCK_KEY = 0x67726964  # "grid"


# The columns holding a node's place in the tree (a Span), in Span's order.
SPAN_FIELDS = ("tree_id", "lft", "rght")


class Span(NamedTuple):
    """A node's place in the tree: every descendant's (tree_id, lft) falls inside it."""

    tree_id: int
    lft: int
    rght: int

    def contains(self, other: "Span") -> bool:
        return self.tree_id == other.tree_id and self.lft <= other.lft and other.rght <= self.rght

    @property
    def size(self) -> int:
        """How many nodes the subtree holds (the node included): wider subtrees are larger."""
        return (self.rght - self.lft + 1) // 2


def span(node) -> Span:
    return Span(node.tree_id, node.lft, node.rght)


def has_span(node) -> bool:
    """Does `node` carry its place in the tree (a model row does; a seeder's in-memory node may not)?"""
    return all(hasattr(node, f) for f in SPAN_FIELDS)


def span_fields(prefix: str = "") -> list[str]:
    """The span's columns reached through `prefix` (e.g. "grid__"), for `values_list(*span_fields(p))`."""
    return [f"{prefix}{f}" for f in SPAN_FIELDS]


def span_of(model, pk) -> Span | None:
    """The span of one node by id (one query), or None when there is no such node."""
    row = model.objects.filter(pk=pk).values_list(*SPAN_FIELDS).first()
    return Span(*row) if row else None


def covers(spans, other: Span) -> bool:
    """Is `other` inside one of `spans`?"""
    return any(s.contains(other) for s in spans)


def intersect(spans, other: Span) -> list[Span]:
    """The union of `spans` cut down to the subtree of `other`, as spans: `other` itself when one of `spans`
    holds it, else the spans inside it (subtrees are nested or apart, never overlapping)."""
    if covers(spans, other):
        return [other]
    return [s for s in spans if other.contains(s)]


@contextmanager
def tree_write_lock():
    """Serialise tree writes (insert, move, delete) across processes."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TREE_LOCK_KEY])
        yield


class TreeNode(MPTTModel):
    parent = TreeForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name="上级"
    )

    class Meta:
        abstract = True

    class MPTTMeta:
        order_insertion_by = ["code"]
        level_attr = "depth"  # `level` is the domain's grid level (street, community, …)

    def save(self, *args, **kwargs):
        with tree_write_lock():
            # Another process may have renumbered the tree while this instance sat in memory.
            fields = ["tree_id", "lft", "rght", "depth"]
            if self.pk:
                fresh = type(self).objects.filter(pk=self.pk).values(*fields, "parent_id").first()
                if fresh:
                    for f in fields:
                        setattr(self, f, fresh[f])
                    self._mptt_meta.update_mptt_cached_fields(self)
                    self._mptt_cached_fields["parent"] = fresh["parent_id"]
            if self.parent_id:
                self.parent.refresh_from_db(fields=fields)
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        with tree_write_lock():
            self.refresh_from_db(fields=["tree_id", "lft", "rght", "depth"])
            return super().delete(*args, **kwargs)


def subtree_q(spans, prefix: str = "") -> Q:
    """Q matching rows whose node (reached through `prefix`, e.g. "grid__") lies in any of `spans`."""
    q = Q(pk__in=[])
    for s in spans:
        q |= Q(**{f"{prefix}tree_id": s.tree_id, f"{prefix}lft__gte": s.lft, f"{prefix}lft__lte": s.rght})
    return q


def in_subtrees_q(model, spans, field: str) -> Q:
    """Q matching rows whose `field` (a node id, e.g. "owner_grid_id") names a node of `model` inside any of
    `spans`: `field IN (SELECT id FROM <tree> WHERE tree_id = … AND lft BETWEEN …)`, a subquery over the tree
    range, never a list of ids. PostgreSQL plans it in well under a millisecond and runs it once per statement
    (hashed), where a join per field would cost more planning and a list of ids grows with the subtree."""
    if not spans:
        return Q(pk__in=[])
    return Q(**{f"{field}__in": model.objects.filter(subtree_q(spans)).values("pk")})


def ancestors_q(node, include_self=False, prefix: str = "") -> Q:
    op_l, op_r = ("lte", "gte") if include_self else ("lt", "gt")
    return Q(**{f"{prefix}tree_id": node.tree_id, f"{prefix}lft__{op_l}": node.lft, f"{prefix}rght__{op_r}": node.rght})


def ancestors(node, include_self=False):
    return type(node).objects.filter(ancestors_q(node, include_self)).order_by("lft")


def ancestors_of_q(model, pk, include_self=True, prefix: str = "") -> Q:
    """Q matching the ancestors of the node with id `pk` as it is stored now (its span read by subqueries in
    the same statement, so an instance in memory cannot be stale), the node itself with `include_self`."""
    node = model.objects.filter(pk=pk)
    op_l, op_r = ("lte", "gte") if include_self else ("lt", "gt")
    return Q(**{f"{prefix}tree_id": models.Subquery(node.values("tree_id")),
                f"{prefix}lft__{op_l}": models.Subquery(node.values("lft")),
                f"{prefix}rght__{op_r}": models.Subquery(node.values("rght"))})


def chain_query(model, pk, among=None):
    """The node with id `pk` and its ancestors, root first, as stored now: the nodes whose span holds the node's
    row (one EXISTS, `pk` named once, so the statement can be prepared). With `among` (a queryset of `model`),
    nothing unless the node is one of its rows: a scoped lookup and the ancestors in one statement."""
    node = (model.objects if among is None else among).filter(
        pk=pk, tree_id=models.OuterRef("tree_id"), lft__gte=models.OuterRef("lft"), rght__lte=models.OuterRef("rght"))
    return model.objects.filter(models.Exists(node)).order_by("lft")


def chain(model, pk, among=None) -> list:
    """`chain_query` read ([] when there is no such node): `chain[-1]` is the node itself, `chain[:-1]` what
    `ancestors(node)` gives."""
    return list(chain_query(model, pk, among))


def nearest_first(prefix: str = "") -> str:
    """An ordering (through `prefix`, e.g. "grid__") that puts the deepest of a node's ancestors first."""
    return f"-{prefix}lft"


def descendants(node, include_self=True, depth: int | None = None):
    qs = type(node).objects.filter(subtree_q([span(node)]))
    if not include_self:
        qs = qs.exclude(pk=node.pk)
    if depth is not None:
        qs = qs.filter(depth__lte=node.depth + depth)
    return qs.order_by("tree_id", "lft")


def is_inside(node, ancestor) -> bool:
    """True when `node` is `ancestor` or one of its descendants."""
    return span(ancestor).contains(span(node))


def depth_of(node) -> int:
    return node.depth


def tree_order(qs):
    return qs.order_by("tree_id", "lft")


def descendant_count(node) -> int:
    return (node.rght - node.lft - 1) // 2


def rebuild(model) -> None:
    with tree_write_lock():
        model._tree_manager.rebuild()


def number_forest(nodes, key_of, parent_key_of, first_tree_id: int = 1):
    """Compute tree_id/lft/rght/level in memory for a forest about to be bulk-inserted.

    `nodes` are unsaved model instances; parents must be in the same list. Much faster than
    inserting one by one (which renumbers the table each time) for seeds and imports.
    """
    children: dict = {}
    roots = []
    for n in nodes:
        pk = parent_key_of(n)
        if pk is None:
            roots.append(n)
        else:
            children.setdefault(pk, []).append(n)
    for kids in children.values():
        kids.sort(key=lambda n: n.code)
    roots.sort(key=lambda n: n.code)
    tree_id = first_tree_id
    for root in roots:
        counter = 1
        stack = [(root, 0, False)]
        while stack:
            node, level, closing = stack.pop()
            if closing:
                node.rght = counter
                counter += 1
                continue
            node.tree_id, node.depth, node.lft = tree_id, level, counter
            counter += 1
            stack.append((node, level, True))
            for child in reversed(children.get(key_of(node), [])):
                stack.append((child, level + 1, False))
        tree_id += 1
    return nodes


def next_tree_id(model) -> int:
    return (model.objects.aggregate(m=models.Max("tree_id"))["m"] or 0) + 1


class TreeAdmin(DraggableMPTTAdmin):
    """Admin showing the grid tree as an indented, collapsible tree."""

    mptt_level_indent = 20



def ancestor_paths(nodes, include_self=False) -> dict:
    """Ancestor names for many nodes in one query: {node.pk: ["街道", "社区", ...]}."""
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        return {}
    model = type(nodes[0])
    q = Q(pk__in=[])
    for n in nodes:
        q |= ancestors_q(n, include_self=True)
    rows = list(model.objects.filter(q).values("pk", "name", "tree_id", "lft", "rght").order_by("lft"))
    result = {}
    for n in nodes:
        result[n.pk] = [
            r["name"] for r in rows
            if r["tree_id"] == n.tree_id and r["lft"] <= n.lft and r["rght"] >= n.rght and (include_self or r["pk"] != n.pk)
        ]
    return result


def covering_q(spans, prefix: str = "") -> Q:
    """Q matching nodes that are an ancestor of (or equal to) any of `spans`."""
    q = Q(pk__in=[])
    for s in spans:
        q |= Q(**{f"{prefix}tree_id": s.tree_id, f"{prefix}lft__lte": s.lft, f"{prefix}rght__gte": s.rght})
    return q


def max_depth_q(roots, depth: int, prefix: str = "") -> Q:
    """Q keeping nodes at most `depth` levels below their root among `roots`."""
    q = Q(pk__in=[])
    for r in roots:
        q |= Q(**{f"{prefix}tree_id": r.tree_id, f"{prefix}lft__gte": r.lft, f"{prefix}lft__lte": r.rght,
                  f"{prefix}depth__lte": r.depth + depth})
    return q
