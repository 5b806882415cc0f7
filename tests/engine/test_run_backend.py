"""``neuroaix run --backend``: the reference and the CPU engine give the same run."""

import json

import pytest

from neuroaix.cli import main
from neuroaix.commands.run import run_model


def test_run_on_the_reference_equals_the_cpu_engine(tmp_path):
    common = dict(scale=0.02, t_sim=20.0, t_presim=5.0, seed=3, threads=1, partitions=2,
                  plot=False)
    ref = run_model("brunel", backend="reference", **common)
    cpu = run_model("brunel", backend="cpu", **common)
    assert ref["total"]["spikes"] > 10
    assert ref["backend"] == "reference" and cpu["backend"] == "cpu"
    for key in ("spike_hash", "spikes", "synaptic_events", "poisson_events", "saturations"):
        assert ref["total"][key] == cpu["total"][key]


def test_the_flag_reaches_the_simulator(tmp_path):
    assert main(["run", "brunel", "--scale", "0.02", "--t-sim", "2", "--t-presim", "0",
                 "--threads", "1", "--backend", "reference", "--no-plot",
                 "--out", str(tmp_path / "out")]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["backend"] == "reference"
    with pytest.raises(SystemExit):
        main(["run", "brunel", "--backend", "gpu"])
