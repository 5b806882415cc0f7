"""Jitted kernels of the emulator: one step of the whole cluster, and the loop over steps.

Times are int64 femtoseconds from the start of the step. The wrappers in
``neuroaix.emulator.engine`` validate the inputs and allocate every output. The kernels take
their arrays and scalars grouped in the named tuples below (every field documented) and the
synapse pipeline's cycle rule, :func:`neuroaix.timing.deliver_timing`, jitted here.

The step kernels are built by :func:`_build` around the digest of ``neuroaix/timing.py``:
Numba's cache checks only the source file of a cached function, so a kernel that calls a
function of another file would keep a stale copy of it; the digest is part of the kernels'
cache key, and a change to the cycle rule recompiles them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numba import njit
from numba.extending import register_jitable

from neuroaix import timing

__all__: list[str] = []

# Bottleneck codes (index into engine.PHASES); the pipeline's causes are timing.CAUSE_*.
_UPDATE = 0
_NETWORK = timing.CAUSE_NETWORK

# The functions the rules call (the memory's timing), compiled where the rules call them.
for _helper in timing.RULE_HELPERS:
    register_jitable(_helper)

#: The cycle rule, compiled (its own cache follows neuroaix/timing.py).
_deliver_timing = njit(cache=True, nogil=True)(timing.deliver_timing)
#: The node's cycle rule of one step, compiled.
_node_step_cycles = njit(cache=True, nogil=True)(timing.node_step_cycles)
register_jitable(timing.issue_order)
#: The node's synapse layout (rows, issue order), compiled.
_issue_order = njit(cache=True, nogil=True)(timing.issue_order)
_node_layout = njit(cache=True, nogil=True)(timing.node_layout)

#: How the other nodes' spikes are offered to an RTL node (``node.rtl_release``), by code.
RELEASE_CODES = {"ascending": 0, "markers": 1, "step-start": 2, "arrival": 3}


class KernelParams(NamedTuple):
    """Scalars of a hardware configuration, in femtoseconds and cycles."""

    #: Nodes of the cluster.
    n_nodes: int
    #: Neuron-update cores per node.
    cores: int
    #: Neuron-clock period (fs).
    neuron_period: int
    #: Cycles from a neuron entering a core to its spike leaving it.
    neuron_depth: int
    #: Spike-clock period (fs).
    spike_period: int
    #: Synapse-clock period (fs).
    synapse_period: int
    #: Spikes the dispatcher takes per spike-clock cycle.
    dispatch_per_cycle: int
    #: Dispatcher latency (fs).
    dispatch_fs: int
    #: Bytes of one memory fetch word.
    fetch_bytes: int
    #: Serialisation time of one packet on a link (fs).
    serialisation_fs: int
    #: Router and clock crossing where a packet enters the network (fs).
    enter_fs: int
    #: Flight time of a link entered from a router (fs).
    enter_flight_fs: int
    #: Flight time of a pass-through hop (fs).
    pass_flight_fs: int
    #: Destination router latency, from arrival to the fetch queue (fs).
    deliver_fs: int
    #: Whether nodes multicast end-of-step markers (sync scheme ``marker``).
    markers: bool
    #: Barrier latency after the last node is done (fs).
    barrier_fs: int


class RtlParams(NamedTuple):
    """The cluster step with the RTL node's cycle rule (``node.model = "rtl"``)."""

    #: Period of the node's one clock (fs).
    period_fs: int
    #: How the other nodes' spikes are offered (:data:`RELEASE_CODES`).
    release: int
    #: Most rounds of the fixed point of one step (emissions -> offers -> emissions).
    max_rounds: int


class NodeLayouts(NamedTuple):
    """Every node's synapse memory as the RTL node lays it out (``node_layout``)."""

    #: ``row_start[p, s]``: first synapse address of source ``s``'s row on node ``p``.
    row_start: np.ndarray
    #: Synapse addresses ``bank_ptr[p]:bank_ptr[p + 1]`` of ``bank`` are node ``p``'s.
    bank_ptr: np.ndarray
    #: Per synapse address, the ring bank of its target (uint8).
    bank: np.ndarray


