import json
from pathlib import Path

import numpy as np
import pytest

from neuroaix.emulator.config import NodeConfig
from neuroaix.emulator.pipeline import SynapsePipeline

RTL_CYCLES = Path(__file__).parents[1] / "data" / "rtl_cycles.json"


def test_closed_form_schedule():
    p = SynapsePipeline(lanes=2, depth=3, overhead=1)
    start, last = p.schedule([0, 0, 10, 11], [5, 0, 1, 4])
    # spike 0: 1 + 3 cycles from 0, free at 4; spike 1 empty; spike 2 from 10: free 12;
    # spike 3 ready at 11, waits for 12: 1 + 2 cycles, free at 15
    np.testing.assert_array_equal(start, [0, -1, 10, 12])
    np.testing.assert_array_equal(last, [3 + 3, -1, 11 + 3, 14 + 3])
    assert p.total_cycles([0, 0, 10, 11], [5, 0, 1, 4]) == 18
    assert p.total_cycles([], []) == 0


def test_busy_cycles_and_config():
    p = SynapsePipeline.from_config(NodeConfig(synapse_lanes=8, spike_overhead_cycles=2))
    np.testing.assert_array_equal(p.busy_cycles([0, 1, 8, 9]), [0, 3, 3, 4])


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"^lanes must be >= 1, not 0$"):
        SynapsePipeline(lanes=0)
    with pytest.raises(TypeError, match=r"^depth must be an integer, not 1.5$"):
        SynapsePipeline(depth=1.5)
    with pytest.raises(ValueError, match=r"^ready and n_synapses must be 1-D of equal length"):
        SynapsePipeline().schedule([0, 1], [1])


@pytest.mark.skipif(not RTL_CYCLES.exists(),
                    reason="tests/data/rtl_cycles.json (recorded by the RTL tests) is missing")
def test_matches_rtl_cycle_counts():
    data = json.loads(RTL_CYCLES.read_text())
    assert data, "no recorded workloads"
    pytest.fail("pending")
