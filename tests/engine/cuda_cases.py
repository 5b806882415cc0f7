"""GPU-backend cases run in a subprocess with ``NUMBA_ENABLE_CUDASIM=1`` (numba-cuda's
simulator must be chosen before numba is imported, so these cannot share pytest's process).

Each case runs the CPU engine and the GPU backend on the same built network and prints one
JSON line per case: the fields of both runs, compared by tests/engine/test_cuda.py.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import warnings

from neuroaix import models
from neuroaix.engine import Simulator
from neuroaix.engine.cuda import CudaSimulator
from tests.engine.conftest import small_network
from tests.test_golden import _digest


def _summary(sim, built) -> dict:
    state = sim.state()
    senders, steps = sim.spikes()
    out = {"spike_hash": sim.spike_hash(), "n_spikes": int(len(senders)),
           "counters": sim.counters, "t": int(sim.t),
           "state": _digest(state[k] for k in ("v", "i_ex", "i_in", "ref")),
           "ring": _digest(sim.ring_buffer(p) for p in range(built.n_partitions))}
    probes = sim.probes()
    if len(probes["ids"]):
        out["probes"] = _digest([probes["steps"], probes["v_rel_mv"], probes["i_ex_pa"],
                                 probes["i_in_pa"]])
    return out


def _pair(name, built, plan, *, probes=None):
    """Run ``plan`` (a list of (steps, record)) on both backends; print both summaries."""
    result = {"case": name}
    for label, cls in (("cpu", Simulator), ("gpu", CudaSimulator)):
        sim = cls(built, progress=False, probes=probes)
        result[label] = []
        for n, record in plan:
            sim.run_steps(n, record=record)
            result[label].append(_summary(sim, built))
    print(json.dumps(result), flush=True)


def _checkpoints(name, built, n1, n2):
    """Save on one backend after n1 steps, restore on the other, run n2 more."""
    result = {"case": name}
    with tempfile.TemporaryDirectory() as tmp:
        for label, first, second in (("cpu", Simulator, Simulator),
                                     ("cpu_to_gpu", Simulator, CudaSimulator),
                                     ("gpu_to_cpu", CudaSimulator, Simulator)):
            sim = first(built, progress=False)
            sim.run_steps(n1)
            path = os.path.join(tmp, f"{label}.npz")
            sim.checkpoint(path)
            sim = second.restore(built, path, progress=False)
            sim.run_steps(n2)
            result[label] = _summary(sim, built)
    print(json.dumps(result), flush=True)


def _refuses_models():
    """The GPU backend refuses the models and inputs only the CPU engines run."""
    from tests.engine.mpi_runner import models_network

    try:
        CudaSimulator(models_network().build(partitions=2), progress=False)
        error = None
    except ValueError as exc:
        error = str(exc)
    print(json.dumps({"case": "refuses-models", "error": error}), flush=True)


def main(which: list[str]) -> None:
    # The simulator runs the kernels' uint64 arithmetic in NumPy scalars, which warn on the
    # wrap-around that the contract relies on (xorshift64*, docs/numerics.md).
    warnings.filterwarnings("ignore", "overflow encountered", RuntimeWarning)
    cases = {
        "small-p1": lambda: _pair("small-p1", small_network().build(partitions=1),
                                  [(60, True)], probes=[0, 5, 97]),
        "small-p3-presim": lambda: _pair("small-p3-presim", small_network().build(partitions=3),
                                         [(20, False), (40, True)]),
        # Weights of 200 nA: ring-buffer cells clamp during delivery, some still
        # accumulating at the boundary between the two runs.
        "saturating": lambda: _pair("saturating",
                                    small_network(w=200_000.0, g=-1.5, rate_hz=20_000.0)
                                    .build(partitions=2), [(25, True), (25, True)]),
        "microcircuit-dc": lambda: _pair("microcircuit-dc",
                                         models.microcircuit(scale=0.002, input="dc")
                                         .build(partitions=2), [(60, False), (40, True)]),
        "brunel": lambda: _pair("brunel", models.brunel(scale=0.01, epsilon=0.01)
                                .build(partitions=2), [(30, False), (50, True)]),
        "checkpoints": lambda: _checkpoints("checkpoints", small_network().build(partitions=2),
                                            30, 30),
        "refuses-models": _refuses_models,
    }
    for name in which or list(cases):
        cases[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
