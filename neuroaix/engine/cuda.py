"""GPU backend: the whole step loop in one persistent cooperative numba-cuda kernel per chunk.

Same number contract, same schedule and the same counters as the CPU engine
(docs/gpu.md): the raster, neuron state, ring buffers, counters and checkpoints are equal
bit for bit. The ring buffers accumulate with 64-bit integer atomics: each channel receives
weights of one sign only, so the clamped value is the same in every order, and the
saturation counter counts the channels read at their int32 bound (docs/numerics.md,
section 4), which the kernel does at the read.

Without a GPU the same kernels run under numba-cuda's simulator
(``NUMBA_ENABLE_CUDASIM=1``, set before numba is imported), which is how the tests check
them on every machine.
"""

from __future__ import annotations

import os

import numpy as np
from numba import cuda, njit

from neuroaix import formats
from neuroaix._threads import check_threads
from neuroaix.engine import _cuda_kernels as _ck
from neuroaix.engine import _kernels as _k
from neuroaix.engine._cpu import CPUBackend
from neuroaix.engine.backend import register_backend
from neuroaix.engine.simulator import Simulator, _check_network

__all__ = ["CudaBackend", "CudaSimulator", "cuda_available"]

_I32_MIN = -(1 << 31)
_I32_MAX = (1 << 31) - 1


def cuda_available() -> bool:
    """Say whether a CUDA device (or numba-cuda's simulator) can run the GPU backend."""
    try:
        return bool(cuda.is_available())
    except Exception:  # noqa: BLE001 - a driver error means: no GPU here
        return False


def _simulated() -> bool:
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


class CudaSimulator(Simulator):
    """Run a built network on one CUDA GPU (the same results as ``Simulator``).

    The ``Simulator`` front end on the ``cuda`` backend (``CudaBackend``); importing this
    module also makes ``Simulator(built, backend="cuda")`` available.

    Parameters
    ----------
    network : BuiltNetwork
        The result of ``Network.build(partitions=P)``; any P gives the same results.
    threads : int, optional
        Host threads for the CPU-side work (layout conversion, checkpoints).
    probes : sequence of int, optional
        Global ids whose V, I_ex and I_in are recorded at the end of every recorded step.
    progress : bool, optional
        Draw a progress bar on stderr for long runs.
    blocks, threads_per_block : int, optional
        Launch shape of the persistent kernel (default: as many blocks of 256 threads as
        can be resident at once; one block of 64 under the simulator).

    Raises
    ------
    RuntimeError
        If no CUDA device is available.
    """

    def __init__(self, network, *, threads: int | None = None, probes=None,
                 progress: bool | None = None, blocks: int | None = None,
                 threads_per_block: int | None = None):
        _check_network(network, "CudaSimulator")
        self._attach(CudaBackend(network, threads=check_threads(threads),
                                 probe_ids=self._check_probes(network, probes),
                                 blocks=blocks, threads_per_block=threads_per_block),
                     progress)


