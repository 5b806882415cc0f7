import json
from pathlib import Path

import numpy as np
import pytest
from neuroaix.emulator.config import NodeConfig
from neuroaix.emulator.pipeline import PipelineTiming

RTL_CYCLES = Path(__file__).parents[1] / "data" / "rtl_cycles.json"


def _workloads():
    return sorted(json.loads(RTL_CYCLES.read_text())["workloads"].items())


def test_one_row_closed_form():
    p = PipelineTiming(max_burst=8, fifo_words=64, latency=5, lanes=1)
    t = p.timing([0], [20])
    # accept 0, lookup to 1, request at 2, first word at 7, synapses issued 8..27,
    # last write at 27 + 2, phase over at 30
    assert t.accept.tolist() == [0] and t.done.tolist() == [29] and t.cycles == 30
    assert t.words == 3 and t.issue_cycles == 20


def test_lanes_issue_a_word_per_cycle():
    p = PipelineTiming(max_burst=8, fifo_words=64, latency=5, lanes=8)
    t = p.timing([0], [20])
    # words handed over at 7, 8, 9; issued in 8, 9, 10
    assert t.done.tolist() == [12] and t.issue_cycles == 3


def test_empty_row_and_offered_cycles():
    p = PipelineTiming(max_burst=2, fifo_words=2, latency=3)
    t = p.timing([0, 0, 8], [0, 1, 1], valid=[0, 0, 10])
    assert t.accept.tolist() == [0, 1, 10]
    assert t.done.tolist() == [-1, 1 + 1 + 1 + 3 + 1 + 2, 10 + 1 + 1 + 3 + 1 + 2]


def test_from_config():
    p = PipelineTiming.from_config(NodeConfig(synapse_lanes=2, max_burst=4, fifo_words=8))
    assert (p.lanes, p.max_burst, p.fifo_words, p.drain) == (2, 4, 8, 3)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"^lanes must be >= 1, not 0$"):
        PipelineTiming(lanes=0)
    with pytest.raises(TypeError, match=r"^latency must be an integer, not 1.5$"):
        PipelineTiming(latency=1.5)
    with pytest.raises(ValueError, match=r"^fifo_words must be >= max_burst=8, not 4; "):
        PipelineTiming(max_burst=8, fifo_words=4)
    with pytest.raises(ValueError, match=r"^starts and lengths must be 1-D of equal length"):
        PipelineTiming().timing([0, 1], [1])


@pytest.mark.parametrize("name,record", _workloads())
def test_matches_rtl_cycle_counts(name, record):
    prm = record["parameters"]
    pipe = PipelineTiming(max_burst=prm["max_burst"], fifo_words=prm["fifo_words"],
                           latency=prm["latency"], lanes=1)
    events = 0
    for step in record["steps"]:
        t = pipe.timing(step["row_start"], step["row_length"])
        # difference 0, per spike and per step
        np.testing.assert_array_equal(t.accept, step["accept"])
        np.testing.assert_array_equal(t.done, step["done"])
        assert t.cycles == step["cycles"]
        events += sum(step["row_length"])
    assert events >= record["synaptic_events"]
