"""On a real GPU: the golden cases (tests/test_golden.py) give the CPU engine's pinned hashes.

Marked ``gpu``: CI has no GPU, so these run with the benchmarks on a GPU host
(``python -m pytest -m gpu tests/engine/test_cuda_gpu.py``, docs/gpu.md); ``make test``
deselects them, and without a GPU they fail instead of skipping.
"""

from __future__ import annotations

import pytest

from neuroaix import models
from neuroaix.engine.cuda import CudaSimulator
from tests.test_golden import CASES, GOLDEN, _digest

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("name", list(CASES))
def test_gpu_reproduces_golden(name):
    model, kwargs, partitions, threads, presim, t_sim = CASES[name]
    built = getattr(models, model)(**kwargs).build(partitions=partitions, threads=threads)
    sim = CudaSimulator(built, progress=False)
    if presim:
        sim.simulate(presim, record=False)
    sim.simulate(t_sim)
    state = sim.state()
    got = {
        "spike_hash": sim.spike_hash(),
        "counters": sim.counters,
        "n_synapses": int(built.n_synapses),
        "ring_hash": _digest(sim.ring_buffer(p) for p in range(built.n_partitions)),
        "state_hash": _digest(state[k] for k in ("v", "i_ex", "i_in", "ref")),
    }
    assert got == GOLDEN[name]
