"""Deterministic, parallel construction of packed target-side synapse storage.

A projection's synapses are generated block by block: blocks of ``BLOCK_SIZE`` targets (of
sources for ``fixed_outdegree``), each with its own counter-based random streams keyed by
``(seed, STREAM_CONNECT, projection, block, lane)``. Blocks are grouped into contiguous chunks,
one per thread. A count pass gives, per chunk, the number of synapses of every (partition,
source) row; prefix sums over (projection, chunk) give each chunk its write positions; a fill
pass regenerates the same synapses and writes their packed words. Every row therefore lists
its synapses in (projection, block, draw) order whatever the number of threads or partitions.
See docs/networks.md for the streams, the rules and the memory budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numba
import numpy as np

from neuroaix import formats
from neuroaix import numerics as nx
from neuroaix._threads import set_num_threads
from neuroaix.construction import _kernels as _k
from neuroaix.distributions import normal_interval, truncated_normal_moments

__all__ = [
    "BLOCK_SIZE",
    "LANE_DELAY",
    "LANE_STRUCTURE",
    "LANE_WEIGHT",
    "RULES",
    "WRITE_BUFFER_SYNAPSES",
    "ProjectionSpec",
    "SynapseStorage",
    "alias_table",
    "block_capacities",
    "build_synapses",
    "delay_step_table",
    "draw_initial_potentials",
    "list_synapses",
    "low_resolution_levels",
    "split_total_number",
]

#: Targets per block (sources for ``fixed_outdegree``); fixed, so independent of P and T.
BLOCK_SIZE = 256
#: Connection rules (Senk et al. 2022) and their kernel codes.
RULES = {
    "one_to_one": 0,
    "all_to_all": 1,
    "pairwise_bernoulli": 2,
    "fixed_indegree": 3,
    "fixed_outdegree": 4,
    "fixed_total_number": 5,
    "from_list": 6,
}
#: Lane words of a block's streams: structure (partners), weights, delays.
LANE_STRUCTURE, LANE_WEIGHT, LANE_DELAY = 0, 1, 2
_MAX_STREAM_WORD = (1 << 64) - 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectionSpec:
    """Everything the construction kernels need to know about one projection.

    Weights are in pA, delays in ms; ``w_std == 0`` (``d_std == 0``) means the constant
    ``w_mean`` (``d_mean``). ``levels`` holds the I-format values of a low-resolution weight
    distribution (empty for full resolution), ``lv_low`` and ``lv_width`` its bins.
    """

    rule: str
    pre_start: int
    n_pre: int
    post_start: int
    n_post: int
    same_pop: bool
    allow_autapses: bool
    allow_multapses: bool
    p: float = 0.0
    degree: int = 0
    n_total: int = 0
    w_mean: float
    w_std: float = 0.0
    w_low: float = -math.inf
    w_high: float = math.inf
    d_mean: float
    d_std: float = 0.0
    d_low: float = -math.inf
    d_high: float = math.inf
    levels: tuple[int, ...] = ()
    lv_low: float = 0.0
    lv_width: float = 1.0
    #: ``from_list``: source and target indices (int64, relative to ``pre_start`` and
    #: ``post_start``), weights (pA) and delays (ms) of every synapse, in list order.
    pairs: tuple | None = field(default=None, compare=False, repr=False)

    @property
    def n_blocks(self) -> int:
        """Number of blocks: over sources for ``fixed_outdegree``, over targets otherwise."""
        n = self.n_pre if self.rule == "fixed_outdegree" else self.n_post
        return -(-n // BLOCK_SIZE)


class _Params(NamedTuple):
    """Scalars of one projection as the kernels read them."""

    seed: int
    stream_tag: int
    proj: int
    rule: int
    pre_start: int
    n_pre: int
    post_start: int
    n_post: int
    same_pop: bool
    allow_autapses: bool
    allow_multapses: bool
    p: float
    degree: int
    block_size: int
    n_parts: int
    w_const: int
    w_mean: float
    w_std: float
    w_low: float
    w_high: float
    lv_low: float
    lv_width: float
    d_const: int
    d_mean: float
    d_std: float
    d_low: float
    d_high: float
    dt: float
    max_delay_steps: int
    w_min: int  #: weight field range (formats.SYNAPSE_FIELDS); outside it a weight is counted
    w_max: int  #: and stored as 0
    w_mask: int  #: the weight field's mask, its shift ``w_shift`` and those of target and delay
    w_shift: int
    t_shift: int
    d_shift: int


@dataclass(slots=True)
class SynapseStorage:
    """Packed synapses of every partition.

    ``row_ptr[p]`` (int64, ``n_neurons + 1``) indexes ``words[base[p]:base[p+1]]`` by global
    source id; ``max_delay`` is the largest delay in steps (at least 1).
    """

    row_ptr: np.ndarray
    words: np.ndarray
    base: np.ndarray
    max_delay: int


def block_capacities(spec: ProjectionSpec) -> np.ndarray:
    """Return the number of allowed (source, target) pairs with the target in each block."""
    n = spec.n_post
    sizes = np.minimum(BLOCK_SIZE, n - BLOCK_SIZE * np.arange(spec.n_blocks, dtype=np.int64))
    per_target = spec.n_pre - (1 if spec.same_pop and not spec.allow_autapses else 0)
    return sizes.astype(np.int64) * per_target


def split_total_number(spec: ProjectionSpec, seed: int, proj: int) -> np.ndarray:
    """Return the number of synapses of a ``fixed_total_number`` projection in each block.

    Multinomial over blocks in proportion to their allowed pairs (multivariate hypergeometric
    without multapses), drawn from the stream ``stream_key(seed, STREAM_CONNECT, proj,
    2**64 - 1)``, so the split does not depend on the partitioning or the threads.
    """
    key = nx.stream_key(seed, nx.STREAM_CONNECT, proj, _MAX_STREAM_WORD)
    cap = block_capacities(spec)
    return _k._split_total(np.uint64(key), np.int64(spec.n_total), cap,
                           not spec.allow_multapses)


def delay_step_table(mean: float, std: float, low: float, high: float, dt: float):
    """Return ``(k0, table)``: the distribution of a redrawn normal delay in whole steps.

    A delay ``x`` (ms) becomes ``floor(x / dt + 1/2)`` steps, so step ``k`` has the mass of
    ``N(mean, std)`` on ``[(k - 1/2) dt, (k + 1/2) dt)`` within ``[low, high]``, normalised.
    ``table[j]`` is the probability of at most ``k0 + j`` steps; the last entry is exactly 1
    and absorbs an upper tail below ``2**-60``. A uniform ``u`` in [0, 1) gives the step
    ``k0 + (number of entries <= u)``.

    Raises
    ------
    ValueError
        If the steps do not all lie in ``[1, formats.MAX_DELAY_STEPS]``.
    """
    def upper(x):
        return 0.5 * math.erfc((x - mean) / (std * math.sqrt(2.0)))

    dmax = formats.MAX_DELAY_STEPS
    if not math.isfinite(low):  # unbounded below: the default of Normal
        raise ValueError(f"delay Normal({mean!r}, {std!r}) has low={low!r} ms, so a delay can "
                         f"round to fewer than 1 step of dt={dt!r} ms; bound it with "
                         f"low={0.5 * dt!r} (or larger), e.g. Normal({mean!r}, {std!r}, "
                         f"low={0.5 * dt!r})")
    k0 = math.floor(low / dt + 0.5)
    if k0 < 1:
        raise ValueError(f"delay low={low!r} ms can round to {k0} steps of dt={dt!r} ms; use "
                         f"low={0.5 * dt!r} (or larger) so that every delay is >= 1 step")
    top = upper(high) if math.isfinite(high) else 0.0
    mass = upper(low) - top
    table = []
    k = k0
    while True:
        edge = (k + 0.5) * dt
        if edge >= high:
            table.append(1.0)
            break
        tail = (upper(edge) - top) / mass
        if tail < 2.0 ** -60:
            table.append(1.0)
            break
        table.append(1.0 - tail)
        k += 1
        if k > dmax:
            raise ValueError(
                f"delay Normal({mean!r}, {std!r}) reaches beyond {dmax} steps of dt={dt!r} ms "
                f"with probability {tail:.3g}; bound it with high <= {dmax * dt:g} ms")
    return k0, tuple(table)


def alias_table(cdf) -> np.ndarray:
    """Return Walker's alias table (Vose's construction) of a distribution given by its CDF.

    Returns a float64 array ``[2, n]``: row 0 the acceptance probabilities, row 1 the aliases
    (exact small integers). Outcome ``j`` has probability
    ``(row0[j] + sum over i with row1[i] == j, row0[i] < 1 of (1 - row0[i])) / n``.
    """
    cdf = np.asarray(cdf, dtype=np.float64)
    probs = np.diff(np.concatenate([[0.0], cdf]))
    n = len(probs)
    scaled = probs * n
    prob = np.ones(n)
    alias = np.arange(n, dtype=np.float64)
    small = [j for j in range(n) if scaled[j] < 1.0]
    large = [j for j in range(n) if scaled[j] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        prob[s] = scaled[s]
        alias[s] = g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        (small if scaled[g] < 1.0 else large).append(g)
    for j in small + large:  # leftovers are 1 up to rounding
        prob[j] = 1.0
    return np.stack([prob, alias])


def low_resolution_levels(mean: float, std: float, low: float, high: float, bits: int):
    """Return the ``2**bits`` I-format weight levels and their bins (Dasbach et al. 2021).

    The bins split ``[max(low, mean - 4 std), min(high, mean + 4 std)]`` into ``2**bits``
    equal parts (the outer two extend to the bounds). Each level starts as the conditional
    mean of the redrawn normal in its bin, which preserves the mean; the levels are then
    stretched about the mean so that the discrete distribution has the variance of the
    continuous one, and rounded to the I format.

    Returns
    -------
    (levels, lv_low, lv_width)
        int64 array of levels, the left edge of the binned range and the bin width (pA).
    """
    n = 1 << bits
    m_t, v_t, mass = truncated_normal_moments(mean, std, low, high)
    a = max(low, mean - 4.0 * std)
    b = min(high, mean + 4.0 * std)
    width = (b - a) / n
    probs, cmeans = [], []
    for i in range(n):
        lo = low if i == 0 else a + i * width
        hi = high if i == n - 1 else a + (i + 1) * width
        pr, cm = normal_interval(mean, std, lo, hi)
        probs.append(pr / mass)
        cmeans.append(cm)
    v_d = sum(p * (c - m_t) ** 2 for p, c in zip(probs, cmeans))
    f = math.sqrt(v_t / v_d) if v_d > 0 else 1.0
    levels = np.array([nx.pa_to_fixed(m_t + f * (c - m_t)) for c in cmeans], dtype=np.int64)
    return levels, a, width


def _word_layout() -> dict[str, int]:
    """The synapse word's layout as kernel parameters (the one definition is ``formats``)."""
    weight, target, delay = (formats.synapse_field(n) for n in ("weight", "target", "delay"))
    return dict(w_min=-(1 << (weight.width - 1)), w_max=(1 << (weight.width - 1)) - 1,
                w_mask=(1 << weight.width) - 1, w_shift=weight.lsb, t_shift=target.lsb,
                d_shift=delay.lsb)


