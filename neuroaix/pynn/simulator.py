"""The simulator state of the PyNN backend: cell ids, the lazily built network and the run.

PyNN scripts describe a network object by object (populations, projections, current
sources, recorders). neuroaix builds it in one piece: at the first ``run()`` (or the first
read of realised weights) the state turns the PyNN objects into one ``neuroaix.Network``,
builds it for ``partitions`` partitions and starts a ``Simulator``; later ``run()`` calls
continue that simulation, so ``run(100); run(100)`` equals ``run(200)``. A change between
runs (cell parameters, current sources, projection weights and delays) rebuilds the network
with the new values and carries the simulation's state into it (``State.carry``).
``reset()`` drops the simulator: the next ``run()`` starts again from the initial state (the
network is rebuilt only when something changed). Under MPI (``mpiexec -n N``) every rank
builds its own partitions and runs them with ``neuroaix.engine.mpi.MPISimulator``.
"""

from __future__ import annotations

import math

import numpy as np
from pyNN import common

from neuroaix import numerics as nx
from neuroaix.engine import Simulator
from neuroaix.engine.mpi import MPISimulator, rank_partitions
from neuroaix.network import Network
from neuroaix.recordings import SIGNALS

__all__ = ["ID", "State", "name", "state"]

#: The backend's name, as PyNN's recorders write it into their metadata.
name = "neuroaix"


class ID(int, common.IDMixin):
    """A cell of the PyNN model: its integer value is the neuron's global id in the engine."""

    def __init__(self, n):
        int.__init__(n)
        common.IDMixin.__init__(self)


