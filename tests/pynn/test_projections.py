"""Connectors on neuroaix's rules: statistics, explicit lists, realised weights, errors."""

import math

import numpy as np
import pytest

from neuroaix import numerics as nx


def _pair(sim, n_pre=200, n_post=150):
    pre = sim.Population(n_pre, sim.IF_curr_exp(), label="pre")
    post = sim.Population(n_post, sim.IF_curr_exp(), label="post")
    return pre, post


def _pairs(prj):
    return np.array(prj.get(["weight"], format="list"))[:, :2].astype(int)


def test_fixed_probability_draws_each_pair_with_p(sim):
    pre, post = _pair(sim)
    prj = sim.Projection(pre, post, sim.FixedProbabilityConnector(0.1),
                         sim.StaticSynapse(weight=0.1))
    n, mean = len(prj), 0.1 * 200 * 150
    assert abs(n - mean) < 5 * math.sqrt(mean * 0.9)
    pairs = _pairs(prj)
    assert len({tuple(p) for p in pairs}) == n  # no multapses


@pytest.mark.parametrize("connector, column, degree", [
    ("FixedNumberPreConnector", 1, 7), ("FixedNumberPostConnector", 0, 5)])
def test_fixed_numbers_give_exact_degrees(sim, connector, column, degree):
    pre, post = _pair(sim)
    prj = sim.Projection(pre, post, getattr(sim, connector)(degree),
                         sim.StaticSynapse(weight=0.1))
    counts = np.bincount(_pairs(prj)[:, column], minlength=(200, 150)[column])
    assert counts.tolist() == [degree] * (200, 150)[column]
    per_pair = np.unique(_pairs(prj), axis=0)
    assert len(per_pair) == len(prj)  # with_replacement=False: no multapses


def test_fixed_total_number_and_all_to_all_and_one_to_one(sim):
    pre, post = _pair(sim, 30, 30)
    total = sim.Projection(pre, post, sim.FixedTotalNumberConnector(123),
                           sim.StaticSynapse(weight=0.1))
    full = sim.Projection(pre, pre, sim.AllToAllConnector(allow_self_connections=False),
                          sim.StaticSynapse(weight=0.1))
    diag = sim.Projection(pre, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.1))
    assert len(total) == 123
    pairs = _pairs(full)
    assert len(full) == 30 * 29 and not (pairs[:, 0] == pairs[:, 1]).any()
    assert sorted(map(tuple, _pairs(diag))) == [(i, i) for i in range(30)]


def test_native_connectors_use_neuroaix_rules_and_others_explicit_lists(sim):
    pre, post = _pair(sim, 20, 20)
    native = sim.Projection(pre, post, sim.FixedProbabilityConnector(0.3),
                            sim.StaticSynapse(weight=0.2, delay=1.0))
    listed = sim.Projection(pre, post, sim.FromListConnector([(0, 1), (3, 2)]),
                            sim.StaticSynapse(weight=0.2, delay=1.0))
    drawn = sim.Projection(pre, post, sim.FixedProbabilityConnector(0.3),
                           sim.StaticSynapse(weight=sim.RandomDistribution(
                               "uniform", (0.1, 0.2), rng=sim.NumpyRNG(5))))
    sim.run(0.1)
    rules = [p.rule for p in pyNN_network(sim).projections]
    assert rules == ["pairwise_bernoulli", "from_list", "from_list"]
    assert len(native) > 0 and len(listed) == 2 and len(drawn) > 0
    w = np.array(drawn.get("weight", format="list", with_address=False))
    assert 0.1 <= w.min() and w.max() <= 0.2


def pyNN_network(sim):
    from neuroaix.pynn.simulator import state
    return state.network()


