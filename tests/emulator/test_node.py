import numpy as np
import pytest
from neuroaix.emulator.config import NodeConfig
from neuroaix.emulator.node import NodeModel


def test_update_phase_of_a_paper_node():
    n = NodeModel(NodeConfig(), 2205)
    assert n.update_cycles == 221 + 30
    assert n.update_fs == 251 * 5_280_026
    assert NodeModel(NodeConfig(), 0).update_cycles == 0


def test_spike_leaves_after_the_pipeline_depth():
    n = NodeModel(NodeConfig(neuron_cores=10, neuron_pipeline_depth=30), 100)
    np.testing.assert_array_equal(n.emit_fs([0, 9, 10, 99]),
                                  np.array([31, 31, 32, 40]) * 5_280_026)


def test_dispatcher_takes_one_spike_per_cycle():
    cfg = NodeConfig(neuron_cores=10, neuron_pipeline_depth=0, neuron_clock_mhz=92.0,
                     spike_clock_mhz=92.0)
    n = NodeModel(cfg, 100)
    # local 0..3 all leave in cycle 1 (same core slot), then queue one per cycle
    np.testing.assert_array_equal(n.dispatch_cycles([0, 1, 2, 3, 50]), [1, 2, 3, 4, 6])
    two = NodeModel(NodeConfig(**{**{f: getattr(cfg, f) for f in cfg.__slots__},
                                  "dispatcher_spikes_per_cycle": 2}), 100)
    np.testing.assert_array_equal(two.dispatch_cycles([0, 1, 2, 3]), [1, 1, 2, 2])


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"^n_local must be >= 0, not -1$"):
        NodeModel(NodeConfig(), -1)
    with pytest.raises(ValueError, match=r"^local_index must lie in \[0, 5\)$"):
        NodeModel(NodeConfig(), 5).emit_fs([5])
