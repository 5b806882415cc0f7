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

from neuroaix.engine.mpi import rank_partitions
from neuroaix.pynn import simulator
from neuroaix.recordings import spike_times_ms

__all__ = ["Recorder"]


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

    def get(self, variables, gather=False, filter_ids=None, clear=False, annotations=None,
            locations=None):
        """Return the recorded data as a Neo block (PyNN's ``Recorder.get``).

        Under MPI every rank holds the whole raster, so ``gather=True`` gives every cell's
        data on every rank (rank 0 included, as PyNN's gather does) without a further
        collective; ``gather=False`` gives the cells of this rank's partitions.
        """
        state = simulator.state
        if state.num_processes > 1:
            if not gather:
                mine = set(rank_partitions(state.partitions, state.num_processes,
                                           state.mpi_rank).tolist())
                local = {c for c in self.population.all_cells
                         if int(c) % state.partitions in mine}
                filter_ids = local if filter_ids is None else set(filter_ids) & local
            gather = False
        return super().get(variables, gather, filter_ids, clear, annotations=annotations,
                           locations=locations)

    def _start_step(self) -> int:
        t0 = float(self._recording_start_time.rescale("ms").magnitude)
        return int(math.floor(t0 / simulator.state.dt + 0.5))

    def _get_spiketimes(self, ids, clear=False):
        state = simulator.state
        ids = np.asarray([int(i) for i in ids], np.int64)
        if not state.has_simulator or ids.size == 0:
            return np.zeros(0, np.int64), np.zeros(0)
        senders, steps = state.raster()
        keep = np.isin(senders, ids) & (steps >= self._start_step())
        return senders[keep].astype(np.int64), spike_times_ms(steps[keep], state.dt)

    def _get_all_signals(self, variable, ids, clear=False):
        state = simulator.state
        ids = np.asarray([int(i) for i in ids], np.int64)
        if ids.size == 0 or not state.has_simulator:
            return np.zeros((0, ids.size)), None
        full = state.signals(variable.name, ids)
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

