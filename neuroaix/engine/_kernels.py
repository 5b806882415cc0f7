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
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

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
    #: Scaled current derivatives D of iaf_psc_alpha neurons, int32 (n,), I format (0 for
    #: the other models).
    dex: np.ndarray
    din: np.ndarray


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
    #: The same thresholds minus one, uint32 (n_pop, POISSON_TABLE_LEN): ``u >= T[k]``
    #: exactly when ``u > T[k] - 1`` in unsigned 32 bits (u < 2**32, and every threshold is
    #: at least 1; the padding 2**32 becomes 2**32 - 1, which u never exceeds), so the CPU
    #: kernels count in 32-bit lanes (``_poisson_count``).
    pthr32: np.ndarray
    #: Thresholds below 2**32 per population, int64 (n_pop,): the scan stops there.
    plen: np.ndarray
    #: Guide table, int64 (n_pop, 256): for each top byte b of u, the count of thresholds
    #: <= b * 2**24 (where the GPU kernel's scan starts; the CPU kernels compare with all).
    pguide: np.ndarray
    #: Background weight per Poisson event, int64 (n_pop,), I format (its sign is the channel).
    pweight: np.ndarray
    #: Segment kind per population, int64 (n_pop,): SEG_EXP runs the loop of
    #: ``_update_partition``, the others ``_update_segment``.
    kind: np.ndarray
    #: iaf_psc_alpha constants a21ex, a21in, a31ex, a31in, int64 (n_pop, 4).
    acoef: np.ndarray
    #: Step-current schedule of each neuron held here (flat order), int64 (n,), -1: none;
    #: its changes in ``stim_step[stim_ptr[c]:stim_ptr[c + 1]]`` / ``stim_value`` (int64).
    stim_of: np.ndarray
    stim_ptr: np.ndarray
    stim_step: np.ndarray
    stim_value: np.ndarray
    #: Source spikes: emission step and global id, int64, sorted by step then id.
    src_step: np.ndarray
    src_gid: np.ndarray


class SynapseRows(NamedTuple):
    """Target-side synapses of the partitions held here, one entry per partition."""

    #: Row pointers, typed List of int64 arrays (n_neurons + 1,), indexed by global source id.
    row_ptrs: object
    #: Packed synapse words (formats.SYNAPSE_FIELDS), typed List of uint64 arrays.
    words: object


class DelayRows(NamedTuple):
    """The engine's derived synapse layout: each row regrouped by delay (``_delay_rows``).

    Built from ``SynapseRows`` for the single-process step loop; the built network keeps the
    canonical rows. Row ``s`` keeps its place (``row_ptr[s] .. row_ptr[s + 1]``) but lists its
    synapses by ascending delay, in row order within a delay, so the synapses of source
    ``s`` with delay ``d0 + k`` are ``dptr[s * n_d + k] .. dptr[s * n_d + k + 1]``. The delay
    is implicit in the group; a synapse is a target and a weight.
    """

    #: Smallest delay of any synapse (steps; 1 without synapses).
    d0: int
    #: Delay groups per row: ``max_delay - d0 + 1``.
    n_d: int
    #: Group starts, typed List of int32 arrays (n_neurons * n_d + 1,), one per partition
    #: (a partition holds fewer than 2**31 synapses; ``_cpu.delay_rows`` checks).
    dptr: object
    #: Local targets, typed List of uint16 arrays (uint32 when a partition holds more than
    #: 65,536 neurons).
    tgt: object
    #: Weights, typed List of int32 arrays (I format; the sign is the channel).
    wgt: object


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


#: Segment kinds of ``PopulationTables.kind``: iaf_psc_exp without step currents (the loop of
#: ``_update_partition``), iaf_psc_exp with step currents, iaf_psc_delta, iaf_psc_alpha and
#: spike sources (``_update_segment``).
SEG_EXP, SEG_EXP_STIM, SEG_DELTA, SEG_ALPHA, SEG_SOURCE = range(5)

#: Spikes ahead (in the order of ``_gather_partition``) whose group bounds are prefetched;
#: the synapses of the group half as far ahead are prefetched (docs/performance.md).
PREFETCH_AHEAD = 8
#: Rows of ``_run_steps``' profile: one per partition (gather, update), then one for the
#: whole step loop (parallel region, slowest partition, exchange, final scatter), in cycles
#: of the time-stamp counter.
PROFILE_COLUMNS = 4

# Kernels -----------------------------------------------------------------------------------


@intrinsic
def _prefetch(typingctx, arr, idx):
    """Hint the cache to load the line of ``arr[idx]`` (no effect on any value; an index
    outside ``arr`` is harmless, as a prefetch never faults)."""
    if not isinstance(arr, types.Array) or not isinstance(idx, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = builder.gep(ary.data, [args[1]])
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
            "llvm.prefetch.p0i8")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(arr, idx), codegen


