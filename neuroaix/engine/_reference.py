"""Plain-Python network simulation per the number contract: the engine's oracle.

Slow (one Python call per neuron per step): for small networks in tests, through
``Simulator(built, backend="reference")``. It reads the same ``BuiltNetwork`` as the engine
and uses only ``neuroaix.numerics`` for arithmetic, in the schedule of docs/architecture.md:
background, update, exchange, deliver. It shares no code with the Numba kernels.
"""

from __future__ import annotations

import numpy as np

from neuroaix import numerics as nx
from neuroaix.engine.backend import Backend, register_backend
from neuroaix.engine.state import COUNTERS
from neuroaix.formats import unpack_synapses
from neuroaix.neuron import MODEL_KINDS

__all__ = ["ReferenceBackend"]


@register_backend
class ReferenceBackend(Backend):
    """The reference backend: Python ints, one neuron at a time (single-threaded)."""

    name = "reference"
    chunk_steps = 10

    def __init__(self, network, *, threads: int, probe_ids: np.ndarray):
        super().__init__(network, threads=threads, probe_ids=probe_ids)
        net = network
        n, n_part, depth = (self.layout.n_neurons, self.layout.n_partitions,
                            self.layout.ring_depth)
        self._kinds = [MODEL_KINDS[int(x)] for x in net.model_kind]
        self._coefs = [nx.AlphaCoefficients(*(int(x) for x in row), *(int(x) for x in arow))
                       if kind == "iaf_psc_alpha" else
                       nx.LIFCoefficients(*(int(x) for x in row))
                       for kind, row, arow in zip(self._kinds, net.coefficients,
                                                  net.alpha_coefficients)]
        self._update = {"iaf_psc_exp": nx.lif_update, "iaf_psc_delta": nx.delta_update,
                        "iaf_psc_alpha": nx.alpha_update}
        #: Step-current schedule of every neuron: (steps, values) or None.
        self._stim = [None if c < 0 else
                      (net.stim_step[net.stim_ptr[c]:net.stim_ptr[c + 1]].tolist(),
                       net.stim_value[net.stim_ptr[c]:net.stim_ptr[c + 1]].tolist())
                      for c in (int(x) for x in net.stim_of)]
        #: Source spikes: the set of (step, gid).
        self._source_spikes = set(zip(net.source_step.tolist(), net.source_gid.tolist()))
        self._tables = [tuple(int(x) for x in row) for row in net.poisson_table]
        self._weights = [int(w) for w in net.poisson_weight]
        self._has_poisson = [bool(x) for x in net.has_poisson]
        self._pop = [int(k) for k in net.pop_of]
        self._states = [self._new_state(int(net.pop_of[g]), int(v), 0, 0, 0, 0, 0)
                        for g, v in enumerate(net.v0)]
        self._rng = [nx.background_seed(int(net.seed), g) for g in range(n)]
        self._rings = [np.zeros((depth, 2, int(self.layout.n_loc[p])), np.int64)
                       for p in range(n_part)]
        self._rows = []
        for part in net.partitions:
            target, weight, delay = unpack_synapses(part.words)
            self._rows.append((np.asarray(part.row_ptr), target, weight, delay))
        self._counts = dict.fromkeys(COUNTERS, 0)
        self._senders: list[int] = []
        self._steps: list[int] = []

    def _new_state(self, k, v, i_ex, i_in, ref, d_ex, d_in):
        """Return the numerics state of a neuron of population ``k``."""
        if self._kinds[k] == "iaf_psc_alpha":
            return nx.AlphaState(v, i_ex, i_in, d_ex, d_in, ref)
        return nx.LIFState(v, i_ex, i_in, ref)

    def advance(self, t0, n_steps, record):
        samples = np.zeros((len(self.probe_ids), 3, n_steps), np.int32)
        for s in range(n_steps):
            fired = self._step(t0 + s)
            if record:
                self._senders += fired
                self._steps += [t0 + s] * len(fired)
                for j, g in enumerate(self.probe_ids):
                    st = self._states[g]
                    samples[j, :, s] = st.v, st.i_ex, st.i_in
        return samples if record and len(self.probe_ids) else None

    def _step(self, t: int) -> list[int]:
        """Run step ``t``; return the senders of its spikes, ascending."""
        n_part = self.layout.n_partitions
        depth = self.layout.ring_depth
        counts = self._counts
        slot = t % depth
        fired = []
        for g in range(self.layout.n_neurons):  # background + update
            p, l = g % n_part, g // n_part
            k = self._pop[g]
            if self._kinds[k] == "spike_source_array":
                if (t, g) in self._source_spikes:
                    fired.append(g)
                continue
            ring = self._rings[p]
            in_ex, in_in = int(ring[slot, 0, l]), int(ring[slot, 1, l])
            ring[slot, :, l] = 0
            counts["saturations"] += nx.ring_saturations(in_ex, in_in)
            if self._has_poisson[k]:
                self._rng[g], u = nx.xorshift64star(self._rng[g])
                c = nx.poisson_count(u, self._tables[k])
                counts["poisson_events"] += c
                if c:
                    if self._weights[k] >= 0:
                        in_ex, sat = nx.saturate(in_ex + c * self._weights[k])
                    else:
                        in_in, sat = nx.saturate(in_in + c * self._weights[k])
                    counts["saturations"] += sat
            stim = self._stim[g]
            i_stim = 0 if stim is None else nx.step_current(*stim, t)
            self._states[g], spiked, sat = self._update[self._kinds[k]](
                self._states[g], in_ex, in_in, self._coefs[k], i_stim)
            counts["saturations"] += sat
            if spiked:
                fired.append(g)
        fired.sort()  # exchange
        counts["spikes"] += len(fired)
        for p in range(n_part):  # deliver
            row_ptr, target, weight, delay = self._rows[p]
            ring = self._rings[p]
            for src in fired:
                for q in range(int(row_ptr[src]), int(row_ptr[src + 1])):
                    w = int(weight[q])
                    ch = 1 if w < 0 else 0
                    s = (t + int(delay[q])) % depth
                    tg = int(target[q])
                    ring[s, ch, tg] = nx.accumulate(int(ring[s, ch, tg]), w)
                    counts["synaptic_events"] += 1
        return fired

    def raster(self, *, everywhere=True):
        return np.array(self._senders, np.int32), np.array(self._steps, np.int64)

    def counts(self):
        return np.array([self._counts[k] for k in COUNTERS], np.int64)

    def state(self, *, everywhere=True):
        n_part = self.layout.n_partitions
        ring = np.empty((self.layout.ring_depth, 2, self.layout.n_neurons), np.int32)
        for p in range(n_part):
            ring[:, :, p::n_part] = self._rings[p]
        return {"v": np.array([s.v for s in self._states], np.int32),
                "i_ex": np.array([s.i_ex for s in self._states], np.int32),
                "i_in": np.array([s.i_in for s in self._states], np.int32),
                "ref": np.array([s.ref for s in self._states], np.int32),
                "rng": np.array(self._rng, np.uint64), "ring": ring,
                "d_ex": np.array([getattr(s, "d_ex", 0) for s in self._states], np.int32),
                "d_in": np.array([getattr(s, "d_in", 0) for s in self._states], np.int32)}

    def set_source_spikes(self, steps, gids):
        self._source_spikes = set(zip(np.asarray(steps).tolist(), np.asarray(gids).tolist()))

    def ring_buffer(self, p):
        return self._rings[p].astype(np.int32)

    def load(self, data):
        keys = ("v", "i_ex", "i_in", "ref", "d_ex", "d_in")
        self._states = [self._new_state(self._pop[g], *(int(data[key][g]) for key in keys))
                        for g in range(self.layout.n_neurons)]
        self._rng = [int(x) for x in data["rng"]]
        n_part = self.layout.n_partitions
        for p in range(n_part):
            self._rings[p][...] = data["ring"][:, :, p::n_part]
        self._counts = {k: int(c) for k, c in zip(COUNTERS, data["counters"])}
        self._senders = [int(x) for x in data["senders"]]
        self._steps = [int(x) for x in data["steps"]]
