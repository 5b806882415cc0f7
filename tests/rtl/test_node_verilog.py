"""The generated node Verilog on Verilator through cocotb: rasters identical to the engine's.

Each case builds a network, runs the Numba engine for its steps, loads one partition into
the generated ``node`` (testbench ``neuroaix.rtl.harness.node_cocotb``, started by
``neuroaix.rtl.harness.node_verilator``; its memory is the testbench's, the fixed latency 20
unless a test gives the DDR table),
injects the other partitions' spikes from the engine's run and requires the node's raster to
equal the engine's step by step, with back-to-back streams and with idle cycles on ``i_ext``
and backpressure on ``o_spikes``. The cycles of every step are compared with
``tests/data/rtl_node_cycles.json`` (``NEUROAIX_REGEN_CYCLES=1`` rewrites the entries of the
cases that ran, from the Verilator run). The file is checked against computations that do not
write it: an amaranth.sim run of the Amaranth design (every step of the CI cases, 100 steps of
the slow ones) and the step rule of docs/rtl_node.md (a step without spikes costs
``n_local + timing.NODE_QUIET_OVERHEAD`` cycles, none costs less).

CI runs the small cases (a 125-neuron Brunel network on one node, a 64-neuron partition of a
scaled microcircuit, the latter also with the arrival merge and late offers) and ``neuroaix
rtl run``; the ``slow`` cases are a 625-neuron Brunel
network on one node and a partition of a 771-neuron microcircuit, 1,000 steps each.
"""

import json
import os
import pathlib

import numpy as np
import pytest

from neuroaix import models, timing
from neuroaix.cli import main
from neuroaix.rtl.harness import node_verilator, workloads
from neuroaix.rtl.harness.node_engine import emulator_cycles, engine_case, node_memory
from neuroaix.rtl.harness.node_sim import simulate

pytestmark = pytest.mark.rtl

BUILD_ROOT = pathlib.Path(__file__).parents[2] / "build" / "rtl_node"
CYCLES_FILE = pathlib.Path(__file__).parents[1] / "data" / "rtl_node_cycles.json"
MEMORY = {"latency": 20, "max_burst": 8, "fifo_words": 16, "spike_fifo": 16}


def _brunel(scale, epsilon):
    return models.brunel(scale=scale, epsilon=epsilon, eta=2.0, seed=7).build(
        partitions=1, threads=1)


def _microcircuit(scale, partitions, k_scale):
    return models.microcircuit(scale=scale, k_scale=k_scale, input="poisson", seed=7).build(
        partitions=partitions, threads=1)


#: name -> (builder, partition, steps, slow)
CASES = {
    "brunel_125": (lambda: _brunel(0.01, 0.01), 0, 300, False),
    "microcircuit_p2_of_6": (workloads.small_microcircuit, 2, 200, False),
    "brunel_625": (lambda: _brunel(0.05, 0.01), 0, 1000, True),
    "microcircuit_771_p1_of_2": (lambda: _microcircuit(0.01, 2, 0.1), 1, 1000, True),
}


def _case(name):
    make, p, n_steps, _ = CASES[name]
    built = make()
    image, external, expected, _ = engine_case(built, p, n_steps, **MEMORY)
    return built, image, external, expected


def _run(name):
    built, image, external, expected = _case(name)
    out = node_verilator.run(image, len(expected), external, BUILD_ROOT / name,
                             expected=expected)
    return {"built": built, "image": image, "external": external, "expected": expected,
            "out": out}


def _record(name, run):
    """The file's entry for a case: network, node parameters, spikes and cycles per step."""
    image, cycles = run["image"], run["out"]["streaming"]["cycles"]
    return {
        "network": {"n_neurons": int(run["built"].n_neurons),
                    "partitions": len(run["built"].partitions),
                    "partition": image.gid_base, "n_local": image.n_local,
                    "synapses_local": int(image.row_length.sum())},
        "config": image.config.to_dict(),
        "steps": len(cycles),
        "spikes_local": [len(s) for s in run["expected"]],
        "spikes_external": ([len(s) for s in run["external"]] if run["external"] is not None
                            else None),
        "cycles": cycles,
        "cycles_mean": round(float(np.mean(cycles)), 3),
        "cycles_max": int(max(cycles)),
    }


_CACHE = {}


def _cached(name):
    if name not in _CACHE:
        _CACHE[name] = _run(name)
    return _CACHE[name]


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.slow) if CASES[n][3] else n for n in CASES])
def test_raster_equals_engine(name):
    run = _cached(name)
    assert sum(map(len, run["expected"])) > 0
    for pattern, out in run["out"].items():
        assert out["passed"], pattern
        assert out["spikes"] == run["expected"], pattern
    record = _record(name, run)
    doc = json.loads(CYCLES_FILE.read_text()) if CYCLES_FILE.exists() else {
        "schema": 1, "cases": {}}
    if int(os.environ.get("NEUROAIX_REGEN_CYCLES", "0")):
        doc["cases"][name] = record
        CYCLES_FILE.write_text(json.dumps(doc, indent=1) + "\n")
    assert doc["cases"][name] == record


