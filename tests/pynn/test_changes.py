"""Changes between runs: cell parameters, current sources and weights set after run().

``run(a); set(...); run(b)`` is defined as the old network run to step ``a`` and the new one
continued from that state (``State.carry``); each test states the same model as a single run
of an equivalent network, or as a closed form, and asks for equality.
"""

import numpy as np
import pytest

from tests.pynn.test_standardmodels import _first_step


def _v(pop):
    return pop.get_data().segments[-1].filter(name="v")[0].magnitude


def _steps(pop):
    return [np.round(t.magnitude / 0.1).astype(int).tolist()
            for t in pop.get_data().segments[-1].spiketrains]


def test_a_dc_amplitude_set_between_runs_equals_a_step_current_changing_then(sim):
    changed = sim.Population(2, sim.IF_curr_exp(v_thresh=-58.0), label="changed")
    stepped = sim.Population(2, sim.IF_curr_exp(v_thresh=-58.0), label="stepped")
    dc = sim.DCSource(amplitude=0.5)
    dc.inject_into(changed)
    sim.StepCurrentSource(times=[0.0, 30.0, 55.0], amplitudes=[0.5, 1.25, 0.75]).inject_into(
        stepped)
    dc.record()
    for pop in (changed, stepped):
        pop.record(["spikes", "v"])
    sim.run(30.0)
    dc.amplitude = 1.25
    sim.run(25.0)
    dc.set_parameters(amplitude=0.75)
    sim.run(20.0)
    assert np.array_equal(_v(changed), _v(stepped))
    assert _steps(changed) == _steps(stepped) and len(_steps(changed)[0]) > 2
    i = dc.get_data().magnitude[:, 0]
    assert i.size == 751 and (i[:300] == 0.5).all() and (i[300:550] == 1.25).all() and \
        (i[550:] == 0.75).all()


def test_i_offset_set_between_runs_acts_from_the_next_update(sim):
    changed = sim.Population(1, sim.IF_curr_exp(i_offset=0.5, v_thresh=-58.0))
    stepped = sim.Population(1, sim.IF_curr_exp(i_offset=0.5, v_thresh=-58.0))
    sim.StepCurrentSource(times=[40.0], amplitudes=[0.75]).inject_into(stepped)
    for pop in (changed, stepped):
        pop.record(["spikes", "v"])
    sim.run(40.0)
    changed.set(i_offset=1.25)
    sim.run(30.0)
    assert np.array_equal(_v(changed), _v(stepped))
    assert _steps(changed) == _steps(stepped)


def test_threshold_and_refractory_period_set_between_runs_follow_the_closed_form(sim):
    i_na = 1.3
    cells = sim.Population(1, sim.IF_curr_exp(i_offset=i_na, tau_refrac=0.5), label="cells")
    cells.record("spikes")
    m = _first_step(i_na)
    first = [m, 2 * m + 5]
    a = first[-1] + 2  # inside the refractory period after the second spike
    sim.run(a * 0.1)
    cells.set(v_thresh=-52.0, tau_refrac=3.0)
    sim.run(100.0)
    m2 = _first_step(i_na, v_thresh=-52.0)
    # the refractory count running at the change keeps its old length (5 steps)
    t, expected = first[-1] + 5 + m2, list(first)
    while t <= a + 1000:
        expected.append(t)
        t += m2 + 30
    assert _steps(cells)[0] == expected


def test_v_rest_set_between_runs_keeps_the_membrane_potential(sim):
    changed = sim.Population(1, sim.IF_curr_exp(v_rest=-65.0), label="changed")
    # from t = 0: the new rest, starting where the changed cell is at the change
    fresh = sim.Population(1, sim.IF_curr_exp(v_rest=-60.0), label="fresh",
                           initial_values={"v": -65.0})
    for pop in (changed, fresh):
        pop.record("v")
    sim.run(10.0)
    changed.set(v_rest=-60.0)
    sim.run(10.0)
    v, f = _v(changed)[:, 0], _v(fresh)[:, 0]
    assert (v[:101] == -65.0).all() and v[101] > -65.0 and v[200] < -60.0
    # V keeps its value in mV at the change and relaxes to the new rest
    assert np.array_equal(v[100:], f[:101])


