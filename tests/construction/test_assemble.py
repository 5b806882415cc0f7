"""Tests of neuroaix.construction.assemble: the seam between the network API and construction."""

import numpy as np

from neuroaix import models
from neuroaix.construction import PopulationSpec, ProjectionSpec, build_network
from neuroaix.distributions import Normal
from neuroaix.neuron import LIF


def test_build_network_from_specs_equals_the_api_build():
    net = models.brunel(0.02, seed=9)
    via_api = net.build(partitions=3, threads=2)
    direct = build_network(net._population_specs(), net._specs(), dt=net.dt, seed=net.seed,
                           partitions=3, threads=2)
    assert direct.synapse_hash() == via_api.synapse_hash()
    for name in ("pop_of", "v0", "coefficients", "poisson_table", "poisson_weight",
                 "has_poisson"):
        np.testing.assert_array_equal(getattr(direct, name), getattr(via_api, name))
    assert (direct.max_delay, direct.ring_depth) == (via_api.max_delay, via_api.ring_depth)


def test_build_network_reads_only_specs():
    pops = [PopulationSpec(name="A", start=0, size=5, model=LIF(I_e=3.0),
                           v_init=Normal(-65.0, 0.0), poisson=(8.0, 10, 20.0)),
            PopulationSpec(name="B", start=5, size=2, model=LIF(), v_init=Normal(-60.0, 0.0))]
    proj = ProjectionSpec(rule="all_to_all", pre_start=0, n_pre=5, post_start=5, n_post=2,
                          same_pop=False, allow_autapses=True, allow_multapses=False,
                          w_mean=1.0, d_mean=0.3)
    built = build_network(pops, [proj], dt=0.1, seed=1, partitions=2, threads=1, only=(1,))
    assert built.populations == [("A", 0, 5), ("B", 5, 7)]
    assert built.has_poisson.tolist() == [True, False]
    assert tuple(built.coefficients[0]) == tuple(LIF(I_e=3.0).quantise(0.1))
    assert built.owned == (1,) and built.partitions[0].n_synapses == 0
    assert built.partitions[1].n_synapses == 5  # B's neuron 6 lives on partition 1
    assert (built.max_delay, built.ring_depth) == (3, 4)