def _recorded(name):
    return json.loads(CYCLES_FILE.read_text())["cases"][name]


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.slow) if CASES[n][3] else n for n in CASES])
def test_recorded_cycles_equal_amaranth_sim(name):
    """The recorded cycles equal an independent run: the Amaranth design in amaranth.sim
    (not the Verilog, not the cocotb bench that records them), every step of the CI cases
    and the first 100 steps of the slow ones."""
    record = _recorded(name)
    _, image, external, expected = _case(name)
    n = record["steps"] if not CASES[name][3] else 100
    ref = simulate(image, n, external[:n] if external is not None else None)
    assert ref.spikes == expected[:n]
    assert ref.cycles == record["cycles"][:n]
    assert [len(s) for s in ref.spikes] == record["spikes_local"][:n]


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.slow) if CASES[n][3] else n for n in CASES])
def test_emulator_cycles_equal_recorded_cycles(name):
    """The emulator's node cycle rule gives the recorded cycles of every step (difference 0),
    the other partitions' spikes offered in ascending global id as the bench injects them."""
    record = _recorded(name)
    _, image, external, expected = _case(name)
    got = emulator_cycles(image, external, expected)
    assert got.cycles.tolist() == record["cycles"]


@pytest.mark.parametrize("name", list(CASES))
def test_recorded_cycles_follow_the_step_rule(name):
    """docs/rtl_node.md, "Cycles per step": a step without spikes (local or injected) costs
    exactly n_local + NODE_QUIET_OVERHEAD (14) cycles, and no step costs less."""
    record = _recorded(name)
    n_local = record["network"]["n_local"]
    cycles = record["cycles"]
    external = record["spikes_external"] or [0] * len(cycles)
    assert len(cycles) == len(record["spikes_local"]) == len(external) == record["steps"]
    quiet = [c for c, a, b in zip(cycles, record["spikes_local"], external) if a == b == 0]
    assert quiet and set(quiet) == {n_local + timing.NODE_QUIET_OVERHEAD}
    assert min(cycles) == n_local + timing.NODE_QUIET_OVERHEAD
    assert record["cycles_max"] == max(cycles)
    assert record["cycles_mean"] == round(sum(cycles) / len(cycles), 3)


def test_ddr_memory_equals_engine_and_rule():
    """The DDR table of configs/neuroaix-35.toml as the testbench memory (the cocotb
    ``MemoryResponder``) on the microcircuit partition: the engine's raster for both stream
    patterns, and every step's cycles equal the node's cycle rule with the same memory
    (difference 0), different from the fixed latency's. The build is the fixed-memory
    case's (the Verilog does not depend on the memory)."""
    name, n_steps = "microcircuit_p2_of_6", 60
    _, image, external, expected = _case(name)
    external, expected = external[:n_steps], expected[:n_steps]
    ddr = node_memory("ddr", image.config)
    out = node_verilator.run(image, n_steps, external, BUILD_ROOT / name, expected=expected,
                             memory=ddr)
    for pattern, got in out.items():
        assert got["passed"], pattern
        assert got["spikes"] == expected, pattern
    rule = emulator_cycles(image, external, expected, ddr).cycles.tolist()
    assert out["streaming"]["cycles"] == rule
    assert rule != _recorded(name)["cycles"][:n_steps]


def test_command_prints_identical_hashes(tmp_path, capsys):
    """``neuroaix rtl run`` on a small Brunel network: both hashes, identical, cycles."""
    out_json = tmp_path / "run.json"
    status = main(["rtl", "run", "brunel", "--scale", "0.01", "--steps", "60",
                   "--work", str(BUILD_ROOT / "cli"), "--json", str(out_json)])
    text = capsys.readouterr().out
    doc = json.loads(out_json.read_text())
    assert status == 0
    assert doc["identical"] and doc["engine_spike_hash"] == doc["rtl_spike_hash"]
    assert doc["emulator_cycles_per_step"] == doc["rtl_cycles_per_step"]
    assert doc["cycles_equal"] and doc["model"] == "brunel" and doc["seed"] == 7
    assert "neuroaix_version" in doc
    assert "rtl and emulator equal in every step" in text
    assert f"engine raster hash (partition 0): {doc['engine_spike_hash']}" in text
    assert f"rtl    raster hash (partition 0): {doc['rtl_spike_hash']}" in text
    assert "identical" in text and "cycles per step: mean" in text
    # The same network and node parameters as the brunel_125 case: the same cycles.
    assert doc["rtl_cycles_per_step"] == json.loads(CYCLES_FILE.read_text())["cases"][
        "brunel_125"]["cycles"][:60]
    assert doc["memory"] == "fixed" and doc["latency"] == 20 and "hardware" not in doc
    # The same node with the DDR memory (same build): what the run used, and cycle-exact.
    ddr_json = tmp_path / "run_ddr.json"
    status = main(["rtl", "run", "brunel", "--scale", "0.01", "--steps", "60", "--memory",
                   "ddr", "--work", str(BUILD_ROOT / "cli"), "--json", str(ddr_json)])
    text = capsys.readouterr().out
    ddr = json.loads(ddr_json.read_text())
    assert status == 0 and ddr["identical"] and ddr["cycles_equal"]
    assert ddr["rtl_spike_hash"] == doc["rtl_spike_hash"]
    assert ddr["memory"] == "ddr" and ddr["hardware"] == "neuroaix-35" and "latency" not in ddr
    assert ddr["synapse_clock_mhz"] == 189.393 and ddr["period_fs"] == 5_280_026
    assert ddr["rtl_cycles_per_step"] != doc["rtl_cycles_per_step"]
    assert "memory: DDR table of neuroaix-35" in text