@intrinsic
def _claim(typingctx, flags, i):
    """Atomically add 1 to ``flags[i]`` (int64 array) and return its value before: 0 for
    the one caller that takes item ``i``."""
    if not (isinstance(flags, types.Array) and flags.dtype == types.int64
            and isinstance(i, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = builder.gep(ary.data, [args[1]])
        return builder.atomic_rmw("add", ptr, ir.IntType(64)(1), "monotonic")

    return types.int64(flags, i), codegen


@intrinsic
def _cycles(typingctx):
    """Return the processor's time-stamp counter (int64), for the step loop's profile."""

    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.IntType(64), []), "llvm.readcyclecounter")
        return builder.call(fn, [])

    return types.int64(), codegen


@njit(cache=True, nogil=True)
def _read_cycles():
    """Return the time-stamp counter (int64), to calibrate ``_run_steps``' profile."""
    return _cycles()


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


@njit(cache=True, nogil=True, inline="always")
def _saturate(x):
    """Return ``(saturate(x), 1 if x was clamped else 0)`` (int64) without a branch."""
    c = min(max(x, _I32_MIN), _I32_MAX)
    return c, np.int64(c != x)


@njit(cache=True, nogil=True, inline="always")
def _clamp(x):
    """Return ``saturate(x)`` (int64) without a branch and without counting: a ring-buffer
    accumulation (docs/numerics.md, section 4)."""
    return min(max(x, _I32_MIN), _I32_MAX)


@njit(cache=True, nogil=True, inline="always")
def _ring_saturations(in_ex, in_in):
    """Return ``numerics.ring_saturations``: 1 for an excitatory channel read at ``INT32_MAX``
    plus 1 for an inhibitory channel read at ``INT32_MIN`` (int64, two comparisons)."""
    return np.int64(in_ex == _I32_MAX) + np.int64(in_in == _I32_MIN)


@njit(cache=True, nogil=True, inline="always")
def _sext32(x):
    """Return int64 ``x`` (within int32) as the sign extension of its low 32 bits: the same
    value, which lets LLVM multiply it by another int32 with ``vpmuldq``."""
    return np.int64(np.int32(x))


@njit(cache=True, nogil=True, inline="always")
def _xorshift_next(x):
    """Return the next background generator state after ``x`` (xorshift64*, uint64) and
    its output ``u`` (the high 32 bits of the scrambled state, int64; docs/numerics.md)."""
    x ^= x >> _U12
    x ^= x << _U25
    x ^= x >> _U27
    return x, np.int64((x * _XS_MULT) >> _U32)


@njit(cache=True, nogil=True, inline="always")
def _table(thr, half):
    """Thresholds ``16 * half .. 16 * half + 15`` of a Poisson table as a tuple: values the
    update loop keeps in registers (an array would be reloaded, as it might alias the
    state arrays, and indexing a tuple in a loop becomes a switch)."""
    if half == 0:
        return (thr[0], thr[1], thr[2], thr[3], thr[4], thr[5], thr[6], thr[7], thr[8], thr[9], thr[10], thr[11], thr[12], thr[13], thr[14], thr[15])
    return (thr[16], thr[17], thr[18], thr[19], thr[20], thr[21], thr[22], thr[23], thr[24], thr[25], thr[26], thr[27], thr[28], thr[29], thr[30], thr[31])


@njit(cache=True, nogil=True, inline="always")
def _gt(u, t):
    """Return ``u > t`` (both uint32) as an int32 0 or 1."""
    return np.int32(u > t)


@njit(cache=True, nogil=True, inline="always")
def _add32(a, b):
    """Return ``a + b`` truncated to int32: keeps a sum of comparison results in 32-bit
    lanes (Numba widens integer sums to int64), where the loop vectorises 16 wide."""
    return np.int32(a + b)


@njit(cache=True, nogil=True, inline="always")
def _count16(u, tab):
    """Return ``#{k : u > tab[k]}`` for 16 thresholds (uint32), as 16 comparisons (no loop,
    so the enclosing loop vectorises)."""
    t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15 = tab
    return _add32(
        _add32(_add32(_add32(_gt(u, t0), _gt(u, t1)), _add32(_gt(u, t2), _gt(u, t3))),
               _add32(_add32(_gt(u, t4), _gt(u, t5)), _add32(_gt(u, t6), _gt(u, t7)))),
        _add32(_add32(_add32(_gt(u, t8), _gt(u, t9)), _add32(_gt(u, t10), _gt(u, t11))),
               _add32(_add32(_gt(u, t12), _gt(u, t13)), _add32(_gt(u, t14), _gt(u, t15)))))


@njit(cache=True, nogil=True, inline="always")
def _count4(u, tab):
    """Return ``#{k : u > tab[k]}`` for the first 4 thresholds of ``tab``."""
    return _add32(_add32(_gt(u, tab[0]), _gt(u, tab[1])), _add32(_gt(u, tab[2]), _gt(u, tab[3])))


