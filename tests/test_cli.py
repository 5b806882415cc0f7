"""The neuroaix command line: help, info and a small end-to-end run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from neuroaix.cli import COMMANDS, main
from neuroaix.engine import spike_hash

ROOT = Path(__file__).resolve().parents[1]


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in ("run", "info"):
        assert name in out
    assert set(COMMANDS) == {"run", "rtl", "emulate", "energy", "info"}


def test_python_dash_m_runs_the_cli():
    res = subprocess.run([sys.executable, "-m", "neuroaix", "info"], capture_output=True,
                         text=True, check=True)
    assert "2^-16 mV" in res.stdout and "delay[63:56]" in res.stdout


def test_python_dash_m_exits_with_mains_status_after_a_handled_interrupt(tmp_path):
    # A Ctrl-C that lands in an exec() of a string (dataclasses build methods so) and is
    # handled made ``python -m neuroaix`` end by SIGINT (-2) after its message. Here main()
    # handles such an interrupt as its last act, deterministically.
    (tmp_path / "sitecustomize.py").write_text(
        "import neuroaix.cli\n"
        "command = neuroaix.cli.main\n"
        "def main(argv=None):\n"
        "    status = command(argv)\n"
        "    try:\n"
        "        exec('raise KeyboardInterrupt')\n"
        "    except KeyboardInterrupt:\n"
        "        pass\n"
        "    return status\n"
        "neuroaix.cli.main = main\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    for args, rc in ((["info"], 0), (["run", "brunel", "--t-sim", "nan"], 2)):
        res = subprocess.run([sys.executable, "-m", "neuroaix", *args], capture_output=True,
                             text=True, env=env, cwd=tmp_path)
        assert res.returncode == rc, (args, res.returncode, res.stderr)


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
    assert main(["run", "brunel", "--scale", "0.1", "--t-sim", "nan", "--out", "x"]) == 2
    assert "not nan and 100.0" in capsys.readouterr().err
    assert main(["run", "microcircuit", "--scale", "7", "--out", "x"]) == 2
    assert "scale" in capsys.readouterr().err


# Outputs: preflight, no silent overwrite, atomic writes ----------------------------------

RUN = ["run", "brunel", "--scale", "0.1", "--t-sim", "20", "--t-presim", "0", "--threads", "1",
       "--no-plot"]


def test_run_refuses_bad_outputs_before_any_work(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    cases = [
        (["--out", str(afile)], "is a file; name a folder"),
        (["--out", str(afile / "sub")], "is a file, not a folder"),
        (["--out", "/proc/neuroaix-out"], "cannot write in '/proc'"),
        (["--out", str(tmp_path / "o"), "--checkpoint", str(afile / "x.npz")],
         "is a file, not a folder"),
        (["--out", str(tmp_path / "o"), "--checkpoint", str(tmp_path)], "is a folder"),
    ]
    for extra, message in cases:
        assert main(RUN + extra) == 2
        err = capsys.readouterr().err
        assert message in err and "build" not in err, (extra, err)
    assert afile.read_text() == "keep me"
    assert not (tmp_path / "o").exists()


def test_run_refuses_to_overwrite_without_force(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(RUN + ["--out", str(out)]) == 0
    first = (out / "summary.json").read_bytes()
    assert main(RUN + ["--out", str(out), "--seed", "4"]) == 2
    assert "holds a previous result (spikes.npz, summary.json)" in capsys.readouterr().err
    assert (out / "summary.json").read_bytes() == first
    assert main(RUN + ["--out", str(out), "--seed", "4", "--force"]) == 0
    assert json.loads((out / "summary.json").read_text())["seed"] == 4
    assert sorted(p.name for p in out.iterdir()) == ["spikes.npz", "summary.json"]


def test_help_shows_the_default_output_folder(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: results)" in out and "--force" in out


# Signals: SIGINT and SIGTERM at each phase end cleanly -----------------------------------


def _cli(args, cwd):
    script = Path(sys.executable).with_name("neuroaix")  # the installed command
    # as started from a terminal: a suite run as a background job would pass on SIGINT
    # ignored, which the command rightly keeps ignored
    return subprocess.Popen([str(script), *args], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _signal_at(proc, marker, signum, delay=0.0):
    """Send ``signum`` once stderr announces ``marker``; return (rc, stderr after it)."""
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if marker in line:
            break
    else:
        raise AssertionError(f"no {marker!r} in {''.join(seen)!r}")
    time.sleep(delay)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, err


@pytest.mark.parametrize("signum, rc", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_during_build_says_so_and_writes_nothing(tmp_path, signum, rc):
    proc = _cli(["run", "microcircuit", "--scale", "0.2", "--t-sim", "10", "--out", "r"],
                tmp_path)
    code, err = _signal_at(proc, "build", signum)
    name = "SIGTERM" if signum == signal.SIGTERM else "SIGINT"
    assert code == rc, err
    assert err.strip().splitlines()[-1] == (
        f"neuroaix run: interrupted by {name}{' (Ctrl-C)' if rc == 130 else ''} during the "
        "build; nothing written")
    assert "Traceback" not in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("signum, rc", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_during_presimulation_keeps_a_restorable_checkpoint(tmp_path, signum, rc):
    proc = _cli(RUN[:4] + ["--t-sim", "10", "--t-presim", "100000", "--out", "r",
                           "--checkpoint", "ck.npz"], tmp_path)
    code, err = _signal_at(proc, "presimulation", signum, delay=1.0)
    last = err.strip().splitlines()[-1]
    assert code == rc and "Traceback" not in err, err
    assert "during the presimulation; presimulated " in last
    assert last.endswith("of 100000 ms, nothing recorded, state saved to ck.npz")
    assert not (tmp_path / "r").exists()
    assert main(RUN + ["--t-sim", "10", "--restore", str(tmp_path / "ck.npz"),
                       "--out", str(tmp_path / "after")]) == 0


@pytest.mark.parametrize("signum, rc", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_during_recording_keeps_what_was_recorded(tmp_path, signum, rc):
    proc = _cli(RUN[:4] + ["--t-sim", "100000", "--t-presim", "0", "--threads", "1",
                           "--no-plot", "--out", "r", "--checkpoint", "ck.npz"], tmp_path)
    code, err = _signal_at(proc, "recording", signum, delay=1.0)
    last = err.strip().splitlines()[-1]
    assert code == rc and "Traceback" not in err, err
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["interrupted"] is True and 0 < summary["t_sim_ms"] < 100000
    assert last == (f"neuroaix run: interrupted by {'SIGTERM' if rc == 143 else 'SIGINT (Ctrl-C)'}"
                    f" during the recording; recorded {summary['t_sim_ms']:g} of 100000 ms; "
                    "wrote r/spikes.npz, "
                    "r/summary.json, ck.npz")
    data = np.load(tmp_path / "r" / "spikes.npz")
    assert spike_hash(data["senders"], data["steps"]) == summary["total"]["spike_hash"]
    assert (tmp_path / "ck.npz").stat().st_size > 0


@pytest.mark.parametrize("args", [
    ["emulate", "brunel", "--hardware", "configs/neuroaix-35.toml", "--json", "{f}/x.json"],
    ["emulate", "brunel", "--hardware", "configs/neuroaix-35.toml", "--plot", "{f}/x.png"],
    ["energy", "--hardware", "configs/neuroaix-35.toml", "--model", "brunel", "--json",
     "{f}/x.json"],
    ["energy", "compare", "--plot", "{f}/x.png"],
    ["energy", "project", "--species", "mouse", "--hardware", "configs/neuroaix-35.toml",
     "--json", "{f}/x.json"],
    ["rtl", "cycles", "--out", "{f}/x.json"],
    ["rtl", "synth", "--json", "{f}/x.json"],
    ["rtl", "generate", "--out", "{f}"],
])
def test_every_command_checks_its_outputs_first(tmp_path, capsys, args):
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    args = [a.replace("{f}", str(afile)) for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "error: --" in err and ("is a file" in err), err
    assert afile.read_text() == "keep me"


def test_emulate_refuses_to_overwrite_without_force(tmp_path, capsys):
    old = tmp_path / "e.json"
    old.write_text("{}")
    assert main(["emulate", "brunel", "--hardware", "configs/neuroaix-35.toml",
                 "--json", str(old)]) == 2
    assert "exists (a previous result); pass --force" in capsys.readouterr().err
    assert old.read_text() == "{}"


@pytest.mark.parametrize("signum, rc", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_during_emulate_and_energy_says_where(tmp_path, signum, rc):
    common = ["--hardware", str(ROOT / "configs" / "neuroaix-35.toml"), "--scale", "0.05",
              "--t-sim", "100000", "--t-presim", "0", "--json", "e.json"]
    for args, marker in ((["emulate", "brunel"] + common, "simulation"),
                         (["energy", "--model", "brunel"] + common, "emulation")):
        proc = _cli(args, tmp_path)
        code, err = _signal_at(proc, marker, signum, delay=0.5)
        assert code == rc and "Traceback" not in err, err
        assert err.strip().splitlines()[-1].endswith(f" during the {marker}; nothing written")
        assert not (tmp_path / "e.json").exists()


# Records: every JSON output says what made it ------------------------------------------

PROVENANCE = ("neuroaix_version", "model", "scale", "seed", "input", "hardware_config",
              "restored")


def test_json_outputs_carry_version_model_scale_seed_input_hardware_restored(tmp_path):
    from neuroaix import __version__

    r = tmp_path / "r"
    assert main(RUN + ["--out", str(r), "--checkpoint", str(tmp_path / "ck.npz")]) == 0
    assert main(RUN + ["--out", str(tmp_path / "r2"), "--restore", str(tmp_path / "ck.npz")]) == 0
    e = tmp_path / "e.json"
    assert main(["emulate", "brunel", "--hardware", str(ROOT / "configs" / "neuroaix-35.toml"),
                 "--scale", "0.05", "--t-sim", "5", "--t-presim", "0", "--json", str(e)]) == 0
    assert main(["energy", "--from-emulation", str(e), "--hardware",
                 str(ROOT / "configs" / "neuroaix-35.toml"), "--json",
                 str(tmp_path / "n.json")]) == 0
    docs = {name: json.loads(p.read_text()) for name, p in (
        ("run", r / "summary.json"), ("restored", tmp_path / "r2" / "summary.json"),
        ("emulate", e), ("energy", tmp_path / "n.json"))}
    for name, doc in docs.items():
        assert all(k in doc for k in PROVENANCE), (name, sorted(doc))
        assert doc["neuroaix_version"] == __version__ and doc["model"] == "brunel"
    assert docs["run"]["scale"] == 0.1 and docs["run"]["restored"] is False
    assert docs["restored"]["restored"] is True
    assert docs["restored"]["restored_from"] == str(tmp_path / "ck.npz")
    for name in ("emulate", "energy"):
        assert docs[name]["scale"] == 0.05 and docs[name]["hardware_config"] == "neuroaix-35"
        assert docs[name]["seed"] == 12345


# Resource guards ------------------------------------------------------------------------


def test_partitions_beyond_neurons_warn_with_the_cost(capsys, tmp_path):
    assert main(["run", "brunel", "--scale", "0.02", "--partitions", "300", "--threads", "1",
                 "--t-sim", "5", "--t-presim", "0", "--no-plot", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert ("neuroaix run: warning: --partitions 300 exceeds the 250 neurons: 50 partitions own "
            "no neuron; the row indexes alone take 0.00 GiB (300 x 251 x 16 bytes)") in err
    assert main(["run", "brunel", "--scale", "0.02", "--partitions", "65", "--threads", "1",
                 "--t-sim", "5", "--t-presim", "0", "--no-plot", "--out", str(tmp_path / "b")]
                ) == 0
    assert "--partitions 65 is 65 per thread (1 thread)" in capsys.readouterr().err


def test_emulate_refuses_a_time_that_is_not_a_whole_number_of_steps(capsys):
    args = ["emulate", "brunel", "--hardware", str(ROOT / "configs" / "neuroaix-35.toml"),
            "--scale", "0.02"]
    assert main(args + ["--t-sim", "10.05"]) == 2
    assert ("--t-sim must be a whole number of steps of dt = 0.1 ms, not 10.05; use 10"
            in capsys.readouterr().err)
    assert main(args + ["--t-presim", "nan"]) == 2
    assert "--t-presim must be a finite time in ms, not nan" in capsys.readouterr().err


def test_durations_read_as_people_write_them():
    from neuroaix.outputs import format_duration

    assert [format_duration(x) for x in (0.5, 12, 200, 7300, 1e6, 1e9, float("nan"))] == [
        "0.5 s", "12 s", "3 min 20 s", "2 h 02 min", "11.6 days", "over a year", "unknown"]


def test_the_compare_plot_title_names_what_our_rows_are():
    from neuroaix.commands.energy import compare_title
    from neuroaix.outputs import provenance

    ours = [{"source": provenance(model="microcircuit", scale=0.02, hardware="neuroaix-35")},
            {"source": provenance(model="brunel", scale=0.1)}, {"source": provenance()}]
    assert compare_title(ours) == ("published: full-scale cortical microcircuit; ours: brunel "
                                   "scale 0.1, microcircuit scale 0.02 on neuroaix-35")
    assert compare_title([]) == "published: full-scale cortical microcircuit"


# Saved networks, recordings and formats -------------------------------------------------


def test_record_v_ids_are_parsed_and_checked(capsys, tmp_path):
    from neuroaix.commands._options import parse_ids

    assert parse_ids("5,0,10-12,11") == [0, 5, 10, 11, 12]
    args = ["run", "brunel", "--scale", "0.02", "--t-sim", "1", "--t-presim", "0",
            "--no-plot", "--out", str(tmp_path / "r")]
    for bad in ("3-1", "x", "-2"):
        with pytest.raises(SystemExit):
            main(args + ["--record-v", bad])
    assert "is not" in capsys.readouterr().err
    assert main(args + ["--record-v", "0,250"]) == 2
    assert ("--record-v id 250 is not a neuron of this network; ids lie in [0, 250)"
            in capsys.readouterr().err)
    assert main(["run", "--t-sim", "1"]) == 2
    assert "give a model (microcircuit, brunel) or --network FILE" in capsys.readouterr().err


def test_a_saved_network_runs_and_emulates_like_the_built_in_model(tmp_path, capsys):
    import neo
    import pynwb
    from neo.io import NixIO

    from neuroaix import models

    hw = str(ROOT / "configs" / "neuroaix-35.toml")
    net = tmp_path / "net.npz"
    meta = models.brunel(scale=0.02).save(net)
    run = ["--t-sim", "10", "--t-presim", "2", "--no-plot", "--threads", "1"]
    assert main(["run", "brunel", "--scale", "0.02", "--out", str(tmp_path / "m")] + run) == 0
    assert main(["run", "--network", str(net), "--out", str(tmp_path / "n"), "--format", "nwb",
                 "--record-v", "1,7-8"] + run) == 0
    assert main(["run", "--network", str(net), "--out", str(tmp_path / "x"), "--format",
                 "neo"] + run) == 0
    assert main(["run", "--network", str(net), "--scale", "2", "--out", str(tmp_path / "y")]
                + run) == 2
    assert "--scale applies to a built-in model, not to --network" in capsys.readouterr().err
    m, n = (json.loads((tmp_path / d / "summary.json").read_text()) for d in "mn")
    assert n["total"]["spike_hash"] == m["total"]["spike_hash"] and n["total"]["spikes"] > 0
    assert n["network_file"] == str(net) and n["network_fingerprint"] == meta["fingerprint"]
    assert m["network_file"] is None and n["record_v"] == [1, 7, 8]
    with np.load(tmp_path / "n" / "spikes.npz") as d:
        assert np.array_equal(d["times_ms"], (d["steps"] + 1) * 0.1)
        assert d["v_mv"].shape == (3, 100) and d["probe_ids"].tolist() == [1, 7, 8]
        assert (int(d["t0_step"]), int(d["t1_step"])) == (20, 120)
        n_spikes = d["senders"].size
    with pynwb.NWBHDF5IO(str(tmp_path / "n" / "recordings.nwb"), "r") as io:
        f = io.read()
        assert len(f.units) == 250 and sum(len(x) for x in f.units["spike_times"][:]) == n_spikes
        assert f.acquisition["v_E"].data.shape == (100, 3)
    with NixIO(str(tmp_path / "x" / "recordings.nix"), "ro") as io:
        block = io.read_block()
    assert isinstance(block, neo.Block) and len(block.segments[0].spiketrains) == 250
    emu = ["--hardware", hw, "--t-sim", "10", "--t-presim", "2", "--json"]
    assert main(["emulate", "brunel", "--scale", "0.02"] + emu + [str(tmp_path / "a.json")]) == 0
    assert main(["emulate", "--network", str(net), "--spikes", str(tmp_path / "n"),
                 "--hardware", hw, "--json", str(tmp_path / "b.json")]) == 0
    capsys.readouterr()
    assert main(["emulate", "--network", str(net), "--spikes", str(tmp_path / "n")] + emu
                + [str(tmp_path / "c.json")]) == 2  # the run's window, not --t-sim's
    assert "--t-sim does not apply with --spikes" in capsys.readouterr().err
    assert not (tmp_path / "c.json").exists()
    a, b = (json.loads((tmp_path / f"{x}.json").read_text()) for x in "ab")
    assert b["activity"] == a["activity"] and b["q_rtf"] == a["q_rtf"]
    assert b["network_fingerprint"] == meta["fingerprint"] and b["model"] == "network"
    other = tmp_path / "other.npz"
    models.brunel(scale=0.02, seed=1).save(other)
    assert main(["emulate", "--network", str(other), "--spikes", str(tmp_path / "n"),
                 "--hardware", hw]) == 2
    assert "is a run of another network (fingerprint" in capsys.readouterr().err
    assert main(["energy", "--from-emulation", str(tmp_path / "b.json"), "--hardware", hw,
                 "--json", str(tmp_path / "e.json")]) == 0
    e = json.loads((tmp_path / "e.json").read_text())
    assert e["network_fingerprint"] == meta["fingerprint"]


def test_a_network_described_in_pynn_is_saved_and_run_from_the_command_line(tmp_path):
    import pyNN.neuroaix as sim

    from neuroaix.pynn import simulator

    sim.setup(timestep=0.1, rng_seed=3)
    src = sim.Population(20, sim.SpikeSourcePoisson(rate=80.0))
    cells = sim.Population(10, sim.IF_curr_exp(i_offset=0.5))
    sim.Projection(src, cells, sim.FromListConnector([(0, 1, 0.5, 1.0), (3, 2, 0.7, 2.0)]),
                   sim.StaticSynapse())
    sim.Projection(src, cells, sim.FixedProbabilityConnector(0.3),
                   sim.StaticSynapse(weight=0.4, delay=1.0))
    cells.record("spikes")
    simulator.state.network().save(tmp_path / "net.npz")
    sim.run(30.0)
    trains = cells.get_data().segments[0].spiketrains
    sim.end()
    assert main(["run", "--network", str(tmp_path / "net.npz"), "--t-sim", "30", "--t-presim",
                 "0", "--no-plot", "--threads", "1", "--out", str(tmp_path / "r")]) == 0
    with np.load(tmp_path / "r" / "spikes.npz") as d:
        mine = [d["times_ms"][d["senders"] == 20 + k].tolist() for k in range(10)]
    assert mine == [st.magnitude.tolist() for st in trains] and sum(map(len, mine)) > 5
