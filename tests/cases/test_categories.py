"""The category tree: one cached module answers every walk (ancestors, descendants, top), kept fresh by signals."""

from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError

from gridcase.cases import categories
from gridcase.cases.models import Category


@pytest.fixture
def tree(category):
    """The taxonomy (the `category` fixture puts it back), with a third level under 环境 › 下水道."""
    categories.forget()
    drain = category
    blocked = Category.objects.create(code="env_drain_blocked", name="下水道堵塞", parent=drain)
    return SimpleNamespace(top=drain.parent, drain=drain, blocked=blocked)


def test_walks(tree):
    assert categories.ancestors(tree.blocked.pk) == [tree.blocked.pk, tree.drain.pk, tree.top.pk]
    assert categories.ancestors(tree.blocked.pk, include_self=False) == [tree.drain.pk, tree.top.pk]
    assert categories.top(tree.blocked.pk) == categories.top(tree.top.pk) == tree.top.pk
    assert categories.is_top(tree.top.pk) and not categories.is_top(tree.drain.pk)
    below = categories.descendants(tree.top.pk)
    assert below[0] == tree.top.pk and {tree.drain.pk, tree.blocked.pk} <= set(below)
    assert set(below) == {pk for pk, top in categories.tops().items() if top == tree.top.pk}
    assert categories.descendants(tree.blocked.pk) == [tree.blocked.pk]


def test_unknown_id_is_itself(tree):
    assert categories.ancestors(10**9) == [10**9]
    assert categories.descendants(10**9) == [10**9]
    assert categories.top(10**9) == 10**9


def test_read_once_then_from_memory(tree, django_assert_num_queries):
    categories.ancestors(tree.blocked.pk)
    with django_assert_num_queries(0):
        categories.ancestors(tree.blocked.pk)
        categories.descendants(tree.top.pk)
        categories.tops()


def test_a_change_is_seen_at_once(tree):
    assert tree.blocked.pk in categories.descendants(tree.drain.pk)
    other = Category.objects.filter(parent__isnull=True).exclude(pk=tree.top.pk).first()
    tree.blocked.parent = other
    tree.blocked.save()
    assert tree.blocked.pk not in categories.descendants(tree.drain.pk)
    assert categories.top(tree.blocked.pk) == other.pk
    tree.blocked.delete()
    assert tree.blocked.pk not in categories.descendants(other.pk)


def test_a_category_made_elsewhere_is_found(tree):
    categories.descendants(tree.drain.pk)
    # No signal (a bulk write, a data migration): an id the copy does not know reloads it.
    Category.objects.bulk_create([Category(code="env_drain_smell", name="下水道异味", parent=tree.drain)])
    smell = Category.objects.get(code="env_drain_smell")
    assert categories.ancestors(smell.pk) == [smell.pk, tree.drain.pk, tree.top.pk]


def test_no_category_under_itself(tree):
    tree.top.parent = tree.blocked
    with pytest.raises(ValidationError) as err:
        tree.top.clean()
    assert "parent" in err.value.error_dict
    tree.drain.parent = tree.drain
    with pytest.raises(ValidationError):
        tree.drain.clean()
    tree.blocked.parent = tree.top
    tree.blocked.clean()


def test_tree_order(tree):
    rows = list(Category.objects.filter(pk__in=[tree.top.pk, tree.drain.pk, tree.blocked.pk]).order_by("-id"))
    assert [(r.pk, depth) for r, depth in categories.tree_order(rows)] == [
        (tree.top.pk, 0), (tree.drain.pk, 1), (tree.blocked.pk, 2)]
