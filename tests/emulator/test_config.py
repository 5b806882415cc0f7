import dataclasses
import tomllib
from pathlib import Path

import pytest
from neuroaix.emulator.config import (
    PAPER_EFFICIENCY,
    HardwareConfig,
    MemoryConfig,
    TopologyConfig,
    load_hardware,
)

from neuroaix import formats

CONFIG = Path(__file__).parents[2] / "configs" / "neuroaix-35.toml"


def test_shipped_config_matches_the_paper_defaults():
    hw = load_hardware(CONFIG)
    assert hw.n_nodes == 35
    assert hw.topology.shape == (5, 7) and hw.topology.turn == "extra-hop"
    assert hw.memory.efficiency == PAPER_EFFICIENCY
    assert hw.node.neuron_cores == 10 and hw.node.neuron_pipeline_depth == 30
    assert hw.link.transceiver_ns == 600.0 and hw.link.extra_hop_ns == 309.0
    assert hw.energy == "neuroaix-35-energy.toml"
    assert hw.energy_path == CONFIG.parent / "neuroaix-35-energy.toml"
    assert hw.source == str(CONFIG)


def test_every_value_in_the_shipped_config_is_commented():
    for line in CONFIG.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#") and "[" not in line.split("=")[0]:
            assert "#" in line, line


def test_round_trip_through_to_dict():
    hw = load_hardware(CONFIG)
    d = hw.to_dict()
    again = HardwareConfig.from_dict(d)
    assert dataclasses.replace(again, source=hw.source) == hw


def test_word_sizes_are_the_format_facts():
    hw = HardwareConfig()
    assert (hw.memory.fetch_bytes, hw.memory.synapse_bytes) == (formats.MEMORY_WORD_BYTES,
                                                                formats.SYNAPSE_BYTES)
    assert list(hw.to_dict()["memory"])[4:7] == ["latency_ns", "fetch_bytes", "synapse_bytes"]
    assert HardwareConfig.from_dict({"memory": {"fetch_bytes": 64}}) == hw
    assert hw.with_value("memory.synapse_bytes", 8) == hw
    with pytest.raises(ValueError, match=r"^memory.fetch_bytes is fixed by the synapse word "
                                         r"format \(neuroaix.formats.MEMORY_WORD_BYTES = 64\), "
                                         r"not 128; remove the key$"):
        HardwareConfig.from_dict({"memory": {"fetch_bytes": 128}})
    with pytest.raises(ValueError, match=r"^memory.synapse_bytes is fixed"):
        hw.with_value("memory.synapse_bytes", 4)


def test_unknown_keys_are_named_with_a_hint(tmp_path):
    p = tmp_path / "hw.toml"
    p.write_text("[link]\ntransciever_ns = 34\n")
    with pytest.raises(ValueError, match=r"unknown key 'transciever_ns' in \[link\]; did you "
                                         r"mean 'transceiver_ns'\?"):
        load_hardware(p)
    with pytest.raises(ValueError, match=r"^unknown key 'lnk' at the top level; did you mean "
                                         r"'link'\?"):
        HardwareConfig.from_dict({"lnk": {}})


def test_values_are_validated_with_key_value_and_fix():
    with pytest.raises(ValueError, match=r"^memory.peak_bandwidth_gbps must be > 0, not 0; "
                                         r"give a positive number$"):
        MemoryConfig(peak_bandwidth_gbps=0)
    with pytest.raises(TypeError, match=r"^node.neuron_cores must be an integer, not 2.5$"):
        HardwareConfig.from_dict({"node": {"neuron_cores": 2.5}})
    with pytest.raises(ValueError, match=r"^topology.kind must be one of 'torus', 'mesh', not "
                                         r"'tors'; did you mean 'torus'\?$"):
        TopologyConfig(kind="tors")
    with pytest.raises(ValueError, match=r"^topology.turn must be one of 'extra-hop', "
                                         r"'full-hop', not 'full'; did you mean 'full-hop'\?$"):
        TopologyConfig(turn="full")
    with pytest.raises(ValueError, match=r"^topology.shape must list 1 to 3 grid extents"):
        TopologyConfig(shape=(1, 2, 3, 4))
    with pytest.raises(ValueError, match=r"^memory.efficiency sizes must increase strictly"):
        MemoryConfig(efficiency=((64, 1.0), (64, 2.0)))
    with pytest.raises(ValueError, match=r"^link.extra_hop_ns must be at least the packet "):
        HardwareConfig.from_dict({"link": {"extra_hop_ns": 1.0}})
    with pytest.raises(ValueError, match=r"^topology.long_hops pair \[0, 99\] must name two"):
        TopologyConfig(long_hops=((0, 99),))