@register_backend
class CudaBackend(CPUBackend):
    """The GPU backend: the CPU backend's host arrays, mirrored on the device while running.

    Parameters are ``Backend``'s and ``blocks``, ``threads_per_block`` of ``CudaSimulator``.

    Raises
    ------
    RuntimeError
        If no CUDA device is available.
    """

    name = "cuda"

    def __init__(self, network, *, threads: int, probe_ids: np.ndarray,
                 blocks: int | None = None, threads_per_block: int | None = None):
        if not cuda_available():
            raise RuntimeError(
                "the GPU backend needs a CUDA device (or NUMBA_ENABLE_CUDASIM=1 set before "
                "numba is imported, to run the kernels in numba-cuda's simulator)"
            )
        network.require_exp_only("the GPU backend")
        super().__init__(network, threads=threads, probe_ids=probe_ids)
        self._mask = self.kl.mask
        self._row_ptrs, self._words = self.synapses
        self._coef, self._has_poisson = self.pops.coef, self.pops.has_poisson
        self._ptable, self._plen = self.pops.ptable, self.pops.plen
        self._pguide, self._pweight = self.pops.pguide, self.pops.pweight
        #: The next step to run (the front end's ``t``).
        self.t = 0
        lay = self.layout
        n = lay.n_neurons
        if n > formats.MAX_LOCAL_TARGETS:
            raise ValueError(
                f"the GPU backend addresses neurons by flat index in the synapse word's target "
                f"field, which holds {formats.MAX_LOCAL_TARGETS} neurons, not {n}")
        flat_gid = np.empty(n, np.int64)
        flat_gid[lay.flat] = np.arange(n, dtype=np.int64)
        fpop = np.asarray(network.pop_of, dtype=np.int32)[flat_gid]
        row_ptr, words = _merged_rows(flat_gid, lay.noff, self._row_ptrs, self._words)
        self._tpb = int(threads_per_block or (64 if _simulated() else 256))
        if self._tpb % 32:
            raise ValueError(f"threads_per_block must be a multiple of 32, not "
                             f"{threads_per_block!r}")
        self._blocks = blocks
        self._d = {
            "fgid": cuda.to_device(flat_gid.astype(np.int32)), "fpop": cuda.to_device(fpop),
            "coef": cuda.to_device(self._coef),
            "has_poisson": cuda.to_device(self._has_poisson),
            "ptable": cuda.to_device(self._ptable), "plen": cuda.to_device(self._plen),
            "pguide": cuda.to_device(np.ascontiguousarray(self._pguide, np.int64)),
            "pweight": cuda.to_device(self._pweight),
            "row_ptr": cuda.to_device(row_ptr), "words": cuda.to_device(words),
        }
        del row_ptr, words
        cap = max(4 * n, 1 << 16)
        self._d["rec"] = cuda.device_array(cap, np.int32)
        self._d["soff"] = cuda.device_array(cap, np.int64)
        self._d["rstart"] = cuda.device_array(cap, np.int64)
        self._on_device = False
        #: Phases run per step (private: the benchmark's breakdown leaves one out).
        self._phases = _ck.PHASES_ALL
        self._push()

    # Host <-> device ----------------------------------------------------------------------

    def _push(self) -> None:
        """Copy the host state (after construction or restore) to the device."""
        d, nr = self._d, self.neurons
        d["v"] = cuda.to_device(nr.v)
        d["iex"] = cuda.to_device(nr.iex)
        d["iin"] = cuda.to_device(nr.iin)
        d["ref"] = cuda.to_device(nr.ref)
        d["rng"] = cuda.to_device(nr.rng)
        d["ring"] = cuda.to_device(self._to_device_layout(nr.ring))
        d["counters"] = cuda.to_device(self.counters.sum(axis=0).astype(np.int64))
        self._on_device = True

    def _pull(self) -> None:
        """Copy the device state back into the host arrays, if it changed there."""
        if not self._on_device:
            return
        d, nr = self._d, self.neurons
        nr.v[:] = d["v"].copy_to_host()
        nr.iex[:] = d["iex"].copy_to_host()
        nr.iin[:] = d["iin"].copy_to_host()
        nr.ref[:] = d["ref"].copy_to_host()
        nr.rng[:] = d["rng"].copy_to_host()
        nr.ring[:] = self._from_device_layout(d["ring"].copy_to_host())
        self.counters[:] = 0
        self.counters[0] = d["counters"].copy_to_host()
        self._on_device = False

    def _to_device_layout(self, ring: np.ndarray) -> np.ndarray:
        """Return the engine's flat ring buffers as the GPU's ``[slot][channel][flat]`` int64."""
        lay = self.layout
        out = np.empty((lay.ring_depth, 2, lay.n_neurons), np.int64)
        out[:, :, lay.flat] = lay.ring_to_global(ring)
        return out.reshape(-1)

    def _from_device_layout(self, ring: np.ndarray) -> np.ndarray:
        """Return the GPU's ring buffers, clamped to int32, in the engine's flat layout."""
        lay = self.layout
        cells = np.clip(ring, _I32_MIN, _I32_MAX).astype(np.int32).reshape(
            lay.ring_depth, 2, lay.n_neurons)
        return lay.ring_from_global(cells[:, :, lay.flat])

    def _launch_shape(self) -> tuple[int, int]:
        if _simulated():
            return 1, self._tpb
        if self._blocks is not None:
            return int(self._blocks), self._tpb
        kernel = _ck._run_chunk
        d = self._d
        args = self._kernel_args(0, 1, d["probe_buf"], d["probe_idx"], False)
        compiled = kernel.compile(tuple(kernel.typeof_pyval(a) for a in args))
        return max(1, int(compiled.max_cooperative_grid_blocks(self._tpb))), self._tpb

    def _kernel_args(self, t0, n_steps, probe_buf, probe_idx, record_probes):
        d = self._d
        return (np.int64(t0), np.int64(n_steps), d["fgid"], d["fpop"], np.int64(self._mask),
                d["ring"], d["v"], d["iex"], d["iin"], d["ref"], d["rng"], d["coef"],
                d["has_poisson"], d["ptable"], d["plen"], d["pguide"], d["pweight"],
                d["row_ptr"], d["words"], d["counters"], d["rec"], d["soff"], d["rstart"],
                d["step_ptr"], d["ctl"], probe_idx, probe_buf,
                np.bool_(record_probes), np.int64(self._phases))

    # Running ------------------------------------------------------------------------------

    def advance(self, t0, n_steps, record):
        self.t = t0
        if not self._on_device:
            self._push()
        d = self._d
        n_probe = len(self._probe_flat)
        record_probes = bool(record and n_probe)
        probe_buf = np.zeros((n_probe, 3, n_steps if record_probes else 1), np.int32)
        if d.get("chunk_steps", -1) < n_steps:
            # buffers for the longest chunk so far, reused by every launch
            d["chunk_steps"] = n_steps
            d["step_ptr"] = cuda.device_array(n_steps + 1, np.int64)
            d["probe_buf"] = cuda.device_array((n_probe, 3, n_steps), np.int32)
            d["probe_idx"] = cuda.to_device(self._probe_flat.astype(np.int64))
        if d.get("ctl") is None:
            d["ctl"] = cuda.device_array(_ck.N_CTL, np.int64)
            d["grid"] = self._launch_shape()
        blocks, tpb = d["grid"]
        zeros = np.zeros(_ck.N_CTL, np.int64)
        done = 0
        while done < n_steps:
            todo = n_steps - done
            d["ctl"].copy_to_device(zeros)
            d["step_ptr"][:1].copy_to_device(zeros[:1])
            _ck._run_chunk[blocks, tpb](*self._kernel_args(self.t, todo, d["probe_buf"],
                                                           d["probe_idx"], record_probes))
            ctl = d["ctl"].copy_to_host()
            got = int(ctl[_ck.CTL_DONE])
            step_ptr = d["step_ptr"][:got + 1].copy_to_host()
            n_rec = int(step_ptr[got])
            if record:
                rec = d["rec"][:n_rec].copy_to_host() if n_rec else np.zeros(0, np.int32)
                steps = [np.sort(rec[step_ptr[s]:step_ptr[s + 1]]) for s in range(got)]
                self._record_steps(self.t, steps)
                if record_probes and got:
                    probe_buf[:, :, done:done + got] = d["probe_buf"].copy_to_host()[:, :, :got]
            self.t += got
            done += got
        return probe_buf if record_probes else None

    def _record_steps(self, t0: int, steps: list[np.ndarray]) -> None:
        """Append the spikes of steps ``t0, t0 + 1, ...`` (one array each) to the raster."""
        if steps:
            self._append_record(np.concatenate(steps),
                                np.repeat(np.arange(t0, t0 + len(steps), dtype=np.int64),
                                          [len(s) for s in steps]))

    # Results (read from the device) -------------------------------------------------------

    def counts(self):
        if self._on_device:
            self.counters[:] = 0
            self.counters[0] = self._d["counters"].copy_to_host()
        return super().counts()

    def state(self, *, everywhere=True):
        self._pull()
        return super().state()

    def ring_buffer(self, p):
        self._pull()
        return super().ring_buffer(p)

    def load(self, data):
        super().load(data)
        self.t = int(data["t"])
        self._push()


@njit(cache=True, nogil=True)
def _merged_rows(flat_gid, noff, row_ptrs, words):
    """Return the GPU's rows: one per source in flat order, the partitions' synapses one
    after another with the target field rewritten to the flat index ``noff[p] + local``."""
    n = flat_gid.shape[0]
    n_part = len(row_ptrs)
    row_ptr = np.zeros(n + 1, np.int64)
    for f in range(n):
        g = flat_gid[f]
        size = 0
        for p in range(n_part):
            size += row_ptrs[p][g + 1] - row_ptrs[p][g]
        row_ptr[f + 1] = row_ptr[f] + size
    out = np.empty(row_ptr[n], np.uint64)
    keep = ~(_k._T_MASK << _k._T_SHIFT)
    for f in range(n):
        g = flat_gid[f]
        q = row_ptr[f]
        for p in range(n_part):
            base = np.uint64(noff[p])
            for i in range(row_ptrs[p][g], row_ptrs[p][g + 1]):
                word = words[p][i]
                tgt = ((word >> _k._T_SHIFT) & _k._T_MASK) + base
                out[q] = (word & keep) | (tgt << _k._T_SHIFT)
                q += 1
    return row_ptr, out
