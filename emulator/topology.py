"""The node grid: links, dimension-ordered paths and the multicast trees of every node.

Nodes are numbered row-major over ``shape`` (the last dimension varies fastest). Each
bidirectional connection is two directed links with their own ids. A multicast tree is stored
breadth-first as flat arrays (``Tree``): entry ``i`` is a hop into ``node[i]`` over
``link[i]`` from the node of entry ``parent[i]`` (-1: the source), ``passthrough[i]`` says
whether a relay node forwards the packet at the extra hop delay (a ring step continuing the
dimension and direction it arrived in; with ``turn = "extra-hop"`` also a turn into the next
dimension) rather than as a new hop through router, clock crossing and transceiver, and
``deliver[i]`` whether the node consumes the packet. Children of an
entry are contiguous: ``child_start[i] : child_start[i] + child_count[i]``; the source's own
children are the first ``root_count`` entries.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

import numpy as np
from neuroaix.emulator.config import TopologyConfig

__all__ = ["Topology", "Tree"]


class Tree(NamedTuple):
    """The forwarding tree of one source node (see the module docstring)."""

    node: np.ndarray
    link: np.ndarray
    parent: np.ndarray
    passthrough: np.ndarray
    deliver: np.ndarray
    child_start: np.ndarray
    child_count: np.ndarray
    root_count: int


class Topology:
    """Grid, links and multicast trees built from a ``TopologyConfig``.

    Parameters
    ----------
    config : TopologyConfig
        Shape, torus or mesh, long hops and multicast scheme.

    Attributes
    ----------
    links : list of (int, int, int, int)
        Directed links as ``(src, dst, dim, direction)``; long hops have ``dim = -1``.
    """

    def __init__(self, config: TopologyConfig):
        if not isinstance(config, TopologyConfig):
            raise TypeError(f"config must be a TopologyConfig, not {config!r}")
        self.config = config
        self.shape = config.shape
        self.n_nodes = config.n_nodes
        self.links: list[tuple[int, int, int, int]] = []
        self._link_id: dict[tuple[int, int, int, int], int] = {}
        self._adjacent: dict[tuple[int, int], int] = {}
        for node in range(self.n_nodes):
            for dim in range(len(self.shape)):
                for direction in (1, -1):
                    nxt = self.neighbour(node, dim, direction)
                    if nxt is not None and (node, nxt) not in self._adjacent:
                        self._add_link(node, nxt, dim, direction)
        for a, b in config.long_hops:
            for s, d in ((a, b), (b, a)):
                if (s, d) not in self._adjacent:
                    self._add_link(s, d, -1, 0)
        self.trees = [self._build_tree(s) for s in range(self.n_nodes)]

    def _add_link(self, src, dst, dim, direction):
        idx = len(self.links)
        self.links.append((src, dst, dim, direction))
        self._link_id[(src, dst, dim, direction)] = idx
        self._adjacent[(src, dst)] = idx

    # Grid geometry ------------------------------------------------------------------------

    def coords(self, node: int) -> tuple[int, ...]:
        """Return the grid coordinates of ``node`` (row-major)."""
        return tuple(int(c) for c in np.unravel_index(node, self.shape))

    def node_at(self, coords) -> int:
        """Return the node at grid ``coords``."""
        return int(np.ravel_multi_index(tuple(coords), self.shape))

    def neighbour(self, node: int, dim: int, direction: int) -> int | None:
        """Return the next node from ``node`` along ``dim`` in ``direction`` (+1/-1), or None."""
        c = list(self.coords(node))
        n = self.shape[dim]
        if n == 1:
            return None
        c[dim] += direction
        if self.config.kind == "torus":
            c[dim] %= n
        elif not 0 <= c[dim] < n:
            return None
        return self.node_at(c)

    def _ring_steps(self, dim: int, offset: int) -> tuple[int, int]:
        """Return (direction, hops) of the shortest way to go ``offset`` (mod n) along dim."""
        n = self.shape[dim]
        if self.config.kind == "mesh":
            return (1 if offset > 0 else -1), abs(offset)
        fwd = offset % n
        back = n - fwd
        return (1, fwd) if fwd <= back else (-1, back)

    def path(self, src: int, dst: int) -> list[int]:
        """Return the dimension-ordered path from ``src`` to ``dst`` as a list of link ids."""
        out = []
        node = src
        cs, cd = self.coords(src), self.coords(dst)
        for dim in range(len(self.shape)):
            direction, hops = self._ring_steps(dim, cd[dim] - cs[dim])
            for _ in range(hops):
                nxt = self.neighbour(node, dim, direction)
                out.append(self._link_id[(node, nxt, dim, direction)])
                node = nxt
        return out

    def hops(self, src: int, dst: int) -> int:
        """Return the number of link hops of the dimension-ordered path."""
        return len(self.path(src, dst))

    # Trees --------------------------------------------------------------------------------

    def _build_tree(self, src: int) -> Tree:
        # Each element: (parent entry index or -1, node, link id, deliver)
        raw: list[tuple[int, int, int, bool]] = []
        if self.config.multicast == "unicast":
            for dst in range(self.n_nodes):
                if dst == src:
                    continue
                parent = -1
                path = self.path(src, dst)
                for i, lid in enumerate(path):
                    raw.append((parent, self.links[lid][1], lid, i == len(path) - 1))
                    parent = len(raw) - 1
        elif self.config.long_hops:
            seen = {src: -1}
            queue = deque([src])
            while queue:
                u = queue.popleft()
                for lid, (a, b, _, _) in enumerate(self.links):
                    if a == u and b not in seen:
                        raw.append((seen[u], b, lid, True))
                        seen[b] = len(raw) - 1
                        queue.append(b)
        else:
            reached = {src: -1}
            for dim in range(len(self.shape)):
                for start, start_entry in list(reached.items()):
                    c0 = self.coords(start)
                    n = self.shape[dim]
                    for direction in (1, -1):
                        node, parent = start, start_entry
                        while True:
                            nxt = self.neighbour(node, dim, direction)
                            if nxt is None or nxt in reached:
                                break
                            off = self.coords(nxt)[dim] - c0[dim]
                            d, _ = self._ring_steps(dim, off)
                            if self.config.kind == "torus" and d != direction:
                                break
                            lid = self._link_id[(node, nxt, dim, direction)]
                            raw.append((parent, nxt, lid, True))
                            parent = len(raw) - 1
                            reached[nxt] = parent
                            node = nxt
                    del n
        return self._bfs_order(raw)

    def _bfs_order(self, raw) -> Tree:
        children: dict[int, list[int]] = {}
        for i, (parent, *_rest) in enumerate(raw):
            children.setdefault(parent, []).append(i)
        order = []
        queue = deque([-1])
        while queue:
            p = queue.popleft()
            for c in children.get(p, []):
                order.append(c)
                queue.append(c)
        new_index = {old: new for new, old in enumerate(order)}
        m = len(order)
        node = np.empty(m, np.int64)
        link = np.empty(m, np.int64)
        parent = np.empty(m, np.int64)
        passthrough = np.zeros(m, np.bool_)
        deliver = np.zeros(m, np.bool_)
        child_start = np.zeros(m, np.int64)
        child_count = np.zeros(m, np.int64)
        for new, old in enumerate(order):
            p_old, nd, lid, dl = raw[old]
            node[new] = nd
            link[new] = lid
            parent[new] = -1 if p_old == -1 else new_index[p_old]
            deliver[new] = dl
            if p_old != -1:
                in_link = self.links[raw[p_old][2]]
                out_link = self.links[lid]
                if self.config.turn == "extra-hop":
                    passthrough[new] = in_link[2] >= 0 and out_link[2] >= 0
                else:
                    passthrough[new] = in_link[2] >= 0 and in_link[2:] == out_link[2:]
            kids = [new_index[c] for c in children.get(old, [])]
            if kids:
                child_start[new] = kids[0]
                child_count[new] = len(kids)
        root_count = len(children.get(-1, []))
        return Tree(node, link, parent, passthrough, deliver, child_start, child_count,
                    root_count)

    def flat_trees(self):
        """Return all trees concatenated, with per-source offsets, as int64 arrays.

        Returns
        -------
        dict
            ``ptr`` (length n_nodes + 1) and per-entry ``node``, ``link``, ``passthrough``,
            ``deliver``, ``child_start``, ``child_count`` (child indices local to the tree),
            and ``root_count`` per source.
        """
        ptr = np.zeros(self.n_nodes + 1, np.int64)
        for s, t in enumerate(self.trees):
            ptr[s + 1] = ptr[s] + len(t.node)
        cat = {k: np.concatenate([getattr(t, k) for t in self.trees]) if ptr[-1] else
               np.zeros(0, np.int64) for k in ("node", "link", "child_start", "child_count")}
        for k in ("passthrough", "deliver"):
            cat[k] = (np.concatenate([getattr(t, k) for t in self.trees]).astype(np.int64)
                      if ptr[-1] else np.zeros(0, np.int64))
        cat["ptr"] = ptr
        cat["root_count"] = np.array([t.root_count for t in self.trees], np.int64)
        return cat
