"""The committed cycle counts (tests/data/rtl_cycles.json) against a fresh RTL simulation."""

import json
import pathlib

import pytest

from neuroaix.rtl.harness.cycles import CYCLE_WORKLOADS, SCHEMA, cycles_document, workload_record
from neuroaix.rtl.model import spike_timing
from neuroaix.rtl.params import PipelineConfig

CYCLES_JSON = pathlib.Path(__file__).parents[1] / "data" / "rtl_cycles.json"


@pytest.fixture(scope="module")
def committed():
    return json.loads(CYCLES_JSON.read_text())


def test_committed_file_lists_every_workload(committed):
    assert committed["schema"] == SCHEMA
    assert sorted(committed["workloads"]) == sorted(CYCLE_WORKLOADS)


@pytest.mark.parametrize("name", list(CYCLE_WORKLOADS))
def test_rtl_reproduces_committed_cycles(name, committed):
    """Regenerating a workload and simulating it gives exactly the committed record."""
    fresh = cycles_document([name])["workloads"][name]
    assert fresh == committed["workloads"][name]


@pytest.mark.parametrize("name", list(CYCLE_WORKLOADS))
def test_cycle_rule_reproduces_committed_cycles(name, committed):
    """The documented cycle rule, fed only the JSON, gives the measured cycles."""
    record = committed["workloads"][name]
    config = PipelineConfig(**record["parameters"])
    for step in record["steps"]:
        timing = spike_timing(config, step["row_start"], step["row_length"])
        assert timing.accept == step["accept"]
        assert timing.done == step["done"]
        assert timing.cycles == step["cycles"]


def test_workload_record_is_deterministic():
    a = workload_record(CYCLE_WORKLOADS["random_rows"]())
    b = workload_record(CYCLE_WORKLOADS["random_rows"]())
    assert a == b
