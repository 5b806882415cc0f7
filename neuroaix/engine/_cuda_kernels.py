"""CUDA kernels of the GPU backend (private; see neuroaix.engine.cuda).

One persistent cooperative kernel runs a whole chunk of steps: per step, every thread
updates a grid-stride share of the neurons (background, update, read-and-clear of the
step's ring-buffer slot), the grid synchronises, every warp delivers a grid-stride share of
the (spike, partition) rows with integer atomics into the ring buffers, and the grid
synchronises again. The layout of state and ring buffers is the CPU engine's
(neuroaix.engine.state), with the ring-buffer cells widened to int64: additions of one sign
per channel never wrap in 64 bits, and ``clamp(sum)`` equals the CPU's clamped running sum
whatever the order of the atomics (docs/numerics.md). A cell found beyond int32 when its
slot is read is reported to the host, which counts the clamped additions in the canonical
order (neuroaix.engine.cuda), so the saturation counter is the CPU's exactly.

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

#: Control words of a chunk: steps done, spikes recorded, flagged cells.
CTL_DONE, CTL_SPIKES, CTL_FLAGS = 0, 1, 2
N_CTL = 3
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
def _barrier(grid, bar, n_blocks, own):
    """Synchronise the grid: the cooperative-groups barrier, or (``own``) a counter and a
    generation word in global memory, cheaper for a few hundred blocks. Both need every
    block resident at once, which the cooperative launch guarantees."""
    if not own:
        grid.sync()
        return
    cuda.threadfence()
    cuda.syncthreads()
    if cuda.threadIdx.x == 0:
        gen = cuda.atomic.add(bar, 1, 0)
        if cuda.atomic.add(bar, 0, 1) == n_blocks - 1:
            cuda.atomic.sub(bar, 0, n_blocks)
            cuda.threadfence()
            cuda.atomic.add(bar, 1, 1)
        else:
            while cuda.atomic.add(bar, 1, 0) == gen:
                pass
        cuda.threadfence()
    cuda.syncthreads()


@cuda.jit
def _run_chunk(t0, n_steps, fgid, fpop, fring, fn, n_loc, roff, mask, ring, v, iex, iin, ref,
               rng, coef, has_poisson, ptable, plen, pguide, pweight, row_ptr, words,
               n_chunks, counters, rec, step_ptr, ctl, flags, probe_idx, probe_buf,
               record_probes, phases, bar, own_barrier):
    """Run steps ``t0 .. t0 + n_steps - 1`` (see the module docstring).

    Per flat neuron: ``fgid`` its global id, ``fpop`` its population, ``fring`` the ring
    index of its slot-0 excitatory cell and ``fn`` its partition's size (the stride between
    slots and channels). ``row_ptr[p, s]`` indexes ``words`` (all partitions' words one after
    another); a warp delivers ``WARP`` synapses of one row at a time, so a row is ``n_chunks``
    items at most (block sizes are multiples of ``WARP``).
    Spike global ids go to ``rec`` (step ``s`` of the chunk in
    ``rec[step_ptr[s]:step_ptr[s + 1]]``, in no particular order); the chunk stops before a
    step that could overflow ``rec`` or ``flags``, and ``ctl[CTL_DONE]`` says how many steps
    ran. ``flags[k] = (step, ring index)`` of cells read beyond int32. ``phases`` is
    ``PHASE_UPDATE | PHASE_DELIVER`` except in the timing breakdown of the benchmark, which
    leaves one out. ``bar`` (two zeroed int64 words) serves the barrier when
    ``own_barrier`` is set (see ``_barrier``).
    """
    grid = cuda.cg.this_grid()
    gtid = cuda.grid(1)
    stride = cuda.gridsize(1)
    lane = cuda.laneid
    warp = gtid // WARP
    n_warps = stride // WARP
    n_blocks = cuda.gridDim.x
    n_total = v.shape[0]
    grid.sync()  # every launch is cooperative: all blocks resident, whichever barrier runs
    n_part = n_loc.shape[0]
    n_spk = int64(0)
    n_pois = int64(0)
    n_sat = int64(0)
    n_events = int64(0)
    done = 0
    for s in range(n_steps):
        t = t0 + s
        if ctl[CTL_SPIKES] + n_total > rec.shape[0] or \
                ctl[CTL_FLAGS] + 2 * n_total > flags.shape[0]:
            break
        # background + update ---------------------------------------------------------
        for f in range(gtid, n_total if phases & PHASE_UPDATE else 0, stride):
            k = fpop[f]
            n = int64(fn[f])
            ex_idx = fring[f] + ((t & mask) * 2) * n
            in_idx = ex_idx + n
            in_ex = ring[ex_idx]
            in_in = ring[in_idx]
            ring[ex_idx] = 0
            ring[in_idx] = 0
            if in_ex > _I32_MAX:
                j = cuda.atomic.add(ctl, CTL_FLAGS, 1)
                flags[j, 0] = t
                flags[j, 1] = ex_idx
                in_ex = _I32_MAX
            if in_in < _I32_MIN:
                j = cuda.atomic.add(ctl, CTL_FLAGS, 1)
                flags[j, 0] = t
                flags[j, 1] = in_idx
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
                j = cuda.atomic.add(ctl, CTL_SPIKES, 1)
                rec[j] = fgid[f]
                n_spk += 1
            v[f] = vm
            iex[f] = ie
            iin[f] = ii
            ref[f] = r
        _barrier(grid, bar, n_blocks, own_barrier)
        # exchange: the step's spikes are rec[step_ptr[s]:ctl[CTL_SPIKES]] ----------------
        a0 = step_ptr[s]
        a1 = ctl[CTL_SPIKES]
        if gtid == 0:
            step_ptr[s + 1] = a1
        if record_probes:
            for j in range(gtid, probe_idx.shape[0], stride):
                g = probe_idx[j]
                probe_buf[j, 0, s] = v[g]
                probe_buf[j, 1, s] = iex[g]
                probe_buf[j, 2, s] = iin[g]
        # deliver: one warp per 32 synapses of a (spike, partition) row ----------------------
        n_items = (a1 - a0) * n_part * n_chunks if phases & PHASE_DELIVER else 0
        for item in range(warp, n_items, n_warps):
            c = item % n_chunks
            rest = item // n_chunks
            p = rest % n_part
            src = rec[a0 + rest // n_part]
            a = row_ptr[p, src]
            b = row_ptr[p, src + 1]
            if c == 0 and lane == 0:
                n_events += b - a
            # one synapse per lane; the last item of a row takes whatever is left
            lo = a + c * WARP + lane
            hi = b if c + 1 == n_chunks else min(b, a + (c + 1) * WARP)
            n = n_loc[p]
            base = roff[p]
            for q in range(lo, hi, WARP):
                tgt, w, d = _decode(words[q])
                ch = 1 if w < 0 else 0
                cuda.atomic.add(ring, base + ((((t + d) & mask) * 2) + ch) * n + tgt, w)
        done = s + 1
        _barrier(grid, bar, n_blocks, own_barrier)
    if gtid == 0:
        ctl[CTL_DONE] = done
    cuda.atomic.add(counters, C_SPIKES, n_spk)
    cuda.atomic.add(counters, C_POISSON, n_pois)
    cuda.atomic.add(counters, C_SATURATIONS, n_sat)
    cuda.atomic.add(counters, C_SYN_EVENTS, n_events)


@cuda.jit
def _flag_beyond_i32(ring, flag):
    """Set ``flag[0]`` if any ring-buffer cell lies beyond int32."""
    for i in range(cuda.grid(1), ring.shape[0], cuda.gridsize(1)):
        x = ring[i]
        if x > _I32_MAX or x < _I32_MIN:
            flag[0] = 1