#: (case, (synapse lanes, update lanes), steps): the lane-parallel node on Verilator.
LANE_CASES = [("microcircuit_p2_of_6", (8, 10), 60), ("brunel_125", (2, 3), 60)]


@pytest.mark.parametrize("name, lanes, n_steps", LANE_CASES)
def test_lanes_equal_engine_and_amaranth_sim(name, lanes, n_steps):
    """With L synapse and U update lanes the Verilog gives the engine's raster, and the
    cycles of every step and the counters of the Amaranth design; the emulator's node cycle
    rule gives the same cycles of every step."""
    make, p, _, _ = CASES[name]
    params = {**MEMORY, "synapse_lanes": lanes[0], "update_lanes": lanes[1]}
    image, external, expected, _ = engine_case(make(), p, n_steps, **params)
    assert sum(map(len, expected)) > 0
    out = node_verilator.run(image, n_steps, external,
                             BUILD_ROOT / f"{name}_lanes_{lanes[0]}_{lanes[1]}",
                             expected=expected)
    ref = simulate(image, n_steps, external)
    assert ref.spikes == expected
    for pattern, got in out.items():
        assert got["passed"], pattern
        assert got["spikes"] == expected, pattern
        assert got["counters"] == ref.counters, pattern
    assert out["streaming"]["cycles"] == ref.cycles
    assert emulator_cycles(image, external, expected).cycles.tolist() == ref.cycles


def test_arrival_merge_late_offers_equal_rule():
    """The arrival merge on Verilator with the other nodes' spikes offered late (the cocotb
    injector holds each item until its offer cycle of its step) and not in ascending id: the
    engine's raster for both stream patterns, and every step's cycles equal the rule's with
    ``arrival_order`` and the same offers (difference 0), different from streaming."""
    name, n_steps = "microcircuit_p2_of_6", 40
    make, p, _, _ = CASES[name]
    built = make()
    image, external, expected, _ = engine_case(built, p, n_steps, **MEMORY, merge="arrival")
    rng = np.random.default_rng(5)
    quiet = image.n_local + 10
    external = [rng.permutation(e).tolist() for e in external]
    offers = [sorted(rng.integers(0, 3 * quiet, len(e) + 1).tolist()) for e in external]
    assert any(e != sorted(e) for e in external)
    out = node_verilator.run(image, n_steps, external, BUILD_ROOT / f"{name}_arrival",
                             expected=expected, offers=offers)
    for pattern, got in out.items():
        assert got["passed"], pattern
        assert got["spikes"] == expected, pattern
    rule = emulator_cycles(image, external, expected, offers=offers)
    assert out["streaming"]["cycles"] == rule.cycles.tolist()
    assert rule.cycles.tolist() != emulator_cycles(image, external, expected).cycles.tolist()
    for got in out.values():
        assert got["counters"]["events"] == int(rule.events.sum()) > 0


def test_ring_saturation_count_on_verilator():
    """The generated Verilog counts a ring entry read at its int32 bound once in
    ``o_syn_saturations`` (``workloads.two_orders_network``: ``7, 7, INT32_MAX`` onto one
    entry), as the Amaranth design and the engine do (docs/numerics.md, section 4)."""
    n_steps = 12
    image, external, expected, engine = engine_case(workloads.two_orders_network(False), 0,
                                                    n_steps, **MEMORY)
    out = node_verilator.run(image, n_steps, external, BUILD_ROOT / "two_orders",
                             expected=expected, patterns=("streaming",))
    ref = simulate(image, n_steps, external)
    got = out["streaming"]
    assert got["passed"] and got["spikes"] == expected
    assert got["counters"] == ref.counters
    assert got["counters"]["syn_saturations"] == 1
    assert (got["counters"]["syn_saturations"] + got["counters"]["saturations"]
            == engine["saturations"])
