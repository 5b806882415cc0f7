"""The simulator state of the PyNN backend: cell ids, the lazily built network and the run.

PyNN scripts describe a network object by object (populations, projections, current
sources, recorders). neuroaix builds it in one piece: at the first ``run()`` (or the first
read of realised weights) the state turns the PyNN objects into one ``neuroaix.Network``,
builds it for ``partitions`` partitions and starts a ``Simulator``; later ``run()`` calls
continue that simulation, so ``run(100); run(100)`` equals ``run(200)``. ``reset()`` drops
the simulator: the next ``run()`` starts again from the initial state (the network is
rebuilt only when something changed).
"""

from __future__ import annotations

import math

import numpy as np
from pyNN import common

from neuroaix.engine import Simulator
from neuroaix.network import Network

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
        self.reset()

    def reset(self):
        """Go back to t = 0 and the initial state; the next run starts a new segment."""
        if getattr(self, "_times_changed", False):
            self._network = None
            self._built = None
        self._times_changed = False
        self.running = False
        self._sim = None
        self._step = 0
        self.t_start = 0
        self.segment_counter += 1

    def changed(self, what: str) -> None:
        """Note a change of the model; refused once a simulation is under way.

        Raises
        ------
        RuntimeError
            After ``run()`` and before ``reset()``: the engine's network is fixed then.
        """
        if self._sim is not None:
            raise RuntimeError(
                f"neuroaix cannot change {what} during a simulation: the network is built "
                "at the first run(); make the change before it, or call reset() first")
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
        sim = self.simulator()
        sim.run_steps(target - self._step, record=True)
        self._step = target
        self.running = True

    # The network and the engine -------------------------------------------------------------

    def network(self) -> Network:
        """Return the ``neuroaix.Network`` of the PyNN model (built on first use)."""
        if self._network is None:
            net = Network(dt=self.dt, seed=self.seed)
            dc = np.zeros(self.id_counter)
            for source in self.current_sources:
                for cells, amplitude in source._engine_inputs():
                    dc[cells] += amplitude
            folds = self._poisson_folds()
            inputs = {id(proj.post): (rate, proj._rule[1]["weight"])
                      for proj, rate in folds.items()}
            sources = {id(proj.pre) for proj in folds}
            for pop in self.populations:
                pop._add_to(net, dc[int(pop.first_id):int(pop.first_id) + pop.size],
                            poisson_in=inputs.get(id(pop)), folded=id(pop) in sources)
            for source in self.current_sources:
                for cells, times, amplitudes in source._engine_steps(self.dt):
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
        """Return the built network (``partitions`` partitions, ``threads`` threads)."""
        if self._built is None:
            self._built = self.network().build(partitions=self.partitions,
                                               threads=self.threads)
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
        """Return the engine's simulator, creating it at the first run after setup or reset."""
        if self._sim is None:
            self._sim = Simulator(self.built(), backend=self.backend, threads=self.threads,
                                  probes=self.probed_ids(), progress=False)
        return self._sim

    @property
    def has_simulator(self) -> bool:
        """Whether a simulation is under way (between the first run and reset or end)."""
        return self._sim is not None


state = State()
