"""The category tree (事件分类): the one place that walks it.

Categories are few (tens) and change rarely (in the admin), so the whole tree — each category's parent — is read
once per process and kept. Every walk asks this module: a category's ancestors (SLA policies, canned replies), its
descendants (the case list's `?category=`), its top-level ancestor (the dashboards' rollups), the tree order (the
category list) and the cycle check of `Category.clean`.

Any change through the ORM (post_save/post_delete, connected in the cases app config) drops this process's copy and
bumps a version key in the shared cache; other processes look at that key at most every `CHECK_EVERY` seconds and
reload at most every `MAX_AGE` seconds regardless. An id the copy does not know (a category created since, e.g. by a
data migration) reloads it, at most once per `CHECK_EVERY`. Jobs that must not act on a copy up to a few seconds old
(the rollups) pass `fresh=True`.

The categories' rows (`active(id)`: a report's category) are kept too, as a `KeptCopy` checked against the same
version key on every use, so a category changed in the admin is never served as it was.
"""

import logging
import threading
import uuid
from dataclasses import dataclass, field
from time import monotonic

from gridcase.core.cache import KeptCopy

VERSION_KEY = "gridcase:categories:version"
CHECK_EVERY = 5.0  # seconds between looks at the shared version key
MAX_AGE = 300.0  # seconds after which a process reloads the tree anyway

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tree:
    """One snapshot: each category's parent, and each parent's children in the categories' order (sort, id)."""

    parent: dict  # id -> parent id | None
    children: dict  # parent id | None -> tuple of ids
    version: object = None
    loaded_at: float = field(default_factory=monotonic)

    def ancestors(self, category_id, include_self=True) -> list[int]:
        """Nearest first: the category (unless `include_self` is false), its parent, …, its top-level ancestor."""
        chain, node = [], category_id
        while node is not None and node not in chain:
            chain.append(node)
            node = self.parent.get(node)
        return chain if include_self else chain[1:]

    def descendants(self, category_id, include_self=True) -> list[int]:
        """The category's subtree, depth first (the category itself first unless `include_self` is false)."""
        out, stack, seen = [], [category_id], set()
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            out.append(node)
            stack.extend(reversed(self.children.get(node, ())))
        return out if include_self else out[1:]

    def top(self, category_id) -> int:
        return self.ancestors(category_id)[-1]


_current: Tree | None = None
_checked_at = 0.0
_absent: set = set()  # ids the copy was reloaded for and still did not know
_lock = threading.Lock()


def _load_rows() -> tuple[list, dict]:
    from .models import Category

    names = [f.attname for f in Category._meta.concrete_fields]
    return names, {row[0]: row for row in Category.objects.values_list(*names)}


_rows = KeptCopy(VERSION_KEY, _load_rows)


def active(category_id):
    """The active category with id `category_id` as stored now (None when there is none): built from this process's
    copy of the rows, a new instance each time (the caller may change it)."""
    from .models import Category

    names, rows = _rows.rows()
    row = rows.get(category_id)
    if row is None or not row[names.index("is_active")]:
        return None
    return Category.from_db("default", names, row)


def forget_rows() -> None:
    """Drop this process's copy of the rows (the tree's stays)."""
    _rows.forget()


def _load(version=None) -> Tree:
    from .models import Category

    rows = list(Category.objects.order_by("sort", "id").values_list("id", "parent_id"))
    children: dict = {}
    for pk, parent in rows:
        children.setdefault(parent, []).append(pk)
    return Tree(dict(rows), {k: tuple(v) for k, v in children.items()}, version)


def _shared_version():
    from django.core.cache import cache

    try:
        return cache.get(VERSION_KEY)
    except Exception:  # noqa: BLE001 - a cache outage must not stop case work; MAX_AGE still applies
        return None


def current(fresh: bool = False) -> Tree:
    """The tree, from this process's copy when it is fresh (`fresh=True`: read now)."""
    global _current, _checked_at
    if fresh:
        return _load()
    tree, now = _current, monotonic()
    if tree is not None and now - _checked_at < CHECK_EVERY:
        return tree
    with _lock:
        tree, version = _current, _shared_version()
        if tree is None or tree.version != version or now - tree.loaded_at >= MAX_AGE:
            tree = _current = _load(version)
        _checked_at = now
    return tree


def _knowing(*ids, fresh: bool = False) -> Tree:
    """The tree, reloaded once when it does not know one of `ids` (a category created since it was read)."""
    global _current
    tree = current(fresh)
    unknown = {i for i in ids if i is not None and i not in tree.parent}
    if fresh or not unknown:
        return tree
    if unknown <= _absent and monotonic() - tree.loaded_at < CHECK_EVERY:
        return tree  # asked again for an id the copy was just reloaded for: it does not exist
    with _lock:
        tree = _current = _load(_shared_version())
        _absent.clear()
        _absent.update(i for i in unknown if i not in tree.parent)
    return tree


def ancestors(category_id, include_self=True, fresh=False) -> list[int]:
    """The category and its ancestors, nearest first (an unknown id: just itself)."""
    return _knowing(category_id, fresh=fresh).ancestors(category_id, include_self)


def descendants(category_id, include_self=True, fresh=False) -> list[int]:
    """The category and all its subcategories (an unknown id: just itself)."""
    return _knowing(category_id, fresh=fresh).descendants(category_id, include_self)


def top(category_id, fresh=False) -> int:
    """The category's top-level ancestor (itself at the top, or when unknown)."""
    return _knowing(category_id, fresh=fresh).top(category_id)


def tops(fresh=False) -> dict[int, int]:
    """{category id: id of its top-level ancestor} for every category."""
    tree = current(fresh)
    return {pk: tree.top(pk) for pk in tree.parent}


def is_top(category_id, fresh=False) -> bool:
    tree = _knowing(category_id, fresh=fresh)
    return category_id in tree.parent and tree.parent[category_id] is None


def creates_cycle(category_id, parent_id) -> bool:
    """Would putting `category_id` under `parent_id` make it sit under itself? (Read fresh: this validates a write.)"""
    if category_id is None or parent_id is None:
        return False
    return category_id in _load().ancestors(parent_id)


def tree_order(rows) -> list[tuple[object, int]]:
    """`rows` (objects with `pk` and `parent_id`, e.g. the active categories in their order) as (row, depth),
    parents before children; a row whose parent is not among `rows` is left out with its subtree."""
    children: dict = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    out = []

    def walk(parent, depth):
        for row in children.get(parent, []):
            out.append((row, depth))
            walk(row.pk, depth + 1)

    walk(None, 0)
    return out


def forget() -> None:
    """Drop this process's copies (the next walk reads the table)."""
    global _current
    _current = None
    _rows.forget()


def invalidate() -> None:
    """The tree changed: drop the copy here now and in every process (again once the transaction commits, so no
    process keeps a copy read before the commit)."""
    from django.core.cache import cache
    from django.db import transaction

    def publish():
        forget()
        try:
            cache.set(VERSION_KEY, uuid.uuid4().hex, None)
        except Exception:  # noqa: BLE001
            log.warning("Could not publish a category change to the shared cache; other processes reload "
                        "within %ss", MAX_AGE)

    publish()
    try:
        transaction.on_commit(publish)
    except Exception:  # noqa: BLE001 - no usable connection: the immediate publish has done it
        pass