def test_weights_set_between_runs_equal_sources_split_at_the_change(sim):
    times = [[2.0, 9.0, 14.5, 21.0, 33.0], [5.0, 15.1, 19.4, 27.5]]
    a = 15.0
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=times), label="src")
    early = sim.Population(2, sim.SpikeSourceArray(
        spike_times=[[t for t in ts if t <= a] for ts in times]), label="early")
    late = sim.Population(2, sim.SpikeSourceArray(
        spike_times=[[t for t in ts if t > a] for ts in times]), label="late")
    changed = sim.Population(3, sim.IF_curr_exp(v_thresh=-62.0), label="changed")
    split = sim.Population(3, sim.IF_curr_exp(v_thresh=-62.0), label="split")
    conn, syn = sim.AllToAllConnector(), sim.StaticSynapse(weight=1.0, delay=1.5)
    prj = sim.Projection(src, changed, conn, syn)
    sim.Projection(early, split, conn, syn)
    late_prj = sim.Projection(late, split, conn, syn)
    late_prj.set(weight=np.array([[0.5, 2.0, 1.0], [1.5, 0.25, 3.0]]))
    for pop in (changed, split):
        pop.record(["spikes", "v"])
    sim.run(a)
    prj.set(weight=np.array([[0.5, 2.0, 1.0], [1.5, 0.25, 3.0]]))
    assert prj.get("weight", format="array").tolist() == [[0.5, 2.0, 1.0], [1.5, 0.25, 3.0]]
    sim.run(25.0)
    # spikes sent before the change (in flight at a = 15 ms) keep the old weight
    assert np.array_equal(_v(changed), _v(split))
    assert _steps(changed) == _steps(split) and sum(map(len, _steps(changed))) > 0


def _random_network(partitions, change):
    import pyNN.neuroaix as sim

    sim.setup(timestep=0.1, partitions=partitions, threads=1, rng_seed=7)
    noise = sim.Population(40, sim.SpikeSourcePoisson(rate=40.0), label="noise")
    cells = sim.Population(30, sim.IF_curr_alpha(tau_refrac=2.0), label="cells")
    prj = sim.Projection(noise, cells, sim.FixedProbabilityConnector(0.3),
                         sim.StaticSynapse(weight=0.4, delay=1.0))
    inh = sim.Projection(cells, cells, sim.FixedNumberPreConnector(3),
                         sim.StaticSynapse(weight=-0.2, delay=0.5), receptor_type="inhibitory")
    dc = sim.DCSource(amplitude=0.3)
    dc.inject_into(cells[5:20])
    ac = sim.ACSource(amplitude=0.2, frequency=40.0)
    ac.inject_into(cells[::3])
    cells.record(["spikes", "v"])
    sim.run(40.0)
    if change:
        prj.set(weight=0.7)
        inh.set(delay=2.0)
        dc.amplitude = 0.6
        cells[:10].set(tau_m=12.0, v_rest=-63.0)
    sim.run(60.0)
    out = _steps(cells), _v(cells)
    sim.end()
    return out


def test_changes_between_runs_give_the_same_result_for_any_partitions():
    one, three = _random_network(1, True), _random_network(3, True)
    assert one[0] == three[0] and np.array_equal(one[1], three[1])
    unchanged = _random_network(1, False)
    assert np.array_equal(unchanged[1][:401], one[1][:401])
    assert one[0] != unchanged[0]


def test_what_cannot_change_between_runs_is_refused_by_name(sim):
    src = sim.Population(3, sim.SpikeSourcePoisson(rate=10.0))
    cells = sim.Population(3, sim.IF_curr_exp())
    folded = sim.Projection(src, cells, sim.OneToOneConnector(),
                            sim.StaticSynapse(weight=0.5, delay=1.0))
    rec = sim.Projection(cells, cells, sim.AllToAllConnector(allow_self_connections=False),
                         sim.StaticSynapse(weight=0.1, delay=3.0))
    sim.run(5.0)
    with pytest.raises(NotImplementedError, match=r"folded this projection's Poisson sources"):
        folded.set(weight=0.6)
    with pytest.raises(RuntimeError, match=r"^neuroaix chooses the recorded cells of 'v' at "):
        cells.record("v")
    with pytest.raises(RuntimeError, match=r"^neuroaix cannot change the projections "):
        sim.Projection(src, cells, sim.OneToOneConnector())
    with pytest.raises(ValueError, match=r"weights onto the 'excitatory' receptor must be >= 0"):
        rec.set(weight=-0.1)
    # longer delays are carried (the ring grows); the synapses stay those realised
    rec.set(delay=20.0)
    sim.run(5.0)
    assert rec.get("delay", format="list")[0][2] == 20.0
