"""The simulation engine's front end: a built network, run step by step by a backend.

Lifecycle (as in NEST and GeNN): build the network, create a ``Simulator`` from it, call
``simulate(t_ms)`` as often as needed (each call continues where the last one stopped), read
spikes, counters, probes and ring buffers, save a checkpoint, restore it later.

The state and the steps belong to a backend (neuroaix.engine.backend): the Numba CPU engine
(``"cpu"``), the plain-Python reference (``"reference"``) or, through ``MPISimulator``, the
CPU engine spread over MPI ranks. The raster is bit-identical on every backend and for any
number of threads and partitions: every partition (hardware node) owns its neurons, ring
buffers and synapse rows; spikes are exchanged after every step in ascending global id
(docs/architecture.md).
"""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import time
from collections.abc import Sequence
from contextlib import contextmanager

import numpy as np

from neuroaix import numerics as nx
from neuroaix._threads import check_threads
from neuroaix.checks import check_choice, check_int, check_number
from neuroaix.engine import _cpu, _reference  # noqa: F401 - they register the backends
from neuroaix.engine import checkpoint as _ckpt
from neuroaix.engine.backend import BACKENDS, Backend
from neuroaix.engine.state import COUNTERS
from neuroaix.neuron import MODEL_KINDS
from neuroaix.outputs import format_duration

__all__ = ["Simulator", "spike_hash"]


def spike_hash(senders: np.ndarray, steps: np.ndarray) -> str:
    """Return the sha256 of a raster: (step, sender) pairs sorted by step then sender.

    Each pair is hashed as little-endian int64 step followed by little-endian int32 sender.
    """
    senders = np.asarray(senders, dtype=np.int32)
    steps = np.asarray(steps, dtype=np.int64)
    order = np.lexsort((senders, steps))
    rec = np.empty(len(order), dtype=[("step", "<i8"), ("sender", "<i4")])
    rec["step"] = steps[order]
    rec["sender"] = senders[order]
    return hashlib.sha256(rec.tobytes()).hexdigest()


def _check_network(network, who: str) -> None:
    if not hasattr(network, "partitions") or not hasattr(network, "ring_depth"):
        raise TypeError(
            f"{who} needs a built network, not {type(network).__name__}; "
            "call net.build(partitions=...) first"
        )


