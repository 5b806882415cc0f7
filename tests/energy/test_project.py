"""Tests of neuroaix.energy.project: the whole-brain projection."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from neuroaix.energy.config import EnergyConfig, load_energy_config
from neuroaix.energy.model import Activity
from neuroaix.energy.project import (
    MICROCIRCUIT_RATE_HZ,
    SPECIES,
    ProjectionHardware,
    Species,
    _bounds,
    _expected_bursts,
    calibrate,
    load_projection_hardware,
    project_brain,
)

ENERGY = Path(__file__).resolve().parents[2] / "configs" / "neuroaix-35-energy.toml"
MICROCIRCUIT = Species(name="microcircuit", neurons=77_169, synapses_low=2.99e8,
                       synapses_high=2.99e8, neurons_source="Potjans & Diesmann 2014",
                       synapses_source="Potjans & Diesmann 2014")


@pytest.fixture(scope="module")
def energy():
    return load_energy_config(ENERGY)


def test_species_counts_and_sources():
    assert SPECIES["mouse"].neurons == 7.1e7
    assert SPECIES["marmoset"].neurons == 6.3e8
    assert SPECIES["human"].neurons == 8.6e10
    assert (SPECIES["human"].synapses_low, SPECIES["human"].synapses_high) == (1e14, 1.5e14)
    assert "Azevedo et al. 2009" in SPECIES["human"].neurons_source
    assert all(s.neurons_source and s.synapses_source for s in SPECIES.values())


def test_expected_bursts_closed_forms():
    assert _expected_bursts(0.0, 8) == 0.0
    # For tiny rows almost every non-empty row is one burst: E = 1 - exp(-lam) + O(lam^2).
    assert _expected_bursts(1e-4, 8) == pytest.approx(-math.expm1(-1e-4), rel=1e-9)
    # One synapse per burst: E[ceil(k)] = E[k] = lam.
    assert _expected_bursts(3.7, 1) == pytest.approx(3.7, rel=1e-12)


def test_usable_bandwidth_follows_the_table():
    hw = ProjectionHardware()
    assert hw.usable_bandwidth(64) == pytest.approx(0.648e9)
    assert hw.usable_bandwidth(1) == pytest.approx(0.648e9)        # clamped below
    assert hw.usable_bandwidth(1e6) == pytest.approx(10.88e9)      # clamped above
    # between table sizes the request's time is linear in its size (neuroaix.emulator.ddr)
    half_ns = 0.5 * (64 / 0.648 + 384 / 3.08)
    assert hw.usable_bandwidth(224) == pytest.approx(224 / half_ns * 1e9)


def test_microcircuit_on_35_nodes_is_bandwidth_bound_near_the_paper(energy):
    # Sizing for the paper's 20.36x must land near 35 nodes, limited by synapse bandwidth.
    p = project_brain(MICROCIRCUIT, ProjectionHardware(), energy, target_acceleration=20.36)
    assert p.target_reachable
    assert 25 <= p.nodes <= 40
    assert p.limit == "bandwidth"
    assert p.nodes_memory == 1
    assert 40 <= p.e_syn_nj <= 60


def test_memory_bound(energy):
    hw = ProjectionHardware(memory_gb=8.0)
    p = project_brain("mouse", hw, energy, synapses="high", target_acceleration=1e-9)
    assert p.nodes_memory == math.ceil(1e12 * 8 / 8e9) == 1000
    assert p.nodes == 1000


def test_projection_hardware_reads_the_emulator_config():
    from neuroaix.emulator import HardwareConfig

    hw = ProjectionHardware(HardwareConfig().with_value("memory.capacity_gb", 4.0))
    assert hw.memory_gb == 4.0 and hw.dims == 2 and hw.name == "neuroaix-35"
    assert ProjectionHardware(memory_gb=16).memory_gb == 16.0
    with pytest.raises(TypeError, match=r"^hardware must be a HardwareConfig, not 'x'$"):
        ProjectionHardware("x")
    with pytest.raises(ValueError, match=r"^memory_gb must be > 0 GB, not 0$"):
        ProjectionHardware(memory_gb=0)


@pytest.mark.parametrize("turn", ["extra-hop", "full-hop"])
def test_latency_bound_is_the_emulators_idle_latency(turn):
    from neuroaix.emulator import Emulator, HardwareConfig

    from neuroaix.energy.project import _bounds

    hw = HardwareConfig().with_value("topology.shape", [7, 7]).with_value("topology.turn",
                                                                          turn)
    bounds, _ = _bounds(ProjectionHardware(hw), 49, neurons=1e5, r_spk=1e5, k_out=1e3)
    worst_s = Emulator(hw).idle_latency()["worst_ns"] * 1e-9
    assert hw.time_step_ms * 1e-3 / bounds["latency"] == pytest.approx(worst_s, rel=1e-12)


def test_all_to_all_multicast_caps_whole_brains(energy):
    hw = ProjectionHardware()
    p = project_brain("human", hw, energy)
    r_spk = 8.6e10 * MICROCIRCUIT_RATE_HZ
    assert not p.target_reachable
    assert p.bounds["spike_intake"] == pytest.approx(92e6 / r_spk)
    assert p.bounds["link"] == pytest.approx(5.82e9 / 128 / r_spk)
    assert p.acceleration == min(p.bounds.values())
    assert p.power_w > p.nodes * energy.p_static_node_w


def test_power_is_static_plus_dynamic():
    zero = EnergyConfig(name="static only", p_static_node_w=25.0)
    p = project_brain("mouse", ProjectionHardware(), zero)
    assert p.power_w == p.nodes * 25.0
    assert p.e_syn_nj == pytest.approx(p.power_w / (p.acceleration * p.r_syn_hz) * 1e9)


def test_custom_synapse_count_and_rate(energy):
    p = project_brain("mouse", ProjectionHardware(), energy, synapses=5e11, rate_hz=2.0)
    assert p.synapses == 5e11
    assert p.r_syn_hz == pytest.approx(5e11 * 2.0)


@pytest.mark.parametrize("kw, msg", [
    ({"species": "rat"}, r"^species must be one of 'mouse', 'marmoset', 'human', not 'rat'$"),
    ({"synapses": "mid"}, r"^synapses must be 'low', 'high' or a positive count, not 'mid'$"),
    ({"rate_hz": 0.0}, r"^rate_hz must be > 0, not 0\.0$"),
    ({"target_acceleration": -1}, r"^target_acceleration must be > 0, not -1$"),
])
def test_validation(energy, kw, msg):
    args = {"species": "mouse"} | kw
    with pytest.raises(ValueError, match=msg):
        project_brain(args.pop("species"), ProjectionHardware(), energy, **args)


def test_extreme_rates_and_memories_are_refused_or_projected(energy):
    """A rate above one spike per step, or a memory smaller than a synapse, is refused; a
    tiny rate on a tiny memory (a node's demand below the smallest float) is projected."""
    with pytest.raises(ValueError, match=r"^rate_hz must be at most 10000 Hz \(a neuron spikes "
                                         r"at most once per time step of 0\.1 ms\), not 1e\+298$"):
        project_brain("mouse", ProjectionHardware(), energy, rate_hz=1e298)
    with pytest.raises(ValueError, match=r"^memory_gb must hold at least one synapse \(8 bytes\)"):
        ProjectionHardware(memory_gb=1e-300)
    p = project_brain("mouse", ProjectionHardware(memory_gb=8e-9), energy, rate_hz=5e-324)
    assert p.bounds["bandwidth"] == math.inf
    assert 0 < p.acceleration < math.inf and p.q_rtf == 1.0 / p.acceleration
    assert project_brain("mouse", ProjectionHardware(), energy, rate_hz=1e4).acceleration > 0


def test_load_projection_hardware(tmp_path):
    path = tmp_path / "hw.toml"
    path.write_text('name = "big"\ntime_step_ms = 0.1\n[node]\nneuron_cores = 20\n'
                    '[memory]\npeak_bandwidth_gbps = 24.24\n[topology]\nshape = [4, 4, 4]\n'
                    '[link]\nbandwidth_gbps = 10.0\n')
    hw = load_projection_hardware(path)
    c = hw.hardware
    assert (hw.name, c.node.neuron_cores, c.n_nodes, hw.dims) == ("big", 20, 64, 3)
    assert c.memory.peak_bandwidth_gbps == 24.24 and c.link.bandwidth_gbps == 10.0
    assert hw.memory_gb == 8.0                  # memory.capacity_gb's default
    assert load_projection_hardware(path, memory_gb=16.0).memory_gb == 16.0
    assert hw.usable_bandwidth(64) == pytest.approx(2 * 0.648e9)


def test_load_projection_hardware_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"does not exist; pass e\.g\. configs/"):
        load_projection_hardware(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[node\n")
    with pytest.raises(ValueError, match=r"bad\.toml: not valid TOML"):
        load_projection_hardware(bad)
    typo = tmp_path / "typo.toml"
    typo.write_text("[memory]\ncapacity_gbb = 4.0\n")
    with pytest.raises(ValueError, match=r"capacity_gbb.*did you mean 'capacity_gb'"):
        load_projection_hardware(typo)


def test_memory_capacity_comes_from_the_file_unless_overridden(tmp_path):
    cfg = tmp_path / "hw.toml"
    cfg.write_text("name = \"test\"\n[memory]\ncapacity_gb = 4.0\n")
    assert load_projection_hardware(cfg).memory_gb == 4.0
    assert load_projection_hardware(cfg, memory_gb=16.0).memory_gb == 16.0


def test_projection_to_dict(energy):
    d = project_brain("marmoset", ProjectionHardware(), energy).to_dict()
    for key in ("nodes", "nodes_memory", "acceleration", "limit", "bounds", "power_w",
                "e_syn_nj", "sources"):
        assert key in d


def _microcircuit_activity(hw_time_s):
    return Activity(n_nodes=35, steps=10_000, bio_time_s=1.0, hw_time_s=hw_time_s,
                    neuron_updates=771_690_000, spikes=250_000, packets=1_000_000,
                    hops=8_500_000, bytes_fetched=8_000_000_000,
                    synaptic_events=967_500_000)


def test_calibration_is_one_at_the_models_own_acceleration():
    hw = ProjectionHardware()
    bounds, _ = _bounds(hw, 35, neurons=77_169, r_spk=250_000, k_out=3870.0)
    a = min(bounds.values())
    assert calibrate(hw, _microcircuit_activity(1.0 / a)) == pytest.approx(1.0, rel=1e-12)
    assert calibrate(hw, _microcircuit_activity(2.0 / a)) == pytest.approx(0.5, rel=1e-12)


def test_calibration_scales_every_bound(energy):
    bare = project_brain("mouse", ProjectionHardware(), energy)
    half = project_brain("mouse", ProjectionHardware(), energy, calibration=0.5)
    for key, value in bare.bounds.items():
        assert half.bounds[key] == pytest.approx(0.5 * value, rel=1e-12)
    assert half.acceleration == pytest.approx(0.5 * bare.acceleration, rel=1e-12)
    assert half.calibration == 0.5


def test_calibration_needs_activity():
    act = Activity(n_nodes=35, steps=10, bio_time_s=0.001, hw_time_s=0.0001)
    with pytest.raises(ValueError, match=r"^activity must contain spikes and synaptic events "
                                         r"to calibrate, not spikes=0, synaptic_events=0; "):
        calibrate(ProjectionHardware(), act)
