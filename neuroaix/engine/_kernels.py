"""Jitted kernels of the simulation engine (private; see neuroaix.engine.simulator).

Layout shared by all kernels (docs/architecture.md):

- neuron state is flat and partition-major: partition ``p`` owns ``n_loc[p]`` neurons at
  ``noff[p] .. noff[p] + n_loc[p]``; local index ``l`` is global id ``l * P + p``;
- ring buffers are flat: partition ``p``'s block starts at ``roff[p]`` and holds
  ``[slot][channel][local]`` int32 (channel 0 excitatory, 1 inhibitory);
- synapses: ``row_ptrs[p]`` (int64, indexed by global source id) and ``words[p]`` (uint64
  packed synapse words, neuroaix.formats).

Every arithmetic step is the one of docs/numerics.md; the names of the schedule follow it:
background, update, exchange, deliver.
"""

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from neuroaix import formats
from neuroaix.engine.state import COUNTERS

# The stream functions live with the construction kernels; this file only seeds from them.
from neuroaix.construction._kernels import _mix

_I32_MIN = -(1 << 31)
_I32_MAX = (1 << 31) - 1
_HALF = np.int64(1 << 29)
_XS_MULT = np.uint64(0x2545F4914F6CDD1D)
_U12 = np.uint64(12)
_U25 = np.uint64(25)
_U27 = np.uint64(27)
_U32 = np.uint64(32)

# Synapse word layout ----------------------------------------------------------------------
# Shifts and masks derived from formats.SYNAPSE_FIELDS (the one definition). Numba freezes
# globals into the compiled code and keys its on-disk cache on this file alone, so a changed
# layout would otherwise run the stale cached kernels: the layout is also written below as
# _LAYOUT_STAMP, and importing this module fails until the stamp is updated, an edit of this
# file that invalidates the cache of every kernel in it.

#: The synapse layout these kernels were last compiled for: (name, lsb, width, signed).
_LAYOUT_STAMP = (("weight", 0, 32, True), ("target", 32, 24, False), ("delay", 56, 8, False))


def _synapse_field(name: str) -> formats.Field:
    return next(f for f in formats.SYNAPSE_FIELDS if f.name == name)


if tuple(tuple(f) for f in formats.SYNAPSE_FIELDS) != _LAYOUT_STAMP:
    raise ImportError(
        f"neuroaix.formats.SYNAPSE_FIELDS is {formats.SYNAPSE_FIELDS!r}, but the engine "
        f"kernels were stamped for {_LAYOUT_STAMP!r}; set _LAYOUT_STAMP in "
        f"neuroaix/engine/_kernels.py to the new layout (editing the file makes Numba "
        f"recompile the kernels instead of loading stale cached code)")
_WEIGHT, _TARGET, _DELAY = (_synapse_field(n) for n in ("weight", "target", "delay"))
_W_SHIFT = np.uint64(_WEIGHT.lsb)
_W_MASK = np.uint64((1 << _WEIGHT.width) - 1)
#: Two's complement of the weight field: values >= _W_SIGN are negative (signed field).
_W_SIGN = np.int64(1 << (_WEIGHT.width - 1) if _WEIGHT.signed else 1 << _WEIGHT.width)
_W_MODULUS = np.int64(1 << _WEIGHT.width)
_T_SHIFT = np.uint64(_TARGET.lsb)
_T_MASK = np.uint64((1 << _TARGET.width) - 1)
_D_SHIFT = np.uint64(_DELAY.lsb)
_D_MASK = np.uint64((1 << _DELAY.width) - 1)

# Counter columns per partition, in the order of state.COUNTERS.
N_COUNTERS = len(COUNTERS)
C_SPIKES, C_SYN_EVENTS, C_POISSON, C_SATURATIONS = (
    COUNTERS.index(name) for name in ("spikes", "synaptic_events", "poisson_events",
                                      "saturations"))


# Kernel arguments --------------------------------------------------------------------------
# Built at the Python boundary (neuroaix.engine._cpu) with explicit dtypes; Numba types a
# NamedTuple by its fields, so a kernel compiles once per layout of these groups.


