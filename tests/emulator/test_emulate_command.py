import json
from pathlib import Path

import pytest

from neuroaix.cli import main
from neuroaix.commands.emulate import parse_sweep

CONFIG = str(Path(__file__).parents[2] / "configs" / "neuroaix-35.toml")


def test_parse_sweep():
    assert parse_sweep("link.transceiver_ns=34,120") == ("link.transceiver_ns", [34, 120])
    assert parse_sweep("memory.prefetch=true,false") == ("memory.prefetch", [True, False])
    assert parse_sweep("memory.peak_bandwidth_gbps=6.4") == ("memory.peak_bandwidth_gbps",
                                                              [6.4])
    with pytest.raises(ValueError, match=r"^--sweep must look like KEY=V1,V2,..., not 'x'"):
        parse_sweep("x")


def test_emulate_prints_a_table_and_writes_json_and_plot(tmp_path, capsys):
    js, png = tmp_path / "r.json", tmp_path / "step.png"
    rc = main(["emulate", "brunel", "--hardware", CONFIG, "--scale", "0.05", "--t-sim", "10",
               "--t-presim", "5", "--json", str(js), "--plot", str(png)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "acceleration" in out and "activity: n_nodes 35" in out
    doc = json.loads(js.read_text())
    assert doc["steps"] == 100 and doc["activity"]["n_nodes"] == 35
    assert png.stat().st_size > 0


def test_sweep(tmp_path, capsys):
    js, png = tmp_path / "s.json", tmp_path / "s.png"
    rc = main(["emulate", "brunel", "--hardware", CONFIG, "--scale", "0.05", "--t-sim", "5",
               "--t-presim", "0", "--sweep", "link.transceiver_ns=34,600", "--json", str(js),
               "--plot", str(png)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "link.transceiver_ns=34" in out and "link.transceiver_ns=600" in out
    doc = json.loads(js.read_text())
    fast, slow = (r["acceleration"] for r in doc["results"])
    assert fast > slow
    assert png.exists()


def test_user_errors_exit_with_a_message(capsys):
    assert main(["emulate", "brunel", "--hardware", "missing.toml"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["emulate", "brunel", "--hardware", CONFIG, "--sweep", "lnk.x=1"]) == 2
    assert "did you mean 'link'" in capsys.readouterr().err
