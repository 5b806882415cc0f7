"""Partitions spread over MPI ranks: distributed construction, exchange and output.

Each of ``N`` ranks owns a contiguous block of the ``P`` partitions (``rank_partitions``),
builds only their synapses (``Network.build(partitions=P, only=...)``: construction is
counter-based, so no communication is needed) and simulates them with its threads. Spikes
meet in one collective per exchange: every rank contributes its spikes (ascending global id
per step) in a fixed-size ``MPI_Allgather`` message (an ``MPI_Allgatherv`` follows only when
a rank had more than fit), and each rank merges them into the same ascending list the
single-process exchange sorts. The exchange runs after every
step, or once per minimum-delay interval of ``m`` steps (``exchange="interval"``, as NEST
does): a spike of step ``t`` lands in slot ``t + d >= t + m``, never in a slot the interval
still reads. Rasters, ring buffers, neuron state and counters equal the single-process run
for any rank count and either mode (docs/mpi.md).

mpi4py is imported only when a distributed run asks for it (``get_comm``); the rest of the
package never needs it.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from contextlib import contextmanager

import numpy as np
from numba.typed import List

from neuroaix import formats
from neuroaix import numerics as nx
from neuroaix.engine import _kernels as _k
from neuroaix.engine.simulator import (
    _FINGERPRINT_KEYS,
    CHECKPOINT_VERSION,
    Simulator,
    _check_threads,
    population_constants,
    read_checkpoint,
)
from neuroaix.engine.state import PartitionLayout

__all__ = [
    "EXCHANGE_MODES",
    "CollectiveError",
    "MPISimulator",
    "abort_on_error",
    "agree",
    "get_comm",
    "launched_ranks",
    "min_delay",
    "rank_partitions",
]

#: Exchange modes: after every step, once per minimum-delay interval, or the interval
#: whenever the minimum delay exceeds one step (``auto``).
EXCHANGE_MODES = ("auto", "step", "interval")

#: Environment variables through which MPI launchers announce the number of ranks.
_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE", "PMIX_SIZE")
_DELAY = formats.SYNAPSE_FIELDS[2]
#: Sleep between polls of a collective still waiting for other ranks (seconds), used when
#: the ranks outnumber the cores.
_POLL_SLEEP = 2e-5


class CollectiveError(ValueError):
    """An error that every rank detected together (all ranks raise it; none hangs)."""


def launched_ranks() -> int:
    """Return the number of ranks an MPI launcher started this process with (1 if none)."""
    for name in _SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


def get_comm():
    """Return ``MPI.COMM_WORLD`` from mpi4py.

    Raises
    ------
    RuntimeError
        If mpi4py or the MPI library cannot be loaded; the message says how to install them.
    """
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError, OSError) as exc:
        raise RuntimeError(
            f"MPI is not available ({type(exc).__name__}: {exc}); this process was started as "
            f"one of {launched_ranks()} MPI ranks. Install mpi4py and an MPI library with "
            "pip install 'neuroaix[mpi]' (mpi4py and the mpich wheel), or on a cluster build "
            "mpi4py against the system's MPI (docs/mpi.md)") from exc
    return MPI.COMM_WORLD


def _wait(req, polite: bool) -> None:
    """Complete a nonblocking MPI request; if ``polite``, yield the core while waiting.

    MPI's waits spin, which is fastest while every rank has a core of its own. With more
    ranks (times threads) than cores on a node, a spinning rank takes the time slice its
    partner needs to reach the exchange: polling with short sleeps was 2-3x faster there
    (docs/mpi.md), while spinning was 2x faster with a core per rank.
    """
    if not polite:
        req.Wait()
        return
    polls = 0
    while not req.Test():
        polls += 1
        if polls > 16:
            time.sleep(_POLL_SLEEP if polls > 64 else 0)


def _oversubscribed(comm, threads: int) -> bool:
    """Whether the ranks of some node run more threads than the cores they may use (the union
    of their CPU affinities) - collective."""
    from mpi4py import MPI

    try:
        cores = sorted(os.sched_getaffinity(0))
    except AttributeError:
        cores = list(range(os.cpu_count() or 1))
    node = comm.Split_type(MPI.COMM_TYPE_SHARED)
    try:
        need = node.allreduce(threads)
        usable = len(set().union(*node.allgather(cores)))
    finally:
        node.Free()
    return bool(comm.allreduce(int(need > usable)))


def rank_partitions(n_partitions: int, size: int, rank: int) -> np.ndarray:
    """Return the partitions rank ``rank`` of ``size`` owns: a contiguous block.

    Rank ``r`` owns partitions ``r * P // N`` to ``(r + 1) * P // N - 1``, so every rank
    owns at least one partition when ``N <= P`` and the blocks differ by at most one.

    Raises
    ------
    CollectiveError
        If there are more ranks than partitions (every rank raises it).
    """
    if size > n_partitions:
        raise CollectiveError(
            f"{size} MPI ranks but only {n_partitions} partitions: every rank needs at least "
            f"one; use partitions >= {size} (e.g. --partitions {size}) or fewer ranks")
    lo = rank * n_partitions // size
    hi = (rank + 1) * n_partitions // size
    return np.arange(lo, hi, dtype=np.int64)


def agree(comm, what: str, value: str) -> None:
    """Check that every rank holds the same ``value`` (compared by sha256).

    Raises
    ------
    CollectiveError
        On every rank if any rank differs; the message names the ranks that differ from
        rank 0.
    """
    digest = hashlib.sha256(value.encode()).hexdigest()
    digests = comm.allgather(digest)
    bad = [r for r, d in enumerate(digests) if d != digests[0]]
    if bad:
        raise CollectiveError(
            f"MPI ranks disagree on {what}: rank(s) {bad} differ from rank 0; start every "
            "rank with the same parameters (one command line for all ranks)")


def _collectively(comm, fn, *args):
    """Run ``fn(*args)`` on every rank; if it fails on any rank, raise on all ranks."""
    try:
        result, error = fn(*args), None
    except Exception as exc:  # noqa: BLE001 - reported to every rank below
        result, error = None, f"{type(exc).__name__}: {exc}"
    errors = comm.allgather(error)
    failed = [(r, e) for r, e in enumerate(errors) if e is not None]
    if failed:
        r, e = failed[0]
        raise CollectiveError(f"rank {r} failed: {e}")
    return result


@contextmanager
def abort_on_error(comm, *, file=None):
    """Abort all ranks when an exception escapes on one rank (a lone failure would hang the
    others in their next collective). ``CollectiveError`` and KeyboardInterrupt propagate:
    every rank raises them together."""
    try:
        yield
    except (CollectiveError, KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        file = sys.stderr if file is None else file
        print(f"[rank {comm.Get_rank()}/{comm.Get_size()}] {type(exc).__name__}: {exc}; "
              "aborting all ranks", file=file, flush=True)
        comm.Abort(1)
        raise


def min_delay(network, comm=None) -> int:
    """Return the smallest synaptic delay (steps) of the network (over all ranks)."""
    best = formats.MAX_DELAY_STEPS + 1
    owned = getattr(network, "owned", None)
    parts = range(network.n_partitions) if owned is None else owned
    shift = np.uint64(_DELAY.lsb)
    for p in parts:
        words = network.partitions[p].words
        if words.shape[0]:
            best = min(best, int((words >> shift).min()))
    if comm is not None and comm.Get_size() > 1:
        from mpi4py import MPI

        best = comm.allreduce(best, op=MPI.MIN)
    return best if best <= formats.MAX_DELAY_STEPS else 1


# The distributed simulator ------------------------------------------------------------------


class MPISimulator(Simulator):
    """Run a built network over MPI ranks, each rank simulating its own partitions.

    Every rank creates one with the same network (built with
    ``Network.build(partitions=P, only=rank_partitions(P, N, rank))`` to store only its own
    synapses, or a full build) and calls the same methods in the same order: ``simulate``,
    ``run_steps``, ``checkpoint`` are collective. Spikes, ``spike_hash`` and ``counters``
    are global on every rank; ``state`` and ``ring_buffer`` gather from the owners.

    Parameters
    ----------
    network : BuiltNetwork
        The (partially) built network; it must hold this rank's partitions.
    comm : mpi4py communicator, optional
        Default: ``get_comm()`` (``MPI.COMM_WORLD``).
    threads : int, optional
        Worker threads of this rank.
    exchange : {"auto", "step", "interval"}
        Exchange after every step, once per minimum-delay interval, or the interval when the
        minimum delay exceeds one step (``auto``, the default).
    progress : bool, optional
        Progress bar on rank 0's stderr.

    Raises
    ------
    CollectiveError
        On every rank: more ranks than partitions, ranks with different networks or modes.
    ValueError
        If the network lacks this rank's partitions or ``exchange`` is unknown.
    """

    def __init__(self, network, *, comm=None, threads: int | None = None,
                 exchange: str = "auto", progress: bool | None = None, probes=None):
        if not hasattr(network, "partitions") or not hasattr(network, "ring_depth"):
            raise TypeError(f"MPISimulator needs a built network, not "
                            f"{type(network).__name__}; call net.build(partitions=...) first")
        if exchange not in EXCHANGE_MODES:
            raise ValueError(f"exchange must be one of {EXCHANGE_MODES}, not {exchange!r}")
        if probes:
            raise ValueError(f"probes={probes!r}: probes are not recorded under MPI; run the "
                             "network in one process to record them")
        self.comm = get_comm() if comm is None else comm
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self.network = network
        self.threads = _check_threads(threads)
        self.progress = (sys.stderr.isatty() if progress is None else bool(progress)) \
            and self.rank == 0
        n = int(network.n_neurons)
        n_part = len(network.partitions)
        self.own = rank_partitions(n_part, self.size, self.rank)
        owned = getattr(network, "owned", None)
        if owned is not None and not set(self.own.tolist()) <= set(owned):
            missing = sorted(set(self.own.tolist()) - set(owned))
            raise ValueError(
                f"rank {self.rank} owns partitions {self.own.tolist()} but the network holds "
                f"only {list(owned)} (missing {missing}); build it with "
                f"only=rank_partitions({n_part}, {self.size}, {self.rank})")
        agree(self.comm, "the network and the exchange mode", _network_digest(network)
              + exchange)
        self.layout = lay = PartitionLayout(n, n_part, int(network.ring_depth))
        self._mask = int(network.ring_depth) - 1
        own_mask = np.zeros(n_part, bool)
        own_mask[self.own] = True
        # Local layout: full-length per-partition arrays (kernels index them by global
        # partition), zero neurons for the partitions of other ranks.
        self._n_loc = np.where(own_mask, lay.n_loc, 0).astype(np.int64)
        self._noff = np.concatenate([[0], np.cumsum(self._n_loc)[:-1]]).astype(np.int64)
        self._roff = self._noff * 2 * lay.ring_depth
        #: Global ids of this rank's neurons in its flat (partition-major) order.
        self.gids = np.concatenate([np.arange(p, n, n_part, dtype=np.int64)
                                    for p in self.own])
        n_own = len(self.gids)
        self._v = np.asarray(network.v0, dtype=np.int32)[self.gids].copy()
        self._iex = np.zeros(n_own, np.int32)
        self._iin = np.zeros(n_own, np.int32)
        self._ref = np.zeros(n_own, np.int32)
        key = nx.stream_key(int(network.seed), nx.STREAM_BACKGROUND)
        self._rng = _k._background_seeds(np.uint64(key), n)[self.gids].copy()
        self._ring = np.zeros(2 * lay.ring_depth * n_own, np.int32)
        (self._pop_start, self._coef, self._has_poisson, self._ptable, self._plen,
         self._pguide, self._pweight) = population_constants(network)
        self._row_ptrs = List()
        self._words = List()
        local_syn = 0
        for p in self.own:
            part = network.partitions[p]
            self._row_ptrs.append(np.ascontiguousarray(part.row_ptr, dtype=np.int64))
            self._words.append(np.ascontiguousarray(part.words, dtype=np.uint64))
            local_syn += int(part.words.shape[0])
        #: Synapses stored on this rank, and in the whole network.
        self.local_synapses = local_syn
        self.total_synapses = int(self.comm.allreduce(local_syn))
        #: Minimum delay (steps) and the exchange interval used (1 for per-step exchange).
        self.min_delay = min_delay(network, self.comm)
        use_interval = exchange == "interval" or (exchange == "auto" and self.min_delay > 1)
        self.interval = self.min_delay if use_interval else 1
        self.exchange = exchange
        self._counters = np.zeros((n_part, _k.N_COUNTERS), np.int64)
        self._spk_buf = np.empty((self.interval, max(n_own, 1)), np.int32)
        self._spk_cnt = np.zeros((self.interval, len(self.own)), np.int64)
        #: Spikes per rank and interval that fit the fixed-size exchange message.
        self._cap = 16 * self.interval
        #: Exchanges done, and those that needed the second collective (a rank's spikes
        #: exceeded the message capacity, which then grew).
        self.exchanges = {"collectives": 0, "overflows": 0}
        #: Whether waits yield the core (more threads than cores on a node).
        self._polite = _oversubscribed(self.comm, self.threads) if self.size > 1 else False
        self._rec_senders = np.empty(max(4 * n, 1 << 16), np.int32)
        self._rec_steps = np.empty_like(self._rec_senders, dtype=np.int64)
        self._rec_n = np.zeros(1, np.int64)
        self.probe_ids = np.zeros(0, np.int64)
        self._probe_chunks = []
        self._probe_steps = []
        #: Seconds of this rank spent in background + update, in the exchange (collecting,
        #: the collective with its wait for slower ranks, merging) and in delivery.
        self.seconds = {"update": 0.0, "exchange": 0.0, "deliver": 0.0}
        self.t = 0
        self.interrupted = False

    # Running ------------------------------------------------------------------------------

    def _stop_requested(self, stop) -> bool:
        """An interrupt on any rank stops all of them after the same chunk (collective)."""
        return bool(self.comm.allreduce(int(stop.requested)))

    def _run_chunk(self, n_steps: int, record: bool) -> None:
        lay = self.layout
        done = 0
        while done < n_steps:
            k = min(self.interval, n_steps - done)
            t = self.t
            c0 = time.perf_counter()
            _k._update_interval(t, k, self.own, lay.n_partitions, self._n_loc, self._noff,
                                self._roff, self._mask, self._ring, self._v, self._iex,
                                self._iin, self._ref, self._rng, self._pop_start, self._coef,
                                self._has_poisson, self._ptable, self._plen, self._pguide,
                                self._pweight, self._spk_buf, self._spk_cnt, self._counters)
            c1 = time.perf_counter()
            local, per_step = _k._collect_spikes(self._spk_buf, self._spk_cnt, k, self.own,
                                                 self._noff)
            if self.size > 1:
                spikes, offsets = self._allgather(local, per_step)
            else:
                spikes = local
                offsets = np.concatenate([[0], np.cumsum(per_step)]).astype(np.int64)
            c2 = time.perf_counter()
            if record and self.rank == 0:
                self._record(spikes, offsets, t)
            _k._deliver_interval(t, k, self.own, self._n_loc, self._roff, self._mask,
                                 self._ring, self._row_ptrs, self._words, spikes, offsets,
                                 self._counters)
            c3 = time.perf_counter()
            self.seconds["update"] += c1 - c0
            self.seconds["exchange"] += c2 - c1
            self.seconds["deliver"] += c3 - c2
            self.t += k
            done += k

    def _allgather(self, local: np.ndarray, per_step: np.ndarray):
        """Exchange the interval's spikes: one ``Allgather`` of fixed-size messages (header:
        the spike count of each step; then up to ``_cap`` spikes), and an ``Allgatherv`` of
        the whole lists only when some rank had more spikes than fit (the capacity then
        doubles past the largest count), as NEST's fixed-size exchange buffers do."""
        from mpi4py import MPI

        k = per_step.shape[0]
        cap = self._cap
        width = k + cap
        send = np.zeros(width, np.int32)
        send[:k] = per_step
        m = min(local.shape[0], cap)
        send[k:k + m] = local[:m]
        recv = np.empty(self.size * width, np.int32)
        _wait(self.comm.Iallgather([send, MPI.INT32_T], [recv, MPI.INT32_T]), self._polite)
        msgs = recv.reshape(self.size, width)
        counts = msgs[:, :k].astype(np.int64)
        sizes = counts.sum(axis=1)
        self.exchanges["collectives"] += 1
        if int(sizes.max()) <= cap:
            return _k._merge_spikes(_k._strip_messages(msgs, k, sizes), counts)
        self.exchanges["overflows"] += 1
        while self._cap < int(sizes.max()):
            self._cap *= 2
        full = np.empty(int(sizes.sum()), np.int32)
        _wait(self.comm.Iallgatherv([local, MPI.INT32_T], [full, sizes, MPI.INT32_T]),
              self._polite)
        return _k._merge_spikes(full, counts)

    def _record(self, spikes: np.ndarray, offsets: np.ndarray, t0: int) -> None:
        m = spikes.shape[0]
        while int(self._rec_n[0]) + m > len(self._rec_senders):
            self._grow_record()
        r0 = int(self._rec_n[0])
        self._rec_senders[r0:r0 + m] = spikes
        self._rec_steps[r0:r0 + m] = np.repeat(
            np.arange(t0, t0 + len(offsets) - 1, dtype=np.int64), np.diff(offsets))
        self._rec_n[0] = r0 + m

    # Results ------------------------------------------------------------------------------

    def spikes(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the recorded raster ``(senders, steps)`` on every rank (collective).

        Only rank 0 records (every rank sees every spike, one copy is enough).
        """
        mine = Simulator.spikes(self) if self.rank == 0 else None
        return self.comm.bcast(mine, root=0)

    @property
    def counters(self) -> dict[str, int]:
        """Cumulative counts over all ranks (collective)."""
        c = self.comm.allreduce(self._counters.sum(axis=0))
        return {"spikes": int(c[_k.C_SPIKES]), "synaptic_events": int(c[_k.C_SYN_EVENTS]),
                "poisson_events": int(c[_k.C_POISSON]), "saturations": int(c[_k.C_SATURATIONS])}

    def _local_ring(self) -> np.ndarray:
        """This rank's ring buffers as ``(D, 2, n_own)`` in the order of ``gids``."""
        d = self.layout.ring_depth
        blocks = []
        for p in self.own:
            n = int(self._n_loc[p])
            a = int(self._roff[p])
            blocks.append(self._ring[a:a + d * 2 * n].reshape(d, 2, n))
        return np.concatenate(blocks, axis=2)

    def _gather_global(self, root: int | None):
        """Collect every rank's state in global order (on ``root``, or on all if None)."""
        mine = (self.gids, self._v, self._iex, self._iin, self._ref, self._rng,
                self._local_ring())
        parts = self.comm.allgather(mine) if root is None else self.comm.gather(mine, root)
        if parts is None:
            return None
        n = self.layout.n_neurons
        out = {"v": np.empty(n, np.int32), "i_ex": np.empty(n, np.int32),
               "i_in": np.empty(n, np.int32), "ref": np.empty(n, np.int32),
               "rng": np.empty(n, np.uint64),
               "ring": np.empty((self.layout.ring_depth, 2, n), np.int32)}
        for gids, v, iex, iin, ref, rng, ring in parts:
            out["v"][gids], out["i_ex"][gids], out["i_in"][gids] = v, iex, iin
            out["ref"][gids], out["rng"][gids] = ref, rng
            out["ring"][:, :, gids] = ring
        return out

    def state(self) -> dict[str, np.ndarray]:
        """Return the neuron state in global order on every rank (collective)."""
        g = self._gather_global(None)
        return {k: g[k] for k in ("v", "i_ex", "i_in", "ref")}

    def ring_buffer(self, p: int) -> np.ndarray:
        """Return partition ``p``'s ring buffers ``(D, 2, n_local)`` on every rank (collective)."""
        n_part = self.layout.n_partitions
        if not 0 <= p < n_part:
            raise ValueError(f"partition must lie in [0, {n_part}), not {p!r}")
        owner = next(r for r in range(self.size)
                     if p in rank_partitions(n_part, self.size, r))
        ring = None
        if self.rank == owner:
            n, a, d = int(self._n_loc[p]), int(self._roff[p]), self.layout.ring_depth
            ring = self._ring[a:a + d * 2 * n].reshape(d, 2, n).copy()
        return self.comm.bcast(ring, root=owner)

    # Checkpoints --------------------------------------------------------------------------

    def _fingerprint(self) -> dict[str, int]:
        fp = {k: int(getattr(self.network, k)) for k in _FINGERPRINT_KEYS}
        fp["n_synapses"] = self.total_synapses
        return fp

    def checkpoint(self, path: str | os.PathLike) -> None:
        """Save the whole state to ``path`` (collective; rank 0 writes).

        The file is the single-process checkpoint format, in global order: it restores into
        one process or any number of ranks, partitions and threads.
        """
        path = os.fspath(path)
        g = self._gather_global(0)
        counters = self.comm.reduce(self._counters.sum(axis=0), root=0)

        def write():
            if self.rank != 0:
                return
            senders, steps = Simulator.spikes(self)
            tmp = path + ".partial"
            with open(tmp, "wb") as fh:
                np.savez(fh, version=CHECKPOINT_VERSION, t=self.t,
                         fingerprint=np.array([self._fingerprint()[k]
                                               for k in _FINGERPRINT_KEYS]),
                         v=g["v"], i_ex=g["i_ex"], i_in=g["i_in"], ref=g["ref"], rng=g["rng"],
                         ring=g["ring"], counters=counters, senders=senders, steps=steps)
            os.replace(tmp, path)

        _collectively(self.comm, write)

    @classmethod
    def restore(cls, network, path: str | os.PathLike, **kwargs) -> MPISimulator:
        """Return a distributed simulator in the state saved at ``path`` (collective).

        Every rank reads the file (a single-process or an MPI checkpoint) and keeps its part.

        Raises
        ------
        CollectiveError
            On every rank if any rank cannot read the file or it belongs to another network.
        """
        sim = cls(network, **kwargs)
        data = _collectively(sim.comm, lambda: read_checkpoint(path, sim._fingerprint()))
        gids = sim.gids
        sim._v = data["v"][gids].astype(np.int32)
        sim._iex = data["i_ex"][gids].astype(np.int32)
        sim._iin = data["i_in"][gids].astype(np.int32)
        sim._ref = data["ref"][gids].astype(np.int32)
        sim._rng = data["rng"][gids].astype(np.uint64)
        ring = data["ring"]
        d = sim.layout.ring_depth
        for p in sim.own:
            n = int(sim._n_loc[p])
            a = int(sim._roff[p])
            sim._ring[a:a + d * 2 * n] = ring[:, :, p::sim.layout.n_partitions].ravel()
        sim._counters[:] = 0
        if sim.rank == 0:
            sim._counters[sim.own[0]] = data["counters"]
        senders, steps = data["senders"], data["steps"]
        if sim.rank != 0:  # rank 0 records the raster
            senders, steps = senders[:0], steps[:0]
        sim._set_record(senders, steps)
        sim.t = int(data["t"])
        return sim


def _network_digest(network) -> str:
    """Return a text identifying the network's parameters (compared across ranks)."""
    h = hashlib.sha256()
    h.update(repr((int(network.n_neurons), float(network.dt), int(network.seed),
                   len(network.partitions), int(network.max_delay), int(network.ring_depth),
                   list(network.populations))).encode())
    for name in ("pop_of", "v0", "coefficients", "poisson_table", "poisson_weight",
                 "has_poisson"):
        h.update(np.ascontiguousarray(getattr(network, name)).tobytes())
    return h.hexdigest()