class KernelLayout(NamedTuple):
    """Where each partition's neurons and ring buffers lie in the flat state arrays."""

    #: Partitions P of the network (int); kernels index the arrays below by partition.
    n_part: int
    #: Neurons of each partition held here, int64 (P,) (zero for another MPI rank's).
    n_loc: np.ndarray
    #: First flat neuron index of each partition, int64 (P,).
    noff: np.ndarray
    #: First flat ring-buffer index of each partition, int64 (P,) (``2 * D * noff``).
    roff: np.ndarray
    #: Ring depth D minus one (D a power of two): step t uses slot ``t & mask``.
    mask: int


class NeuronArrays(NamedTuple):
    """The neuron state in flat, partition-major order (updated in place)."""

    #: Ring buffers, int32 (sum of 2 * D * n_loc): partition p's block at ``roff[p]`` is
    #: ``[slot][channel][local]``, channel 0 excitatory, 1 inhibitory (I format).
    ring: np.ndarray
    #: Membrane potential relative to E_L, int32 (n,), V format.
    v: np.ndarray
    #: Excitatory synaptic current, int32 (n,), I format.
    iex: np.ndarray
    #: Inhibitory synaptic current, int32 (n,), I format.
    iin: np.ndarray
    #: Refractory steps left, int32 (n,).
    ref: np.ndarray
    #: Background generator state (xorshift64*), uint64 (n,); never zero.
    rng: np.ndarray


class PopulationTables(NamedTuple):
    """Per-population constants (populations are contiguous in global id)."""

    #: Global-id bounds, int64 (n_pop + 1,).
    pop_start: np.ndarray
    #: Neuron coefficients, int64 (n_pop, 10): p22, p11ex, p11in, p21ex, p21in, p20, theta,
    #: v_reset, i_e, ref_steps (numerics.LIFCoefficients order).
    coef: np.ndarray
    #: Whether the population has Poisson background input, bool (n_pop,).
    has_poisson: np.ndarray
    #: Inverse-CDF thresholds of the Poisson count, int64 (n_pop, n_table).
    ptable: np.ndarray
    #: Thresholds below 2**32 per population, int64 (n_pop,): the scan stops there.
    plen: np.ndarray
    #: Guide table, int64 (n_pop, 256): for each top byte b of u, the count of thresholds
    #: <= b * 2**24 (where the scan starts).
    pguide: np.ndarray
    #: Background weight per Poisson event, int64 (n_pop,), I format (its sign is the channel).
    pweight: np.ndarray


class SynapseRows(NamedTuple):
    """Target-side synapses of the partitions held here, one entry per partition."""

    #: Row pointers, typed List of int64 arrays (n_neurons + 1,), indexed by global source id.
    row_ptrs: object
    #: Packed synapse words (formats.SYNAPSE_FIELDS), typed List of uint64 arrays.
    words: object


class Record(NamedTuple):
    """Where a run writes its raster and probe samples."""

    #: Recorded senders, int32; spikes are appended from position ``n[0]``.
    senders: np.ndarray
    #: Recorded steps, int64, same length as ``senders``.
    steps: np.ndarray
    #: Spikes recorded so far, int64 (1,) (updated).
    n: np.ndarray
    #: Flat indices of the probed neurons, int64 (n_probe,) (empty: no probes).
    probe_idx: np.ndarray
    #: Probe samples, int32 (n_probe, 3, steps): V, I_ex, I_in at the end of each step.
    probe_buf: np.ndarray
    #: Step of column 0 of ``probe_buf`` (int).
    probe_t0: int


# Kernels -----------------------------------------------------------------------------------


@njit(cache=True, nogil=True, inline="always")
def _decode_synapse(word):
    """Return ``(target, weight, delay)`` (int64) of a packed synapse word (formats)."""
    w = np.int64((word >> _W_SHIFT) & _W_MASK)
    if w >= _W_SIGN:
        w -= _W_MODULUS
    return (np.int64((word >> _T_SHIFT) & _T_MASK), w,
            np.int64((word >> _D_SHIFT) & _D_MASK))


