"""The simulation engine: a built network, run step by step by the Numba kernels.

Lifecycle (as in NEST and GeNN): build the network, create a ``Simulator`` from it, call
``simulate(t_ms)`` as often as needed (each call continues where the last one stopped), read
spikes, counters, probes and ring buffers, save a checkpoint, restore it later.

The raster is bit-identical for any number of threads and partitions: every partition
(hardware node) owns its neurons, ring buffers and synapse rows; spikes are exchanged after
every step in ascending global id (docs/architecture.md).
"""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import time
from collections.abc import Sequence
from contextlib import contextmanager

import numba
import numpy as np
from numba.typed import List

from neuroaix import numerics as nx
from neuroaix._threads import set_num_threads
from neuroaix.engine import _kernels as _k
from neuroaix.engine.state import PartitionLayout

__all__ = ["CHECKPOINT_VERSION", "Simulator", "spike_hash"]

#: Version of the checkpoint file layout.
CHECKPOINT_VERSION = 1
_STEPS_PER_CHUNK = 500
_FINGERPRINT_KEYS = ("n_neurons", "n_synapses", "seed", "ring_depth")


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


def population_constants(network):
    """Return the kernels' per-population arguments of a built network.

    Returns
    -------
    tuple
        ``pop_start`` (global-id bounds, n_pop + 1; populations are contiguous), the
        coefficient table, ``has_poisson``, the Poisson tables, ``plen`` (entries below 2**32:
        thresholds past them never count, so the scan stops there), ``pguide`` (for each top
        byte b of u, the count of thresholds <= b * 2**24: the scan starts there, the same
        count as the full scan in fewer comparisons) and the background weights.
    """
    pop_start = np.array([start for _, start, _ in network.populations]
                         + [network.n_neurons], np.int64)
    coef = np.ascontiguousarray(network.coefficients, dtype=np.int64)
    has_poisson = np.ascontiguousarray(network.has_poisson, dtype=np.bool_)
    ptable = np.ascontiguousarray(network.poisson_table, dtype=np.int64)
    plen = (ptable < (1 << 32)).sum(axis=1).astype(np.int64)
    bottoms = np.arange(256, dtype=np.int64) << 24
    pguide = (ptable[:, None, :] <= bottoms[None, :, None]).sum(axis=2)
    pweight = np.ascontiguousarray(network.poisson_weight, dtype=np.int64)
    return pop_start, coef, has_poisson, ptable, plen, pguide, pweight


def _check_threads(threads):
    limit = numba.config.NUMBA_NUM_THREADS
    if threads is None:
        return limit
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)):
        raise TypeError(f"threads must be an int, not {threads!r}")
    if not 1 <= threads <= limit:
        raise ValueError(
            f"threads must lie in [1, {limit}], not {threads!r}; set the environment variable "
            f"NUMBA_NUM_THREADS before starting Python to allow more"
        )
    return int(threads)


