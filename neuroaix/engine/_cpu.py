"""The Numba CPU backend: the fixed-point kernels of ``_kernels`` on OpenMP threads."""

from __future__ import annotations

import numpy as np
from numba.typed import List

from neuroaix import numerics as nx
from neuroaix._threads import set_num_threads
from neuroaix.engine import _kernels as _k
from neuroaix.engine.backend import Backend, register_backend

__all__ = ["CPUBackend", "DELIVERIES", "SCHEDULES", "choose_delivery", "choose_schedule",
           "delay_rows", "population_tables"]

#: Deliveries of the step loop (``_kernels._run_steps``): deferred, gathered by delay
#: (``DelayRows``), or immediate, from the canonical rows onto each partition's own ring.
DELIVERIES = ("gather", "immediate")
#: How the step loop's threads share the partitions (``_kernels._run_steps``): a thread of
#: its own for each partition (or a fixed share of them), or the next partition not yet
#: taken, one by one. Either leaves the same results.
SCHEDULES = ("static", "dynamic")


#: Kernel segment of each model kind (``neuron.MODEL_KINDS`` order); iaf_psc_exp
#: populations with step currents run SEG_EXP_STIM.
_SEGMENTS = np.array([_k.SEG_EXP, _k.SEG_DELTA, _k.SEG_ALPHA, _k.SEG_SOURCE], np.int64)


def population_tables(network, gids=None) -> _k.PopulationTables:
    """Return the kernels' per-population tables of a built network (``PopulationTables``).

    ``gids`` are the global ids of the neurons held, in flat order (default: all, in the
    flat order of ``state.PartitionLayout``); they order the per-neuron step-current index.
    """
    if gids is None:
        n_part = len(network.partitions)
        gids = np.concatenate([np.arange(p, network.n_neurons, n_part, dtype=np.int64)
                               for p in range(n_part)])
    kind = _SEGMENTS[np.asarray(network.model_kind, np.int64)]
    kind[(kind == _k.SEG_EXP) & network.has_stim] = _k.SEG_EXP_STIM
    pop_start = np.array([start for _, start, _ in network.populations]
                         + [network.n_neurons], np.int64)
    table = np.asarray(network.poisson_table, dtype=np.int64)
    if table.shape[1] > nx.POISSON_TABLE_LEN:
        raise ValueError(f"Poisson tables hold at most {nx.POISSON_TABLE_LEN} thresholds, "
                         f"not {table.shape[1]}")
    # the update compares with all 32 (padding 2**32 is never reached)
    ptable = np.full((table.shape[0], nx.POISSON_TABLE_LEN), 1 << 32, np.int64)
    ptable[:, :table.shape[1]] = table
    if (ptable < 1).any():  # poisson_table's thresholds are at least 1 (pthr32 needs it)
        raise ValueError("a Poisson threshold below 1 breaks the number contract "
                         "(docs/numerics.md)")
    bottoms = np.arange(256, dtype=np.int64) << 24
    coef = np.ascontiguousarray(network.coefficients, dtype=np.int64)
    pweight = np.ascontiguousarray(network.poisson_weight, dtype=np.int64)
    # the update multiplies these as int32 (docs/numerics.md: propagators and weights are
    # int32); a value outside would be truncated there
    for name, values in (("propagator", coef[:, :5]), ("Poisson weight", pweight)):
        if values.size and (values.min() < -(1 << 31) or values.max() >= (1 << 31)):
            raise ValueError(f"a {name} outside int32 ({values.min()!r} .. {values.max()!r}) "
                             "breaks the number contract (docs/numerics.md)")
    return _k.PopulationTables(
        pop_start=pop_start,
        coef=coef,
        has_poisson=np.ascontiguousarray(network.has_poisson, dtype=np.bool_),
        ptable=ptable,
        pthr32=(ptable - 1).astype(np.uint32),
        plen=(ptable < (1 << 32)).sum(axis=1).astype(np.int64),
        pguide=(ptable[:, None, :] <= bottoms[None, :, None]).sum(axis=2).astype(np.int64),
        pweight=pweight,
        kind=kind, acoef=np.ascontiguousarray(network.alpha_coefficients, dtype=np.int64),
        stim_of=np.asarray(network.stim_of, np.int64)[gids],
        stim_ptr=np.ascontiguousarray(network.stim_ptr, dtype=np.int64),
        stim_step=np.ascontiguousarray(network.stim_step, dtype=np.int64),
        stim_value=np.ascontiguousarray(network.stim_value, dtype=np.int64),
        src_step=np.ascontiguousarray(network.source_step, dtype=np.int64),
        src_gid=np.ascontiguousarray(network.source_gid, dtype=np.int64))