def test_from_list_and_array_connectors_make_exactly_the_listed_synapses(sim):
    pre, post = _pair(sim, 4, 3)
    conns = [(0, 1, 0.5, 1.0), (3, 2, 0.25, 2.0), (3, 2, 0.125, 0.7), (1, 0, 1.0, 0.1)]
    listed = sim.Projection(pre, post, sim.FromListConnector(conns, column_names=["weight",
                                                                                  "delay"]))
    got = sorted(listed.get(["weight", "delay"], format="list"))
    assert got == sorted(conns)
    matrix = np.array([[1, 0, 0], [0, 0, 1], [0, 0, 0], [1, 1, 0]], bool)
    arr = sim.Projection(pre, post, sim.ArrayConnector(matrix), sim.StaticSynapse(weight=0.1))
    assert sorted(map(tuple, _pairs(arr))) == [(0, 0), (1, 2), (3, 0), (3, 1)]
    weights = listed.get("weight", format="array")
    assert weights[3, 2] == 0.375 and np.isnan(weights[2, 2])


def test_get_weight_returns_the_quantised_weights_and_whole_step_delays(sim):
    pre, post = _pair(sim, 5, 5)
    w_na = 0.1234567
    prj = sim.Projection(pre, post, sim.AllToAllConnector(),
                         sim.StaticSynapse(weight=w_na, delay=1.23))
    quantised = nx.pa_to_fixed(w_na * 1000.0) / 4096.0 / 1000.0
    weights = np.array(prj.get("weight", format="list", with_address=False))
    assert set(weights.tolist()) == {quantised} and quantised != w_na
    assert set(np.round(np.array(prj.get("delay", format="list", with_address=False)) / 0.1,
                        9).tolist()) == {12.0}
    normal = sim.Projection(pre, post, sim.AllToAllConnector(), sim.StaticSynapse(
        weight=sim.RandomDistribution("normal_clipped", (0.2, 0.05, 0.0, np.inf))))
    w = np.array(normal.get("weight", format="list", with_address=False)) * 1000.0 * 4096.0
    assert np.array_equal(w, np.round(w)) and len(set(w.tolist())) > 10


def test_inhibitory_weights_follow_pynn_signs(sim):
    pre, post = _pair(sim, 5, 5)
    sim.Projection(pre, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.5),
                   receptor_type="inhibitory", label="wrong")
    with pytest.raises(ValueError, match=r"^projection 'wrong': weights onto the 'inhibitory' "
                                         r"receptor of a current-based cell must be <= 0 "):
        sim.run(0.1)


def test_views_and_assemblies_connect_through_explicit_lists(sim):
    a, b = _pair(sim, 6, 6)
    both = a + b
    prj = sim.Projection(a[1:4], both, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1),
                         receptor_type="excitatory")
    pairs = _pairs(prj)
    assert len(prj) == 3 * 12
    assert set(pairs[:, 0].tolist()) == {0, 1, 2} and set(pairs[:, 1].tolist()) == set(range(12))
    sim.run(1.0)
    assert len(pyNN_network(sim).projections) == 2  # one per (pre, post) population pair


def test_delays_outside_the_engine_range_are_refused(sim):
    pre, post = _pair(sim, 2, 2)
    sim.Projection(pre, post, sim.FromListConnector([(0, 1, 0.1, 0.01)]))
    with pytest.raises(ValueError, match=r"^delay=0.01 ms rounds to 0 steps of dt=0.1 ms; it "
                                         r"must be 1 to 255 steps"):
        sim.run(1.0)


def test_plastic_synapses_are_refused_at_the_projection(sim):
    pre, post = _pair(sim, 2, 2)
    with pytest.raises(NotImplementedError, match=r"^TsodyksMarkramSynapse is not supported"):
        sim.Projection(pre, post, sim.AllToAllConnector(), sim.TsodyksMarkramSynapse())


def test_projections_onto_cells_of_different_parameters_use_pynn_s_connector(sim):
    pre = sim.Population(10, sim.IF_curr_exp(), label="pre")
    post = sim.Population(4, sim.IF_curr_exp(tau_m=[10.0, 20.0, 20.0, 10.0]), label="post")
    prj = sim.Projection(pre, post, sim.FixedNumberPreConnector(3, rng=sim.NumpyRNG(7)),
                         sim.StaticSynapse(weight=0.1))
    sim.run(0.1)
    assert np.bincount(_pairs(prj)[:, 1]).tolist() == [3, 3, 3, 3]
    assert {p.rule for p in pyNN_network(sim).projections} == {"from_list"}