@njit(cache=True, nogil=True, inline="always")
def _poisson_count(u, lo, hi, n_hi):
    """Return the Poisson count of ``u`` (uint32): ``#{k : u >= T[k]}``, as the hardware
    compares, counted as ``#{k : u > T[k] - 1}`` over the thresholds minus one
    (``PopulationTables.pthr32``): ``lo`` (``_table(pthr32[k], 0)``) and the first ``n_hi``
    (0, 4 or 16) of ``hi`` (``_table(pthr32[k], 1)``). Thresholds beyond the table are
    ``2**32 - 1`` here, which ``u`` never exceeds, so ``n_hi`` need only cover the table.
    Returns int32."""
    c = _count16(u, lo)
    if n_hi == 16:
        c = _add32(c, _count16(u, hi))
    elif n_hi == 4:
        c = _add32(c, _count4(u, hi))
    return c


@njit(cache=True, nogil=True, inline="always")
def _hi_thresholds(plen):
    """Return how many of the upper 16 thresholds a table of ``plen`` needs compared (0, 4
    or 16: ``_poisson_count``'s ``n_hi``)."""
    return 0 if plen <= 16 else (4 if plen <= 20 else 16)


@njit(cache=True, nogil=True, inline="always")
def _poisson_counts(rng, cnt, lo, hi, n_hi):
    """Draw the background input of one population's neurons on one partition: advance
    each generator state ``rng[i]`` and write the Poisson count of its output to ``cnt[i]``
    (int32; ``_poisson_count`` with ``lo``, ``hi``, ``n_hi``); return the counts' sum.

    Two loops: the generator's in 64-bit lanes, then the comparisons in 32-bit lanes (twice
    as many per vector as in one loop, whose 64-bit state would set the width).
    """
    for i in range(rng.shape[0]):
        x, u = _xorshift_next(rng[i])
        rng[i] = x
        cnt[i] = np.int32(np.uint32(u))
    n_pois = 0
    for i in range(cnt.shape[0]):
        c = _poisson_count(np.uint32(cnt[i]), lo, hi, n_hi)
        cnt[i] = c
        n_pois += c
    return n_pois


@njit(cache=True, nogil=True, inline="always")
def _exp_segment(seg, poisson, excitatory, w_bg):
    """Background input and the iaf_psc_exp update of one population's neurons on one
    partition: ``seg`` is (ring_ex, ring_in, v, iex, iin, ref, flag, cf), views of equal
    length and the population's coefficients.

    With ``poisson``, ``flag[i]`` holds neuron i's Poisson count on entry
    (``_poisson_counts``); the count times ``w_bg`` joins the excitatory channel if
    ``excitatory`` (the weight's sign), else the inhibitory one. Both flags are constants
    at each call, so each inlined copy is a loop of its own.

    Branch-free, so that the loop compiles to vector code; saturations are counted by
    comparing each result with its clamped value, and the ring channels read at their int32
    bound (two comparisons, docs/numerics.md, section 4). Writes 1 to ``flag[i]`` where
    neuron i spikes (0 elsewhere); returns the saturations (int32).
    """
    ring_ex, ring_in, v, iex, iin, ref, flag, cf = seg
    # the propagators and the weight are int32 by the contract (checked by the wrapper):
    # sign-extended from int32, each product compiles to one vpmuldq, not a vpmullq
    p22, p11ex, p11in = _sext32(cf[0]), _sext32(cf[1]), _sext32(cf[2])
    p21ex, p21in = _sext32(cf[3]), _sext32(cf[4])
    drive, theta, v_reset, ref_steps = cf[5] * cf[8], cf[6], cf[7], cf[9]
    w_bg = _sext32(w_bg)
    sat = np.int32(0)  # per-lane counts in 32 bits (at most 6 per neuron and step)
    for i in range(v.shape[0]):
        in_ex = np.int64(ring_ex[i])
        in_in = np.int64(ring_in[i])
        ring_ex[i] = 0
        ring_in[i] = 0
        sat = _add32(sat, np.int32(_ring_saturations(in_ex, in_in)))
        if poisson:
            bg = _sext32(flag[i]) * w_bg
            if excitatory:
                in_ex, s1 = _saturate(in_ex + bg)
            else:
                in_in, s1 = _saturate(in_in + bg)
            sat = _add32(sat, np.int32(s1))
        vm = np.int64(v[i])
        ie = np.int64(iex[i])
        ii = np.int64(iin[i])
        r = np.int64(ref[i])
        vc, s0 = _saturate((p22 * vm + p21ex * ie + p21in * ii + drive + _HALF) >> 30)
        free = r == 0
        sat = _add32(sat, np.int32(free & s0))
        vm = vc if free else vm
        r = r if free else r - 1
        ie, s1 = _saturate(((p11ex * ie + _HALF) >> 30) + in_ex)
        ii, s2 = _saturate(((p11in * ii + _HALF) >> 30) + in_in)
        sat = _add32(sat, np.int32(s1 + s2))
        spike = vm >= theta
        v[i] = v_reset if spike else vm
        ref[i] = ref_steps if spike else r
        iex[i] = ie
        iin[i] = ii
        flag[i] = spike
    return sat