@njit(cache=True, nogil=True)
def _decode_synapses(words):
    """Return the targets, weights and delays (int64 arrays) of synapse words, as the
    delivery kernels decode them (for tests against ``formats.unpack_synapses``)."""
    n = words.shape[0]
    out = np.empty((3, n), np.int64)
    for q in range(n):
        out[0, q], out[1, q], out[2, q] = _decode_synapse(words[q])
    return out


@njit(cache=True, nogil=True)
def _update_partition(p, t, lay, neu, pops, spk_buf, counters):
    """Run background input and the neuron update of partition ``p`` at step ``t``.

    Populations are contiguous in global id (``pops.pop_start``), hence in local index too;
    each population's segment runs with its constants hoisted out of the loop. Spiking
    neurons' global ids are written, ascending, to ``spk_buf[lay.noff[p]:]``; returns their
    number.
    """
    n_part = lay.n_part
    ring, v, iex, iin, ref, rng = neu
    pop_start, coef, has_poisson, ptable, plen, pguide, pweight = pops
    n = lay.n_loc[p]
    base = lay.noff[p]
    ex_base = lay.roff[p] + ((t & lay.mask) * 2) * n
    in_base = ex_base + n
    sat = 0
    n_spk = 0
    n_pois = 0
    for k in range(pop_start.shape[0] - 1):
        # local indices l with l * P + p in [start, stop)
        l0 = max((pop_start[k] - p + n_part - 1) // n_part, 0)
        l1 = min((pop_start[k + 1] - p + n_part - 1) // n_part, n)
        p22, p11ex, p11in = coef[k, 0], coef[k, 1], coef[k, 2]
        p21ex, p21in, drive = coef[k, 3], coef[k, 4], coef[k, 5] * coef[k, 8]
        theta, v_reset, ref_steps = coef[k, 6], coef[k, 7], coef[k, 9]
        poisson, n_table, w_bg = has_poisson[k], plen[k], pweight[k]
        for l in range(l0, l1):
            g = base + l
            in_ex = np.int64(ring[ex_base + l])
            in_in = np.int64(ring[in_base + l])
            ring[ex_base + l] = 0
            ring[in_base + l] = 0
            # background: one xorshift64* step, inverse-CDF Poisson count
            if poisson:
                x = rng[g]
                x ^= x >> _U12
                x ^= x << _U25
                x ^= x >> _U27
                rng[g] = x
                u = np.int64((x * _XS_MULT) >> _U32)
                # guide table: thresholds <= the bottom of u's 2**24-wide bucket all count
                c = pguide[k, u >> 24]
                while c < n_table and u >= ptable[k, c]:
                    c += 1
                n_pois += c
                bg = c * w_bg  # joins the channel of the weight's sign (0 changes nothing)
                if bg >= 0:
                    in_ex += bg
                    if in_ex > _I32_MAX:
                        sat += 1
                        in_ex = _I32_MAX
                else:
                    in_in += bg
                    if in_in < _I32_MIN:
                        sat += 1
                        in_in = _I32_MIN
            # update: NEST iaf_psc_exp order (saturation branches are rarely taken)
            vm = np.int64(v[g])
            ie = np.int64(iex[g])
            ii = np.int64(iin[g])
            r = ref[g]
            if r == 0:
                vm = (p22 * vm + p21ex * ie + p21in * ii + drive + _HALF) >> 30
                if vm > _I32_MAX or vm < _I32_MIN:
                    sat += 1
                    vm = min(max(vm, _I32_MIN), _I32_MAX)
            else:
                r -= 1
            ie = ((p11ex * ie + _HALF) >> 30) + in_ex
            ii = ((p11in * ii + _HALF) >> 30) + in_in
            if ie > _I32_MAX or ie < _I32_MIN:
                sat += 1
                ie = min(max(ie, _I32_MIN), _I32_MAX)
            if ii > _I32_MAX or ii < _I32_MIN:
                sat += 1
                ii = min(max(ii, _I32_MIN), _I32_MAX)
            if vm >= theta:
                r = ref_steps
                vm = v_reset
                spk_buf[base + n_spk] = l * n_part + p
                n_spk += 1
            v[g] = vm
            iex[g] = ie
            iin[g] = ii
            ref[g] = r
    counters[p, C_SPIKES] += n_spk
    counters[p, C_POISSON] += n_pois
    counters[p, C_SATURATIONS] += sat
    return n_spk


@njit(cache=True, nogil=True)
def _deliver_partition(p, t, lay, ring, row_ptr, words, spikes, counters):
    """Accumulate the synapses of ``spikes`` (ascending global ids) onto partition ``p``.

    ``row_ptr`` and ``words`` are partition ``p``'s entries of ``SynapseRows``.
    """
    n = lay.n_loc[p]
    rbase = lay.roff[p]
    mask = lay.mask
    sat = 0
    events = 0
    for j in range(spikes.shape[0]):
        src = spikes[j]
        a = row_ptr[src]
        b = row_ptr[src + 1]
        events += b - a
        for q in range(a, b):
            tgt, w, d = _decode_synapse(words[q])
            ch = 1 if w < 0 else 0
            idx = rbase + ((((t + d) & mask) * 2) + ch) * n + tgt
            val = np.int64(ring[idx]) + w
            if val > _I32_MAX or val < _I32_MIN:
                sat += 1
                val = min(max(val, _I32_MIN), _I32_MAX)
            ring[idx] = val
    counters[p, C_SYN_EVENTS] += events
    counters[p, C_SATURATIONS] += sat


@njit(cache=True, nogil=True, parallel=True)
def _run_steps(t0, n_steps, lay, neu, pops, syn, rec, counters):
    """Run steps ``t0 .. t0 + n_steps - 1``; partitions in parallel, exchange in between.

    Spikes are appended to ``rec.senders``/``rec.steps`` from position ``rec.n[0]``. If the
    record buffers could overflow, stops before the step and returns the number of steps
    done (the caller grows the buffers and continues). Probes record (V, I_ex, I_in) of the
    flat indices ``rec.probe_idx`` at the end of every step into
    ``rec.probe_buf[:, :, t - rec.probe_t0]``. ``counters`` is int64 (P, N_COUNTERS).
    """
    n_part, noff = lay.n_part, lay.noff
    ring, v, iex, iin = neu.ring, neu.v, neu.iex, neu.iin
    row_ptrs, words = syn
    rec_senders, rec_steps, rec_n, probe_idx, probe_buf, probe_t0 = rec
    n_total = v.shape[0]
    spk_buf = np.empty(n_total, np.int32)
    spk_cnt = np.zeros(n_part, np.int64)
    for step in range(n_steps):
        t = t0 + step
        if rec_n[0] + n_total > rec_senders.shape[0]:
            return step
        # background + update
        for pp in prange(n_part):
            p = np.int64(pp)  # prange indices may be unsigned
            spk_cnt[p] = _update_partition(p, t, lay, neu, pops, spk_buf, counters)
        # exchange: all partitions' spikes in ascending global id
        total = 0
        for p in range(n_part):
            total += spk_cnt[p]
        spikes = np.empty(total, np.int32)
        pos = 0
        for p in range(n_part):
            for j in range(spk_cnt[p]):
                spikes[pos] = spk_buf[noff[p] + j]
                pos += 1
        spikes.sort()
        r0 = rec_n[0]
        for j in range(total):
            rec_senders[r0 + j] = spikes[j]
            rec_steps[r0 + j] = t
        rec_n[0] = r0 + total
        # deliver
        for pp in prange(n_part):
            p = np.int64(pp)
            _deliver_partition(p, t, lay, ring, row_ptrs[p], words[p], spikes, counters)
        for j in range(probe_idx.shape[0]):
            g = probe_idx[j]
            col = t - probe_t0
            probe_buf[j, 0, col] = v[g]
            probe_buf[j, 1, col] = iex[g]
            probe_buf[j, 2, col] = iin[g]
    return n_steps


# Distributed schedule (neuroaix.engine.mpi): a rank runs only its own partitions; the
# exchange between ``_update_interval`` and ``_deliver_interval`` is the MPI collective.


@njit(cache=True, nogil=True, parallel=True)
def _update_interval(t0, n_steps, parts, lay, neu, pops, spk_buf, spk_cnt, counters):
    """Run background + update of the partitions ``parts`` for steps ``t0 .. t0 + n_steps - 1``.

    Valid without delivery in between only if ``n_steps`` is at most the minimum delay. The
    spikes of step ``t0 + s`` on partition ``parts[i]`` go to ``spk_buf[s, lay.noff[p]:]``
    (ascending global ids), their number to ``spk_cnt[s, i]``.
    """
    for ii in prange(parts.shape[0]):
        i = np.int64(ii)
        p = parts[i]
        for s in range(n_steps):
            spk_cnt[s, i] = _update_partition(p, t0 + s, lay, neu, pops, spk_buf[s], counters)


@njit(cache=True, nogil=True)
def _collect_spikes(spk_buf, spk_cnt, n_steps, parts, noff):
    """Return the local spikes of each step in ascending global id, concatenated by step,
    and the number per step (int64)."""
    per_step = np.zeros(n_steps, np.int64)
    for s in range(n_steps):
        for i in range(parts.shape[0]):
            per_step[s] += spk_cnt[s, i]
    out = np.empty(per_step.sum(), np.int32)
    pos = 0
    for s in range(n_steps):
        start = pos
        for i in range(parts.shape[0]):
            base = noff[parts[i]]
            for j in range(spk_cnt[s, i]):
                out[pos] = spk_buf[s, base + j]
                pos += 1
        out[start:pos].sort()
    return out, per_step


@njit(cache=True, nogil=True)
def _merge_spikes(recv, counts):
    """Merge every rank's spikes into one list per step in ascending global id.

    ``recv`` holds the ranks' ``_collect_spikes`` outputs one after another, ``counts[r, s]``
    the number of rank ``r``'s spikes of step ``s``. Returns the spikes concatenated by step
    and the offsets of each step (length ``n_steps + 1``).
    """
    n_rank, n_steps = counts.shape
    rank_off = np.zeros(n_rank, np.int64)
    acc = 0
    for r in range(n_rank):
        rank_off[r] = acc
        for s in range(n_steps):
            acc += counts[r, s]
    offsets = np.zeros(n_steps + 1, np.int64)
    for s in range(n_steps):
        tot = 0
        for r in range(n_rank):
            tot += counts[r, s]
        offsets[s + 1] = offsets[s] + tot
    out = np.empty(offsets[n_steps], np.int32)
    for s in range(n_steps):
        pos = offsets[s]
        for r in range(n_rank):
            for j in range(counts[r, s]):
                out[pos] = recv[rank_off[r] + j]
                pos += 1
            rank_off[r] += counts[r, s]
        out[offsets[s]:offsets[s + 1]].sort()
    return out, offsets


@njit(cache=True, nogil=True)
def _strip_messages(msgs, header, sizes):
    """Concatenate the spikes of fixed-size exchange messages: row ``r`` of ``msgs`` holds
    ``header`` counts, then ``sizes[r]`` spikes, then padding."""
    out = np.empty(sizes.sum(), np.int32)
    pos = 0
    for r in range(msgs.shape[0]):
        for j in range(sizes[r]):
            out[pos + j] = msgs[r, header + j]
        pos += sizes[r]
    return out


@njit(cache=True, nogil=True, parallel=True)
def _deliver_interval(t0, n_steps, parts, lay, ring, syn, spikes, offsets, counters):
    """Deliver the spikes of steps ``t0 .. t0 + n_steps - 1`` (step ``t0 + s`` in
    ``spikes[offsets[s]:offsets[s + 1]]``) onto the partitions ``parts``, step by step.

    ``syn.row_ptrs[i]`` and ``syn.words[i]`` are the synapses of partition ``parts[i]``.
    """
    row_ptrs, words = syn
    for ii in prange(parts.shape[0]):
        i = np.int64(ii)
        p = parts[i]
        for s in range(n_steps):
            _deliver_partition(p, t0 + s, lay, ring, row_ptrs[i], words[i],
                               spikes[offsets[s]:offsets[s + 1]], counters)


@njit(cache=True, nogil=True)
def _background_seeds(key, n):
    """Return ``background_seed(seed, gid)`` for gid = 0..n-1, given ``key = stream_key(seed, 0)``."""
    out = np.empty(n, np.uint64)
    for g in range(n):
        s = _mix(key, g)
        out[g] = s if s != np.uint64(0) else np.uint64(0x9E3779B97F4A7C15)
    return out
