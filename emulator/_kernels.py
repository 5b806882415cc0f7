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
    dispatch_per_cycle: int
    dispatch_fs: int
    lanes: int
    pipe_depth: int
    overhead: int
    synapse_bytes: int
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
        l = 2 * i + 1
        if l >= n:
            break
        c = l
        r = l + 1
        if r < n and (ht[r] < ht[l] or (ht[r] == ht[l] and hk[r] < hk[l])):
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
def _emulate_step(gids, counts, update_end, tptr, tnode, tlink, tpass, tdeliver, tcstart,
                  tccount, troot, n_links, service, occupancy, prm, done, network, mem_busy,
                  pipe_busy, cause, act, trace, tracing):
    """Emulate one step; fill the per-node rows and add to the activity counters.

    ``act``: [packets, hops, bytes, synaptic events, marker hops]. ``trace`` (when
    ``tracing``): [6, n_nodes, m] arrival, memory start, data done, pipeline start (fs),
    last write (fs), synapses.
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
    for p in range(P):
        order = np.argsort(arrival[p], kind="mergesort")
        mem_free = 0
        pipe_free = 0
        last_write = 0
        last_cause = _NETWORK
        mb = 0
        pb = 0
        net = marker_last[p] if prm.markers else 0
        for j in range(m):
            k = order[j]
            a = arrival[p, k]
            if a > net:
                net = a
            n = counts[p, gids[k]]
            if n == 0:
                continue
            words = _ceil_div(n * prm.synapse_bytes, prm.fetch_bytes)
            ms = a if a > mem_free else mem_free
            queued = mem_free > a
            mem_free = ms + occupancy[words]
            mb += occupancy[words]
            data_done = ms + service[words]
            first = prm.first_word_fs if prm.first_word_fs < service[words] else service[words]
            ready_c = _ceil_div(ms + first, sp)
            start_c = ready_c if ready_c > pipe_free else pipe_free
            piped = pipe_free > ready_c
            busy = prm.overhead + _ceil_div(n, prm.lanes)
            end_c = start_c + busy
            done_c = _ceil_div(data_done, sp)
            streamed = done_c > end_c
            if streamed:
                end_c = done_c
            pipe_free = end_c
            pb += busy
            lw = (end_c + prm.pipe_depth) * sp
            if lw >= last_write:
                last_write = lw
                if streamed:
                    last_cause = _MEMORY
                elif piped:
                    last_cause = _PIPELINE
                elif queued:
                    last_cause = _MEMORY
                else:
                    last_cause = _NETWORK
            act[2] += words * prm.fetch_bytes
            act[3] += n
            if tracing:
                trace[0, p, k] = a
                trace[1, p, k] = ms
                trace[2, p, k] = data_done
                trace[3, p, k] = start_c * sp
                trace[4, p, k] = lw
                trace[5, p, k] = n
        d = update_end[p]
        why = _UPDATE
        if prm.markers and marker_last[p] > d:
            d = marker_last[p]
            why = _NETWORK
        if last_write > d:
            d = last_write
            why = last_cause
        done[p] = d
        network[p] = net
        mem_busy[p] = mb
        pipe_busy[p] = pb
        cause[p] = why
        if tracing:
            for k in range(m):
                if counts[p, gids[k]] == 0:
                    trace[0, p, k] = arrival[p, k]
                    trace[5, p, k] = 0


@njit(cache=True, nogil=True)
def _emulate_steps(senders, step_ptr, counts, update_end, tptr, tnode, tlink, tpass, tdeliver,
                   tcstart, tccount, troot, n_links, service, occupancy, prm, done, network,
                   mem_busy, pipe_busy, cause, step_fs, bottleneck, act):
    """Emulate every step; ``step_ptr`` delimits each step's senders (sorted by id)."""
    n_steps = step_ptr.shape[0] - 1
    trace = np.zeros((6, 1, 1), np.int64)
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