class Simulator:
    """Run a built network with the fixed-point Numba engine.

    Parameters
    ----------
    network : BuiltNetwork
        The result of ``Network.build(partitions=P)``; its partitions are the engine's.
    threads : int, optional
        Worker threads (default: all that Numba has, usually the core count).
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
        If ``threads`` or ``probes`` are out of range.
    """

    def __init__(self, network, *, threads: int | None = None,
                 probes: Sequence[int] | None = None, progress: bool | None = None):
        if not hasattr(network, "partitions") or not hasattr(network, "ring_depth"):
            raise TypeError(
                f"Simulator needs a built network, not {type(network).__name__}; "
                "call net.build(partitions=...) first"
            )
        self.network = network
        self.threads = _check_threads(threads)
        self.progress = sys.stderr.isatty() if progress is None else bool(progress)
        n = int(network.n_neurons)
        n_part = len(network.partitions)
        self.layout = lay = PartitionLayout(n, n_part, int(network.ring_depth))
        self._mask = int(network.ring_depth) - 1
        self._v = lay.to_flat(np.asarray(network.v0, dtype=np.int32))
        self._iex = np.zeros(n, np.int32)
        self._iin = np.zeros(n, np.int32)
        self._ref = np.zeros(n, np.int32)
        key = nx.stream_key(int(network.seed), nx.STREAM_BACKGROUND)
        self._rng = lay.to_flat(_k._background_seeds(np.uint64(key), n))
        self._ring = lay.ring_from_global(np.zeros((lay.ring_depth, 2, n), np.int32))
        (self._pop_start, self._coef, self._has_poisson, self._ptable, self._plen,
         self._pguide, self._pweight) = population_constants(network)
        self._row_ptrs = List()
        self._words = List()
        for part in network.partitions:
            self._row_ptrs.append(np.ascontiguousarray(part.row_ptr, dtype=np.int64))
            self._words.append(np.ascontiguousarray(part.words, dtype=np.uint64))
        self._counters = np.zeros((n_part, _k.N_COUNTERS), np.int64)
        self._rec_senders = np.empty(max(4 * n, 1 << 16), np.int32)
        self._rec_steps = np.empty_like(self._rec_senders, dtype=np.int64)
        self._rec_n = np.zeros(1, np.int64)
        probes = [] if probes is None else [int(g) for g in probes]
        bad = [g for g in probes if not 0 <= g < n]
        if bad:
            raise ValueError(f"probe ids must lie in [0, {n}), not {bad[0]!r}")
        self.probe_ids = np.array(probes, np.int64)
        self._probe_flat = lay.flat[self.probe_ids] if probes else np.zeros(0, np.int64)
        self._probe_chunks: list[np.ndarray] = []
        self._probe_steps: list[np.ndarray] = []
        #: Current step: the next step to be simulated.
        self.t = 0
        #: True after a run was stopped by an interrupt (Ctrl-C).
        self.interrupted = False

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
        ValueError
            If ``t_ms`` is negative or not a multiple of ``dt``.
        KeyboardInterrupt
            On Ctrl-C, after the current chunk of steps; everything recorded is kept and the
            state is consistent (``interrupted`` is set).
        """
        dt = float(self.network.dt)
        steps = round(t_ms / dt)
        if not (np.isfinite(t_ms) and t_ms >= 0) or abs(steps * dt - t_ms) > 1e-9 * max(1, t_ms):
            raise ValueError(
                f"t_ms must be a non-negative multiple of dt={dt!r} ms, not {t_ms!r}; "
                f"use e.g. {max(steps, 0) * dt!r}"
            )
        self.run_steps(steps, record=record)

    def run_steps(self, n_steps: int, *, record: bool = True) -> None:
        """Advance by ``n_steps`` steps (see ``simulate``)."""
        if n_steps < 0:
            raise ValueError(f"n_steps must be >= 0, not {n_steps!r}")
        set_num_threads(self.threads)
        start = time.perf_counter()
        end = self.t + n_steps
        bar = _ProgressBar(n_steps, enabled=self.progress)
        with _deferred_interrupt() as stop:
            while self.t < end:
                chunk = min(_STEPS_PER_CHUNK, end - self.t)
                self._run_chunk(chunk, record)
                bar.update(n_steps - (end - self.t), time.perf_counter() - start)
                if self._stop_requested(stop):
                    self.interrupted = True
                    break
        bar.close()
        if self.interrupted:
            raise KeyboardInterrupt(f"simulation interrupted at step {self.t}")

    def _stop_requested(self, stop) -> bool:
        """Say whether to stop after this chunk (a distributed run agrees on it)."""
        return stop.requested

    def _run_chunk(self, n_steps: int, record: bool) -> None:
        n_probe = len(self._probe_flat)
        probe_buf = np.zeros((n_probe, 3, n_steps if record else 0), np.int32)
        rec_n0 = int(self._rec_n[0])
        t0 = self.t
        done = 0
        while done < n_steps:
            got = _k._run_steps(
                self.t, n_steps - done, self.layout.n_partitions, self.layout.n_loc,
                self.layout.noff, self.layout.roff, self._mask, self._ring, self._v, self._iex,
                self._iin, self._ref, self._rng, self._pop_start, self._coef, self._has_poisson,
                self._ptable, self._plen, self._pguide, self._pweight, self._row_ptrs, self._words,
                self._counters, self._rec_senders, self._rec_steps, self._rec_n,
                self._probe_flat if record else np.zeros(0, np.int64), probe_buf, t0)
            done += got
            self.t += got
            if done < n_steps:
                self._grow_record()
        if not record:
            self._rec_n[0] = rec_n0
        elif n_probe:
            self._probe_chunks.append(probe_buf)
            self._probe_steps.append(np.arange(t0, t0 + n_steps, dtype=np.int64))

    def _grow_record(self) -> None:
        size = 2 * len(self._rec_senders)
        n = int(self._rec_n[0])
        for name in ("_rec_senders", "_rec_steps"):
            old = getattr(self, name)
            new = np.empty(size, old.dtype)
            new[:n] = old[:n]
            setattr(self, name, new)

    # Results ------------------------------------------------------------------------------

    def spikes(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the recorded raster ``(senders int32, steps int64)``, by step then sender."""
        n = int(self._rec_n[0])
        return self._rec_senders[:n].copy(), self._rec_steps[:n].copy()

    def spike_hash(self) -> str:
        """Return ``spike_hash`` of the recorded raster."""
        return spike_hash(*self.spikes())

    @property
    def counters(self) -> dict[str, int]:
        """Cumulative counts: spikes, synaptic events delivered, Poisson events, saturations."""
        c = self._counters.sum(axis=0)
        return {"spikes": int(c[_k.C_SPIKES]), "synaptic_events": int(c[_k.C_SYN_EVENTS]),
                "poisson_events": int(c[_k.C_POISSON]), "saturations": int(c[_k.C_SATURATIONS])}

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
        return self.layout.ring_view(self._ring, p).copy()

    def state(self) -> dict[str, np.ndarray]:
        """Return the neuron state in global order (V, I_ex, I_in in their formats; ref)."""
        lay = self.layout
        return {"v": lay.to_global(self._v), "i_ex": lay.to_global(self._iex),
                "i_in": lay.to_global(self._iin), "ref": lay.to_global(self._ref)}

    # Checkpoints --------------------------------------------------------------------------

    def _fingerprint(self) -> dict[str, int]:
        return {k: int(getattr(self.network, k)) for k in _FINGERPRINT_KEYS}

    def checkpoint(self, path: str | os.PathLike) -> None:
        """Save the whole state (neurons, ring buffers, generators, step, counters, raster).

        The file is written to a temporary name and renamed, so an interrupted save leaves
        no half-written checkpoint. State is stored in global order: it restores into any
        number of partitions and threads.
        """
        lay = self.layout
        senders, steps = self.spikes()
        path = os.fspath(path)
        tmp = path + ".partial"
        with open(tmp, "wb") as fh:
            np.savez(
                fh, version=CHECKPOINT_VERSION, t=self.t,
                fingerprint=np.array([self._fingerprint()[k] for k in _FINGERPRINT_KEYS]),
                v=lay.to_global(self._v), i_ex=lay.to_global(self._iex),
                i_in=lay.to_global(self._iin), ref=lay.to_global(self._ref),
                rng=lay.to_global(self._rng), ring=lay.ring_to_global(self._ring),
                counters=self._counters.sum(axis=0), senders=senders, steps=steps)
        os.replace(tmp, path)

    def _set_record(self, senders: np.ndarray, steps: np.ndarray) -> None:
        """Replace the recorded raster (growing the buffers as needed)."""
        if len(senders) > len(self._rec_senders):
            self._rec_senders = np.empty(2 * len(senders), np.int32)
            self._rec_steps = np.empty(2 * len(senders), np.int64)
        self._rec_senders[:len(senders)] = senders
        self._rec_steps[:len(steps)] = steps
        self._rec_n[0] = len(senders)

    @classmethod
    def restore(cls, network, path: str | os.PathLike, **kwargs) -> Simulator:
        """Return a simulator for ``network`` in the state saved at ``path``.

        Raises
        ------
        ValueError
            If the checkpoint belongs to another network or another file format version.
        """
        sim = cls(network, **kwargs)
        data = read_checkpoint(path, sim._fingerprint())
        lay = sim.layout
        sim._v = lay.to_flat(data["v"])
        sim._iex = lay.to_flat(data["i_ex"])
        sim._iin = lay.to_flat(data["i_in"])
        sim._ref = lay.to_flat(data["ref"])
        sim._rng = lay.to_flat(data["rng"])
        sim._ring = lay.ring_from_global(data["ring"])
        sim._counters[:] = 0
        sim._counters[0] = data["counters"]
        sim._set_record(data["senders"], data["steps"])
        sim.t = int(data["t"])
        return sim


# Helpers ----------------------------------------------------------------------------------


def read_checkpoint(path, fingerprint: dict[str, int]) -> dict[str, np.ndarray]:
    """Read a checkpoint's arrays after checking its version and network fingerprint.

    Raises
    ------
    ValueError
        If the file has another format version or was saved for another network.
    """
    path = os.fspath(path)
    with np.load(path) as data:
        if int(data["version"]) != CHECKPOINT_VERSION:
            raise ValueError(f"checkpoint {path!r} has version {int(data['version'])}, not "
                             f"{CHECKPOINT_VERSION}")
        saved = dict(zip(_FINGERPRINT_KEYS, (int(x) for x in data["fingerprint"])))
        if saved != fingerprint:
            raise ValueError(
                f"checkpoint {path!r} was saved for another network ({saved}, this one is "
                f"{fingerprint}); build the same network (model, scale, seed) to restore it"
            )
        return {k: data[k] for k in ("v", "i_ex", "i_in", "ref", "rng", "ring", "counters",
                                     "senders", "steps", "t")}


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
        sys.stderr.write(f"\r  [{bar:<30}] {100 * frac:5.1f}%  {elapsed:6.1f} s  "
                         f"eta {eta:6.1f} s")
        sys.stderr.flush()

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
