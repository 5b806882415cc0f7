"""Populations, views, assemblies and initial values."""

import numpy as np
import pytest


def test_ids_are_global_ids_and_views_address_them(sim):
    a = sim.Population(5, sim.IF_curr_exp(), label="a")
    b = sim.Population(3, sim.IF_curr_exp(), label="b")
    assert [int(i) for i in a.all_cells] == [0, 1, 2, 3, 4]
    assert [int(i) for i in b.all_cells] == [5, 6, 7]
    view = a[[1, 3]]
    assert [int(i) for i in view] == [1, 3]
    asm = a + b
    assert asm.size == 8 and asm.id_to_index(6) == 6


def test_initialize_sets_potentials_per_cell(sim):
    pop = sim.Population(4, sim.IF_curr_exp())
    pop.initialize(v=np.array([-70.0, -66.0, -62.0, -58.0]))
    pop[2:].initialize(v=-55.0)
    pop.record("v")
    sim.run(0.1)
    v0 = pop.get_data().segments[0].analogsignals[0].magnitude[0]
    assert v0.tolist() == [-70.0, -66.0, -55.0, -55.0]


def test_initialize_with_a_random_distribution_uses_its_rng(sim):
    def first_v(seed):
        sim.setup()
        pop = sim.Population(50, sim.IF_curr_exp())
        pop.initialize(v=sim.RandomDistribution("uniform", (-70.0, -60.0),
                                                rng=sim.NumpyRNG(seed)))
        pop.record("v")
        sim.run(0.1)
        return pop.get_data().segments[0].analogsignals[0].magnitude[0]
    a, b = first_v(3), first_v(3)
    assert np.array_equal(a, b) and a.min() >= -70.0 and a.max() <= -60.0 and a.std() > 1.0


def test_synaptic_currents_start_at_zero(sim):
    pop = sim.Population(2, sim.IF_curr_exp())
    with pytest.raises(ValueError, match=r"^neuroaix starts every synaptic current at 0; "
                                         r"'isyn_exc' can only be initialised to 0$"):
        pop.initialize(isyn_exc=0.1)


def test_view_parameters_write_to_the_parent(sim):
    pop = sim.Population(4, sim.IF_curr_exp())
    pop[1:3].set(tau_m=15.0)
    assert pop.get("tau_m").tolist() == [20.0, 15.0, 15.0, 20.0]
    assert pop[1:3].get("tau_m") == 15.0
