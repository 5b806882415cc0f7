import numpy as np
import pytest
from neuroaix.emulator.config import NodeConfig
from neuroaix.emulator.node import NodeModel, node_cycles

from neuroaix import timing


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


def _quiet_node(n_local, U, L=1):
    return timing.NodeTiming(n_local=n_local, n_neurons=n_local, update_lanes=U,
                             synapse_lanes=L, banks=1 << (max(L, U) - 1).bit_length(),
                             max_burst=8, fifo_words=16, spike_fifo=16, gid_base=0,
                             gid_stride=1, external=False, n_sources=n_local)


@pytest.mark.parametrize("n_local, U", [(2205, 1), (2205, 10), (62, 3), (7, 16)])
def test_node_cycles_of_a_quiet_step(n_local, U):
    """docs/rtl_node.md: a step without spikes costs ceil(n_local / U) + 14 cycles."""
    assert timing.NODE_QUIET_OVERHEAD == 14
    zero = np.zeros(n_local, np.int64)
    got = node_cycles(_quiet_node(n_local, U), timing.fixed_latency(20), [[]] * 3, None,
                      zero, zero, np.zeros(8, np.int64))
    assert got.cycles.tolist() == [-(-n_local // U) + timing.NODE_QUIET_OVERHEAD] * 3
    assert got.events.tolist() == [0, 0, 0]


def test_node_cycles_of_a_spike_onto_one_bank():
    """One spike of a 4-neuron node whose 16 synapses all lie in one bank: one synapse per
    cycle whatever L is, and the clears of beats in that bank wait for the delivery."""
    node = _quiet_node(4, 4, 8)
    starts = np.zeros(4, np.int64)
    lengths = np.array([16, 0, 0, 0], np.int64)
    out = {}
    for banks in ([0] * 16, list(range(8)) * 2):
        got = node_cycles(node, timing.fixed_latency(20), [[0]], None, starts, lengths,
                          np.array(banks, np.int64))
        out[banks[1]] = got
        assert got.events.tolist() == [16] and got.words.tolist() == [2]
    assert out[0].issue_cycles.tolist() == [16]
    assert out[1].issue_cycles.tolist() == [2]
    assert out[0].cycles[0] > out[1].cycles[0]


def test_node_cycles_rejects_bad_input():
    node = _quiet_node(4, 1)
    zero = np.zeros(4, np.int64)
    memory = timing.fixed_latency(20)
    with pytest.raises(TypeError, match=r"^node must be a neuroaix.timing.NodeTiming"):
        node_cycles((4, 4), memory, [[]], None, zero, zero, zero)
    with pytest.raises(ValueError, match=r"^spikes_local must be local neurons in \[0, 4\)$"):
        node_cycles(node, memory, [[4]], None, zero, zero, zero)
    with pytest.raises(ValueError, match=r"^external must have one entry per step \(2\), not 1$"):
        node_cycles(node, memory, [[], []], [[]], zero, zero, zero)
    with pytest.raises(ValueError, match=r"^external must give the other nodes' spikes"):
        node_cycles(node._replace(external=True), memory, [[]], None, zero, zero, zero)
    with pytest.raises(ValueError, match=r"^row_start and row_length must have n_sources=4"):
        node_cycles(node, memory, [[]], None, zero[:3], zero[:3], zero)
