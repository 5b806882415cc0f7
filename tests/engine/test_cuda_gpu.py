"""On a real GPU: the golden cases (tests/test_golden.py) give the CPU engine's pinned hashes.

Marked ``gpu``: CI has no GPU, so these run with the benchmarks on a GPU host
(``python -m pytest -m gpu tests/engine/test_cuda_gpu.py``, docs/gpu.md); ``make test``
deselects them, and without a GPU they fail instead of skipping.
"""

from __future__ import annotations

import pytest

from neuroaix.engine.cuda import CudaSimulator
from tests.test_golden import CASES, GOLDEN, _run

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("name", list(CASES))
def test_gpu_reproduces_golden(name):
    assert _run(name, CudaSimulator) == GOLDEN[name]
