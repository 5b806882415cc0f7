"""The GPU backend equals the CPU engine bit for bit, under numba-cuda's simulator.

The kernels run in a subprocess with ``NUMBA_ENABLE_CUDASIM=1`` (tests/engine/cuda_cases.py):
the simulator must be chosen before numba is imported. numba-cuda is part of the test
extras, so a missing numba-cuda fails here instead of skipping. Runs on a real GPU are
benchmarks (benchmarks/bench_gpu.py, docs/gpu.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = ("small-p1", "small-p3-presim", "saturating", "microcircuit-dc", "brunel",
         "checkpoints", "refuses-models")


@pytest.fixture(scope="module")
def results():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "tests.engine.cuda_cases", *CASES],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            doc = json.loads(line)
            out[doc.pop("case")] = doc
    assert sorted(out) == sorted(CASES)
    return out


@pytest.mark.parametrize("case", [c for c in CASES if c not in ("checkpoints",
                                                                "refuses-models")])
def test_gpu_equals_cpu(results, case):
    cpu, gpu = results[case]["cpu"], results[case]["gpu"]
    assert gpu == cpu
    assert cpu[-1]["n_spikes"] > 0


def test_probes_equal(results):
    cpu, gpu = results["small-p1"]["cpu"], results["small-p1"]["gpu"]
    assert "probes" in cpu[-1] and gpu[-1]["probes"] == cpu[-1]["probes"]


def test_saturation_counted_at_the_read(results):
    # Ring channels reach their int32 bound in both runs (cells still accumulating at the
    # boundary count when they are read, in the second run): the counter equals the CPU's
    # at both points, though the GPU's atomics add in no fixed order.
    cpu = results["saturating"]["cpu"]
    assert cpu[0]["counters"]["saturations"] > 0
    assert cpu[1]["counters"]["saturations"] > cpu[0]["counters"]["saturations"]
    assert results["saturating"]["gpu"] == cpu


def test_checkpoints_interchangeable(results):
    r = results["checkpoints"]
    assert r["cpu_to_gpu"] == r["cpu"]
    assert r["gpu_to_cpu"] == r["cpu"]


def test_run_command_on_the_gpu_backend_gives_the_cpu_raster(tmp_path):
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    hashes = {}
    for backend in ("cpu", "cuda"):
        out = tmp_path / backend
        proc = subprocess.run(
            [sys.executable, "-m", "neuroaix", "run", "brunel", "--scale", "0.01", "--t-sim",
             "5", "--t-presim", "1", "--threads", "1", "--no-plot", "--backend", backend,
             "--out", str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=900)
        assert proc.returncode == 0, proc.stderr[-3000:]
        summary = json.loads((out / "summary.json").read_text())
        assert summary["backend"] == backend
        hashes[backend] = (summary["total"]["spike_hash"], summary["total"]["spikes"])
    assert hashes["cuda"] == hashes["cpu"] and hashes["cpu"][1] > 0


def test_run_command_without_a_gpu_says_so(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    proc = subprocess.run(
        [sys.executable, "-m", "neuroaix", "run", "brunel", "--scale", "0.01", "--t-sim", "1",
         "--backend", "cuda", "--out", str(tmp_path / "x")], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "--backend cuda needs a CUDA GPU" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "x").exists()


def test_models_beyond_iaf_psc_exp_are_refused(results):
    error = results["refuses-models"]["error"]
    assert error is not None and "\n" not in error
    assert error.startswith("the GPU backend runs only iaf_psc_exp populations with Poisson or "
                            "DC input, but population 'S' is spike_source_array"), error
    assert "step currents" in error and "cpu or reference backend" in error
