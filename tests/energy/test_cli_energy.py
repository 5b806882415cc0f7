"""Tests of ``neuroaix energy``: the command line, its JSON output and the compare plot."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from neuroaix.activity import ACTIVITY_KEYS
from neuroaix.cli import main
from neuroaix.energy.model import REPORT_FIELDS

ROOT = Path(__file__).resolve().parents[2]
ENERGY = ROOT / "configs" / "neuroaix-35-energy.toml"

ACTIVITY = {"n_nodes": 35, "steps": 10_000, "bio_time_s": 1.0, "hw_time_s": 0.05,
            "neuron_updates": 771_690_000, "spikes": 250_000, "packets": 1_000_000,
            "hops": 8_500_000, "bytes_fetched": 8_016_430_000, "synaptic_events": 967_000_000}


@pytest.fixture
def hardware(tmp_path):
    shutil.copy(ENERGY, tmp_path / "energy.toml")
    path = tmp_path / "hw.toml"
    path.write_text('name = "test"\nenergy = "energy.toml"\n')
    return path


@pytest.fixture
def emulation(tmp_path):
    path = tmp_path / "emulate.json"
    path.write_text(json.dumps({"q_rtf": 0.05, "acceleration": 20.0, "activity": ACTIVITY}))
    return path


@pytest.fixture
def run_dir(tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    (d / "summary.json").write_text(json.dumps({"total": {
        "spikes": 1000, "synaptic_events": 10**8, "wall_s_build": 3.0, "wall_s_sim": 50.0,
        "t_sim_ms": 1000.0, "q_rtf": 50.0, "synaptic_events_per_wall_s": 2e6,
        "peak_rss_bytes": 1 << 30, "threads": 2}}))
    return d


@pytest.mark.parametrize("argv", [["energy", "--help"], ["energy", "compare", "--help"],
                                  ["energy", "project", "--help"]])
def test_help(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    assert "usage: neuroaix energy" in capsys.readouterr().out


def test_emulated_json_fields(hardware, emulation, tmp_path, capsys):
    out = tmp_path / "e.json"
    assert main(["energy", "--hardware", str(hardware), "--from-emulation", str(emulation),
                 "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    assert set(REPORT_FIELDS) <= set(d)
    assert {"activity", "energy_config", "emulator_q_rtf", "power", "reference_q_rtf",
            "e_syn_nj_at_reference_q_rtf"} <= set(d)
    assert d["reference_q_rtf"] == 0.0491159
    assert d["kind"] == "emulated"
    assert d["activity"] == ACTIVITY
    assert d["q_rtf"] == 0.05 and d["acceleration"] == 20.0
    assert d["e_syn_nj"] == pytest.approx(47.5, rel=0.02)
    assert "emulated" in capsys.readouterr().out


def test_reference_q_rtf_separates_timing_from_energy(hardware, tmp_path):
    # Same activity, twice the hardware time: E_syn grows by the static term only, while the
    # energy-model-alone figure (at the reference q_RTF) is unchanged.
    runs = []
    for hw_time in (0.05, 0.1):
        path = tmp_path / f"em{hw_time}.json"
        path.write_text(json.dumps({"activity": dict(ACTIVITY, hw_time_s=hw_time)}))
        out = tmp_path / f"out{hw_time}.json"
        assert main(["energy", "--hardware", str(hardware), "--from-emulation", str(path),
                     "--json", str(out)]) == 0
        runs.append(json.loads(out.read_text()))
    static_nj = 0.05 * 35 * 21.3982 / 967_000_000 * 1e9
    assert runs[1]["e_syn_nj"] - runs[0]["e_syn_nj"] == pytest.approx(static_nj, rel=1e-9)
    assert runs[1]["e_syn_nj_at_reference_q_rtf"] == runs[0]["e_syn_nj_at_reference_q_rtf"]


def test_energy_flag_overrides_hardware(emulation, tmp_path):
    hw = tmp_path / "plain.toml"
    hw.write_text('name = "no energy key"\n')
    assert main(["energy", "--hardware", str(hw), "--from-emulation", str(emulation)]) == 2
    out = tmp_path / "e.json"
    assert main(["energy", "--hardware", str(hw), "--energy", str(ENERGY),
                 "--from-emulation", str(emulation), "--json", str(out)]) == 0
    assert json.loads(out.read_text())["energy_config"] == str(ENERGY)


def test_from_run_tdp_estimate(run_dir, tmp_path):
    out = tmp_path / "r.json"
    assert main(["energy", "--from-run", str(run_dir), "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    assert d["kind"] == "estimate"
    assert d["mean_power_w"] == 20.0               # 2 threads x 10 W
    assert d["energy_j"] == 1000.0                 # 20 W x 50 s
    assert d["e_syn_nj"] == pytest.approx(1e4)     # 1000 J / 1e8 events
    assert d["q_rtf"] == 50.0
    assert d["power"]["method"] == "tdp"


def test_from_run_stated_power(run_dir, tmp_path):
    out = tmp_path / "r.json"
    assert main(["energy", "--from-run", str(run_dir), "--power-w", "65", "--json",
                 str(out)]) == 0
    d = json.loads(out.read_text())
    assert (d["kind"], d["mean_power_w"], d["power"]["method"]) == ("estimate", 65.0, "stated")


def _energy_of_recorded_run(run_dir, tmp_path, changes):
    """Return ``energy --from-run --json`` of the run with ``changes`` in its summary."""
    summary = json.loads((run_dir / "summary.json").read_text())
    summary.update(changes)
    (run_dir / "summary.json").write_text(json.dumps(summary))
    out = tmp_path / "r.json"
    assert main(["energy", "--from-run", str(run_dir), "--json", str(out)]) == 0
    return json.loads(out.read_text())


def test_from_run_with_recorded_measurement(run_dir, tmp_path):
    d = _energy_of_recorded_run(run_dir, tmp_path, {
        "energy": {"kind": "measured", "energy_j": 2500.0, "power_w": 50.0, "method": "rapl",
                   "detail": "RAPL intel-rapl:0"}})
    assert (d["kind"], d["energy_j"], d["e_syn_nj"]) == ("measured", 2500.0, 25000.0)


def test_from_run_of_the_gpu_backend_is_labelled_by_the_gpu(run_dir, tmp_path):
    d = _energy_of_recorded_run(run_dir, tmp_path, {
        "backend": "cuda",
        "energy": {"kind": "measured", "energy_j": 4200.0, "power_w": 84.0, "method": "nvml",
                   "detail": "NVML total energy of 1 GPU(s)"}})
    assert d["label"] == "neuroaix engine, one GPU (cuda backend, measured)"
    assert (d["kind"], d["energy_j"], d["e_syn_nj"]) == ("measured", 4200.0, 42000.0)
    assert d["power"]["method"] == "nvml"


def test_from_run_missing_keys(tmp_path, capsys):
    d = tmp_path / "bad"
    d.mkdir()
    (d / "summary.json").write_text(json.dumps({"total": {"spikes": 1}}))
    assert main(["energy", "--from-run", str(d)]) == 2
    assert "'total' lacks synaptic_events, wall_s_sim, t_sim_ms, threads" in \
        capsys.readouterr().err


def test_sweep_result_is_rejected(hardware, tmp_path, capsys):
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps({"sweep": "link.transceiver_ns", "results": [{}, {}]}))
    assert main(["energy", "--hardware", str(hardware), "--from-emulation", str(path)]) == 2
    assert "a sweep of several emulations" in capsys.readouterr().err


def test_nothing_to_do_is_an_error(capsys):
    assert main(["energy"]) == 2
    assert "nothing to evaluate" in capsys.readouterr().err


def test_compare_writes_plot_and_json(hardware, emulation, run_dir, tmp_path, capsys):
    plot, out = tmp_path / "cmp.png", tmp_path / "cmp.json"
    assert main(["energy", "compare", "--hardware", str(hardware), "--from-emulation",
                 str(emulation), "--from-run", str(run_dir), "--plot", str(plot),
                 "--json", str(out)]) == 0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plot.stat().st_size > 20_000
    d = json.loads(out.read_text())
    assert len(d["published"]) == 8
    assert [r["kind"] for r in d["ours"]] == ["emulated", "estimate"]
    text = capsys.readouterr().out
    assert "Kauth, Stadtmann, Sobhani & Gemmeke 2023" in text
    assert "Knight & Nowotny 2018" in text


def test_compare_published_only(tmp_path):
    plot = tmp_path / "p.svg"
    assert main(["energy", "compare", "--plot", str(plot)]) == 0
    svg = plot.read_text()
    assert "SpiNNaker 1 (2019)" in svg  # matplotlib keeps each text as an SVG comment


def test_project_json(hardware, tmp_path, capsys):
    out = tmp_path / "p.json"
    assert main(["energy", "project", "--species", "mouse", "--hardware", str(hardware),
                 "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    assert [p["synapses"] for p in d["projections"]] == [1e11, 1e12]
    assert all(p["nodes"] >= p["nodes_memory"] for p in d["projections"])
    assert "Herculano-Houzel et al. 2006" in capsys.readouterr().out


def test_project_calibrated_by_an_emulation(hardware, emulation, tmp_path, capsys):
    out = tmp_path / "p.json"
    assert main(["energy", "project", "--species", "human", "--hardware", str(hardware),
                 "--from-emulation", str(emulation), "--json", str(out)]) == 0
    factors = {p["calibration"] for p in json.loads(out.read_text())["projections"]}
    assert len(factors) == 1 and 0 < factors.pop() < 1  # 20x is below the model's 23x bound
    assert "bounds calibrated by the emulation" in capsys.readouterr().out


def test_project_rejects_unknown_species(hardware, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["energy", "project", "--species", "rat", "--hardware", str(hardware)])
    assert exc.value.code == 2


# Integration with the other commands (small networks) ----------------------------------------


def test_emulated_brunel_end_to_end(tmp_path):
    out = tmp_path / "b.json"
    hw = ROOT / "configs" / "neuroaix-35.toml"
    assert main(["energy", "--hardware", str(hw), "--model", "brunel", "--scale", "0.02",
                 "--t-sim", "10", "--t-presim", "5", "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    assert tuple(d["activity"]) == ACTIVITY_KEYS
    assert d["activity"]["steps"] == 100
    assert d["q_rtf"] == pytest.approx(d["emulator_q_rtf"], rel=1e-12)
    assert d["energy_config"] == str(hw.parent / "neuroaix-35-energy.toml")
    assert d["energy_j"] > d["static_j"] > 0


def test_measured_run_end_to_end(tmp_path):
    run_dir, out = tmp_path / "run", tmp_path / "r.json"
    assert main(["run", "brunel", "--scale", "0.02", "--t-sim", "20", "--t-presim", "5",
                 "--threads", "1", "--out", str(run_dir)]) == 0
    assert main(["energy", "--from-run", str(run_dir), "--power-w", "30", "--json",
                 str(out)]) == 0
    d = json.loads(out.read_text())
    total = json.loads((run_dir / "summary.json").read_text())["total"]
    assert d["synaptic_events"] == total["synaptic_events"]
    assert d["energy_j"] == pytest.approx(30.0 * total["wall_s_sim"], rel=1e-12)
    assert d["label"] == "neuroaix engine, 1 thread (estimate)"


def test_a_saved_network_is_energy_estimated_as_emulate_and_the_model_give(tmp_path, capsys):
    from neuroaix import models
    from neuroaix.energy import estimate_energy, load_energy_config

    hw = str(ROOT / "configs" / "neuroaix-35.toml")
    net, other = tmp_path / "net.npz", tmp_path / "other.npz"
    meta = models.brunel(scale=0.02).save(net)
    models.brunel(scale=0.02, seed=1).save(other)
    run = tmp_path / "run"
    assert main(["run", "--network", str(net), "--t-sim", "10", "--t-presim", "2", "--no-plot",
                 "--threads", "1", "--out", str(run)]) == 0
    saved = ["--network", str(net), "--hardware", hw]
    assert main(["emulate", "--spikes", str(run), "--json", str(tmp_path / "e.json")]
                + saved) == 0
    assert main(["energy", "--spikes", str(run), "--json", str(tmp_path / "n.json")]
                + saved) == 0
    assert main(["energy", "--t-sim", "10", "--t-presim", "2", "--json",
                 str(tmp_path / "s.json")] + saved) == 0
    e, n, s = (json.loads((tmp_path / f"{x}.json").read_text()) for x in "ens")
    model = estimate_energy(e["activity"], load_energy_config(ENERGY)).to_dict()
    for doc in (n, s):  # from the run's raster, and simulated by the command itself
        assert doc["activity"] == e["activity"] and doc["emulator_q_rtf"] == e["q_rtf"]
        assert {k: doc[k] for k in REPORT_FIELDS if k != "label"} == {
            k: model[k] for k in REPORT_FIELDS if k != "label"}
        assert doc["network_file"] == str(net) and doc["model"] == "network"
        assert doc["network_fingerprint"] == meta["fingerprint"] == e["network_fingerprint"]
        assert doc["label"].endswith("(emulated), net.npz")
    assert e["activity"]["synaptic_events"] > 0 and n["e_syn_nj"] > 0
    assert n["spikes_from"] == str(run) and "spikes_from" not in s
    capsys.readouterr()
    for argv, message in [
        (["--spikes", str(tmp_path)], "holds no spikes.npz"),
        (["--spikes", str(run), "--json", str(tmp_path / "n.json")], "exists"),
        (["--scale", "0.5"], "--scale applies to a built-in model, not to --network"),
        (["--from-emulation", str(tmp_path / "e.json")], "not both"),
        (["--spikes", str(run), "--t-presim", "2"], "--t-presim does not apply with --spikes"),
    ]:
        assert main(["energy"] + saved + argv) == 2
        assert message in capsys.readouterr().err
    assert main(["energy", "--network", str(other), "--spikes", str(run), "--hardware", hw]) == 2
    assert "is a run of another network (fingerprint" in capsys.readouterr().err
    assert main(["energy", "--network", str(tmp_path / "none.npz"), "--hardware", hw]) == 2
    assert "is not a file" in capsys.readouterr().err
    assert main(["energy", "--spikes", str(run), "--hardware", hw]) == 2
    assert "--spikes applies to a saved network" in capsys.readouterr().err
    assert main(["energy", "--network", str(net)]) == 2
    assert "--network needs --hardware" in capsys.readouterr().err
