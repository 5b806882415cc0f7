"""Tests of neuroaix.construction.built: the BuiltNetwork interface every consumer reads."""

import numpy as np

from neuroaix import formats
from neuroaix import numerics as nx
from neuroaix.distributions import Normal
from neuroaix.network import Network
from neuroaix.neuron import LIF


def _two(n_a, n_b, seed=5):
    net = Network(dt=0.1, seed=seed)
    a = net.add_population("A", n_a, LIF())
    b = net.add_population("B", n_b, LIF())
    return net, a, b


def test_built_network_interface():
    net = Network(dt=0.1, seed=3)
    model = LIF(I_e=10.0)
    e = net.add_population("E", 13, model, v_init=Normal(-60.0, 2.0))
    i = net.add_population("I", 7, LIF(), v_init=-64.0)
    net.connect(e, i, "all_to_all", weight=5.0, delay=Normal(3.0, 1.0, low=0.05, high=9.0))
    net.add_poisson_input(e, rate_hz=8.0, indegree=1600, weight=87.81)
    net.add_dc_input(i, amplitude_pa=42.0)
    b = net.build(3, threads=2)
    assert b.n_neurons == 20 and b.dt == 0.1 and b.seed == 3
    assert b.populations == [("E", 0, 13), ("I", 13, 20)]
    assert b.pop_of.dtype == np.int32 and b.pop_of.tolist() == [0] * 13 + [1] * 7
    assert b.v0.dtype == np.int32 and np.all(b.v0[13:] == nx.mv_to_fixed(1.0))
    assert b.coefficients.dtype == np.int64 and b.coefficients.shape == (2, 10)
    assert tuple(b.coefficients[0]) == tuple(model.quantise(0.1))
    assert tuple(b.coefficients[1]) == tuple(LIF(I_e=42.0).quantise(0.1))
    assert b.poisson_table.dtype == np.int64
    assert tuple(b.poisson_table[0]) == nx.poisson_table(8.0 * 1600 * 0.1 * 1e-3)
    assert np.all(b.poisson_table[1] == 2**32)
    assert b.poisson_weight.tolist() == [nx.pa_to_fixed(87.81), 0]
    assert b.has_poisson.tolist() == [True, False]
    assert 1 <= b.max_delay <= 90 and b.ring_depth > b.max_delay
    assert b.ring_depth & (b.ring_depth - 1) == 0 and b.ring_depth // 2 <= b.max_delay
    assert b.partition_of(14) == 2 and b.local_index(14) == 4
    assert b.gids_of(1).tolist() == [1, 4, 7, 10, 13, 16, 19]
    for part in b.partitions:
        assert part.row_ptr.dtype == np.int64 and part.row_ptr.shape == (21,)
        assert part.words.dtype == np.uint64
        assert part.row_ptr[-1] == len(part.words)
    assert b.n_synapses == 13 * 7
    _, d = formats.unpack_synapses(b.partitions[0].words)[1:]
    assert d.max() <= b.max_delay


def test_ring_depth_is_the_next_power_of_two():
    for delay, depth in ((0.1, 2), (0.7, 8), (0.8, 16), (1.5, 16), (25.5, 256)):
        net, a, b = _two(3, 3)
        net.connect(a, b, "one_to_one", weight=1.0, delay=delay)
        built = net.build(1)
        assert (built.max_delay, built.ring_depth) == (round(delay / 0.1), depth)