class Trees(NamedTuple):
    """The multicast trees of all sources (``Topology.flat_trees``), flattened.

    Entries ``ptr[s]:ptr[s + 1]`` belong to source node ``s``; entry ``e`` is one hop.
    """

    #: Start of each source's entries, shape (nodes + 1,).
    ptr: np.ndarray
    #: Node reached by each hop.
    node: np.ndarray
    #: Link index of each hop.
    link: np.ndarray
    #: Whether a hop passes through its relay node (else it enters from the router).
    passthrough: np.ndarray
    #: Whether the node reached by a hop takes the spike.
    deliver: np.ndarray
    #: First child of each hop (relative to the source's entries).
    child_start: np.ndarray
    #: Children of each hop.
    child_count: np.ndarray
    #: Hops leaving each source node (the tree's roots, entries 0.. of the source).
    root_count: np.ndarray
    #: Links of the topology.
    n_links: int


class NodeRows(NamedTuple):
    """Per-node results of one step (1-D, shape (nodes,)) or of all steps (2-D)."""

    #: When each node finished the step (fs).
    done: np.ndarray
    #: When its last spike or marker arrived (fs).
    network: np.ndarray
    #: How long its synapse memory was busy (fs).
    memory_busy: np.ndarray
    #: Synapse-clock cycles its pipeline issued synapses.
    pipeline_busy: np.ndarray
    #: Phase that ended the node's step (index into engine.PHASES, int8).
    cause: np.ndarray


def _rule_digest() -> str:
    """Return the SHA-256 of the cycle rule's source file."""
    return hashlib.sha256(Path(timing.__file__).read_bytes()).hexdigest()


@njit(cache=True, nogil=True)
def _heap_push(ht, hk, n, t, k):
    i = n
    ht[i] = t
    hk[i] = k
    while i > 0:
        p = (i - 1) >> 1
        if ht[p] < ht[i] or (ht[p] == ht[i] and hk[p] <= hk[i]):
            break
        ht[p], ht[i] = ht[i], ht[p]
        hk[p], hk[i] = hk[i], hk[p]
        i = p
    return n + 1


@njit(cache=True, nogil=True)
def _heap_pop(ht, hk, n):
    t = ht[0]
    k = hk[0]
    n -= 1
    ht[0] = ht[n]
    hk[0] = hk[n]
    i = 0
    while True:
        lc = 2 * i + 1
        if lc >= n:
            break
        c = lc
        r = lc + 1
        if r < n and (ht[r] < ht[lc] or (ht[r] == ht[lc] and hk[r] < hk[lc])):
            c = r
        if ht[i] < ht[c] or (ht[i] == ht[c] and hk[i] <= hk[c]):
            break
        ht[c], ht[i] = ht[i], ht[c]
        hk[c], hk[i] = hk[i], hk[c]
        i = c
    return t, k, n