def test_with_value_changes_one_key():
    hw = HardwareConfig()
    fast = hw.with_value("link.transceiver_ns", 34.0)
    assert fast.link.transceiver_ns == 34.0
    assert fast.link.cable_ns == hw.link.cable_ns and hw.link.transceiver_ns == 600.0
    assert hw.with_value("time_step_ms", 0.2).time_step_ms == 0.2
    with pytest.raises(ValueError, match=r"did you mean 'transceiver_ns'\?"):
        hw.with_value("link.transceiver", 1.0)
    with pytest.raises(ValueError, match=r"^unknown section in key 'lnk.cable_ns'; did you "
                                         r"mean 'link'\?"):
        hw.with_value("lnk.cable_ns", 1.0)
    with pytest.raises(ValueError, match=r"^memory.latency_ns must be >= 0"):
        hw.with_value("memory.latency_ns", -5.0)


def test_invalid_toml_and_missing_file(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[link\n")
    with pytest.raises(ValueError, match=r"not valid TOML"):
        load_hardware(p)
    with pytest.raises(FileNotFoundError, match=r"does not exist; pass e.g."):
        load_hardware(tmp_path / "missing.toml")


def test_toml_parses_with_tomllib():
    data = tomllib.loads(CONFIG.read_text())
    assert set(data) == {"name", "time_step_ms", "energy", "node", "memory", "link",
                         "topology", "sync"}


def test_an_empty_file_is_refused_and_a_missing_section_reported(tmp_path):
    from neuroaix.emulator.config import DefaultsWarning

    p = tmp_path / "hw.toml"
    p.write_text("")
    with pytest.raises(ValueError, match=r"hw.toml: no name; a hardware configuration names"):
        load_hardware(p)
    text = CONFIG.read_text()
    start = text.index("[link]")
    end = text.index("\n[", start + 1)
    p.write_text(text[:start] + text[end + 1:])
    with pytest.warns(DefaultsWarning, match=r"hw.toml: no \[link\]: the defaults of "):
        assert load_hardware(p).link == load_hardware(CONFIG).link.__class__()


def test_node_model_is_checked():
    from neuroaix.emulator.config import NodeConfig, SyncConfig

    assert NodeConfig().model == "paper" and NodeConfig().rtl_release == "ascending"
    with pytest.raises(ValueError, match=r"^node\.model must be one of 'paper', 'rtl', not "
                                         r"'RTL'; did you mean 'rtl'\?"):
        NodeConfig(model="RTL")
    with pytest.raises(ValueError, match=r"^node\.rtl_release must be one of 'ascending', "
                                         r"'markers', 'step-start', 'arrival', not 'marker'"):
        NodeConfig(model="rtl", rtl_release="marker")
    with pytest.raises(ValueError, match=r"^node\.model = \"rtl\" needs sync\.scheme = "
                                         r"\"marker\", not 'barrier'"):
        HardwareConfig(node=NodeConfig(model="rtl"), sync=SyncConfig(scheme="barrier"))
    with pytest.raises(ValueError, match=r"more than 63 ring banks"):
        NodeConfig(model="rtl", synapse_lanes=64)
    hw = load_hardware(CONFIG).with_value("node.model", "rtl")
    assert hw.node.model == "rtl" and hw.to_dict()["node"]["model"] == "rtl"
    with pytest.raises(ValueError, match=r"node\.model must be one of"):
        load_hardware(CONFIG).with_value("node.model", "fpga")
