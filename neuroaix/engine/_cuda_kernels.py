"""CUDA kernels of the GPU backend (private; see neuroaix.engine.cuda).

One persistent cooperative kernel runs a whole chunk of steps: per step, every thread
updates a grid-stride share of the neurons (background, update, read-and-clear of the
step's ring-buffer slot) and a spiking neuron claims its place in the step's spike list and
synapse index range, the grid synchronises, every thread delivers a grid-stride share of
the step's synapses with integer atomics into the ring buffers, and the grid synchronises
again. The ring-buffer cells are int64: additions of one sign per channel never wrap in 64
bits, and ``clamp(sum)`` equals the CPU's clamped running sum whatever the order of the
atomics (docs/numerics.md). The saturation counter counts a channel read at or beyond its
int32 bound, at the read (docs/numerics.md, section 4), so it is the CPU's exactly too.

Every arithmetic step is the one of docs/numerics.md and of neuroaix.engine._kernels.
"""

from numba import cuda, int64, uint64

# The synapse word layout as the CPU kernels decode it (shifts and masks from formats).
from neuroaix.engine._kernels import (_D_MASK, _D_SHIFT, _T_MASK, _T_SHIFT, _W_MASK, _W_MODULUS,
                                      _W_SHIFT, _W_SIGN)

_I32_MIN = -(1 << 31)
_I32_MAX = (1 << 31) - 1
_HALF = 1 << 29
_XS_MULT = 0x2545F4914F6CDD1D

#: Control words of a chunk: steps done, and the packed (synapses, spikes) word of even and
#: odd steps.
CTL_DONE, CTL_PACK = 0, 1
N_CTL = 3
#: Low bits of the packed word that count a step's spikes (up to 2**PACK_BITS - 1 neurons).
PACK_BITS = 24
PACK_MASK = (1 << PACK_BITS) - 1
#: Counter columns (the CPU engine's order).
C_SPIKES, C_SYN_EVENTS, C_POISSON, C_SATURATIONS = 0, 1, 2, 3

#: Phases of a step (all of them except in the benchmark's timing breakdown).
PHASE_UPDATE, PHASE_DELIVER = 1, 2
#: Threads of a warp: a warp delivers up to this many synapses of one row at a time.
WARP = 32
PHASES_ALL = PHASE_UPDATE | PHASE_DELIVER


@cuda.jit(device=True)
def _decode(word):
    """Return ``(target, weight, delay)`` of a packed synapse word (neuroaix.formats)."""
    w = int64((word >> _W_SHIFT) & _W_MASK)
    if w >= _W_SIGN:
        w -= _W_MODULUS
    return int64((word >> _T_SHIFT) & _T_MASK), w, int64((word >> _D_SHIFT) & _D_MASK)


@cuda.jit(device=True)
def _spike_of(g, soff, n_spk):
    """Return ``j``, the largest index with ``soff[j] <= g`` (binary search over a step's
    spikes, whose synapses start at the ascending offsets ``soff``)."""
    lo = 0
    hi = n_spk - 1
    while lo < hi:
        mid = (lo + hi + 1) >> 1
        if soff[mid] <= g:
            lo = mid
        else:
            hi = mid - 1
    return lo