#: Most synapses of one partition that the int32 group table of ``DelayRows`` addresses.
_DPTR_MAX = (1 << 31) - 1


def delay_rows(syn: _k.SynapseRows, n_local: np.ndarray) -> _k.DelayRows:
    """Return the engine's derived layout of ``syn`` (``_kernels.DelayRows``).

    ``n_local`` are the neurons of each partition in ``syn``; targets are stored as uint16
    when every partition holds at most 65,536 neurons (uint32 otherwise).

    Raises
    ------
    ValueError
        If a partition holds more than ``2**31 - 1`` synapses (the group table is int32).
    """
    for row_ptr in syn.row_ptrs:
        if row_ptr.shape[0] and int(row_ptr[-1]) > _DPTR_MAX:
            raise ValueError(f"a partition holds {int(row_ptr[-1]):,} synapses, more than the "
                             f"engine's int32 group table addresses ({_DPTR_MAX:,}); use more "
                             "partitions")
    ranges = [_k._delay_range(w) for w in syn.words if w.shape[0]]
    d0 = min((lo for lo, _ in ranges), default=1)
    n_d = max((hi for _, hi in ranges), default=d0) - d0 + 1
    tdtype = np.uint16 if int(np.max(n_local, initial=0)) <= 1 << 16 else np.uint32
    dptr, tgt, wgt = List(), List(), List()
    for row_ptr, words in zip(syn.row_ptrs, syn.words):
        n_src = row_ptr.shape[0] - 1
        dptr.append(np.empty(n_src * n_d + 1, np.int32))
        tgt.append(np.empty(words.shape[0], tdtype))
        wgt.append(np.empty(words.shape[0], np.int32))
        _k._delay_rows(row_ptr, words, np.int64(d0), np.int64(n_d), dptr[-1], tgt[-1],
                       wgt[-1])
    return _k.DelayRows(d0=d0, n_d=n_d, dptr=dptr, tgt=tgt, wgt=wgt)


#: Partitions from which the step loop delivers immediately (``choose_delivery``).
IMMEDIATE_FROM_PARTITIONS = 16


def choose_delivery(n_partitions: int) -> str:
    """Return the delivery (``DELIVERIES``) that the step loop uses on ``n_partitions``
    partitions: the gather below ``IMMEDIATE_FROM_PARTITIONS``, immediate delivery from
    there on, where a spike's synapses on one partition split into delay groups of a few
    synapses each and a partition's ring buffers come near a core's cache (the measured
    crossover: docs/performance.md)."""
    return "immediate" if n_partitions >= IMMEDIATE_FROM_PARTITIONS else "gather"


def choose_schedule(n_partitions: int, threads: int) -> str:
    """Return the schedule (``SCHEDULES``) of ``n_partitions`` partitions on ``threads``
    threads: "dynamic" where there are more partitions than threads, "static" elsewhere
    (where a partition stays on one thread, and in its cache, from step to step)."""
    return "dynamic" if n_partitions > threads else "static"


def _empty_delay_rows(n_part: int) -> _k.DelayRows:
    """A ``DelayRows`` with no synapses (the immediate delivery does not read it)."""
    dptr, tgt, wgt = List(), List(), List()
    for _ in range(n_part):
        dptr.append(np.zeros(1, np.int32))
        tgt.append(np.zeros(0, np.uint16))
        wgt.append(np.zeros(0, np.int32))
    return _k.DelayRows(d0=1, n_d=1, dptr=dptr, tgt=tgt, wgt=wgt)


