"""Tests of neuroaix.energy.model: the arithmetic of the energy model and its metrics."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from neuroaix import energy
from neuroaix.energy.config import EnergyConfig, load_energy_config
from neuroaix.activity import ACTIVITY_KEYS, Activity
from neuroaix.energy.model import (
    REPORT_FIELDS,
    EnergyReport,
    energy_from_power,
    estimate_energy,
)

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "neuroaix-35-energy.toml"

# Powers of two keep every product and sum exact in binary floating point.
CFG = EnergyConfig(name="exact", p_static_node_w=16.0, e_neuron_update_j=2.0**-30,
                   e_packet_j=2.0**-24, e_hop_j=2.0**-26, e_byte_j=2.0**-32,
                   e_syn_event_j=2.0**-29)


def activity(**kw):
    base = dict(n_nodes=4, steps=1000, bio_time_s=0.125, hw_time_s=0.25)
    base.update(kw)
    return Activity(**base)


def test_zero_activity_leaves_static_power_only():
    rep = estimate_energy(activity(), CFG)
    assert rep.energy_j == 0.25 * 4 * 16.0
    assert rep.static_j == rep.energy_j
    assert rep.mean_power_w == 4 * 16.0
    assert all(v == 0.0 for v in rep.dynamic_j.values())
    assert math.isnan(rep.e_syn_nj)
    assert rep.kind == "emulated"


def test_doubling_synaptic_events_adds_exactly_e_syn_event_per_event():
    one = estimate_energy(activity(synaptic_events=1 << 20), CFG)
    two = estimate_energy(activity(synaptic_events=2 << 20), CFG)
    assert two.energy_j - one.energy_j == (1 << 20) * 2.0**-29
    assert two.dynamic_j["synaptic_events"] == 2 * one.dynamic_j["synaptic_events"]


@pytest.mark.parametrize("count, param", [
    ("neuron_updates", "e_neuron_update_j"), ("packets", "e_packet_j"), ("hops", "e_hop_j"),
    ("bytes_fetched", "e_byte_j"), ("synaptic_events", "e_syn_event_j"),
])
def test_each_term_is_count_times_parameter(count, param):
    base = estimate_energy(activity(), CFG)
    rep = estimate_energy(activity(**{count: 3 << 16}), CFG)
    assert rep.dynamic_j[count] == (3 << 16) * getattr(CFG, param)
    assert rep.energy_j == base.energy_j + (3 << 16) * getattr(CFG, param)


def test_metrics():
    rep = estimate_energy(activity(synaptic_events=1 << 30, bytes_fetched=8 << 30), CFG)
    expected = 0.25 * 64.0 + (1 << 30) * 2.0**-29 + (8 << 30) * 2.0**-32
    assert rep.energy_j == expected
    assert rep.e_syn_nj == expected / (1 << 30) * 1e9
    assert rep.q_rtf == 2.0
    assert rep.acceleration == 0.5
    assert rep.mean_power_w == expected / 0.25
    assert rep.wall_time_s == 0.25 and rep.bio_time_s == 0.125


def test_static_energy_scales_with_nodes_and_wall_time():
    a = estimate_energy(activity(n_nodes=1, hw_time_s=1.0), CFG).energy_j
    b = estimate_energy(activity(n_nodes=35, hw_time_s=2.0), CFG).energy_j
    assert b == 70 * a


def test_shipped_parameters_reproduce_the_operating_point():
    # One biological second at the published rates and q_RTF gives the published 47.55 nJ.
    cfg = load_energy_config(CONFIG)
    op = cfg.derivation
    act = Activity(n_nodes=35, steps=10_000, bio_time_s=1.0, hw_time_s=op.q_rtf,
                   neuron_updates=round(op.neuron_updates_hz),
                   spikes=round(op.spikes_hz),
                   packets=round(op.spikes_hz * op.packets_per_spike),
                   hops=round(op.spikes_hz * op.hops_per_spike),
                   bytes_fetched=round(op.r_syn_hz * op.bytes_per_syn_event),
                   synaptic_events=round(op.r_syn_hz))
    rep = estimate_energy(act, cfg)
    assert rep.e_syn_nj == pytest.approx(47.55, rel=1e-5)
    assert rep.mean_power_w == pytest.approx(936.17, rel=1e-4)
    assert rep.acceleration == pytest.approx(20.36, rel=1e-5)
    assert rep.static_j / rep.energy_j == pytest.approx(0.8, rel=1e-5)


def test_report_json_fields():
    rep = estimate_energy(activity(synaptic_events=10), CFG, label="row")
    d = rep.to_dict()
    assert tuple(d) == REPORT_FIELDS
    assert set(REPORT_FIELDS) >= {"energy_j", "mean_power_w", "e_syn_nj", "q_rtf",
                                  "acceleration", "kind", "power_source"}
    assert d["label"] == "row"
    assert set(d["dynamic_j"]) == {"neuron_updates", "packets", "hops", "bytes_fetched",
                                   "synaptic_events"}
    assert json.loads(json.dumps(d)) == d


def test_nan_becomes_null_in_json():
    d = estimate_energy(activity(), CFG).to_dict()
    assert d["e_syn_nj"] is None
    json.dumps(d, allow_nan=False)


def test_activity_from_dict_requires_exact_keys():
    good = dict(n_nodes=2, steps=10, bio_time_s=0.001, hw_time_s=0.002, neuron_updates=20,
                spikes=1, packets=1, hops=1, bytes_fetched=64, synaptic_events=8)
    assert tuple(good) == ACTIVITY_KEYS
    assert Activity.from_dict(good).bytes_fetched == 64
    bad = dict(good, flits=3)
    del bad["hops"]
    with pytest.raises(ValueError, match=r"^activity keys must be exactly n_nodes, .*; "
                                         r"missing \['hops'\], unknown \['flits'\]$"):
        Activity.from_dict(bad)


def test_estimate_accepts_the_emulator_dict():
    d = dict(n_nodes=2, steps=10, bio_time_s=0.001, hw_time_s=0.002, neuron_updates=0,
             spikes=0, packets=0, hops=0, bytes_fetched=0, synaptic_events=0)
    assert estimate_energy(d, CFG).energy_j == 0.002 * 2 * 16.0


@pytest.mark.parametrize("kw, err, msg", [
    ({"spikes": -1}, ValueError, r"^activity spikes must be >= 0, not -1$"),
    ({"spikes": 1.5}, TypeError, r"^activity spikes must be an integer, not 1\.5$"),
    ({"n_nodes": 0}, ValueError, r"^activity n_nodes must be >= 1, not 0$"),
    ({"hw_time_s": 0.0}, ValueError,
     r"^activity hw_time_s must be > 0 s, not 0\.0$"),
    ({"bio_time_s": "1"}, TypeError,
     r"^activity bio_time_s must be a number in s, not '1'$"),
])
def test_activity_validation(kw, err, msg):
    with pytest.raises(err, match=msg):
        activity(**kw)


def test_estimate_rejects_a_non_config():
    with pytest.raises(TypeError, match=r"^config must be an EnergyConfig, not \{\}; load one "
                                        r"with load_energy_config\(path\)$"):
        estimate_energy(activity(), {})


def test_energy_from_power():
    rep = energy_from_power(wall_time_s=300.0, bio_time_s=1.0, synaptic_events=10**9,
                            power_w=20.0, kind="estimate", power_source="TDP", label="cpu")
    assert isinstance(rep, EnergyReport)
    assert rep.energy_j == 6000.0
    assert rep.e_syn_nj == 6000.0
    assert rep.q_rtf == 300.0
    assert rep.mean_power_w == 20.0
    measured = energy_from_power(wall_time_s=2.0, bio_time_s=1.0, synaptic_events=10,
                                 power_w=5.0, energy_j=12.0, kind="measured",
                                 power_source="RAPL", label="m")
    assert measured.energy_j == 12.0 and measured.mean_power_w == 6.0


def test_energy_from_power_rejects_unknown_kind():
    with pytest.raises(ValueError, match=r"^kind must be one of 'measured', 'estimate', not 'guess'$"):
        energy_from_power(wall_time_s=1.0, bio_time_s=1.0, synaptic_events=1, power_w=1.0,
                          kind="guess", power_source="", label="")


def test_activity_is_one_class_re_exported():
    assert energy.Activity is Activity and energy.ACTIVITY_KEYS == ACTIVITY_KEYS
    a = Activity(n_nodes=2, steps=3, bio_time_s=0.3e-3, hw_time_s=1e-5, hops=4)
    assert tuple(a.to_dict()) == ACTIVITY_KEYS and Activity.from_dict(a.to_dict()) == a
