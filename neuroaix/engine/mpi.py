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

from neuroaix import formats
from neuroaix._threads import check_threads, set_num_threads
from neuroaix.engine import _kernels as _k
from neuroaix.engine._cpu import CPUBackend
from neuroaix.engine.simulator import Simulator, _check_network

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
    for p in parts:
        words = np.ascontiguousarray(network.partitions[p].words, dtype=np.uint64)
        if words.shape[0]:  # a scan, not a shifted copy of the words (1.2 GB at full scale)
            best = min(best, int(_k._delay_range(words)[0]))
    if comm is not None and comm.Get_size() > 1:
        from mpi4py import MPI

        best = comm.allreduce(best, op=MPI.MIN)
    return best if best <= formats.MAX_DELAY_STEPS else 1


# The distributed simulator ------------------------------------------------------------------


class _MPIBackend(CPUBackend):
    """The CPU backend on this rank's partitions, exchanging spikes with the other ranks.

    The neuron state, synapse rows and record buffers are the CPU backend's (holding only
    the partitions ``own``); stepping, results and checkpoints go through the collectives.
    """

    name = "mpi"

    def __init__(self, network, *, comm, threads: int, exchange: str):
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        n_part = len(network.partitions)
        own = rank_partitions(n_part, self.size, self.rank)
        owned = getattr(network, "owned", None)
        if owned is not None and not set(own.tolist()) <= set(owned):
            missing = sorted(set(own.tolist()) - set(owned))
            raise ValueError(
                f"rank {self.rank} owns partitions {own.tolist()} but the network holds "
                f"only {list(owned)} (missing {missing}); build it with "
                f"only=rank_partitions({n_part}, {self.size}, {self.rank})")
        agree(comm, "the network and the exchange mode", _network_digest(network) + exchange)
        super().__init__(network, threads=threads, probe_ids=np.zeros(0, np.int64), own=own)
        self.total_synapses = int(comm.allreduce(self.local_synapses))
        self.min_delay = min_delay(network, comm)
        use_interval = exchange == "interval" or (exchange == "auto" and self.min_delay > 1)
        self.interval = self.min_delay if use_interval else 1
        self.exchange = exchange
        self._spk_buf = np.empty((self.interval, max(len(self.gids), 1)), np.int32)
        self._spk_cnt = np.zeros((self.interval, len(self.own)), np.int64)
        #: Spikes per rank and interval that fit the fixed-size exchange message.
        self._cap = 16 * self.interval
        self.exchanges = {"collectives": 0, "overflows": 0}
        #: Whether waits yield the core (more threads than cores on a node).
        self._polite = _oversubscribed(comm, threads) if self.size > 1 else False
        self.seconds = {"update": 0.0, "exchange": 0.0, "deliver": 0.0}

    @property
    def n_synapses(self) -> int:
        return self.total_synapses

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    def any(self, flag):
        return bool(self.comm.allreduce(int(flag)))

    def collectively(self, fn):
        return _collectively(self.comm, fn)

    # Running ------------------------------------------------------------------------------

    def advance(self, t0, n_steps, record):
        set_num_threads(self.threads)
        done = 0
        while done < n_steps:
            k = min(self.interval, n_steps - done)
            t = t0 + done
            c0 = time.perf_counter()
            _k._update_interval(t, k, self.own, self.kl, self.neurons, self.pops,
                                self._spk_buf, self._spk_cnt, self.counters)
            c1 = time.perf_counter()
            local, per_step = _k._collect_spikes(self._spk_buf, self._spk_cnt, k, self.own,
                                                 self.kl.noff)
            if self.size > 1:
                spikes, offsets = self._allgather(local, per_step)
            else:
                spikes = local
                offsets = np.concatenate([[0], np.cumsum(per_step)]).astype(np.int64)
            c2 = time.perf_counter()
            if record and self.is_root:
                self._append_record(spikes, np.repeat(np.arange(t, t + k, dtype=np.int64),
                                                      np.diff(offsets)))
            _k._deliver_interval(t, k, self.own, self.kl, self.neurons.ring, self.synapses,
                                 spikes, offsets, self.counters)
            c3 = time.perf_counter()
            self.seconds["update"] += c1 - c0
            self.seconds["exchange"] += c2 - c1
            self.seconds["deliver"] += c3 - c2
            done += k
        return None

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

    # Results (collective) -----------------------------------------------------------------

    def raster(self, *, everywhere=True):
        """Only rank 0 records (every rank sees every spike, one copy is enough)."""
        mine = super().raster() if self.is_root else None
        return self.comm.bcast(mine, root=0) if everywhere else mine

    def counts(self):
        return self.comm.allreduce(self.counters.sum(axis=0))

    def state(self, *, everywhere=True):
        mine = self._local_state()
        parts = self.comm.allgather(mine) if everywhere else self.comm.gather(mine, 0)
        return None if parts is None else self._merge_states(parts, self.layout)

    def ring_buffer(self, p):
        owner = next(r for r in range(self.size)
                     if p in rank_partitions(self.layout.n_partitions, self.size, r))
        ring = super().ring_buffer(p) if self.rank == owner else None
        return self.comm.bcast(ring, root=owner)