_WORD_LAYOUT = _word_layout()


def _params(spec: ProjectionSpec, proj: int, seed: int, n_parts: int, dt: float) -> _Params:
    w_const = nx.pa_to_fixed(spec.w_mean) if spec.w_std == 0.0 else 0
    if spec.d_std == 0.0:
        d_const = math.floor(spec.d_mean / dt + 0.5)
    else:
        d_const = delay_step_table(spec.d_mean, spec.d_std, spec.d_low, spec.d_high, dt)[0]
    return _Params(
        seed=seed & nx.MASK64, stream_tag=nx.STREAM_CONNECT, proj=proj,
        rule=RULES[spec.rule], pre_start=spec.pre_start, n_pre=spec.n_pre,
        post_start=spec.post_start, n_post=spec.n_post, same_pop=bool(spec.same_pop),
        allow_autapses=bool(spec.allow_autapses), allow_multapses=bool(spec.allow_multapses),
        p=float(spec.p), degree=int(spec.degree), block_size=BLOCK_SIZE, n_parts=n_parts,
        w_const=int(w_const), w_mean=float(spec.w_mean), w_std=float(spec.w_std),
        w_low=float(spec.w_low), w_high=float(spec.w_high), lv_low=float(spec.lv_low),
        lv_width=float(spec.lv_width), d_const=int(d_const), d_mean=float(spec.d_mean),
        d_std=float(spec.d_std), d_low=float(spec.d_low), d_high=float(spec.d_high),
        dt=float(dt), max_delay_steps=formats.MAX_DELAY_STEPS, **_WORD_LAYOUT,
    )