@cuda.jit
def _run_chunk(t0, n_steps, fgid, fpop, mask, ring, v, iex, iin, ref, rng, coef, has_poisson,
               ptable, plen, pguide, pweight, row_ptr, words, counters, rec, soff, rstart,
               step_ptr, ctl, probe_idx, probe_buf, record_probes, phases):
    """Run steps ``t0 .. t0 + n_steps - 1`` (see the module docstring).

    The GPU's own layout of the same data (neuroaix.engine.cuda): neurons in the CPU
    engine's flat order, ``fgid`` their global ids and ``fpop`` their populations; ring
    buffers ``[slot][channel][flat neuron]``; one row per source, ``words[row_ptr[s]:
    row_ptr[s + 1]]``, the synapses of all partitions with flat targets.

    A spiking neuron takes its place in the step's spike list and a range of the step's
    synapse indices with one 64-bit atomic on ``ctl[CTL_PACK + (s & 1)]`` (spikes in the low
    ``PACK_BITS`` bits, synapses above), so ``soff`` (first synapse index of each spike) is
    ascending: after the barrier every thread delivers a grid-stride share of the step's
    synapses, finding its spike by binary search in ``soff``.

    Spike global ids go to ``rec`` (step ``s`` of the chunk in
    ``rec[step_ptr[s]:step_ptr[s + 1]]``, in no particular order); the chunk stops before a
    step that could overflow ``rec``, and ``ctl[CTL_DONE]`` says how many steps ran.
    ``phases`` is ``PHASE_UPDATE | PHASE_DELIVER`` except in the timing breakdown of the
    benchmark, which leaves one out.
    """
    grid = cuda.cg.this_grid()
    gtid = cuda.grid(1)
    stride = cuda.gridsize(1)
    n_total = v.shape[0]
    n_spk = int64(0)
    n_pois = int64(0)
    n_sat = int64(0)
    n_events = int64(0)
    done = 0
    for s in range(n_steps):
        t = t0 + s
        a0 = step_ptr[s]
        if a0 + n_total > rec.shape[0]:
            break
        pack = CTL_PACK + (s & 1)
        slot = ((t & mask) * 2) * n_total
        # background + update ---------------------------------------------------------
        for f in range(gtid, n_total if phases & PHASE_UPDATE else 0, stride):
            k = fpop[f]
            ex_idx = slot + f
            in_idx = ex_idx + n_total
            in_ex = ring[ex_idx]
            in_in = ring[in_idx]
            ring[ex_idx] = 0
            ring[in_idx] = 0
            # a channel read at its int32 bound counts once (docs/numerics.md, section 4)
            if in_ex >= _I32_MAX:
                n_sat += 1
                in_ex = _I32_MAX
            if in_in <= _I32_MIN:
                n_sat += 1
                in_in = _I32_MIN
            if has_poisson[k]:
                x = rng[f]
                x ^= x >> uint64(12)
                x ^= x << uint64(25)
                x ^= x >> uint64(27)
                rng[f] = x
                u = int64((x * uint64(_XS_MULT)) >> uint64(32))
                c = pguide[k, u >> 24]
                n_table = plen[k]
                while c < n_table and u >= ptable[k, c]:
                    c += 1
                n_pois += c
                bg = c * pweight[k]
                if bg >= 0:
                    in_ex += bg
                    if in_ex > _I32_MAX:
                        n_sat += 1
                        in_ex = _I32_MAX
                else:
                    in_in += bg
                    if in_in < _I32_MIN:
                        n_sat += 1
                        in_in = _I32_MIN
            vm = int64(v[f])
            ie = int64(iex[f])
            ii = int64(iin[f])
            r = ref[f]
            if r == 0:
                vm = (coef[k, 0] * vm + coef[k, 3] * ie + coef[k, 4] * ii
                      + coef[k, 5] * coef[k, 8] + _HALF) >> 30
                if vm > _I32_MAX or vm < _I32_MIN:
                    n_sat += 1
                    vm = min(max(vm, _I32_MIN), _I32_MAX)
            else:
                r -= 1
            ie = ((coef[k, 1] * ie + _HALF) >> 30) + in_ex
            ii = ((coef[k, 2] * ii + _HALF) >> 30) + in_in
            if ie > _I32_MAX or ie < _I32_MIN:
                n_sat += 1
                ie = min(max(ie, _I32_MIN), _I32_MAX)
            if ii > _I32_MAX or ii < _I32_MIN:
                n_sat += 1
                ii = min(max(ii, _I32_MIN), _I32_MAX)
            if vm >= coef[k, 6]:
                r = coef[k, 9]
                vm = coef[k, 7]
                r0 = row_ptr[f]
                length = row_ptr[f + 1] - r0
                old = cuda.atomic.add(ctl, pack, (length << PACK_BITS) + 1)
                j = a0 + (old & PACK_MASK)
                rec[j] = fgid[f]
                soff[j] = old >> PACK_BITS
                rstart[j] = r0
                n_spk += 1
            v[f] = vm
            iex[f] = ie
            iin[f] = ii
            ref[f] = r
        grid.sync()
        # exchange: the step's spikes are rec[a0:a1] --------------------------------------
        packed = ctl[pack]
        a1 = a0 + (packed & PACK_MASK)
        n_syn = packed >> PACK_BITS
        if gtid == 0:
            step_ptr[s + 1] = a1
            ctl[CTL_PACK + 1 - (s & 1)] = 0  # the next step's word, last read a step ago
            n_events += n_syn
        if record_probes:
            for j in range(gtid, probe_idx.shape[0], stride):
                g = probe_idx[j]
                probe_buf[j, 0, s] = v[g]
                probe_buf[j, 1, s] = iex[g]
                probe_buf[j, 2, s] = iin[g]
        # deliver: a grid-stride share of the step's synapses per thread ------------------
        for g in range(gtid, n_syn if phases & PHASE_DELIVER else 0, stride):
            j = a0 + _spike_of(g, soff[a0:a1], a1 - a0)
            tgt, w, d = _decode(words[rstart[j] + g - soff[j]])
            ch = 1 if w < 0 else 0
            cuda.atomic.add(ring, (((t + d) & mask) * 2 + ch) * n_total + tgt, w)
        done = s + 1
        grid.sync()
    if gtid == 0:
        ctl[CTL_DONE] = done
    cuda.atomic.add(counters, C_SPIKES, n_spk)
    cuda.atomic.add(counters, C_POISSON, n_pois)
    cuda.atomic.add(counters, C_SATURATIONS, n_sat)
    cuda.atomic.add(counters, C_SYN_EVENTS, n_events)

