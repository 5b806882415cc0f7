"""Plain-Python network simulation per the number contract: the engine's oracle.

Slow (one Python call per neuron per step): for small networks in tests. It reads the same
``BuiltNetwork`` as the engine and uses only ``neuroaix.numerics`` for arithmetic, in the
schedule of docs/architecture.md: background, update, exchange, deliver.
"""

from __future__ import annotations

import numpy as np

from neuroaix import numerics as nx
from neuroaix.formats import unpack_synapses

__all__ = ["ReferenceResult", "simulate_reference"]


class ReferenceResult:
    """Raster, ring buffers (per partition, ``(D, 2, n_local)``) and counters of a run."""

    def __init__(self, senders, steps, rings, counters, state):
        self.senders = np.asarray(senders, np.int32)
        self.steps = np.asarray(steps, np.int64)
        self.rings = rings
        self.counters = counters
        self.state = state


def simulate_reference(net, n_steps: int) -> ReferenceResult:
    """Simulate ``n_steps`` steps of a built network from its initial state.

    Parameters
    ----------
    net : BuiltNetwork
        A (small) built network.
    n_steps : int
        Steps to simulate.

    Returns
    -------
    ReferenceResult
    """
    n = int(net.n_neurons)
    n_part = len(net.partitions)
    depth = int(net.ring_depth)
    coefs = [nx.LIFCoefficients(*(int(x) for x in row)) for row in net.coefficients]
    tables = [tuple(int(x) for x in row) for row in net.poisson_table]
    weights = [int(w) for w in net.poisson_weight]
    has_poisson = [bool(x) for x in net.has_poisson]
    pop = [int(k) for k in net.pop_of]
    states = [nx.LIFState(int(v), 0, 0, 0) for v in net.v0]
    rng = [nx.background_seed(int(net.seed), g) for g in range(n)]
    n_loc = [(n - p + n_part - 1) // n_part for p in range(n_part)]
    rings = [np.zeros((depth, 2, n_loc[p]), np.int64) for p in range(n_part)]
    rows = []
    for part in net.partitions:
        target, weight, delay = unpack_synapses(part.words)
        rows.append((np.asarray(part.row_ptr), target, weight, delay))
    counters = {"spikes": 0, "synaptic_events": 0, "poisson_events": 0, "saturations": 0}
    senders, steps = [], []
    for t in range(n_steps):
        slot = t % depth
        fired = []
        for g in range(n):  # background + update
            p, l = g % n_part, g // n_part
            k = pop[g]
            in_ex, in_in = int(rings[p][slot, 0, l]), int(rings[p][slot, 1, l])
            rings[p][slot, :, l] = 0
            if has_poisson[k]:
                rng[g], u = nx.xorshift64star(rng[g])
                c = nx.poisson_count(u, tables[k])
                counters["poisson_events"] += c
                if c:
                    if weights[k] >= 0:
                        in_ex, sat = nx.saturate(in_ex + c * weights[k])
                    else:
                        in_in, sat = nx.saturate(in_in + c * weights[k])
                    counters["saturations"] += sat
            states[g], spiked, sat = nx.lif_update(states[g], in_ex, in_in, coefs[k])
            counters["saturations"] += sat
            if spiked:
                fired.append(g)
        fired.sort()  # exchange
        counters["spikes"] += len(fired)
        senders += fired
        steps += [t] * len(fired)
        for p in range(n_part):  # deliver
            row_ptr, target, weight, delay = rows[p]
            ring = rings[p]
            for src in fired:
                for q in range(int(row_ptr[src]), int(row_ptr[src + 1])):
                    w = int(weight[q])
                    ch = 1 if w < 0 else 0
                    s = (t + int(delay[q])) % depth
                    tg = int(target[q])
                    ring[s, ch, tg], sat = nx.accumulate(int(ring[s, ch, tg]), w)
                    counters["saturations"] += sat
                    counters["synaptic_events"] += 1
    state = {
        "v": np.array([s.v for s in states], np.int64),
        "i_ex": np.array([s.i_ex for s in states], np.int64),
        "i_in": np.array([s.i_in for s in states], np.int64),
        "ref": np.array([s.ref for s in states], np.int64),
    }
    return ReferenceResult(senders, steps, [r.astype(np.int32) for r in rings], counters, state)