@njit(cache=True, nogil=True)
def _ceil_div(a, b):
    return -((-a) // b)


@njit(cache=True, nogil=True)
def _step_row(rows, t):
    """Step ``t``'s row of every node's :class:`NodeRows` (views, written in place)."""
    return NodeRows(rows.done[t], rows.network[t], rows.memory_busy[t], rows.pipeline_busy[t],
                    rows.cause[t])


@njit(cache=True, nogil=True)
def _close_step(done, cause, barrier_fs, t, step_fs, bottleneck):
    """Step ``t`` ends with its latest node (the lowest id among equals), plus the barrier."""
    best = 0
    for p in range(done.shape[0]):
        if done[p] > done[best]:
            best = p
    step_fs[t] = done[best] + barrier_fs
    bottleneck[t] = cause[best]


@njit(cache=True, nogil=True)
def _dispatch(gids, emit, update_end, prm, ready, src, marker_t0):
    """Fill when each spike and each node's marker leave the dispatcher for the router.

    ``emit[k]``: when spike ``k`` (of ``gids``, ascending) is out of its node (fs);
    ``update_end[p]``: when node ``p``'s last spike is out (its marker follows). Filled:
    ``ready[k]``, ``src[k]`` (the spike's node) and ``marker_t0[p]``.
    """
    P = prm.n_nodes
    sp = prm.spike_period
    per = prm.dispatch_per_cycle
    ring = np.full((P, per), -1, np.int64)
    cnt = np.zeros(P, np.int64)
    last_disp = np.full(P, -1, np.int64)
    for k in range(gids.shape[0]):
        p = gids[k] % P
        c = _ceil_div(emit[k], sp)
        slot = cnt[p] % per
        if cnt[p] >= per and ring[p, slot] + 1 > c:
            c = ring[p, slot] + 1
        ring[p, slot] = c
        cnt[p] += 1
        last_disp[p] = c
        ready[k] = c * sp + prm.dispatch_fs
        src[k] = p
    for p in range(P):
        c = _ceil_div(update_end[p], sp)
        if last_disp[p] + 1 > c:
            c = last_disp[p] + 1
        marker_t0[p] = c * sp + prm.dispatch_fs


@njit(cache=True, nogil=True)
def _network(ready, src, marker_t0, trees, prm, arrival, marker_at, act):
    """Fill when every spike and marker reaches every node's fetch queue (fs).

    Spike ``k`` leaves node ``src[k]``'s dispatcher at ``ready[k]`` and travels its tree,
    links first come, first served (ties: lower key); with markers, node ``p``'s marker
    leaves at ``marker_t0[p]``. Filled: ``arrival[p, k]`` (``p == src[k]``: the node's own
    fetch queue) and ``marker_at[p, q]``, when node ``q``'s marker reaches node ``p``
    (``q == p``: its own; 0 without markers). ``act``: packets, hops and marker hops added.
    """
    P = prm.n_nodes
    m = ready.shape[0]
    for k in range(m):
        arrival[src[k], k] = ready[k] + prm.deliver_fs
    marker_at[:, :] = 0
    n_packets = m + (P if prm.markers else 0)
    max_entries = 1
    for s in range(P):
        e = trees.ptr[s + 1] - trees.ptr[s]
        if e + 1 > max_entries:
            max_entries = e + 1
    cap = n_packets * max_entries + 1
    ht = np.empty(cap, np.int64)
    hk = np.empty(cap, np.int64)
    nh = 0
    free = np.zeros(trees.n_links, np.int64)
    for k in range(m):
        if trees.root_count[src[k]] > 0:
            nh = _heap_push(ht, hk, nh, ready[k], k * max_entries)
            act[0] += trees.root_count[src[k]]
    if prm.markers:
        for p in range(P):
            marker_at[p, p] = marker_t0[p] + prm.deliver_fs
            if trees.root_count[p] > 0:
                nh = _heap_push(ht, hk, nh, marker_t0[p], (m + p) * max_entries)
    while nh > 0:
        tau, key, nh = _heap_pop(ht, hk, nh)
        q = key // max_entries
        e = key % max_entries - 1
        s = src[q] if q < m else q - m
        base = trees.ptr[s]
        if e >= 0:
            idx = base + e
            if trees.deliver[idx]:
                node = trees.node[idx]
                if q < m:
                    arrival[node, q] = tau + prm.deliver_fs
                elif tau + prm.deliver_fs > marker_at[node, s]:
                    marker_at[node, s] = tau + prm.deliver_fs
            c0 = trees.child_start[idx]
            nc = trees.child_count[idx]
        else:
            c0 = 0
            nc = trees.root_count[s]
        for c in range(c0, c0 + nc):
            idx = base + c
            lid = trees.link[idx]
            if trees.passthrough[idx]:
                dep = tau
                flight = prm.pass_flight_fs
            else:
                dep = tau + prm.enter_fs
                flight = prm.enter_flight_fs
            if free[lid] > dep:
                dep = free[lid]
            free[lid] = dep + prm.serialisation_fs
            nh = _heap_push(ht, hk, nh, dep + flight, q * max_entries + c + 1)
            if q < m:
                act[1] += 1
            else:
                act[4] += 1


@njit(cache=True, nogil=True)
def _release(p, gids, src, arrival, marker_at, rtl, prm, ext, ext_k, offer):
    """Fill the other nodes' spikes of a step as node ``p``'s ``i_ext`` is fed them.

    ``ext``: their global ids, ascending (the RTL merge's order); ``ext_k``: their indices
    in ``gids``; ``offer[i]``: the first node-clock cycle ``ext[i]`` may be at the head,
    ``offer[n]``: ``last``. ``ascending`` (code 0): a spike once it has arrived and every
    other source has shown a larger id or its marker (a source's spikes arrive in ascending
    id, its marker after them), ``last`` once every marker is in; ``markers`` (1): the whole
    stream once every marker is in; ``step-start`` (2): everything from cycle 0;
    ``arrival`` (3, the proposed merge of ``NodeTiming.arrival_order``): in order of
    arrival (ties: lower id), each from its arrival. Returns ``n``, the number of spikes.
    """
    P = prm.n_nodes
    m = gids.shape[0]
    per = rtl.period_fs
    last = 0
    for q in range(P):
        if q != p and marker_at[p, q] > last:
            last = marker_at[p, q]
    n = 0
    if rtl.release == 3:
        for k in np.argsort(arrival[p], kind="mergesort"):
            if src[k] != p:
                ext[n] = gids[k]
                ext_k[n] = k
                offer[n] = _ceil_div(arrival[p, k], per)
                n += 1
        offer[n] = _ceil_div(last, per)
        return n
    for k in range(m):
        if src[k] != p:
            ext[n] = gids[k]
            ext_k[n] = k
            n += 1
    if rtl.release == 2:
        offer[:n + 1] = 0
        return n
    last_c = _ceil_div(last, per)
    offer[n] = last_c
    if rtl.release == 1:
        offer[:n] = last_c
        return n
    # nxt[q]: when the first spike of q after the current one (by id) arrives, else q's
    # marker: from then node p knows q sends nothing below it
    nxt = np.empty(P, np.int64)
    for q in range(P):
        nxt[q] = marker_at[p, q]
    i = n
    for k in range(m - 1, -1, -1):
        s = src[k]
        if s == p:
            continue
        i -= 1
        r = arrival[p, k]
        for q in range(P):
            if q != p and q != s and nxt[q] > r:
                r = nxt[q]
        offer[i] = _ceil_div(r, per)
        nxt[s] = arrival[p, k]
    return n


def _build(rule_digest: str):
    """Return the kernels ``(emulate_step, emulate_steps, emulate_step_rtl, emulate_steps_rtl,
    node_cycles)``.

    They are cached under ``rule_digest``.

    Parameters
    ----------
    rule_digest : str
        Digest of the cycle rule's source (``_rule_digest``); a closure variable of both
        kernels, so it enters their cache key.
    """

    @njit(cache=True, nogil=True)
    def emulate_step(gids, counts, update_end, trees, pipe, memory, prm, rows, act, trace,
                     tracing):
        """Emulate one step; fill the per-node ``rows`` and add to the activity counters.

        ``gids``: the step's senders (sorted); ``counts[p, s]``: synapses of source ``s`` on
        node ``p``; ``update_end[p]``: end of node ``p``'s update phase (fs); ``trees``:
        :class:`Trees`; ``pipe``, ``memory``: the synapse pipeline
        (:class:`neuroaix.timing.PipelineParams`, :class:`neuroaix.timing.MemoryTiming` on
        the synapse clock); ``prm``: :class:`KernelParams`; ``rows``: :class:`NodeRows`
        (1-D). ``act``: [packets, hops, bytes, synaptic events, marker hops]. ``trace``
        (when ``tracing``): [4, n_nodes, m] per node and spike (in sender order) arrival,
        accept and last write (fs; -1 without synapses) and synapses.
        """
        _ = rule_digest
        P = prm.n_nodes
        m = gids.shape[0]
        # Dispatch ------------------------------------------------------------------------------
        emit = np.empty(m, np.int64)
        for k in range(m):
            li = gids[k] // P
            emit[k] = (li // prm.cores + prm.neuron_depth + 1) * prm.neuron_period
        ready = np.empty(m, np.int64)
        src = np.empty(m, np.int64)
        marker_t0 = np.empty(P, np.int64)
        _dispatch(gids, emit, update_end, prm, ready, src, marker_t0)
        # Network -------------------------------------------------------------------------------
        arrival = np.empty((P, m), np.int64)
        marker_at = np.zeros((P, P), np.int64)
        _network(ready, src, marker_t0, trees, prm, arrival, marker_at, act)
        marker_last = np.zeros(P, np.int64)
        for p in range(P):
            for q in range(P):
                if marker_at[p, q] > marker_last[p]:
                    marker_last[p] = marker_at[p, q]
        # Fetch and synapse pipeline per node -----------------------------------------------------
        syn = memory.period_fs
        valid = np.empty(m, np.int64)
        starts = np.zeros(m, np.int64)
        lengths = np.empty(m, np.int64)
        acc = np.empty(m, np.int64)
        dn = np.empty(m, np.int64)
        stats = np.zeros(5, np.int64)
        for p in range(P):
            order = np.argsort(arrival[p], kind="mergesort")
            net = marker_last[p] if prm.markers else 0
            for j in range(m):
                k = order[j]
                a = arrival[p, k]
                if a > net:
                    net = a
                valid[j] = _ceil_div(a, syn)
                lengths[j] = counts[p, gids[k]]
            _deliver_timing(valid, starts, lengths, pipe, memory, acc, dn, stats)
            last_write = stats[0] * syn
            for j in range(m):
                if lengths[j] > 0:
                    act[2] += _ceil_div(lengths[j], pipe.per_word) * prm.fetch_bytes
                    act[3] += lengths[j]
            if tracing:
                for j in range(m):
                    k = order[j]
                    trace[0, p, k] = arrival[p, k]
                    trace[1, p, k] = acc[j] * syn
                    trace[2, p, k] = (dn[j] + 1) * syn if dn[j] >= 0 else -1
                    trace[3, p, k] = lengths[j]
            d = update_end[p]
            why = _UPDATE
            if prm.markers and marker_last[p] > d:
                d = marker_last[p]
                why = _NETWORK
            if last_write > d:
                d = last_write
                why = stats[3]
            rows.done[p] = d
            rows.network[p] = net
            rows.memory_busy[p] = stats[1]
            rows.pipeline_busy[p] = stats[2]
            rows.cause[p] = why

    @njit(cache=True, nogil=True)
    def emulate_steps(senders, step_ptr, counts, update_end, trees, pipe, memory, prm, rows,
                      step_fs, bottleneck, act):
        """Emulate every step; ``step_ptr`` delimits each step's senders (sorted by id).

        ``rows``: :class:`NodeRows` of shape (steps, nodes); ``step_fs``, ``bottleneck``:
        each step's duration and the phase that ended it. Other arguments as
        ``emulate_step``.
        """
        _ = rule_digest
        n_steps = step_ptr.shape[0] - 1
        trace = np.zeros((4, 1, 1), np.int64)
        for t in range(n_steps):
            gids = senders[step_ptr[t]:step_ptr[t + 1]]
            row = _step_row(rows, t)
            # the module's _emulate_step, not the closure's emulate_step: a dispatcher held in
            # a closure would enter the cache key and differ in every process
            _emulate_step(gids, counts, update_end, trees, pipe, memory, prm, row, act, trace,
                          False)
            _close_step(rows.done[t], rows.cause[t], prm.barrier_fs, t, step_fs, bottleneck)

    @njit(cache=True, nogil=True)
    def emulate_step_rtl(gids, counts, layouts, nodes, trees, memory, prm, rtl, rows, rstats,
                         act, trace, tracing):
        """Emulate one step with the RTL node's cycle rule on every node; return the rounds.

        Every node runs :func:`neuroaix.timing.node_step_cycles` in its clock
        (``rtl.period_fs``) with its local spikes and the other nodes' spikes as its
        ``i_ext`` is fed them (:func:`_release`) after the network (:func:`_dispatch`,
        :func:`_network`); a spike leaves its node in the cycle after it entered
        ``o_spikes``, the node's marker when its update is done. Emissions and offers are
        iterated to their fixed point: round 0 runs every node with no other spikes, each
        further round feeds the network the previous round's emissions, until a round emits
        as the one before it. The fixed point is unique and is the cluster's behaviour,
        because every emission depends only on offers before it and every offer lies at
        least one dispatcher and network latency after the emissions it depends on.

        ``layouts``: :class:`NodeLayouts`; ``nodes``: a tuple of one
        :class:`neuroaix.timing.NodeTiming` per node; ``memory``: on the node's clock;
        ``rows``: :class:`NodeRows` (1-D; ``memory_busy`` stays 0); ``rstats[p]``: the
        step's cycles, update done, ``last`` offered and ``last`` taken (node cycles).
        ``trace`` (when ``tracing``): [4, n_nodes, m + 1]: per node and spike arrival (fs),
        offer cycle (-1 for the node's own; entry m: ``last``), emission cycle (at the
        spike's own node) and synapses. Other arguments as ``emulate_step``.
        """
        _ = rule_digest
        P = prm.n_nodes
        m = gids.shape[0]
        per = rtl.period_fs
        src = np.empty(m, np.int64)
        cnt = np.zeros(P + 1, np.int64)
        for k in range(m):
            src[k] = gids[k] % P
            cnt[src[k] + 1] += 1
        for p in range(P):
            cnt[p + 1] += cnt[p]
        mine = np.empty(max(m, 1), np.int64)  # each node's spikes, ascending
        fill = cnt[:P].copy()
        for k in range(m):
            mine[fill[src[k]]] = k
            fill[src[k]] += 1
        n_max = 1
        for p in range(P):
            if nodes[p].n_local > n_max:
                n_max = nodes[p].n_local
        spiked = np.zeros(n_max, np.bool_)
        emit_c = np.zeros(max(m, 1), np.int64)
        done_c = np.zeros(P, np.int64)
        buf = np.empty(n_max, np.int64)
        stats = np.zeros(len(timing.NODE_STATS_FIELDS), np.int64)
        node_stats = np.zeros((P, len(timing.NODE_STATS_FIELDS)), np.int64)
        ext = np.empty(max(m, 1), np.int64)
        ext_k = np.empty(max(m, 1), np.int64)
        offer = np.empty(m + 1, np.int64)
        emit_fs = np.empty(m, np.int64)
        upd_fs = np.empty(P, np.int64)
        ready = np.empty(m, np.int64)
        src2 = np.empty(m, np.int64)
        marker_t0 = np.empty(P, np.int64)
        arrival = np.empty((P, m), np.int64)
        marker_at = np.zeros((P, P), np.int64)
        act_net = np.zeros(5, np.int64)
        rounds = 0
        while True:
            if rounds > 0:
                for k in range(m):
                    emit_fs[k] = (emit_c[k] + 1) * per
                for p in range(P):
                    upd_fs[p] = done_c[p] * per
                _dispatch(gids, emit_fs, upd_fs, prm, ready, src2, marker_t0)
                act_net[:] = 0
                _network(ready, src2, marker_t0, trees, prm, arrival, marker_at, act_net)
            changed = False
            for p in range(P):
                node = nodes[p]
                a, e = cnt[p], cnt[p + 1]
                for j in range(a, e):
                    spiked[gids[mine[j]] // P] = True
                if rounds == 0:
                    # a first guess: the node on its own, ``last`` after its update
                    n = 0
                    offer[0] = -(-node.n_local // node.update_lanes) + (e - a) + 16
                else:
                    n = _release(p, gids, src, arrival, marker_at, rtl, prm, ext, ext_k,
                                 offer)
                b0, b1 = layouts.bank_ptr[p], layouts.bank_ptr[p + 1]
                cyc = _node_step_cycles(node, memory, spiked, ext[:n], layouts.row_start[p],
                                        counts[p], layouts.bank[b0:b1], stats, offer[:n + 1],
                                        buf)
                for j in range(a, e):
                    spiked[gids[mine[j]] // P] = False
                    if buf[j - a] != emit_c[mine[j]]:
                        changed = True
                        emit_c[mine[j]] = buf[j - a]
                if stats[5] != done_c[p]:
                    changed = True
                    done_c[p] = stats[5]
                node_stats[p] = stats
                rstats[p, 0] = cyc
                rstats[p, 1] = stats[5]
                rstats[p, 2] = offer[n]
                rstats[p, 3] = stats[6]
                if tracing and rounds > 0:
                    for k in range(m):
                        trace[0, p, k] = arrival[p, k]
                        trace[1, p, k] = -1
                        trace[3, p, k] = counts[p, gids[k]]
                    for i in range(n):
                        trace[1, p, ext_k[i]] = offer[i]
                    trace[1, p, m] = offer[n]
                    for j in range(a, e):
                        trace[2, p, mine[j]] = buf[j - a]
            rounds += 1
            if rounds > 1 and not changed:
                break
            if rounds > rtl.max_rounds:
                raise RuntimeError("the RTL cluster step found no fixed point of emissions "
                                   "and offers within rtl.max_rounds rounds")
        act[0] += act_net[0]
        act[1] += act_net[1]
        act[4] += act_net[4]
        for p in range(P):
            act[2] += node_stats[p, 3] * prm.fetch_bytes
            act[3] += node_stats[p, 4]
            net = 0
            for q in range(P):
                if q != p and marker_at[p, q] > net:
                    net = marker_at[p, q]
            for k in range(m):
                if src[k] != p and arrival[p, k] > net:
                    net = arrival[p, k]
            end = rstats[p, 0] - 1
            upd = rstats[p, 1]
            taken = rstats[p, 3]
            if end > upd and end > taken + 1:
                why = timing.CAUSE_PIPELINE
            elif taken >= upd:
                why = _NETWORK
            else:
                why = _UPDATE
            rows.done[p] = rstats[p, 0] * per
            rows.network[p] = net
            rows.memory_busy[p] = 0
            rows.pipeline_busy[p] = node_stats[p, 1]
            rows.cause[p] = why
        return rounds

    @njit(cache=True, nogil=True)
    def emulate_steps_rtl(senders, step_ptr, counts, layouts, nodes, trees, memory, prm, rtl,
                          rows, rstats, step_fs, bottleneck, act, rounds):
        """Emulate every step with the RTL node (``emulate_step_rtl``).

        ``rstats``: shape (steps, nodes, 4); ``rounds[t]``: the fixed point's rounds of step
        ``t``. Other arguments as ``emulate_steps`` and ``emulate_step_rtl``.
        """
        _ = rule_digest
        n_steps = step_ptr.shape[0] - 1
        trace = np.zeros((4, 1, 1), np.int64)
        for t in range(n_steps):
            gids = senders[step_ptr[t]:step_ptr[t + 1]]
            row = _step_row(rows, t)
            rounds[t] = _emulate_step_rtl(gids, counts, layouts, nodes, trees, memory, prm,
                                          rtl, row, rstats[t], act, trace, False)
            _close_step(rows.done[t], rows.cause[t], prm.barrier_fs, t, step_fs, bottleneck)

    @njit(cache=True, nogil=True)
    def node_cycles(node, memory, spk_ptr, spk_local, ext_ptr, ext, offer, row_start,
                    row_length, syn_bank, stats, emit):
        """Fill ``stats[t]`` (``timing.NODE_STATS_FIELDS``) for every step ``t`` of one node.

        ``spk_local[spk_ptr[t]:spk_ptr[t + 1]]``: the local neurons that spike in step
        ``t`` (distinct); ``ext[ext_ptr[t]:ext_ptr[t + 1]]``: the other nodes' spikes
        offered in step ``t``, in order, from the cycles
        ``offer[ext_ptr[t] + t:ext_ptr[t + 1] + t + 1]`` (the last: ``last``); ``emit``
        (as ``spk_local``) is filled with the cycle each step's local spikes went out, in
        ascending order. Other arguments as :func:`neuroaix.timing.node_step_cycles`.
        """
        _ = rule_digest
        spiked = np.zeros(max(node.n_local, 1), np.bool_)
        buf = np.empty(max(node.n_local, 1), np.int64)
        for t in range(spk_ptr.shape[0] - 1):
            spiked[:] = False
            for k in range(spk_ptr[t], spk_ptr[t + 1]):
                spiked[spk_local[k]] = True
            _node_step_cycles(node, memory, spiked, ext[ext_ptr[t]:ext_ptr[t + 1]], row_start,
                              row_length, syn_bank, stats[t],
                              offer[ext_ptr[t] + t:ext_ptr[t + 1] + t + 1], buf)
            for k in range(stats[t, 7]):
                emit[spk_ptr[t] + k] = buf[k]

    return emulate_step, emulate_steps, emulate_step_rtl, emulate_steps_rtl, node_cycles


(_emulate_step, _emulate_steps, _emulate_step_rtl, _emulate_steps_rtl,
 _node_cycles) = _build(_rule_digest())
