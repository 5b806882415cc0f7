"""Recording of the PyNN backend: spikes from the engine's raster, state from its probes.

The engine records every spike; a recorder picks its cells' spikes from the raster. The
cells of analog recordings ('v', 'isyn_exc', 'isyn_inh') become the simulator's probes at
the first run, which sample the state at the end of every step. Times follow
``neuroaix.recordings``: a spike of step ``k`` and the sample of step ``k`` are at
``(k + 1) * dt`` ms; the sample at ``t = 0`` is the initial state. PyNN's ``Recorder`` turns
them into Neo segments.
"""

from __future__ import annotations

import math

import numpy as np
from pyNN import recording

from neuroaix import numerics as nx
from neuroaix.pynn import simulator
from neuroaix.recordings import SIGNALS, spike_times_ms

__all__ = ["Recorder"]

_SIGNALS = {name: (key, factor) for name, key, _, factor in SIGNALS}


class Recorder(recording.Recorder):
    """Collect a population's recorded data from the engine."""

    _simulator = simulator

    def _record(self, variable, new_ids, sampling_interval=None):
        state = simulator.state
        dt = state.dt
        if sampling_interval is not None:
            k = sampling_interval / dt
            if abs(k - round(k)) > 1e-9 or round(k) < 1:
                raise ValueError(f"sampling_interval must be a multiple of dt={dt!r} ms, not "
                                 f"{sampling_interval!r}")
            self.sampling_interval = round(k) * dt
        if variable.name == "spikes" and new_ids:
            if self.population._folded_source and state.has_simulator:
                raise RuntimeError("neuroaix folded these Poisson sources into their targets' "
                                   "input at the first run(); record their spikes before it, "
                                   "or after reset()")
            if not state.has_simulator:
                state.changed("the recorded cells")
        if variable.name != "spikes" and new_ids and state.has_simulator:
            probed = set(state.simulator().probe_ids.tolist())
            if not {int(i) for i in new_ids} <= probed:
                raise RuntimeError(f"neuroaix chooses the recorded cells of {variable.name!r} "
                                   "at the first run(); call record() before it, or after "
                                   "reset()")

    def _start_step(self) -> int:
        t0 = float(self._recording_start_time.rescale("ms").magnitude)
        return int(math.floor(t0 / simulator.state.dt + 0.5))

    def _get_spiketimes(self, ids, clear=False):
        state = simulator.state
        ids = np.asarray([int(i) for i in ids], np.int64)
        if not state.has_simulator or ids.size == 0:
            return np.zeros(0, np.int64), np.zeros(0)
        senders, steps = state.simulator().spikes()
        keep = np.isin(senders, ids) & (steps >= self._start_step())
        return senders[keep].astype(np.int64), spike_times_ms(steps[keep], state.dt)

    def _get_all_signals(self, variable, ids, clear=False):
        state = simulator.state
        ids = np.asarray([int(i) for i in ids], np.int64)
        if ids.size == 0 or not state.has_simulator:
            return np.zeros((0, ids.size)), None
        sim = state.simulator()
        key, factor = _SIGNALS[variable.name]
        probes = sim.probes()
        cols = np.searchsorted(probes["ids"], ids)
        data = probes[key][cols].T * factor
        built = sim.network
        if variable.name == "v":
            initial = built.v0[ids].astype(np.float64) / (1 << nx.V_FRAC_BITS)
            pops = state.network().populations
            e_l = np.array([pops[int(built.pop_of[i])].model.E_L for i in ids])
            data = data + e_l
            initial = initial + e_l
        else:
            initial = np.zeros(ids.size)
        full = np.vstack([initial[None, :], data])
        start = self._start_step()
        every = int(round(self.sampling_interval / state.dt))
        return full[start::every], None

    def _local_count(self, variable, filter_ids=None):
        ids = sorted(self.filter_recorded(variable, filter_ids))
        counts = {int(i): 0 for i in ids}
        senders, _ = self._get_spiketimes(ids)
        for gid, n in zip(*np.unique(senders, return_counts=True)):
            counts[int(gid)] = int(n)
        return counts

    def _clear_simulator(self):
        pass

    def _reset(self):
        pass