class Simulator:
    """Run a built network with one of the backends (the Numba engine by default).

    Parameters
    ----------
    network : BuiltNetwork
        The result of ``Network.build(partitions=P)``; its partitions are the engine's.
    backend : {"cpu", "reference"}
        The Numba CPU engine (default) or the plain-Python reference (slow; for small
        networks and tests). Both give the same raster, state and counters.
    threads : int, optional
        Worker threads (default: all that Numba has, usually the core count); the reference
        runs on one.
    probes : sequence of int, optional
        Global ids whose V, I_ex and I_in are recorded at the end of every recorded step.
    progress : bool, optional
        Draw a progress bar on stderr for runs longer than two seconds (default: when
        stderr is a terminal).

    Raises
    ------
    TypeError
        If ``network`` is not a built network (call ``Network.build`` first).
    ValueError
        If ``backend``, ``threads`` or ``probes`` are out of range.
    """

    def __init__(self, network, *, backend: str = "cpu", threads: int | None = None,
                 probes: Sequence[int] | None = None, progress: bool | None = None):
        _check_network(network, "Simulator")
        check_choice("backend", backend, tuple(BACKENDS))
        threads = check_threads(threads)
        probe_ids = self._check_probes(network, probes)
        self._attach(BACKENDS[backend](network, threads=threads, probe_ids=probe_ids),
                     progress)

    @staticmethod
    def _check_probes(network, probes) -> np.ndarray:
        probes = [] if probes is None else [int(g) for g in probes]
        n = int(network.n_neurons)
        bad = [g for g in probes if not 0 <= g < n]
        if bad:
            raise ValueError(f"probe ids must lie in [0, {n}), not {bad[0]!r}")
        return np.array(probes, np.int64)

    def _attach(self, backend: Backend, progress: bool | None) -> None:
        """Take ``backend`` as this simulator's (every constructor ends here)."""
        #: The backend that holds the state and runs the steps.
        self.backend = backend
        #: The built network.
        self.network = backend.network
        #: Worker threads.
        self.threads = backend.threads
        #: Partition layout of the network.
        self.layout = backend.layout
        #: Probed global ids.
        self.probe_ids = backend.probe_ids
        self.progress = (sys.stderr.isatty() if progress is None else bool(progress)) \
            and backend.is_root
        self._probe_chunks: list[np.ndarray] = []
        self._probe_steps: list[np.ndarray] = []
        #: Current step: the next step to be simulated.
        self.t = 0
        #: True after a run was stopped by an interrupt (Ctrl-C).
        self.interrupted = False
        #: The spike sources' table (emission steps, global ids; by step then id): the
        #: network's, until ``set_spike_times`` replaces part of it.
        self._sources = (self.network.source_step, self.network.source_gid)

    # Running ------------------------------------------------------------------------------

    @property
    def time_ms(self) -> float:
        """Biological time simulated so far, in ms."""
        return self.t * float(self.network.dt)

    def simulate(self, t_ms: float, *, record: bool = True) -> None:
        """Advance by ``t_ms`` milliseconds (a whole number of steps), continuing the run.

        Parameters
        ----------
        t_ms : float
            Duration in ms; must be a non-negative multiple of ``dt``.
        record : bool
            Record spikes and probes (False for presimulation).

        Raises
        ------
        TypeError
            If ``t_ms`` is not a number.
        ValueError
            If ``t_ms`` is NaN, infinite, negative or not a multiple of ``dt``.
        KeyboardInterrupt
            On Ctrl-C, after the current chunk of steps; everything recorded is kept and the
            state is consistent (``interrupted`` is set).
        """
        dt = float(self.network.dt)
        t_ms = check_number("t_ms", t_ms, low=0.0, unit="ms")
        steps = round(t_ms / dt)
        if abs(steps * dt - t_ms) > 1e-9 * max(1, t_ms):
            raise ValueError(
                f"t_ms must be a non-negative multiple of dt={dt!r} ms, not {t_ms!r}; "
                f"use e.g. {steps * dt!r}"
            )
        self.run_steps(steps, record=record)

    def run_steps(self, n_steps: int, *, record: bool = True) -> None:
        """Advance by ``n_steps`` steps (see ``simulate``).

        Parameters
        ----------
        n_steps : int
            Steps to run (>= 0).
        record : bool
            Record spikes and probes.
        """
        n_steps = check_int("n_steps", n_steps, low=0)
        start = time.perf_counter()
        end = self.t + n_steps
        bar = _ProgressBar(n_steps, enabled=self.progress)
        with _deferred_interrupt() as stop:
            while self.t < end:
                chunk = min(self.backend.chunk_steps, end - self.t)
                samples = self.backend.advance(self.t, chunk, record)
                if samples is not None:
                    self._probe_chunks.append(samples)
                    self._probe_steps.append(np.arange(self.t, self.t + chunk, dtype=np.int64))
                self.t += chunk
                bar.update(n_steps - (end - self.t), time.perf_counter() - start)
                if self.backend.any(stop.requested):
                    self.interrupted = True
                    break
        bar.close()
        if self.interrupted:
            raise KeyboardInterrupt(f"simulation interrupted at step {self.t}")

    def set_spike_times(self, population: str, spike_times_ms) -> None:
        """Give the spike sources of ``population`` new spike times from the current step on.

        Parameters
        ----------
        population : str
            Name of a population made by ``Network.add_spike_source``.
        spike_times_ms : sequence of sequences of float
            One sequence of times (ms) per source of the population, quantised as
            ``Network.add_spike_source`` does. Times whose emission step is already
            simulated (``floor(T/dt + 1/2) - 1 < t``) are ignored: the new times act in
            future steps only and the raster keeps the spikes sent so far. The result does
            not depend on partitions, threads or backend (the table is global).

        Raises
        ------
        ValueError
            For an unknown or non-source population, a wrong number of sequences, or two
            future times of one source in one step.
        """
        net = self.network
        names = [p[0] for p in net.populations]
        check_choice("population", population, tuple(names))
        k = names.index(population)
        _, start, stop = net.populations[k]
        if MODEL_KINDS[int(net.model_kind[k])] != "spike_source_array":
            raise ValueError(f"population {population!r} is not a spike source; only the "
                             "times of sources made by add_spike_source can be set")
        if isinstance(spike_times_ms, (str, bytes)) or not hasattr(spike_times_ms, "__len__") \
                or len(spike_times_ms) != stop - start:
            raise ValueError(f"spike_times_ms must hold one sequence of times per source of "
                             f"{population!r} ({stop - start})")
        new_step, new_gid = [], []
        for i, train in enumerate(spike_times_ms):
            steps = sorted(nx.ms_to_steps(check_number(f"spike_times_ms[{i}]", x, unit="ms"),
                                          float(net.dt)) - 1 for x in train)
            steps = [s for s in steps if s >= self.t]
            if any(a == b for a, b in zip(steps, steps[1:])):
                raise ValueError(f"two spike times of source {i} of {population!r} round to "
                                 "the same step; a source fires at most once per step")
            new_step += steps
            new_gid += [start + i] * len(steps)
        old_step, old_gid = self._sources
        keep = (old_gid < start) | (old_gid >= stop)
        step = np.concatenate([old_step[keep], np.array(new_step, np.int64)])
        gid = np.concatenate([old_gid[keep], np.array(new_gid, np.int64)])
        order = np.lexsort((gid, step))
        self._sources = (step[order], gid[order])
        self.backend.set_source_spikes(*self._sources)

    # Results ------------------------------------------------------------------------------

    def spikes(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the recorded raster ``(senders int32, steps int64)``, by step then sender."""
        return self.backend.raster()

    def spike_hash(self) -> str:
        """Return ``spike_hash`` of the recorded raster."""
        return spike_hash(*self.spikes())

    @property
    def counters(self) -> dict[str, int]:
        """Cumulative counts: spikes, synaptic events delivered, Poisson events, saturations."""
        return {k: int(c) for k, c in zip(COUNTERS, self.backend.counts())}

    def probes(self) -> dict[str, np.ndarray]:
        """Return probe traces: ``steps``, ``v_rel_mv``, ``i_ex_pa``, ``i_in_pa`` (probe x step).

        Potentials are relative to the neuron's E_L, as the engine stores them.
        """
        if not self._probe_chunks:
            empty = np.zeros((len(self.probe_ids), 0))
            return {"ids": self.probe_ids, "steps": np.zeros(0, np.int64), "v_rel_mv": empty,
                    "i_ex_pa": empty, "i_in_pa": empty}
        buf = np.concatenate(self._probe_chunks, axis=2).astype(np.float64)
        return {"ids": self.probe_ids, "steps": np.concatenate(self._probe_steps),
                "v_rel_mv": buf[:, 0] / (1 << nx.V_FRAC_BITS),
                "i_ex_pa": buf[:, 1] / (1 << nx.I_FRAC_BITS),
                "i_in_pa": buf[:, 2] / (1 << nx.I_FRAC_BITS)}

    def ring_buffer(self, p: int) -> np.ndarray:
        """Return a copy of partition ``p``'s ring buffers, shape ``(D, 2, n_local)`` int32."""
        if not 0 <= p < self.layout.n_partitions:
            raise ValueError(f"partition must lie in [0, {self.layout.n_partitions}), not {p!r}")
        return self.backend.ring_buffer(p)

    def state(self) -> dict[str, np.ndarray]:
        """Return the neuron state in global order (V, I_ex, I_in in their formats; ref;
        D_ex, D_in of iaf_psc_alpha neurons, docs/numerics.md section 5c, else 0)."""
        g = self.backend.state()
        return {k: g[k] for k in ("v", "i_ex", "i_in", "ref", "d_ex", "d_in")}

    # Checkpoints --------------------------------------------------------------------------

    def fingerprint(self) -> dict:
        """Return the network fingerprint that a checkpoint of this run carries."""
        return _ckpt.fingerprint(self.network, self.backend.n_synapses)

    def checkpoint(self, path: str | os.PathLike) -> None:
        """Save the whole state (neurons, ring buffers, generators, step, counters, raster).

        The file (neuroaix.engine.checkpoint) is written to a temporary name and renamed, so
        an interrupted save leaves no half-written checkpoint. State is stored in global
        order: it restores into any backend, number of partitions, threads or MPI ranks.
        A distributed run saves collectively; rank 0 writes.
        """
        if self._sources[0] is not self.network.source_step:
            raise ValueError("a simulation whose spike times were changed by set_spike_times "
                             "cannot be checkpointed (the checkpoint holds the network's)")
        b = self.backend
        state = b.state(everywhere=False)
        raster = b.raster(everywhere=False)
        counts = b.counts()
        fp, inputs = self.fingerprint(), _ckpt.inputs(self.network)

        def write():
            if b.is_root:
                _ckpt.write_checkpoint(path, t=self.t, fingerprint=fp, inputs=inputs,
                                       arrays={**state, "counters": counts,
                                               "senders": raster[0], "steps": raster[1]})

        b.collectively(write)

    @classmethod
    def restore(cls, network, path: str | os.PathLike, **kwargs) -> Simulator:
        """Return a simulator for ``network`` in the state saved at ``path``.

        Parameters
        ----------
        network : BuiltNetwork
            The same network (model, scale, seed, input) in any partitioning.
        path : str or os.PathLike
            A checkpoint written by ``checkpoint``.
        **kwargs
            The constructor's keyword arguments.

        Raises
        ------
        CheckpointError
            A ``ValueError``: the file is missing, damaged, of another format version, or
            belongs to another network or other inputs (one line naming the file). Under MPI
            every rank raises it (``CollectiveError``).
        """
        sim = cls(network, **kwargs)
        fp, inputs = sim.fingerprint(), _ckpt.inputs(network)
        data = sim.backend.collectively(
            lambda: _ckpt.read_checkpoint(path, fingerprint=fp, inputs=inputs))
        sim.backend.load(data)
        sim.t = int(data["t"])
        return sim


# Helpers ----------------------------------------------------------------------------------


class _Stop:
    requested = False


@contextmanager
def _deferred_interrupt():
    """Turn SIGINT into a flag checked between chunks, so the state stays consistent."""
    stop = _Stop()
    try:
        previous = signal.getsignal(signal.SIGINT)

        def handler(signum, frame):
            stop.requested = True

        signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: interrupts stay as they are
        previous = None
    try:
        yield stop
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


class _ProgressBar:
    """A one-line progress bar on stderr, shown only once a run has taken two seconds."""

    def __init__(self, total: int, *, enabled: bool):
        self.total = max(int(total), 1)
        self.enabled = enabled
        self.shown = False

    def update(self, done: int, elapsed: float) -> None:
        if not self.enabled or elapsed < 2.0:
            return
        self.shown = True
        frac = done / self.total
        eta = elapsed * (1 - frac) / frac if frac > 0 else float("nan")
        bar = "#" * int(30 * frac)
        sys.stderr.write(f"\r  [{bar:<30}] {100 * frac:5.1f}%  {format_duration(elapsed):>10}"
                         f"  eta {format_duration(eta):<12}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