class State(common.control.BaseState):
    """Everything ``setup()`` creates: the PyNN objects, the network, the engine and the clock.

    ``t`` is the simulated time in ms, always a whole number of steps of ``dt``.
    """

    def __init__(self):
        common.control.BaseState.__init__(self)
        self.mpi_rank = 0
        self.num_processes = 1
        #: The MPI communicator when the script runs on more than one rank, else None.
        self.comm = None
        self.dt = 0.1
        self.min_delay = 0.1
        self.max_delay = 25.5
        self.seed = 12345
        self.partitions = 1
        self.threads = None
        self.backend = "cpu"
        self.clear()

    # Lifecycle ------------------------------------------------------------------------------

    def clear(self):
        """Forget the whole model (``setup()`` and ``end()``)."""
        self.populations = []
        self.projections = []
        self.current_sources = []
        self.recorders = set()
        self.write_on_end = []
        self.id_counter = 0
        self.segment_counter = -1
        self._network = None
        self._built = None
        self._sim = None
        self._horizon = 0
        self._folds = {}
        self._sim_network = None
        self.reset()

    def reset(self):
        """Go back to t = 0 and the initial state; the next run starts a new segment."""
        if getattr(self, "_times_changed", False) or getattr(self, "_stale", False):
            self._network = None
            self._built = None
        self._times_changed = False
        self._stale = False
        self.running = False
        self._sim = None
        self._past_signals = []
        self._raster = None
        self._keep_folds = False
        self._step = 0
        self.t_start = 0
        self.segment_counter += 1
        for source in self.current_sources:
            source._reset()

    def changed(self, what: str, between_runs: bool = False) -> None:
        """Note a change of the model.

        ``between_runs`` changes (cell parameters, current sources, synaptic weights and
        delays) may come after ``run()``: every projection keeps the synapses it realised
        (``Projection._freeze``), and the next run rebuilds the network and carries the
        state into it (``carry``). Other changes are refused once a simulation is under way.

        Raises
        ------
        RuntimeError
            For any other change after ``run()`` and before ``reset()``.
        """
        if self._sim is not None:
            if not between_runs:
                raise RuntimeError(
                    f"neuroaix cannot change {what} during a simulation: the network is built "
                    "at the first run(); make the change before it, or call reset() first")
            if self._network is not None:
                # keep the synapses drawn so far: the rebuilt network must hold the same
                for proj in self.projections:
                    proj._freeze(self._network)
            self._stale = True
        self._network = None
        self._built = None

    def spike_times_changed(self, pop) -> None:
        """Give the running simulation a SpikeSourceArray population's new spike times.

        They act from the next step on (times already past are ignored, as the engine's
        ``Simulator.set_spike_times``); after ``reset()`` the network is built with them.
        """
        self._sim.set_spike_times(pop._engine.name,
                                  pop.celltype.spike_trains(pop._parameters, self.dt))
        self._times_changed = True

    @property
    def t(self) -> float:
        """Simulated time in ms."""
        return self._step * self.dt

    @property
    def step(self) -> int:
        """The next step to be simulated."""
        return self._step

    def run(self, simtime: float) -> None:
        """Advance by ``simtime`` ms."""
        self.run_until(self.t + simtime)

    def run_until(self, tstop: float) -> None:
        """Advance to ``tstop`` ms (rounded to the nearest step)."""
        target = int(math.floor(tstop / self.dt + 0.5))
        if target < self._step:
            raise ValueError(f"run_until({tstop!r}) lies in the past (t = {self.t!r} ms)")
        if target > self._horizon and any(s.open_ended for s in self.current_sources):
            # sources of one amplitude per step and no end are generated up to the horizon
            self._horizon = max(target, 2 * self._horizon)
            self.changed("the horizon of the current sources", between_runs=True)
        if self._sim is not None and self._stale:
            self.carry()
        sim = self.simulator()
        sim.run_steps(target - self._step, record=True)
        self._step = target
        self._raster = None
        self.running = True

    def carry(self) -> None:
        """Continue the simulation under changed parameters, current sources or synapses.

        The network is built again from the PyNN model as it now is (every projection as
        the synapses it realised, with the weights and delays ``set`` gave them; every
        current source's schedule as if it had held from t = 0) and a new simulator starts
        from the old one's state at the current step ``a``: the neurons' state, the ring
        buffers (spikes already sent keep the weights they were sent with), the Poisson
        generators, the counters and the raster. The membrane potential keeps its value in
        mV: the engine holds it relative to ``E_L``, so a changed ``v_rest`` shifts the
        stored value by ``floor((E_L old - E_L new) * 2**16 + 1/2)``. So ``run(a); set(...);
        run(b)`` equals a run of the old network to step ``a`` followed by the new network
        from that state, the same for any partitions, threads and ranks.

        Raises
        ------
        ValueError
            If the new synapses need a deeper ring buffer than spikes in flight allow
            (longer delays) or the network changed its size.
        """
        old, old_net, old_built = self._sim, self._sim_network, self._sim.network
        data = dict(old.backend.state())
        data["counters"] = old.backend.counts()
        data["senders"], data["steps"] = old.backend.raster(everywhere=False) or (None, None)
        self._past_signals.append(self._signals_of(old, old_net))
        self._sim = None
        self._stale = False
        self._network = None
        self._built = None
        built = self.built()
        if int(built.n_neurons) != int(old_built.n_neurons):
            raise ValueError("neuroaix cannot change the number of cells between runs")
        shift = np.floor((self._e_l(old_net, old_built) - self._e_l(self.network(), built))
                         * (1 << nx.V_FRAC_BITS) + 0.5).astype(np.int64)
        data["v"] = np.clip(data["v"].astype(np.int64) + shift, nx.INT32_MIN,
                            nx.INT32_MAX).astype(np.int32)
        data["ring"] = self._reshape_ring(data["ring"], int(built.ring_depth))
        sim = self.simulator()
        sim.backend.load(data)
        sim.t = self._step
        for source in self.current_sources:
            source._start_epoch(self._step, self.dt, self._horizon)

    def _reshape_ring(self, ring: np.ndarray, depth: int) -> np.ndarray:
        """Return the ring buffers for ring depth ``depth`` (step ``s`` in slot
        ``s mod depth``), keeping the spikes in flight at their steps."""
        old = ring.shape[0]
        if old == depth:
            return ring
        future = self._step + np.arange(old)
        pending = future[np.any(ring[future % old] != 0, axis=(1, 2))]
        if pending.size and pending.max() >= self._step + depth:
            raise ValueError(
                "neuroaix cannot shorten the delays between runs while spikes sent with the "
                f"old delays are still in flight (up to step {int(pending.max())}); set the "
                "delays before the first run, or after reset()")
        out = np.zeros((depth, *ring.shape[1:]), ring.dtype)
        keep = future[:min(old, depth)]
        out[keep % depth] = ring[keep % old]
        return out

    @staticmethod
    def _e_l(net, built) -> np.ndarray:
        """Return every cell's E_L (mV; 0 for spike sources)."""
        e_l = np.array([float(getattr(p.model, "E_L", 0.0) or 0.0) for p in net.populations])
        return e_l[np.asarray(built.pop_of, np.int64)]

    # The network and the engine -------------------------------------------------------------

    def network(self) -> Network:
        """Return the ``neuroaix.Network`` of the PyNN model (built on first use)."""
        if self._network is None:
            net = Network(dt=self.dt, seed=self.seed)
            dc = np.zeros(self.id_counter)
            for source in self.current_sources:
                for cells, amplitude in source._engine_inputs(self.dt, self._horizon):
                    dc[cells] += amplitude
            if not self._keep_folds:
                self._folds = self._poisson_folds()
            folds = self._folds
            inputs = {id(proj.post): (rate, proj._rule[1]["weight"])
                      for proj, rate in folds.items()}
            sources = {id(proj.pre) for proj in folds}
            for pop in self.populations:
                pop._add_to(net, dc[int(pop.first_id):int(pop.first_id) + pop.size],
                            poisson_in=inputs.get(id(pop)), folded=id(pop) in sources)
            for source in self.current_sources:
                for cells, times, amplitudes in source._engine_steps(self.dt,
                                                                     self._horizon):
                    for pop in self.populations:
                        pop._add_step_current(net, np.unique(cells), times, amplitudes)
            for proj in self.projections:
                proj._add_to(net, folded=proj in folds)
            self._network = net
        return self._network

    def _poisson_folds(self) -> dict:
        """Return the projections whose Poisson sources become their targets' own Poisson
        input, with the sources' rate (Hz).

        A SpikeSourcePoisson population is folded when its spikes are not recorded, its
        cells share one rate (start 0, the default duration) and each of its projections is
        a OneToOneConnector of one constant weight onto a whole population of neurons that
        receives no other folded input: every target then receives an independent Poisson
        train of that rate, as its own generator draws it (a Poisson count per step, so any
        rate), shifted by the delay, which is all a one-to-one source can give it.
        """
        folds, taken = {}, set()
        for pop in self.populations:
            if pop.celltype.__class__.__name__ != "SpikeSourcePoisson" or any(
                    cells for cells in pop.recorder.recorded.values()):
                continue
            rates = {k: np.unique(v) for k, v in pop._parameters.items()}
            if any(len(v) != 1 for v in rates.values()) or rates["start"][0] != 0.0 or \
                    rates["duration"][0] < 1e9:
                continue
            out = [p for p in self.projections if p.pre is pop]
            if not out or not all(p._can_fold() for p in out) or \
                    len({id(p.post) for p in out}) != len(out) or \
                    any(id(p.post) in taken for p in out):
                continue
            for p in out:
                folds[p] = float(rates["rate"][0])
                taken.add(id(p.post))
        return folds

    def built(self):
        """Return the built network (``partitions`` partitions, ``threads`` threads; under
        MPI the partitions of this rank)."""
        if self._built is None:
            only = None
            if self.comm is not None:
                only = rank_partitions(self.partitions, self.num_processes, self.mpi_rank)
            self._built = self.network().build(partitions=self.partitions,
                                               threads=self.threads, only=only)
        return self._built

    def probed_ids(self) -> np.ndarray:
        """Return the global ids whose state any recorder samples (sorted)."""
        ids = set()
        for rec in self.recorders:
            for variable, cells in rec.recorded.items():
                if variable.name != "spikes":
                    ids.update(int(c) for c in cells)
        return np.array(sorted(ids), np.int64)

    def simulator(self) -> Simulator:
        """Return the engine's simulator, creating it at the first run after setup or reset.

        Raises
        ------
        NotImplementedError
            Under MPI for recordings of ``v`` or synaptic currents (the engine samples the
            state in one process only).
        """
        if self._sim is None:
            built, probes = self.built(), self.probed_ids()
            if self.comm is not None:
                if probes.size:
                    raise NotImplementedError(
                        "recording 'v', 'isyn_exc' or 'isyn_inh' is not supported by "
                        f"neuroaix under MPI ({self.num_processes} processes): the engine "
                        "samples the state in one process only; record 'spikes', or run "
                        "the script without mpiexec")
                self._sim = MPISimulator(built, comm=self.comm, threads=self.threads,
                                         progress=False)
            else:
                self._sim = Simulator(built, backend=self.backend, threads=self.threads,
                                      probes=probes, progress=False)
            self._sim_network = self.network()
            self._keep_folds = True
            if not self._past_signals:
                for source in self.current_sources:
                    source._start_epoch(self._step, self.dt, self._horizon)
        return self._sim

    def raster(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the raster ``(senders, steps)`` so far (collective under MPI: every rank
        asks, every rank gets the whole raster)."""
        if self._sim is None:
            return np.zeros(0, np.int32), np.zeros(0, np.int64)
        if self._raster is None:
            self._raster = self._sim.spikes()
        return self._raster

    def _signals_of(self, sim, net) -> dict:
        """Return ``sim``'s probe samples in PyNN's units: ``v`` (mV, absolute),
        ``isyn_exc``, ``isyn_inh`` (nA), one row per probed id."""
        probes = sim.probes()
        built = sim.network
        ids = np.asarray(probes["ids"], np.int64)
        e_l = self._e_l(net, built)[ids]
        out = {name: probes[key] * factor for name, key, _, factor in SIGNALS}
        out["v"] = out["v"] + e_l[:, None]
        out["ids"] = ids
        out["v0"] = built.v0[ids].astype(np.float64) / (1 << nx.V_FRAC_BITS) + e_l
        return out

    def signals(self, name: str, ids: np.ndarray) -> np.ndarray:
        """Return the samples of ``name`` (``v``, ``isyn_exc``, ``isyn_inh``) of the cells
        ``ids``: shape ``(steps + 1, len(ids))``, the initial state first, over every
        network this segment ran (``carry``)."""
        parts = self._past_signals + [self._signals_of(self._sim, self._sim_network)]
        cols = np.searchsorted(parts[0]["ids"], ids)
        first = parts[0]["v0"][cols] if name == "v" else np.zeros(ids.size)
        return np.vstack([first[None, :]] + [p[name][cols].T for p in parts])

    @property
    def has_simulator(self) -> bool:
        """Whether a simulation is under way (between the first run and reset or end)."""
        return self._sim is not None


state = State()