@register_backend
class CPUBackend(Backend):
    """Run partitions in parallel with Numba (``parallel=True`` kernels, one step a barrier).

    Holds the partitions ``own`` (all of them in one process; a rank's block under MPI):
    their neurons in flat, partition-major order (``gids``), ring buffers and synapse rows.
    Only the root records the raster.
    """

    name = "cpu"

    def __init__(self, network, *, threads: int, probe_ids: np.ndarray, own=None):
        super().__init__(network, threads=threads, probe_ids=probe_ids)
        lay = self.layout
        n, n_part = lay.n_neurons, lay.n_partitions
        #: Partitions held here, ascending.
        self.own = np.arange(n_part, dtype=np.int64) if own is None else own
        held = np.zeros(n_part, bool)
        held[self.own] = True
        n_loc = np.where(held, lay.n_loc, 0).astype(np.int64)
        noff = np.concatenate([[0], np.cumsum(n_loc)[:-1]]).astype(np.int64)
        self.kl = _k.KernelLayout(n_part=n_part, n_loc=n_loc, noff=noff,
                                  roff=noff * 2 * lay.ring_depth, mask=lay.ring_depth - 1)
        #: Global ids of the neurons held here, in their flat (partition-major) order.
        self.gids = np.concatenate([np.arange(p, n, n_part, dtype=np.int64)
                                    for p in self.own])
        m = len(self.gids)
        key = nx.stream_key(int(network.seed), nx.STREAM_BACKGROUND)
        self.neurons = _k.NeuronArrays(
            ring=np.zeros(2 * lay.ring_depth * m, np.int32),
            v=np.asarray(network.v0, dtype=np.int32)[self.gids],
            iex=np.zeros(m, np.int32), iin=np.zeros(m, np.int32), ref=np.zeros(m, np.int32),
            rng=_k._background_seeds(np.uint64(key), n)[self.gids],
            dex=np.zeros(m, np.int32), din=np.zeros(m, np.int32))
        self.pops = population_tables(network, self.gids)
        row_ptrs, words = List(), List()
        for p in self.own:
            part = network.partitions[p]
            row_ptrs.append(np.ascontiguousarray(part.row_ptr, dtype=np.int64))
            words.append(np.ascontiguousarray(part.words, dtype=np.uint64))
        self.synapses = _k.SynapseRows(row_ptrs=row_ptrs, words=words)
        #: Synapses stored here.
        self.local_synapses = int(sum(int(w.shape[0]) for w in words))
        self._drows = None
        #: Delivery of the step loop (``DELIVERIES``); the layout of ``delay_rows`` is
        #: derived only when "gather" runs. Either leaves the same results.
        self.delivery = choose_delivery(n_part)
        #: How the threads share the partitions in each step (``SCHEDULES``).
        self.schedule = choose_schedule(n_part, threads)
        #: Prefetch distance of the deferred delivery (``_kernels.PREFETCH_AHEAD``; 0: none).
        self.prefetch = _k.PREFETCH_AHEAD
        #: Cycles per phase, int64 (P + 1, ``_kernels.PROFILE_COLUMNS``), added to by every
        #: run while set (None: no profile; see ``_kernels._run_steps``).
        self.profile = None
        self.counters = np.zeros((n_part, _k.N_COUNTERS), np.int64)
        self._rec_senders = np.empty(max(4 * n, 1 << 16), np.int32)
        self._rec_steps = np.empty_like(self._rec_senders, dtype=np.int64)
        self._rec_n = np.zeros(1, np.int64)
        pos = np.empty(n, np.int64)
        pos[self.gids] = np.arange(m, dtype=np.int64)
        self._probe_flat = pos[probe_ids]

    # Running ------------------------------------------------------------------------------

    @property
    def delay_rows(self) -> _k.DelayRows:
        """The synapses regrouped by delay (``_kernels.DelayRows``), derived on first use."""
        if self._drows is None:
            self._drows = delay_rows(self.synapses, self.kl.n_loc[self.own])
        return self._drows

    def advance(self, t0, n_steps, record):
        set_num_threads(self.threads)
        if self.delivery not in DELIVERIES:
            raise ValueError(f"delivery must be one of {DELIVERIES}, not {self.delivery!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, not {self.schedule!r}")
        immediate = self.delivery == "immediate"
        # the dynamic schedule's workers: one per thread (static: one per partition)
        workers = np.int64(self.threads if self.schedule == "dynamic" else self.kl.n_part)
        drows = _empty_delay_rows(len(self.own)) if immediate else self.delay_rows
        n_probe = len(self._probe_flat) if record else 0
        probe_buf = np.zeros((n_probe, 3, n_steps if record else 0), np.int32)
        rec_n0 = int(self._rec_n[0])
        prof = (np.zeros((0, _k.PROFILE_COLUMNS), np.int64) if self.profile is None
                else self.profile)
        done = 0
        while done < n_steps:
            rec = _k.Record(senders=self._rec_senders, steps=self._rec_steps, n=self._rec_n,
                            probe_idx=self._probe_flat[:n_probe], probe_buf=probe_buf,
                            probe_t0=t0)
            done += _k._run_steps(t0 + done, n_steps - done, self.kl, self.neurons, self.pops,
                                  drows, self.synapses, immediate, workers, rec,
                                  self.counters, np.int64(self.prefetch), prof)
            if done < n_steps:
                self._grow_record(int(self._rec_n[0]) + self.layout.n_neurons)
        if not record:
            self._rec_n[0] = rec_n0
        return probe_buf if n_probe else None

    def _grow_record(self, need: int) -> None:
        """Grow the record buffers (doubling) to hold at least ``need`` spikes."""
        size = len(self._rec_senders)
        while size < need:
            size *= 2
        if size == len(self._rec_senders):
            return
        n = int(self._rec_n[0])
        for name in ("_rec_senders", "_rec_steps"):
            old = getattr(self, name)
            new = np.empty(size, old.dtype)
            new[:n] = old[:n]
            setattr(self, name, new)

    def _append_record(self, senders: np.ndarray, steps: np.ndarray) -> None:
        """Append spikes to the raster (the root's)."""
        r0 = int(self._rec_n[0])
        self._grow_record(r0 + len(senders))
        self._rec_senders[r0:r0 + len(senders)] = senders
        self._rec_steps[r0:r0 + len(senders)] = steps
        self._rec_n[0] = r0 + len(senders)

    # Results ------------------------------------------------------------------------------

    def raster(self, *, everywhere=True):
        n = int(self._rec_n[0])
        return self._rec_senders[:n].copy(), self._rec_steps[:n].copy()

    def counts(self):
        return self.counters.sum(axis=0)

    def _ring_block(self, p: int) -> np.ndarray:
        """Partition ``p``'s ring buffers as a ``(D, 2, n_local)`` view (held here)."""
        n, a, d = int(self.kl.n_loc[p]), int(self.kl.roff[p]), self.layout.ring_depth
        return self.neurons.ring[a:a + d * 2 * n].reshape(d, 2, n)

    def _local_state(self) -> tuple:
        """The state held here: ``gids`` and the arrays of ``STATE_KEYS`` in their order."""
        nr = self.neurons
        ring = np.concatenate([self._ring_block(p) for p in self.own], axis=2)
        return self.gids, nr.v, nr.iex, nr.iin, nr.ref, nr.rng, ring, nr.dex, nr.din

    @staticmethod
    def _merge_states(parts, layout) -> dict[str, np.ndarray]:
        """Assemble the global state from the ``_local_state`` of every holder."""
        n = layout.n_neurons
        out = {"v": np.empty(n, np.int32), "i_ex": np.empty(n, np.int32),
               "i_in": np.empty(n, np.int32), "ref": np.empty(n, np.int32),
               "rng": np.empty(n, np.uint64),
               "ring": np.empty((layout.ring_depth, 2, n), np.int32),
               "d_ex": np.empty(n, np.int32), "d_in": np.empty(n, np.int32)}
        for gids, v, iex, iin, ref, rng, ring, dex, din in parts:
            out["v"][gids], out["i_ex"][gids], out["i_in"][gids] = v, iex, iin
            out["ref"][gids], out["rng"][gids] = ref, rng
            out["ring"][:, :, gids] = ring
            out["d_ex"][gids], out["d_in"][gids] = dex, din
        return out

    def state(self, *, everywhere=True):
        return self._merge_states([self._local_state()], self.layout)

    def set_source_spikes(self, steps, gids):
        self.pops = self.pops._replace(src_step=np.ascontiguousarray(steps, dtype=np.int64),
                                       src_gid=np.ascontiguousarray(gids, dtype=np.int64))

    def ring_buffer(self, p):
        return self._ring_block(p).copy()

    def load(self, data):
        gids, nr = self.gids, self.neurons
        nr.v[:] = data["v"][gids]
        nr.iex[:] = data["i_ex"][gids]
        nr.iin[:] = data["i_in"][gids]
        nr.ref[:] = data["ref"][gids]
        nr.rng[:] = data["rng"][gids]
        nr.dex[:] = data["d_ex"][gids]
        nr.din[:] = data["d_in"][gids]
        n_part = self.layout.n_partitions
        for p in self.own:
            self._ring_block(p)[...] = data["ring"][:, :, p::n_part]
        self.counters[:] = 0
        self._rec_n[0] = 0
        if self.is_root:  # the root holds the counters of before and records the raster
            self.counters[self.own[0]] = data["counters"]
            self._append_record(data["senders"], data["steps"])
