"""The neuroaix command line: help, info and a small end-to-end run."""

import json
import subprocess
import sys

import numpy as np
import pytest

from neuroaix.cli import COMMANDS, main
from neuroaix.engine import spike_hash


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in ("run", "info"):
        assert name in out
    assert set(COMMANDS) >= {"run", "rtl", "emulate", "energy", "info"}


def test_python_dash_m_runs_the_cli():
    res = subprocess.run([sys.executable, "-m", "neuroaix", "info"], capture_output=True,
                         text=True, check=True)
    assert "2^-16 mV" in res.stdout and "delay[63:56]" in res.stdout


def test_run_writes_outputs_and_hash_is_partition_independent(tmp_path, capsys):
    args = ["run", "brunel", "--scale", "0.1", "--t-sim", "60", "--t-presim", "10",
            "--seed", "3", "--threads", "1"]
    assert main(args + ["--partitions", "1", "--out", str(tmp_path / "a")]) == 0
    assert main(args + ["--partitions", "7", "--out", str(tmp_path / "b"), "--no-plot"]) == 0
    a = json.loads((tmp_path / "a" / "summary.json").read_text())
    b = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert a["total"]["spike_hash"] == b["total"]["spike_hash"]
    assert (tmp_path / "a" / "raster.png").stat().st_size > 10_000
    assert not (tmp_path / "b" / "raster.png").exists()
    data = np.load(tmp_path / "a" / "spikes.npz")
    assert spike_hash(data["senders"], data["steps"]) == a["total"]["spike_hash"]
    assert list(data["population_names"]) == ["E", "I"]
    assert a["total"]["spikes"] == len(data["senders"]) > 0
    for key in ("synaptic_events", "wall_s_build", "wall_s_sim", "q_rtf",
                "synaptic_events_per_wall_s", "peak_rss_bytes", "saturations"):
        assert key in a["total"]
    pops = {p["name"]: p for p in a["populations"]}
    assert pops["E"]["n"] == 1000 and pops["E"]["rate_mean_hz"] > 0
    assert "spike_hash" in capsys.readouterr().out


def test_run_rejects_bad_values(capsys):
    assert main(["run", "brunel", "--scale", "0.1", "--t-sim", "-5", "--out", "x"]) == 2
    assert "--t-sim must be > 0" in capsys.readouterr().err
    assert main(["run", "microcircuit", "--scale", "7", "--out", "x"]) == 2
    assert "scale" in capsys.readouterr().err
