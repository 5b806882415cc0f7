"""Jitted kernels of the emulator: one step of the whole cluster, and the loop over steps.

Times are int64 femtoseconds from the start of the step. The wrappers in
``neuroaix.emulator.engine`` validate the inputs and allocate every output.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

__all__: list[str] = []

# Bottleneck codes (index into engine.PHASES).
_UPDATE = 0
_NETWORK = 1
_MEMORY = 2
_PIPELINE = 3


class KernelParams(NamedTuple):
    """Scalars of a hardware configuration, in femtoseconds and cycles."""

    n_nodes: int
    cores: int
    neuron_period: int
    neuron_depth: int
    spike_period: int
    synapse_period: int
    dispatch_per_cycle: int
    dispatch_fs: int
    lanes: int
    drain: int
    max_burst: int
    fifo_words: int
    per_word: int
    fetch_bytes: int
    first_word_fs: int
    serialisation_fs: int
    enter_fs: int
    enter_flight_fs: int
    pass_flight_fs: int
    deliver_fs: int
    markers: bool
    barrier_fs: int


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
def _deliver_timing(valid, starts, lengths, max_burst, fifo_words, latency, lanes, drain,
                    per_word, ddr, spike_fs, service, occupancy, first_fs, accept, done,
                    stats):
    """Cycle timing of one node's delivery phase (docs/emulator.md, "Synapse pipeline").

    Spikes in order; spike ``i`` is offered from cycle ``valid[i]`` (-1: the cycle after the
    previous accept). The lookup stage takes one cycle, the request generator issues
    requests of at most ``max_burst`` words, one per cycle, while the words in flight stay
    within ``fifo_words``; the memory hands over one word per cycle at most; the unpacker
    issues ``lanes`` synapses of a word per cycle; the last write of a spike is ``drain - 1``
    cycles after its last synapse is issued. ``ddr``: a word is ready when the DDR model
    (``service``/``occupancy``/``first_fs`` tables by request words, times in fs with the
    spike period ``spike_fs``) has it; otherwise ``latency`` cycles after its request.

    Fills ``accept`` and ``done`` (-1 for an empty row); ``stats`` gets [phase cycles,
    memory busy fs, issue cycles, cause of the last write (1 network, 2 memory, 3 pipeline),
    words]. Returns nothing.
    """
    n = valid.shape[0]
    total_words = 0
    for i in range(n):
        if lengths[i] > 0:
            total_words += (starts[i] + lengths[i] - 1) // per_word - starts[i] // per_word + 1
    pops = np.empty(max(total_words, 1), np.int64)
    n_pops = 0
    words_requested = 0
    prev_word = -(1 << 60)
    prev_emit = -(1 << 60)
    fire_prev = -1
    have_prev = False
    rg_free = 0
    end = 0
    mem_free = 0
    mem_busy = 0
    issue = 0
    cause = 1
    last_done = -1
    for i in range(n):
        if valid[i] >= 0:
            offered = valid[i]
        else:
            offered = accept[i - 1] + 1 if i > 0 else 0
        a = offered
        waited = False
        if have_prev and fire_prev > a:
            a = fire_prev
            waited = True
        f = a + 1
        if rg_free > f:
            f = rg_free
            waited = True
        length = lengths[i]
        accept[i] = a
        fire_prev = f
        have_prev = True
        if length == 0:
            rg_free = f + 1
            done[i] = -1
            if f + 1 > end:
                end = f + 1
            continue
        start = starts[i]
        w = (start + length - 1) // per_word - start // per_word + 1
        req = f
        left = w
        idx = start % per_word
        remaining = length
        mem_wait = False
        while left > 0:
            count = left if left < max_burst else max_burst
            r = req + 1
            total = words_requested + count
            if total > fifo_words:
                c = pops[total - fifo_words - 1] + 1
                if c > r:
                    r = c
                    waited = True
            words_requested = total
            if ddr:
                t_issue = r * spike_fs
                t0 = t_issue if t_issue > mem_free else mem_free
                if mem_free > t_issue:
                    mem_wait = True
                mem_free = t0 + occupancy[count]
                mem_busy += occupancy[count]
                first = first_fs if first_fs < service[count] else service[count]
                step_fs = (service[count] - first) // (count - 1) if count > 1 else 0
            for k in range(count):
                if ddr:
                    ready = -((-(t0 + first + k * step_fs)) // spike_fs)
                elif k == 0:
                    ready = r + latency
                else:
                    ready = -(1 << 60)
                h = prev_word + 1
                if ready > h:
                    h = ready
                prev_word = h
                n_syn = per_word - idx
                if remaining < n_syn:
                    n_syn = remaining
                e0 = h + 1
                if prev_emit + 1 > e0:
                    e0 = prev_emit + 1
                    waited = True
                cyc = (n_syn + lanes - 1) // lanes
                prev_emit = e0 + cyc - 1
                issue += cyc
                pops[n_pops] = prev_emit
                n_pops += 1
                remaining -= n_syn
                idx = 0
            left -= count
            req = r
        rg_free = req
        done[i] = prev_emit + drain - 1
        if prev_emit + drain > end:
            end = prev_emit + drain
        if done[i] >= last_done:
            last_done = done[i]
            cause = 2 if mem_wait else (3 if waited else 1)
    stats[0] = end if n > 0 else 0
    stats[1] = mem_busy
    stats[2] = issue
    stats[3] = cause
    stats[4] = total_words


@njit(cache=True, nogil=True)
def _emulate_step(gids, counts, update_end, tptr, tnode, tlink, tpass, tdeliver, tcstart,
                  tccount, troot, n_links, service, occupancy, prm, done, network, mem_busy,
                  pipe_busy, cause, act, trace, tracing):
    """Emulate one step; fill the per-node rows and add to the activity counters.

    ``act``: [packets, hops, bytes, synaptic events, marker hops]. ``trace`` (when
    ``tracing``): [4, n_nodes, m] per node and spike (in sender order) arrival, accept and
    last write (fs; -1 without synapses) and synapses.
    """
    P = prm.n_nodes
    m = gids.shape[0]
    sp = prm.spike_period
    # Dispatch ------------------------------------------------------------------------------
    ready = np.empty(m, np.int64)
    src = np.empty(m, np.int64)
    per = prm.dispatch_per_cycle
    ring = np.full((P, per), -1, np.int64)
    cnt = np.zeros(P, np.int64)
    last_disp = np.full(P, -1, np.int64)
    for k in range(m):
        g = gids[k]
        p = g % P
        li = g // P
        emit = (li // prm.cores + prm.neuron_depth + 1) * prm.neuron_period
        c = _ceil_div(emit, sp)
        slot = cnt[p] % per
        if cnt[p] >= per and ring[p, slot] + 1 > c:
            c = ring[p, slot] + 1
        ring[p, slot] = c
        cnt[p] += 1
        last_disp[p] = c
        ready[k] = c * sp + prm.dispatch_fs
        src[k] = p
    # Network -------------------------------------------------------------------------------
    arrival = np.empty((P, m), np.int64)
    for k in range(m):
        arrival[src[k], k] = ready[k] + prm.deliver_fs
    marker_last = np.zeros(P, np.int64)
    n_packets = m + (P if prm.markers else 0)
    max_entries = 1
    for s in range(P):
        e = tptr[s + 1] - tptr[s]
        if e + 1 > max_entries:
            max_entries = e + 1
    cap = n_packets * max_entries + 1
    ht = np.empty(cap, np.int64)
    hk = np.empty(cap, np.int64)
    nh = 0
    free = np.zeros(n_links, np.int64)
    for k in range(m):
        if troot[src[k]] > 0:
            nh = _heap_push(ht, hk, nh, ready[k], k * max_entries)
            act[0] += troot[src[k]]
    if prm.markers:
        for p in range(P):
            c = _ceil_div(update_end[p], sp)
            if last_disp[p] + 1 > c:
                c = last_disp[p] + 1
            t0 = c * sp + prm.dispatch_fs
            marker_last[p] = t0 + prm.deliver_fs
            if troot[p] > 0:
                nh = _heap_push(ht, hk, nh, t0, (m + p) * max_entries)
    while nh > 0:
        tau, key, nh = _heap_pop(ht, hk, nh)
        q = key // max_entries
        e = key % max_entries - 1
        s = src[q] if q < m else q - m
        base = tptr[s]
        if e >= 0:
            idx = base + e
            if tdeliver[idx]:
                node = tnode[idx]
                if q < m:
                    arrival[node, q] = tau + prm.deliver_fs
                elif tau + prm.deliver_fs > marker_last[node]:
                    marker_last[node] = tau + prm.deliver_fs
            c0 = tcstart[idx]
            nc = tccount[idx]
        else:
            c0 = 0
            nc = troot[s]
        for c in range(c0, c0 + nc):
            idx = base + c
            lid = tlink[idx]
            if tpass[idx]:
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
    # Fetch and synapse pipeline per node -----------------------------------------------------
    syn = prm.synapse_period
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
        _deliver_timing(valid, starts, lengths, prm.max_burst, prm.fifo_words, 1, prm.lanes,
                        prm.drain, prm.per_word, True, syn, service, occupancy,
                        prm.first_word_fs, acc, dn, stats)
        last_write = stats[0] * syn
        for j in range(m):
            if lengths[j] > 0:
                act[2] += _ceil_div(lengths[j], prm.per_word) * prm.fetch_bytes
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
        done[p] = d
        network[p] = net
        mem_busy[p] = stats[1]
        pipe_busy[p] = stats[2]
        cause[p] = why


@njit(cache=True, nogil=True)
def _emulate_steps(senders, step_ptr, counts, update_end, tptr, tnode, tlink, tpass, tdeliver,
                   tcstart, tccount, troot, n_links, service, occupancy, prm, done, network,
                   mem_busy, pipe_busy, cause, step_fs, bottleneck, act):
    """Emulate every step; ``step_ptr`` delimits each step's senders (sorted by id)."""
    n_steps = step_ptr.shape[0] - 1
    trace = np.zeros((4, 1, 1), np.int64)
    for t in range(n_steps):
        gids = senders[step_ptr[t]:step_ptr[t + 1]]
        _emulate_step(gids, counts, update_end, tptr, tnode, tlink, tpass, tdeliver, tcstart,
                      tccount, troot, n_links, service, occupancy, prm, done[t], network[t],
                      mem_busy[t], pipe_busy[t], cause[t], act, trace, False)
        best = 0
        for p in range(prm.n_nodes):
            if done[t, p] > done[t, best]:
                best = p
        step_fs[t] = done[t, best] + prm.barrier_fs
        bottleneck[t] = cause[t, best]
