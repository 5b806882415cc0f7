import numpy as np
import pytest
from neuroaix.emulator.config import TopologyConfig
from neuroaix.emulator.topology import Topology


def _depth(tree, i):
    d = 0
    while i >= 0:
        i = tree.parent[i]
        d += 1
    return d


def test_torus_5x7_links_and_paths():
    t = Topology(TopologyConfig(shape=(5, 7)))
    assert len(t.links) == 35 * 4
    assert t.coords(8) == (1, 1)
    assert t.hops(0, 3 * 7 + 4) == 2 + 3     # 2 row-steps back around, 3 column steps
    assert max(t.hops(0, d) for d in range(35)) == 5


def test_dimension_ordered_multicast_reaches_everyone_once():
    t = Topology(TopologyConfig(shape=(5, 7)))
    for src in range(35):
        tree = t.trees[src]
        assert len(tree.node) == 34
        assert sorted(tree.node.tolist()) == [n for n in range(35) if n != src]
        assert tree.deliver.all()
    tree = t.trees[0]
    # stage 1: the 10 nodes of the source's row and column are reached over dimension-0 or
    # dimension-1 hops from the source; the other 24 hang off the column nodes.
    in_cross = {n for n in range(35) if n != 0 and 0 in t.coords(n)}
    assert len(in_cross) == 10
    for i, n in enumerate(tree.node):
        ancestors = []
        j = tree.parent[i]
        while j >= 0:
            ancestors.append(int(tree.node[j]))
            j = tree.parent[j]
        if int(n) in in_cross:
            assert set(ancestors) <= in_cross
        else:
            assert ancestors and ancestors[-1] in in_cross
    assert max(_depth(tree, i) for i in range(34)) == 5
    # a ring step continuing in its direction is a pass-through
    i = list(tree.node).index(t.node_at((2, 0)))
    assert tree.passthrough[i] and not tree.passthrough[tree.parent[i]]
    # a turn into the second dimension is relayed at the extra hop delay unless "full-hop"
    j = list(tree.node).index(t.node_at((1, 1)))
    assert tree.passthrough[j]
    full = Topology(TopologyConfig(shape=(5, 7), turn="full-hop")).trees[0]
    j = list(full.node).index(t.node_at((1, 1)))
    assert not full.passthrough[j]
    assert int(full.passthrough.sum()) < int(tree.passthrough.sum())


def test_children_are_contiguous_and_consistent():
    t = Topology(TopologyConfig(shape=(3, 4, 2)))
    for tree in t.trees:
        for i in range(len(tree.node)):
            for c in range(tree.child_start[i], tree.child_start[i] + tree.child_count[i]):
                assert tree.parent[c] == i
        assert (tree.parent[:tree.root_count] == -1).all()


def test_mesh_and_unicast_and_long_hops():
    mesh = Topology(TopologyConfig(shape=(4,), kind="mesh"))
    assert len(mesh.links) == 6
    assert mesh.hops(0, 3) == 3
    uni = Topology(TopologyConfig(shape=(4,), kind="mesh", multicast="unicast"))
    tree = uni.trees[0]
    assert len(tree.node) == 1 + 2 + 3
    assert int(tree.deliver.sum()) == 3
    lh = Topology(TopologyConfig(shape=(8,), kind="mesh", long_hops=((0, 7),)))
    tree = lh.trees[0]
    assert max(_depth(tree, i) for i in range(len(tree.node))) == 4
    assert sorted(tree.node.tolist()) == list(range(1, 8))


def test_flat_trees():
    t = Topology(TopologyConfig(shape=(2, 2)))
    flat = t.flat_trees()
    assert flat["ptr"].tolist() == [0, 3, 6, 9, 12]
    np.testing.assert_array_equal(flat["root_count"], [2, 2, 2, 2])


def test_bad_config_type():
    with pytest.raises(TypeError, match=r"^config must be a TopologyConfig, not 3$"):
        Topology(3)