def _chunk_bounds(n_blocks: int, n_chunks: int) -> np.ndarray:
    return np.array([(c * n_blocks) // n_chunks for c in range(n_chunks + 1)], dtype=np.int64)


def _marker_len(spec: ProjectionSpec) -> int:
    if spec.allow_multapses or spec.rule not in ("fixed_indegree", "fixed_outdegree"):
        return 1
    return spec.n_post if spec.rule == "fixed_outdegree" else spec.n_pre


def build_synapses(specs, *, n_neurons: int, n_parts: int, threads: int, seed: int,
                   dt: float, only=None) -> SynapseStorage:
    """Generate and pack the synapses of all projections for ``n_parts`` partitions.

    Parameters
    ----------
    specs : sequence of ProjectionSpec
        Projections in creation order; the index in this sequence is the stream word.
    n_neurons : int
        Total number of neurons (length of every row pointer minus one).
    n_parts : int
        Number of partitions; neuron ``gid`` goes to partition ``gid % n_parts``.
    threads : int
        Number of chunks (and Numba threads, at most ``numba.config.NUMBA_NUM_THREADS``).
    seed : int
        Network seed.
    dt : float
        Time step (ms) for rounding delays: ``floor(d / dt + 1/2)`` steps.
    only : sequence of int, optional
        Store only these partitions (an MPI rank's). Every synapse is still drawn (streams
        are consumed in draw order), but the others' words go to one scratch block, as large
        as the largest of them, dropped at the end; their rows are one shared zero array.
        The kept partitions' rows are bit-identical to a full build's.

    Returns
    -------
    SynapseStorage

    Raises
    ------
    ValueError
        If a drawn weight does not fit int32 or a drawn delay is not in
        ``[1, MAX_DELAY_STEPS]`` steps.
    """
    old = set_num_threads(threads)
    try:
        return _build(list(specs), n_neurons, n_parts, threads, seed, dt, only)
    finally:
        numba.set_num_threads(old)


#: Largest total size (bytes) of the chunk counts kept between the count and fill passes;
#: above it the fill pass counts again instead.
_KEEP_COUNTS_BYTES = 256 << 20
#: Synapses a filling chunk buffers (16 bytes each) before writing them grouped by partition:
#: small enough that the buffer and its ordering stay in the cache (docs/performance.md,
#: "Construction time").
WRITE_BUFFER_SYNAPSES = 1 << 18


def _build(specs, n_neurons, n_parts, threads, seed, dt, only=None):
    own = np.ones(n_parts, bool)
    if only is not None:
        own[:] = False
        own[np.asarray(only, dtype=np.int64)] = True
    prepared = []
    keep_bytes = 0
    for j, spec in enumerate(specs):
        if spec.rule == "from_list":
            prepared.append((spec, None, None, None, None, None))
            keep_bytes += threads * n_parts * spec.n_pre * 4
            continue
        prm = _params(spec, j, seed, n_parts, dt)
        split = (split_total_number(spec, seed, j) if spec.rule == "fixed_total_number"
                 else np.zeros(1, np.int64))
        levels = np.asarray(spec.levels, dtype=np.int64)
        if spec.d_std > 0.0:
            dtable = alias_table(delay_step_table(spec.d_mean, spec.d_std, spec.d_low,
                                                  spec.d_high, dt)[1])
        else:
            dtable = np.zeros((2, 0), np.float64)
        prepared.append((spec, prm, split, levels, dtable,
                         _chunk_bounds(spec.n_blocks, threads)))
        keep_bytes += threads * n_parts * spec.n_pre * 4
    keep = keep_bytes <= _KEEP_COUNTS_BYTES
    kept = []
    no_words = np.zeros(1, np.uint64)
    no_base = np.zeros(n_parts, np.int64)
    stats = np.zeros((threads, 4), np.int64)
    totals = np.zeros((n_parts, n_neurons), np.int64)
    for spec, prm, split, levels, dtable, bounds in prepared:
        counts = np.zeros((threads, n_parts, spec.n_pre), np.int64)
        if prm is None:
            _list_counts(spec, n_parts, counts)
        else:
            _k._run_projection(0, prm, split, levels, dtable, bounds, counts, no_words,
                               no_base, stats, _marker_len(spec), 0)
        _k._add_counts(counts, totals, spec.pre_start)
        if keep:
            kept.append(counts.astype(np.int32))
        del counts
    row_ptr = np.zeros((n_parts, n_neurons + 1), np.int64)
    np.cumsum(totals, axis=1, out=row_ptr[:, 1:])
    del totals
    sizes = row_ptr[:, -1]
    kept_len = int(sizes[own].sum())
    scratch = int(sizes[~own].max()) if (~own).any() else 0
    base = np.zeros(n_parts + 1, np.int64)
    base[:-1] = np.where(own, np.cumsum(np.where(own, sizes, 0)) - sizes, kept_len)
    base[-1] = kept_len
    words = np.empty(kept_len + scratch, np.uint64)
    fill_ptr = row_ptr[:, :-1].copy()
    list_max = 0
    for j, (spec, prm, split, levels, dtable, bounds) in enumerate(prepared):
        if keep:
            counts = kept[j].astype(np.int64)
            kept[j] = None
        else:
            counts = np.zeros((threads, n_parts, spec.n_pre), np.int64)
            if prm is None:
                _list_counts(spec, n_parts, counts)
            else:
                _k._run_projection(0, prm, split, levels, dtable, bounds, counts, no_words,
                                   no_base, stats, _marker_len(spec), 0)
        _k._counts_to_offsets(counts, fill_ptr, spec.pre_start)
        if prm is None:
            list_max = max(list_max, _list_fill(spec, j, n_parts, dt, counts, words, base, own))
            continue
        _k._run_projection(1, prm, split, levels, dtable, bounds, counts, words, base, stats,
                           _marker_len(spec), WRITE_BUFFER_SYNAPSES)
        bad_w, bad_d = int(stats[:, 0].sum()), int(stats[:, 1].sum())
        if bad_w or bad_d:
            what = (f"{bad_w} weights do not fit int32 in the I format; bound the weight "
                    "distribution (low=..., high=...)" if bad_w else
                    f"{bad_d} delays round to fewer than 1 or more than "
                    f"{formats.MAX_DELAY_STEPS} steps; bound the delay distribution "
                    f"(high=...) or use a larger dt")
            raise ValueError(f"projection {prm.proj}: {what}")
    del fill_ptr
    max_delay = max(1, int(stats[:, 2].max()), list_max)
    if only is None:
        return SynapseStorage(row_ptr=row_ptr, words=words, base=base, max_delay=max_delay)
    words.resize(kept_len, refcheck=False)  # drop the scratch block in place
    empty = np.zeros(n_neurons + 1, np.int64)
    rows = [row_ptr[p].copy() if own[p] else empty for p in range(n_parts)]
    return SynapseStorage(row_ptr=rows, words=words, base=base, max_delay=max_delay)


def list_synapses(spec: ProjectionSpec, dt: float, proj: int = 0):
    """Return the quantised synapses of a ``from_list`` projection in list order.

    Returns ``(sources, targets, weights, delays)``: local source and target indices (int64),
    weights in the I format (``floor(w * 2**12 + 1/2)``, int64) and delays in steps
    (``floor(d / dt + 1/2)``, int64), as every other rule rounds them.

    Raises
    ------
    ValueError
        If a weight does not fit int32 or a delay is not 1 to ``MAX_DELAY_STEPS`` steps.
    """
    src, tgt, w, d = spec.pairs
    wq = np.floor(np.asarray(w, np.float64) * float(1 << nx.I_FRAC_BITS) + 0.5)
    dq = np.floor(np.asarray(d, np.float64) / dt + 0.5)
    bad_w = int(np.count_nonzero((wq < nx.INT32_MIN) | (wq > nx.INT32_MAX)))
    bad_d = int(np.count_nonzero((dq < 1) | (dq > formats.MAX_DELAY_STEPS)))
    if bad_w or bad_d:
        what = (f"{bad_w} weights do not fit int32 in the I format; use smaller weights"
                if bad_w else f"{bad_d} delays round to fewer than 1 or more than "
                f"{formats.MAX_DELAY_STEPS} steps of dt={dt!r} ms; use delays in "
                f"[{0.5 * dt:g}, {(formats.MAX_DELAY_STEPS + 0.49) * dt:g}) ms")
        raise ValueError(f"projection {proj}: {what}")
    return (np.asarray(src, np.int64), np.asarray(tgt, np.int64), wq.astype(np.int64),
            dq.astype(np.int64))


def _list_counts(spec: ProjectionSpec, n_parts: int, counts: np.ndarray) -> None:
    """Count a ``from_list`` projection's synapses per (partition, source) into chunk 0."""
    src, tgt = (np.asarray(a, np.int64) for a in spec.pairs[:2])
    part = (spec.post_start + tgt) % n_parts
    np.add.at(counts[0], (part, src), 1)


def _list_fill(spec, proj, n_parts, dt, offsets, words, base, own) -> int:
    """Write a ``from_list`` projection's words at chunk 0's row positions; return its largest
    delay (steps). Every row receives its synapses in list order."""
    src, tgt, w, d = list_synapses(spec, dt, proj)
    if src.size == 0:
        return 0
    gid = spec.post_start + tgt
    part = gid % n_parts
    order = np.argsort(part * spec.n_pre + src, kind="stable")
    key = (part * spec.n_pre + src)[order]
    first = np.searchsorted(key, key, side="left")
    rank = np.arange(key.size, dtype=np.int64) - first
    p, s = part[order], src[order]
    pos = base[p] + offsets[0, p, s] + rank
    packed = formats.pack_synapses(gid[order] // n_parts, w[order], d[order])
    keep = own[p]
    words[pos[keep]] = packed[keep]
    return int(d.max())


def draw_initial_potentials(seed: int, start: int, n: int, *, mean: float, std: float,
                            low: float, high: float, e_l: float) -> np.ndarray:
    """Return the V-format initial potentials of neurons ``start .. start + n - 1`` (int64).

    Neuron ``gid`` uses the stream ``stream_key(seed, STREAM_INIT, gid)`` (a normal redrawn
    into ``[low, high]``, Box-Muller on draws 0 and 1, ...); ``std == 0`` gives ``mean``.
    The value is ``floor((V - E_L) * 2**16 + 1/2)``, as ``numerics.mv_to_fixed``.
    """
    out = np.empty(n, np.int64)
    _k._draw_v0(seed & nx.MASK64, nx.STREAM_INIT, start, float(mean), float(std), float(low),
                float(high), float(e_l), out)
    return out
