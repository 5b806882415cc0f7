"""Numba kernels of network construction: counter-based draws, connection rules, count and fill.

Everything random here is a pure function of ``(seed, projection, block, lane, draw index)``
(docs/networks.md, "Random streams"), so a block produces the same synapses whichever chunk
and thread processes it. The public wrappers in ``neuroaix.construction.connectivity`` validate
the inputs, allocate every output and call these kernels. Kernels that call each other share this
file (numba's cross-file cache invalidation gap).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__: list[str] = []

# Random streams ------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _splitmix64(z):
    """Return the SplitMix64 output for the uint64 counter ``z`` (numerics.splitmix64)."""
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, nogil=True)
def _mix(key, word):
    """Return ``splitmix64(key ^ word)``: one step of ``numerics.stream_key``."""
    return _splitmix64(np.uint64(key) ^ np.uint64(word))


@njit(cache=True, nogil=True)
def _stream_key(seed, words):
    """Return ``numerics.stream_key(seed, *words)`` for a uint64 seed and a uint64 array."""
    key = _splitmix64(np.uint64(seed))
    for i in range(words.shape[0]):
        key = _splitmix64(key ^ words[i])
    return key


@njit(cache=True, nogil=True)
def _draw(key, index):
    """Return draw ``index`` of the stream ``key``: ``splitmix64(key + index)``."""
    return _splitmix64(np.uint64(key) + np.uint64(index))


@njit(cache=True, nogil=True)
def _u01(x):
    """Return the uniform double in [0, 1) made of the upper 53 bits of ``x``."""
    return np.float64(x >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, nogil=True)
def _below(x, m):
    """Return ``floor(x * m / 2**64)`` for ``m < 2**32``: a uniform integer in [0, m)."""
    mm = np.uint64(m)
    hi = (x >> np.uint64(32)) * mm
    lo = ((x & np.uint64(0xFFFFFFFF)) * mm) >> np.uint64(32)
    return np.int64((hi + lo) >> np.uint64(32))


@njit(cache=True, nogil=True)
def _normal(key, index, mean, std, low, high):
    """Draw a normal value redrawn into ``[low, high]`` from two draws per attempt.

    Box-Muller (cosine branch): ``mean + std * sqrt(-2 ln(1 - u1)) * cos(2 pi u2)`` with
    ``u1, u2`` the draws ``index`` and ``index + 1``. Returns ``(value, next index)``.
    """
    while True:
        u1 = _u01(_draw(key, index))
        u2 = _u01(_draw(key, index + 1))
        index += 2
        x = mean + std * (math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2))
        if low <= x <= high:
            return x, index


# Discrete distributions (mode-centred inversion) ---------------------------------------------


@njit(cache=True, nogil=True)
def _ratio(hyper, k, up, a, b, c):
    """Return ``P(k + 1) / P(k)`` (``up``) or ``P(k - 1) / P(k)`` of either distribution.

    Binomial (``hyper`` False): ``a = n``, ``b = p / (1 - p)``. Hypergeometric: ``a = good``,
    ``b = draws``, ``c = bad`` (``total - good``).
    """
    if hyper:
        if up:
            return (a - k) * (b - k) / ((k + 1.0) * (c - b + k + 1.0))
        return k * (c - b + k) / ((a - k + 1.0) * (b - k + 1.0))
    if up:
        return (a - k) / (k + 1.0) * b
    return k / ((a - k + 1.0) * b)


@njit(cache=True, nogil=True)
def _walk_from_mode(u, m, pm, kmin, kmax, hyper, a, b, c):
    """Return the outcome of uniform ``u`` by inversion from the mode ``m`` (probability ``pm``).

    The outcomes in ``[kmin, kmax]`` are visited in the order m, m+1, m-1, m+2, ... (each
    probability from its neighbour's by ``_ratio``) and the first one whose cumulative
    probability exceeds ``u`` is returned.
    """
    acc = pm
    if u < acc:
        return m
    lo = m
    hi = m
    plo = pm
    phi = pm
    while True:
        moved = False
        if hi < kmax and phi > 0.0:
            phi *= _ratio(hyper, hi, True, a, b, c)
            hi += 1
            acc += phi
            moved = True
            if u < acc:
                return hi
        if lo > kmin and plo > 0.0:
            plo *= _ratio(hyper, lo, False, a, b, c)
            lo -= 1
            acc += plo
            moved = True
            if u < acc:
                return lo
        if not moved:
            return m


@njit(cache=True, nogil=True)
def _binomial(u, n, p):
    """Return the Binomial(n, p) value of uniform ``u`` by inversion ordered from the mode.

    The outcomes are visited in the order mode, mode+1, mode-1, mode+2, ... and the first one
    whose cumulative probability exceeds ``u`` is returned; the cost is O(sqrt(n p (1-p))).
    """
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    m = min(n, np.int64(math.floor((n + 1) * p)))
    logp = (math.lgamma(n + 1.0) - math.lgamma(m + 1.0) - math.lgamma(n - m + 1.0)
            + m * math.log(p) + (n - m) * math.log1p(-p))
    return _walk_from_mode(u, m, math.exp(logp), 0, n, False, n, p / (1.0 - p), 0)


@njit(cache=True, nogil=True)
def _hypergeometric(u, total, good, draws):
    """Return the hypergeometric value of uniform ``u``: successes among ``draws`` taken
    without replacement from ``total`` items of which ``good`` are successes.

    Mode-centred inversion as in ``_binomial``.
    """
    kmin = max(0, draws + good - total)
    kmax = min(draws, good)
    if kmin == kmax:
        return kmin
    m = np.int64(math.floor((draws + 1.0) * (good + 1.0) / (total + 2.0)))
    m = min(max(m, kmin), kmax)
    bad = total - good
    logp = (math.lgamma(good + 1.0) - math.lgamma(m + 1.0) - math.lgamma(good - m + 1.0)
            + math.lgamma(bad + 1.0) - math.lgamma(draws - m + 1.0)
            - math.lgamma(bad - draws + m + 1.0)
            - math.lgamma(total + 1.0) + math.lgamma(draws + 1.0)
            + math.lgamma(total - draws + 1.0))
    return _walk_from_mode(u, m, math.exp(logp), kmin, kmax, True, good, draws, bad)


@njit(cache=True, nogil=True)
def _split_total(key, n, capacity, without_replacement):
    """Split ``n`` synapses over blocks with capacities ``capacity`` (int64 array).

    With replacement (multapses allowed) the split is multinomial with probabilities
    proportional to the capacities; without replacement it is multivariate hypergeometric.
    Both are drawn as a sequence of conditional binomial (hypergeometric) draws, block ``b``
    using uniform draw ``b`` of the stream ``key``.
    """
    nb = capacity.shape[0]
    out = np.zeros(nb, np.int64)
    remaining = n
    rest = np.int64(0)
    for b in range(nb):
        rest += capacity[b]
    for b in range(nb):
        if remaining == 0:
            break
        if b == nb - 1 or rest == capacity[b]:
            out[b] = remaining
            break
        u = _u01(_draw(key, b))
        if without_replacement:
            k = _hypergeometric(u, rest, capacity[b], remaining)
        else:
            k = _binomial(u, remaining, capacity[b] / rest)
        out[b] = k
        remaining -= k
        rest -= capacity[b]
    return out


# Synapse emission ----------------------------------------------------------------------------


@njit(cache=True, nogil=True, inline="always")
def _count(c, s, t, prm, counts):
    """Count the synapse from local source ``s`` to local target ``t`` in ``counts[c, p, s]``,
    ``p`` the target's partition (the count pass)."""
    counts[c, (prm.post_start + t) % prm.n_parts, s] += 1


@njit(cache=True, nogil=True, inline="always")
def _emit(c, s, t, prm, levels, dtable, counts, words, base, buf, st, key_w, i_w, spare,
          key_d, i_d):
    """Write the synapse from local source ``s`` to local target ``t`` (the fill pass).

    The weight and the delay are drawn from their lanes and the word goes to the chunk's
    write buffer ``buf`` (written out by ``_flush`` when full); ``counts[c, p, s]`` holds the
    next write position of chunk ``c`` in row ``s`` of partition ``p``. The weight lane is
    a sequence of standard normals, normal ``k`` made from draws ``k - k % 2`` and
    ``k - k % 2 + 1`` by Box-Muller (cosine for even ``k``, sine for odd), redrawn until
    ``mean + std * z`` lies within the bounds; ``spare`` carries the sine. A random delay is
    one draw ``u`` of the delay lane and Walker's alias table ``dtable`` (row 0: acceptance
    probabilities, row 1: aliases) of its steps: with ``x = u n``, ``j = floor(x)``, the step
    is ``d_const + j`` if ``x - j < dtable[0, j]``, else ``d_const + dtable[1, j]``.
    Returns the advanced lane state ``(i_w, spare, i_d)``.
    """
    gid = prm.post_start + t
    p = gid % prm.n_parts
    if prm.w_std > 0.0:
        while True:
            if i_w & 1:
                z = spare
            else:
                u1 = _u01(_draw(key_w, i_w))
                u2 = _u01(_draw(key_w, i_w + 1))
                r = math.sqrt(-2.0 * math.log(1.0 - u1))
                z = r * math.cos(2.0 * math.pi * u2)
                spare = r * math.sin(2.0 * math.pi * u2)
            i_w += 1
            x = prm.w_mean + prm.w_std * z
            if prm.w_low <= x <= prm.w_high:
                break
        if levels.shape[0] > 0:
            k = np.int64(math.floor((x - prm.lv_low) / prm.lv_width))
            k = min(max(k, 0), levels.shape[0] - 1)
            w = levels[k]
        else:
            w = np.int64(math.floor(x * 4096.0 + 0.5))
    else:
        w = prm.w_const
    if dtable.shape[1] > 0:
        x = _u01(_draw(key_d, i_d)) * dtable.shape[1]
        i_d += 1
        j = np.int64(x)
        alias = np.int64(dtable[1, j])
        d = prm.d_const + j + (alias - j) * np.int64(x - j >= dtable[0, j])
    else:
        d = prm.d_const
    if w < prm.w_min or w > prm.w_max:
        st[0] += 1
        w = 0
    if d < 1 or d > prm.max_delay_steps:
        st[1] += 1
        d = 1
    st[2] = max(st[2], d)
    local = np.uint64(gid // prm.n_parts)
    word = ((np.uint64(w & prm.w_mask) << np.uint64(prm.w_shift))
            | (local << np.uint64(prm.t_shift)) | (np.uint64(d) << np.uint64(prm.d_shift)))
    n = st[3]
    buf[0, n] = np.uint64((p << 32) | s)
    buf[1, n] = word
    st[3] = n + 1
    if n + 1 == buf.shape[1]:
        _flush(c, counts, words, base, buf, st)
    return i_w, spare, i_d


@njit(cache=True, nogil=True)
def _flush(c, counts, words, base, buf, st):
    """Write chunk ``c``'s buffered synapses partition by partition, each in buffer order.

    Grouping the writes by partition keeps one partition's row tails in the cache at a time;
    the order within every row is unchanged.
    """
    n = st[3]
    n_parts = counts.shape[1]
    start = np.zeros(n_parts + 1, np.int64)
    for i in range(n):
        start[np.int64(buf[0, i] >> np.uint64(32)) + 1] += 1
    for p in range(n_parts):
        start[p + 1] += start[p]
    order = np.empty(n, np.int64)
    for i in range(n):
        p = np.int64(buf[0, i] >> np.uint64(32))
        order[start[p]] = i
        start[p] += 1
    for k in range(n):
        i = order[k]
        p = np.int64(buf[0, i] >> np.uint64(32))
        s = np.int64(buf[0, i] & np.uint64(0xFFFFFFFF))
        words[base[p] + counts[c, p, s]] = buf[1, i]
        counts[c, p, s] += 1
    st[3] = 0


@njit(cache=True, nogil=True)
def _process_block(mode, c, b, prm, split, levels, dtable, counts, words, base, buf, st,
                   marker, chosen):
    """Generate the synapses of block ``b`` of one projection in draw order (count or fill).

    Blocks run over targets (over sources for ``fixed_outdegree``), ``prm.block_size`` each.
    ``marker`` (uint8, one per candidate partner) and ``chosen`` (int64, length k) are the
    chunk's scratch for rules that exclude multapses.
    """
    root = _mix(_mix(_mix(_splitmix64(np.uint64(prm.seed)), prm.stream_tag), prm.proj), b)
    key_s = _mix(root, 0)
    key_w = _mix(root, 1)
    key_d = _mix(root, 2)
    i_s = np.int64(0)
    i_w = np.int64(0)
    spare = 0.0
    i_d = np.int64(0)
    rule = prm.rule
    n_pre = prm.n_pre
    n_post = prm.n_post
    no_self = prm.same_pop and not prm.allow_autapses
    lo = b * prm.block_size
    if rule == 3 or rule == 4:
        # fixed_indegree: k sources per target; fixed_outdegree: k targets per source. The
        # block runs over the anchors (targets, or sources), partners drawn uniformly.
        out = rule == 4
        n_anchor = n_pre if out else n_post
        n_partner = n_post if out else n_pre
        hi = min(lo + prm.block_size, n_anchor)
        for a in range(lo, hi):
            k = 0
            while k < prm.degree:
                x = _below(_draw(key_s, i_s), n_partner)
                i_s += 1
                if no_self and x == a:
                    continue
                if not prm.allow_multapses:
                    if marker[x]:
                        continue
                    marker[x] = 1
                    chosen[k] = x
                s, t = (a, x) if out else (x, a)
                if mode == 0:
                    _count(c, s, t, prm, counts)
                else:
                    i_w, spare, i_d = _emit(c, s, t, prm, levels, dtable, counts, words, base,
                                            buf, st, key_w, i_w, spare, key_d, i_d)
                k += 1
            if not prm.allow_multapses:
                for j in range(prm.degree):
                    marker[chosen[j]] = 0
        return
    hi = min(lo + prm.block_size, n_post)
    if rule == 0:  # one_to_one
        for t in range(lo, hi):
            if mode == 0:
                _count(c, t, t, prm, counts)
            else:
                i_w, spare, i_d = _emit(c, t, t, prm, levels, dtable, counts, words, base,
                                        buf, st, key_w, i_w, spare, key_d, i_d)
    elif rule == 1:  # all_to_all
        for t in range(lo, hi):
            for s in range(n_pre):
                if no_self and s == t:
                    continue
                if mode == 0:
                    _count(c, s, t, prm, counts)
                else:
                    i_w, spare, i_d = _emit(c, s, t, prm, levels, dtable, counts, words, base,
                                            buf, st, key_w, i_w, spare, key_d, i_d)
    elif rule == 2:  # pairwise_bernoulli, geometric skipping over sources
        if prm.p <= 0.0:
            return
        logq = math.log1p(-prm.p) if prm.p < 1.0 else 0.0
        for t in range(lo, hi):
            s = np.int64(-1)
            while True:
                if prm.p >= 1.0:
                    s += 1
                else:
                    u = _u01(_draw(key_s, i_s))
                    i_s += 1
                    skip = math.floor(math.log1p(-u) / logq)
                    if s + 1.0 + skip >= n_pre:
                        break
                    s += 1 + np.int64(skip)
                if s >= n_pre:
                    break
                if no_self and s == t:
                    continue
                if mode == 0:
                    _count(c, s, t, prm, counts)
                else:
                    i_w, spare, i_d = _emit(c, s, t, prm, levels, dtable, counts, words, base,
                                            buf, st, key_w, i_w, spare, key_d, i_d)
    else:  # fixed_total_number: split[b] synapses with targets in this block
        nb = split[b]
        width = hi - lo
        if nb == 0:
            return
        size = 1
        if not prm.allow_multapses:
            while size < 2 * nb + 1:
                size *= 2
        table = np.full(size, -1, np.int64)
        mask = size - 1
        j = 0
        while j < nb:
            t = lo + _below(_draw(key_s, i_s), width)
            s = _below(_draw(key_s, i_s + 1), n_pre)
            i_s += 2
            if no_self and s == t:
                continue
            if not prm.allow_multapses:
                pair = (t - lo) * n_pre + s
                h = np.int64(_splitmix64(np.uint64(pair)) & np.uint64(mask))
                dup = False
                while table[h] != -1:
                    if table[h] == pair:
                        dup = True
                        break
                    h = (h + 1) & mask
                if dup:
                    continue
                table[h] = pair
            if mode == 0:
                _count(c, s, t, prm, counts)
            else:
                i_w, spare, i_d = _emit(c, s, t, prm, levels, dtable, counts, words, base, buf,
                                        st, key_w, i_w, spare, key_d, i_d)
            j += 1


#: Length of a chunk's private counters in ``_run_projection`` (4 used): 128 bytes, so that
#: the used head of one chunk's array never shares a cache line with another's.
_STATS_PAD = 16


@njit(cache=True, nogil=True, parallel=True)
def _run_projection(mode, prm, split, levels, dtable, chunk_bounds, counts, words, base, stats,
                    marker_len, buf_len):
    """Process every block of one projection, chunk ``c`` taking blocks
    ``chunk_bounds[c]:chunk_bounds[c+1]`` in order (prange over chunks).

    A filling chunk buffers up to ``buf_len`` (>= 1) synapses and writes them grouped by
    partition (``_flush``); the words written do not depend on ``buf_len``.
    """
    n_chunks = chunk_bounds.shape[0] - 1
    for c in prange(n_chunks):
        marker = np.zeros(marker_len, np.uint8)
        chosen = np.zeros(max(prm.degree, 1) if marker_len > 1 else 1, np.int64)
        buf = np.empty((2, buf_len if mode == 1 else 0), np.uint64)
        # the chunk's own counters, updated per synapse: a private array, padded so that no
        # two chunks' counters share a cache line (``stats`` rows do), copied back at the end
        st = np.zeros(_STATS_PAD, np.int64)
        st[:3] = stats[c, :3]
        for b in range(chunk_bounds[c], chunk_bounds[c + 1]):
            _process_block(mode, c, b, prm, split, levels, dtable, counts, words, base, buf,
                           st, marker, chosen)
        if st[3] > 0:
            _flush(c, counts, words, base, buf, st)
        stats[c, :] = st[:4]


@njit(cache=True, nogil=True)
def _counts_to_offsets(counts, fill_ptr, pre_start):
    """Turn chunk counts into chunk write positions, advancing the row fill pointers.

    ``counts[c, p, s]`` becomes ``fill_ptr[p, pre_start + s] + sum(counts[:c, p, s])``, and
    ``fill_ptr`` moves past this projection's synapses.
    """
    n_chunks, n_parts, n_pre = counts.shape
    for p in range(n_parts):
        for s in range(n_pre):
            acc = fill_ptr[p, pre_start + s]
            for c in range(n_chunks):
                k = counts[c, p, s]
                counts[c, p, s] = acc
                acc += k
            fill_ptr[p, pre_start + s] = acc


@njit(cache=True, nogil=True)
def _add_counts(counts, totals, pre_start):
    """Add the chunk counts of one projection to ``totals[p, pre_start + s]``."""
    n_chunks, n_parts, n_pre = counts.shape
    for p in range(n_parts):
        for s in range(n_pre):
            acc = np.int64(0)
            for c in range(n_chunks):
                acc += counts[c, p, s]
            totals[p, pre_start + s] += acc


# Initial potentials --------------------------------------------------------------------------


@njit(cache=True, nogil=True, parallel=True)
def _draw_v0(seed, stream_tag, start, mean, std, low, high, offset, out):
    """Fill ``out[i]`` with the V-format initial potential of neuron ``start + i``.

    Stream ``stream_key(seed, stream_tag, gid)``; value ``floor((x - offset) * 2**16 + 1/2)``
    with ``x`` the redrawn normal in mV and ``offset`` = E_L.
    """
    root = _mix(_splitmix64(np.uint64(seed)), stream_tag)
    for i in prange(out.shape[0]):
        if std > 0.0:
            key = _mix(root, start + i)
            x, _ = _normal(key, 0, mean, std, low, high)
        else:
            x = mean
        out[i] = np.int64(math.floor((x - offset) * 65536.0 + 0.5))
