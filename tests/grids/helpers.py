from gridcase.grids import tree


def assert_tree_consistent(model):
    """Recompute the nested-set numbering from parent links and compare with what is stored."""
    nodes = list(model.objects.all())
    stored = {n.pk: (n.tree_id, n.lft, n.rght, n.depth) for n in nodes}
    copies = [model(pk=n.pk, code=n.code, parent_id=n.parent_id) for n in nodes]
    tree.number_forest(copies, key_of=lambda n: n.pk, parent_key_of=lambda n: n.parent_id)
    by_tree = {}
    for c in copies:
        by_tree.setdefault(c.tree_id, []).append(c)
    # tree ids may be numbered differently; compare the shape within each tree
    shape_stored = sorted((stored[c.pk][1], stored[c.pk][2], stored[c.pk][3], c.code) for c in copies)
    shape_computed = sorted((c.lft, c.rght, c.depth, c.code) for c in copies)
    assert shape_stored == shape_computed