@njit(cache=True, nogil=True)
def _update_partition(p, t, inp, ex_base, lay, neu, pops, spk_buf, counters):
    """Run background input and the neuron update of partition ``p`` at step ``t``.

    The step's synaptic input is read from ``inp`` (the ring buffers or the step loop's
    accumulator) and cleared: excitatory at ``inp[ex_base:ex_base + n_local]``, inhibitory
    right after it.

    Populations are contiguous in global id (``pops.pop_start``), hence in local index too;
    each population's segment runs with its constants hoisted out of the loop (the place
    where a population's neuron model picks its segment). Spiking neurons' global ids are
    written, ascending, to ``spk_buf[lay.noff[p]:]``; returns their number.
    """
    n_part = lay.n_part
    v, iex, iin, ref, rng = neu.v, neu.iex, neu.iin, neu.ref, neu.rng
    pop_start, coef, has_poisson, pthr32, plen = (pops.pop_start, pops.coef, pops.has_poisson,
                                                  pops.pthr32, pops.plen)
    pweight = pops.pweight
    n = lay.n_loc[p]
    base = lay.noff[p]
    in_base = ex_base + n
    sat = 0
    n_spk = 0
    n_pois = 0
    for k in range(pop_start.shape[0] - 1):
        # local indices l with l * P + p in [start, stop)
        l0 = max((pop_start[k] - p + n_part - 1) // n_part, 0)
        l1 = min((pop_start[k + 1] - p + n_part - 1) // n_part, n)
        if l1 <= l0:
            continue
        if pops.kind[k] != SEG_EXP:  # the other models and inputs: their own segments
            n_spk, c, s = _update_segment(k, p, t, l0, l1, base, inp, ex_base, in_base,
                                          n_spk, n_part, neu, pops, spk_buf)
            n_pois += c
            sat += s
            continue
        g0, g1 = base + l0, base + l1
        # spike flags go to spk_buf[g0:g1]; the ids are compacted below them in place
        flag = spk_buf[g0:g1]
        seg = (inp[ex_base + l0:ex_base + l1], inp[in_base + l0:in_base + l1], v[g0:g1],
               iex[g0:g1], iin[g0:g1], ref[g0:g1], flag, coef[k])
        # constant flags: each inlined copy is a loop of its own
        if not has_poisson[k]:
            sat += _exp_segment(seg, False, True, 0)
        else:
            lo, hi = _table(pthr32[k], 0), _table(pthr32[k], 1)
            n_hi = _hi_thresholds(plen[k])
            if n_hi == 0:
                n_pois += _poisson_counts(rng[g0:g1], flag, lo, hi, 0)
            elif n_hi == 4:
                n_pois += _poisson_counts(rng[g0:g1], flag, lo, hi, 4)
            else:
                n_pois += _poisson_counts(rng[g0:g1], flag, lo, hi, 16)
            if pweight[k] >= 0:
                sat += _exp_segment(seg, True, True, pweight[k])
            else:
                sat += _exp_segment(seg, True, False, pweight[k])
        for i in range(l1 - l0):
            if flag[i]:
                spk_buf[base + n_spk] = (l0 + i) * n_part + p
                n_spk += 1
    counters[p, C_SPIKES] += n_spk
    counters[p, C_POISSON] += n_pois
    counters[p, C_SATURATIONS] += sat
    return n_spk


@njit(cache=True, nogil=True, inline="always")
def _step_current(pops, g, t):
    """Return the step-current amplitude of flat neuron ``g`` in step ``t``
    (``numerics.step_current``): the value of its last change at a step before ``t``."""
    c = pops.stim_of[g]
    if c < 0:
        return np.int64(0)
    a = pops.stim_ptr[c]
    lo, hi = a, pops.stim_ptr[c + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        if pops.stim_step[mid] < t:
            lo = mid + 1
        else:
            hi = mid
    return pops.stim_value[lo - 1] if lo > a else np.int64(0)


@njit(cache=True, nogil=True)
def _update_segment(k, p, t, l0, l1, base, inp, ex_base, in_base, n_spk, n_part, neu, pops,
                    spk_buf):
    """Run population ``k``'s local neurons ``l0 .. l1 - 1`` of partition ``p`` at step ``t``
    for every segment kind but SEG_EXP (docs/numerics.md, sections 5-5d), in the order of
    ``_update_partition``: read-and-clear (of ``inp``, see there), background, update,
    threshold.

    Returns ``(n_spk, poisson events, saturations)``; spikes are appended to ``spk_buf`` at
    ``base + n_spk`` in ascending global id.
    """
    seg = pops.kind[k]
    sat = 0
    n_pois = 0
    if seg == SEG_SOURCE:
        # the spikes of step t: a binary search in the table sorted by step
        lo, hi = 0, pops.src_step.shape[0]
        while lo < hi:
            mid = (lo + hi) // 2
            if pops.src_step[mid] < t:
                lo = mid + 1
            else:
                hi = mid
        g0, g1 = pops.pop_start[k], pops.pop_start[k + 1]
        e = lo
        while e < pops.src_step.shape[0] and pops.src_step[e] == t:
            gid = pops.src_gid[e]
            if gid >= g0 and gid < g1 and gid % n_part == p:
                spk_buf[base + n_spk] = gid
                n_spk += 1
            e += 1
        return n_spk, n_pois, sat
    v, iex, iin, ref, rng = neu.v, neu.iex, neu.iin, neu.ref, neu.rng
    coef = pops.coef
    p22, p11ex, p11in = coef[k, 0], coef[k, 1], coef[k, 2]
    p21ex, p21in, p20, i_e = coef[k, 3], coef[k, 4], coef[k, 5], coef[k, 8]
    theta, v_reset, ref_steps = coef[k, 6], coef[k, 7], coef[k, 9]
    a21ex, a21in = pops.acoef[k, 0], pops.acoef[k, 1]
    a31ex, a31in = pops.acoef[k, 2], pops.acoef[k, 3]
    poisson, n_hi, w_bg = pops.has_poisson[k], _hi_thresholds(pops.plen[k]), pops.pweight[k]
    lo, hi = _table(pops.pthr32[k], 0), _table(pops.pthr32[k], 1)
    for l in range(l0, l1):
        g = base + l
        in_ex = np.int64(inp[ex_base + l])
        in_in = np.int64(inp[in_base + l])
        inp[ex_base + l] = 0
        inp[in_base + l] = 0
        sat += _ring_saturations(in_ex, in_in)
        if poisson:
            x, u = _xorshift_next(rng[g])
            rng[g] = x
            c = np.int64(_poisson_count(np.uint32(u), lo, hi, n_hi))
            n_pois += c
            bg = c * w_bg
            if bg >= 0:
                in_ex, s = _saturate(in_ex + bg)
            else:
                in_in, s = _saturate(in_in + bg)
            sat += s
        drive = p20 * (i_e + _step_current(pops, g, t))
        vm = np.int64(v[g])
        r = ref[g]
        if seg == SEG_DELTA:
            if r == 0:
                vm, s = _saturate(((p22 * vm + drive + _HALF) >> 30) + (in_ex + in_in) * 16)
                sat += s
            else:
                r -= 1
        elif seg == SEG_ALPHA:
            ie = np.int64(iex[g])
            ii = np.int64(iin[g])
            de = np.int64(neu.dex[g])
            di = np.int64(neu.din[g])
            if r == 0:
                vm, s = _saturate((p22 * vm + p21ex * ie + p21in * ii + a31ex * de + a31in * di
                                + drive + _HALF) >> 30)
                sat += s
            else:
                r -= 1
            ie, s1 = _saturate((a21ex * de + p11ex * ie + _HALF) >> 30)
            ii, s2 = _saturate((a21in * di + p11in * ii + _HALF) >> 30)
            de, s3 = _saturate(((p11ex * de + _HALF) >> 30) + in_ex)
            di, s4 = _saturate(((p11in * di + _HALF) >> 30) + in_in)
            sat += s1 + s2 + s3 + s4
            iex[g] = ie
            iin[g] = ii
            neu.dex[g] = de
            neu.din[g] = di
        else:  # SEG_EXP_STIM: iaf_psc_exp with a step current
            ie = np.int64(iex[g])
            ii = np.int64(iin[g])
            if r == 0:
                vm, s = _saturate((p22 * vm + p21ex * ie + p21in * ii + drive + _HALF) >> 30)
                sat += s
            else:
                r -= 1
            ie, s1 = _saturate(((p11ex * ie + _HALF) >> 30) + in_ex)
            ii, s2 = _saturate(((p11in * ii + _HALF) >> 30) + in_in)
            sat += s1 + s2
            iex[g] = ie
            iin[g] = ii
        if vm >= theta:
            r = ref_steps
            vm = v_reset
            spk_buf[base + n_spk] = l * n_part + p
            n_spk += 1
        v[g] = vm
        ref[g] = r
    return n_spk, n_pois, sat


@njit(cache=True, nogil=True)
def _delay_range(words):
    """Return the smallest and largest delay (int) of non-empty synapse ``words``."""
    lo = np.int64(_D_MASK)
    hi = np.int64(0)
    for q in range(words.shape[0]):
        d = np.int64((words[q] >> _D_SHIFT) & _D_MASK)
        lo = min(lo, d)
        hi = max(hi, d)
    return lo, hi


@njit(cache=True, nogil=True, parallel=True)
def _delay_rows(row_ptr, words, d0, n_d, dptr, tgt, wgt):
    """Fill one partition's ``DelayRows`` arrays (``dptr``, ``tgt``, ``wgt``) from its
    canonical rows: a stable counting sort of every row by delay."""
    n = row_ptr.shape[0] - 1
    for ss in prange(n):
        s = np.int64(ss)
        a = row_ptr[s]
        b = row_ptr[s + 1]
        cur = np.zeros(n_d + 1, np.int64)
        for q in range(a, b):
            cur[np.int64((words[q] >> _D_SHIFT) & _D_MASK) - d0 + 1] += 1
        pos = a
        for k in range(n_d):
            dptr[s * n_d + k] = pos
            c = cur[k + 1]
            cur[k + 1] = pos
            pos += c
        for q in range(a, b):
            tg, w, d = _decode_synapse(words[q])
            i = cur[d - d0 + 1]
            cur[d - d0 + 1] = i + 1
            tgt[i] = tg
            wgt[i] = w
    dptr[n * n_d] = row_ptr[n]


@njit(cache=True, nogil=True, inline="always")
def _u(i):
    """Return the index ``i`` (non-negative) as uint64: Numba indexes with it without the
    test and correction of negative indices that a signed index gets (a codegen hint; the
    value is the same)."""
    return np.uint64(i)


@njit(cache=True, nogil=True, inline="always")
def _accumulate_group(ring, base, n, tgt, wgt, a, b):
    """Add the weights of synapses ``a .. b - 1`` onto the slot at ``ring[base:]`` (channel
    by sign, saturating, not counted)."""
    for q in range(a, b):
        w = np.int64(wgt[_u(q)])
        idx = _u(base + np.int64(tgt[_u(q)]) + ((w >> 63) & n))  # inhibitory channel: + n
        ring[idx] = _clamp(np.int64(ring[idx]) + w)


@njit(cache=True, nogil=True, inline="always")
def _group_of(j, t, d0, n_d, senders, steps):
    """Return the ``dptr`` index of the delay group of spike ``j`` arriving at step ``t``."""
    return np.int64(senders[_u(j)]) * n_d + (t - steps[_u(j)] - d0)


@njit(cache=True, nogil=True)
def _gather_partition(p, t, t_lo, lay, acc, base, dptr, tgt, wgt, d0, n_d, senders, steps,
                      step_off, ahead, counters):
    """Deliver onto ``acc[base:base + 2 * n_local]`` (partition ``p``'s input of step ``t``,
    excitatory then inhibitory) every synapse arriving at step ``t`` from the spikes of steps
    ``t_lo .. t - 1`` (step ``t_lo + i``'s spikes, ascending, are
    ``senders[step_off[i]:step_off[i + 1]]``, their steps in ``steps``).

    The values do not depend on the order of the additions (one sign per channel) and the
    saturation count is taken where the update reads the entry (docs/performance.md). With
    ``ahead`` > 0 the group bounds of the spike ``ahead`` places on and the synapses of the
    one ``ahead // 2`` on are prefetched (a latency hint only).
    """
    n = lay.n_loc[p]
    events = 0
    j0 = step_off[max(t - (d0 + n_d - 1), t_lo) - t_lo]
    j1 = step_off[max(t - d0 + 1, t_lo) - t_lo]
    half = ahead // 2
    for j in range(j0, j1):
        if ahead > 0:
            if j + ahead < j1:
                _prefetch(dptr, _group_of(j + ahead, t, d0, n_d, senders, steps))
            if j + half < j1:
                g = _group_of(j + half, t, d0, n_d, senders, steps)
                a = np.int64(dptr[_u(g)])
                b = np.int64(dptr[_u(g + 1)])
                for q in range(a, b, 32):
                    _prefetch(tgt, q)
                for q in range(a, b, 16):
                    _prefetch(wgt, q)
        g = _group_of(j, t, d0, n_d, senders, steps)
        a = np.int64(dptr[_u(g)])
        b = np.int64(dptr[_u(g + 1)])
        events += b - a
        _accumulate_group(acc, base, n, tgt, wgt, a, b)
    counters[p, C_SYN_EVENTS] += events


@njit(cache=True, nogil=True)
def _deliver_rows(p, t, lay, ring, row_ptr, words, senders, j0, j1, ahead, counters):
    """Deliver onto partition ``p``'s ring the synapses of the spikes ``senders[j0:j1]``
    (ascending global ids) of step ``t``, each onto its slot ``t + delay``: immediate
    delivery from the canonical rows (``row_ptr``, ``words``: partition ``p``'s
    ``SynapseRows``), one row per spike. With ``ahead`` > 0 the row bounds of the spike
    ``ahead`` places on and the ring entry of the synapse ``4 * ahead`` places on in the
    row are prefetched (latency hints only; docs/performance.md). Clamps are not counted
    (the update counts the channels it reads at their bound, docs/numerics.md, section 4)."""
    n = lay.n_loc[p]
    rbase = lay.roff[p]
    mask = lay.mask
    events = 0
    far = 4 * ahead if ahead > 0 else np.int64(1) << 62
    for j in range(j0, j1):
        if ahead > 0 and j + ahead < j1:
            _prefetch(row_ptr, np.int64(senders[_u(j + ahead)]))
        src = np.int64(senders[_u(j)])
        a = row_ptr[_u(src)]
        b = row_ptr[_u(src + 1)]
        events += b - a
        for q in range(a, b):
            if q + far < b:
                tf, wf, df = _decode_synapse(words[_u(q + far)])
                _prefetch(ring, _u(rbase + ((t + df) & mask) * 2 * n + ((wf >> 63) & n) + tf))
            tg, w, d = _decode_synapse(words[_u(q)])
            # slot t + d, inhibitory channel (+ n) by the weight's sign
            idx = _u(rbase + ((t + d) & mask) * 2 * n + ((w >> 63) & n) + tg)
            ring[idx] = _clamp(np.int64(ring[idx]) + w)
    counters[p, C_SYN_EVENTS] += events


@njit(cache=True, nogil=True)
def _scatter_pending(p, t_end, t_lo, lay, ring, dptr, tgt, wgt, d0, n_d, senders, step_off,
                     counters):
    """Deliver onto partition ``p``'s ring the synapses of the spikes of steps
    ``t_lo .. t_end - 1`` that arrive at step ``t_end`` or later (those ``_gather_partition``
    has not delivered yet), so that the ring buffers hold every spike delivered so far."""
    n = lay.n_loc[p]
    rbase = lay.roff[p]
    mask = lay.mask
    events = 0
    for ts in range(max(t_end - (d0 + n_d - 1), t_lo), t_end):
        k0 = max(t_end - ts - d0, 0)
        for j in range(step_off[ts - t_lo], step_off[ts - t_lo + 1]):
            g = np.int64(senders[j]) * n_d
            for k in range(k0, n_d):
                a = np.int64(dptr[g + k])
                b = np.int64(dptr[g + k + 1])
                base = rbase + ((ts + d0 + k) & mask) * 2 * n
                events += b - a
                _accumulate_group(ring, base, n, tgt, wgt, a, b)
    counters[p, C_SYN_EVENTS] += events


@njit(cache=True, nogil=True, parallel=True)
def _run_steps(t0, n_steps, lay, neu, pops, drows, syn, immediate, n_workers, rec, counters,
               ahead, prof):
    """Run steps ``t0 .. t0 + n_steps - 1``; partitions in parallel, exchange in between.

    Delivery is deferred (``immediate`` false): at step t each partition gathers every
    synapse of this call's earlier spikes arriving at t (``drows``, rows by delay) onto one
    accumulator that the update then reads and clears, so one step's additions stay in one
    cache-resident array; during the first D steps the accumulator starts from the step's
    ring slot (what earlier calls delivered), which is cleared. Before returning, the
    synapses still in flight are scattered onto the ring buffers, which then hold exactly
    what immediate delivery would have put there (docs/performance.md).

    With ``immediate`` true, each partition instead adds the synapses of the previous
    step's spikes (canonical rows ``syn``, one row per spike) onto its own ring buffers
    (``_deliver_rows``) at the start of the step, then updates from the step's slot;
    before returning, the last step's spikes are delivered the same way. ``drows`` is then
    not read (it may be empty). Both leave the same ring buffers, raster and counters.

    Spikes are appended to ``rec.senders``/``rec.steps`` from position ``rec.n[0]``. If the
    record buffers could overflow, stops before the step and returns the number of steps
    done (the caller grows the buffers and continues). Probes record (V, I_ex, I_in) of the
    flat indices ``rec.probe_idx`` at the end of every step into
    ``rec.probe_buf[:, :, t - rec.probe_t0]``. ``n_workers`` below P runs the partitions
    on that many workers, each its own block first, then those not yet taken
    (``_claim``); at P or above, each partition is a parallel iteration of its own. ``counters`` is int64 (P, N_COUNTERS);
    ``ahead`` is the gather's prefetch distance (``PREFETCH_AHEAD``, 0: none). ``prof`` is
    int64 (P + 1, PROFILE_COLUMNS) or empty (no profile): where given, time-stamp counter
    cycles are added to it (``PROFILE_COLUMNS``).
    """
    n_part, noff = lay.n_part, lay.noff
    ring, v, iex, iin = neu.ring, neu.v, neu.iex, neu.iin
    d0, n_d, dptr, tgt, wgt = drows
    row_ptrs, words = syn
    rec_senders, rec_steps, rec_n, probe_idx, probe_buf, probe_t0 = rec
    n_total = v.shape[0]
    spk_buf = np.empty(n_total, np.int32)
    spk_cnt = np.zeros(n_part, np.int64)
    step_off = np.empty(n_steps + 1, np.int64)
    step_off[0] = rec_n[0]
    # the step's input: partition p's excitatory block at 2 * noff[p], inhibitory after it
    acc = np.zeros(2 * n_total, np.int32)
    depth = lay.mask + 1
    profile = prof.shape[0] > 0
    work = np.zeros(n_part, np.int64)
    done = n_steps
    # with fewer workers than partitions, worker w takes its own block of partitions
    # first (the same in every step, so they stay in its cache), then any partition not
    # yet taken, from the last one down (``_claim``), so that a step's slow partitions
    # spread over the threads; otherwise each partition is an iteration of its own
    dynamic = n_workers < n_part
    n_workers = min(n_workers, n_part)
    taken = np.zeros(n_part, np.int64)
    for step in range(n_steps):
        t = t0 + step
        if rec_n[0] + n_total > rec_senders.shape[0]:
            done = step
            break
        c0 = _cycles() if profile else 0
        taken[:] = 0
        # deliver (deferred) + background + update
        for ww in prange(n_workers):
            w = np.int64(ww)  # prange indices may be unsigned
            own0, own1 = w * n_part // n_workers, (w + 1) * n_part // n_workers
            n_own = own1 - own0
            # dynamic: own block ascending, then every partition descending, own ones skipped
            for k in range(n_part + n_own if dynamic else 1):
                if not dynamic:
                    p = w
                else:
                    p = own0 + k if k < n_own else n_part - 1 - (k - n_own)
                    if k >= n_own and p >= own0 and p < own1:
                        continue
                    if _claim(taken, p) != 0:
                        continue
                w0 = _cycles() if profile else 0
                r = lay.roff[p] + (t & lay.mask) * 2 * lay.n_loc[p]
                if immediate:  # the previous step's spikes (earlier calls delivered theirs)
                    if step > 0:
                        _deliver_rows(p, t - 1, lay, ring, row_ptrs[p], words[p], rec_senders,
                                      step_off[step - 1], step_off[step], ahead, counters)
                    inp, a = ring, r
                else:
                    inp, a = acc, 2 * noff[p]
                    if step < depth:  # what earlier calls delivered for this step comes first
                        for i in range(2 * lay.n_loc[p]):
                            acc[a + i] = ring[r + i]
                            ring[r + i] = 0
                    _gather_partition(p, t, t0, lay, acc, a, dptr[p], tgt[p], wgt[p], d0, n_d,
                                      rec_senders, rec_steps, step_off, ahead, counters)
                w1 = _cycles() if profile else 0
                spk_cnt[p] = _update_partition(p, t, inp, a, lay, neu, pops, spk_buf, counters)
                if profile:
                    w2 = _cycles()
                    prof[p, 0] += w1 - w0
                    prof[p, 1] += w2 - w1
                    work[p] = w2 - w0
        if profile:
            c1 = _cycles()
            prof[n_part, 0] += c1 - c0
            slowest = 0
            for p in range(n_part):
                slowest = max(slowest, work[p])
            prof[n_part, 1] += slowest
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
        step_off[step + 1] = rec_n[0]
        for j in range(probe_idx.shape[0]):
            g = probe_idx[j]
            col = t - probe_t0
            probe_buf[j, 0, col] = v[g]
            probe_buf[j, 1, col] = iex[g]
            probe_buf[j, 2, col] = iin[g]
        if profile:
            prof[n_part, 2] += _cycles() - c1
    c2 = _cycles() if profile else 0
    for pp in prange(n_part):
        p = np.int64(pp)
        if immediate:
            if done > 0:
                _deliver_rows(p, t0 + done - 1, lay, ring, row_ptrs[p], words[p],
                              rec_senders, step_off[done - 1], step_off[done], ahead,
                              counters)
        else:
            _scatter_pending(p, t0 + done, t0, lay, ring, dptr[p], tgt[p], wgt[p], d0, n_d,
                             rec_senders, step_off, counters)
    if profile:
        prof[n_part, 3] += _cycles() - c2
    return done


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
            ex_base = lay.roff[p] + (((t0 + s) & lay.mask) * 2) * lay.n_loc[p]
            spk_cnt[s, i] = _update_partition(p, t0 + s, neu.ring, ex_base, lay, neu, pops,
                                              spk_buf[s], counters)


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
            _deliver_rows(p, t0 + s, lay, ring, row_ptrs[i], words[i], spikes,
                          offsets[s], offsets[s + 1], np.int64(0), counters)


@njit(cache=True, nogil=True)
def _background_seeds(key, n):
    """Return ``background_seed(seed, gid)`` for gid = 0..n-1, given ``key = stream_key(seed, 0)``."""
    out = np.empty(n, np.uint64)
    for g in range(n):
        s = _mix(key, g)
        out[g] = s if s != np.uint64(0) else np.uint64(0x9E3779B97F4A7C15)
    return out