class MPISimulator(Simulator):
    """Run a built network over MPI ranks, each rank simulating its own partitions.

    Every rank creates one with the same network (built with
    ``Network.build(partitions=P, only=rank_partitions(P, N, rank))`` to store only its own
    synapses, or a full build) and calls the same methods in the same order: ``simulate``,
    ``run_steps``, ``spikes``, ``counters``, ``state``, ``ring_buffer``, ``checkpoint`` and
    ``restore`` are collective. Results are global on every rank. It is the ``Simulator``
    front end on the distributed CPU backend; checkpoints are the single-process format.

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
    probes : None
        Not supported under MPI (refused).

    Raises
    ------
    CollectiveError
        On every rank: more ranks than partitions, ranks with different networks or modes.
    ValueError
        If the network lacks this rank's partitions or ``exchange`` is unknown.
    """

    def __init__(self, network, *, comm=None, threads: int | None = None,
                 exchange: str = "auto", progress: bool | None = None, probes=None):
        _check_network(network, "MPISimulator")
        if exchange not in EXCHANGE_MODES:
            raise ValueError(f"exchange must be one of {EXCHANGE_MODES}, not {exchange!r}")
        if probes:
            raise ValueError(f"probes={probes!r}: probes are not recorded under MPI; run the "
                             "network in one process to record them")
        backend = _MPIBackend(network, comm=get_comm() if comm is None else comm,
                              threads=check_threads(threads), exchange=exchange)
        self._attach(backend, progress)
        #: The communicator, this rank and the number of ranks.
        self.comm, self.rank, self.size = backend.comm, backend.rank, backend.size
        #: Partitions of this rank, and the global ids of its neurons in flat order.
        self.own, self.gids = backend.own, backend.gids
        #: Synapses stored on this rank, and in the whole network.
        self.local_synapses, self.total_synapses = (backend.local_synapses,
                                                    backend.total_synapses)
        #: Minimum delay (steps) and the exchange interval used (1 for per-step exchange).
        self.min_delay, self.interval, self.exchange = (backend.min_delay, backend.interval,
                                                        exchange)
        #: Exchanges done, and those that needed the second collective (a rank's spikes
        #: exceeded the message capacity, which then grew); updated as the run goes.
        self.exchanges = backend.exchanges
        #: Seconds of this rank spent in background + update, in the exchange (collecting,
        #: the collective with its wait for slower ranks, merging) and in delivery.
        self.seconds = backend.seconds


def _network_digest(network) -> str:
    """Return a text identifying the network's parameters (compared across ranks)."""
    h = hashlib.sha256()
    h.update(repr((int(network.n_neurons), float(network.dt), int(network.seed),
                   len(network.partitions), int(network.max_delay), int(network.ring_depth),
                   list(network.populations))).encode())
    for name in ("pop_of", "v0", "coefficients", "poisson_table", "poisson_weight",
                 "has_poisson", "model_kind", "alpha_coefficients", "stim_of", "stim_ptr",
                 "stim_step", "stim_value", "source_step", "source_gid"):
        h.update(np.ascontiguousarray(getattr(network, name)).tobytes())
    return h.hexdigest()
