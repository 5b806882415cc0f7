"""The backend's state: lazy build, continued runs, reset, determinism over partitions."""

import numpy as np
import pytest

import pyNN.neuroaix
from pyNN.parameters import Sequence

from neuroaix.recordings import spike_times_ms


def _network(sim, partitions=1, threads=None, seed=12345):
    sim.setup(timestep=0.1, rng_seed=seed, partitions=partitions, threads=threads)
    noise = sim.Population(40, sim.SpikeSourcePoisson(rate=200.0), label="noise")
    exc = sim.Population(60, sim.IF_curr_exp(tau_syn_E=2.0, tau_refrac=2.0), label="exc",
                         initial_values={"v": sim.RandomDistribution("normal", (-60.0, 3.0),
                                                                     rng=sim.NumpyRNG(1))})
    inh = sim.Population(15, sim.IF_curr_exp(i_offset=0.4), label="inh")
    sim.Projection(noise, exc, sim.FixedNumberPreConnector(10),
                   sim.StaticSynapse(weight=0.4, delay=1.0))
    sim.Projection(exc, inh, sim.FixedProbabilityConnector(0.2),
                   sim.StaticSynapse(weight=sim.RandomDistribution(
                       "normal_clipped", (0.3, 0.05, 0.0, np.inf)), delay=1.5))
    sim.Projection(inh, exc, sim.FromListConnector([(i, (7 * i) % 60, -0.5, 0.8)
                                                    for i in range(15)]),
                   receptor_type="inhibitory")
    for pop in (noise, exc, inh):
        pop.record("spikes")
    exc[:5].record("v")
    return noise, exc, inh


def _spikes(pops):
    return [[np.asarray(st.magnitude).tolist() for st in p.get_data().segments[0].spiketrains]
            for p in pops]


def test_stepwise_runs_continue_one_simulation():
    pops = _network(pyNN.neuroaix)
    pyNN.neuroaix.run(60.0)
    pyNN.neuroaix.run(40.0)
    split = _spikes(pops), pops[1].get_data().segments[0].analogsignals[0].magnitude
    pops = _network(pyNN.neuroaix)
    pyNN.neuroaix.run(100.0)
    whole = _spikes(pops), pops[1].get_data().segments[0].analogsignals[0].magnitude
    assert pyNN.neuroaix.get_current_time() == pytest.approx(100.0)
    assert split[0] == whole[0]
    assert np.array_equal(split[1], whole[1])
    assert sum(len(t) for t in whole[0][1]) > 0


def test_the_same_script_gives_the_same_spikes_for_any_partitions_and_threads():
    results = []
    for partitions, threads in ((1, 1), (3, 2), (7, 1)):
        pops = _network(pyNN.neuroaix, partitions=partitions, threads=threads)
        pyNN.neuroaix.run(80.0)
        results.append(_spikes(pops))
    assert results[0] == results[1] == results[2]
    assert sum(len(t) for t in results[0][0]) > 100


def test_the_seed_changes_the_network():
    a = _network(pyNN.neuroaix, seed=1)
    pyNN.neuroaix.run(50.0)
    first = _spikes(a)
    b = _network(pyNN.neuroaix, seed=2)
    pyNN.neuroaix.run(50.0)
    assert _spikes(b)[0] != first[0]


def test_reset_starts_again_from_the_initial_state_in_a_new_segment():
    pops = _network(pyNN.neuroaix)
    pyNN.neuroaix.run(50.0)
    pyNN.neuroaix.reset()
    assert pyNN.neuroaix.get_current_time() == 0.0
    pyNN.neuroaix.run(50.0)
    block = pops[1].get_data()
    assert len(block.segments) == 2
    first, second = ([st.magnitude.tolist() for st in seg.spiketrains] for seg in block.segments)
    assert first == second


def test_structural_changes_during_a_simulation_are_refused(sim):
    pop = sim.Population(2, sim.IF_curr_exp())
    sim.run(1.0)
    with pytest.raises(RuntimeError, match=r"^neuroaix cannot change initial values during "
                                           r"a simulation: the network is built at the first "
                                           r"run\(\); make the change before it, or call "
                                           r"reset\(\) first$"):
        pop.initialize(v=-60.0)
    with pytest.raises(RuntimeError, match=r"cannot change the populations"):
        sim.Population(1, sim.IF_curr_exp())
    with pytest.raises(RuntimeError, match=r"cannot change the projections"):
        sim.Projection(pop, pop, sim.AllToAllConnector())
    sim.reset()
    pop.initialize(v=-60.0)
    sim.run(1.0)
    assert sim.get_current_time() == 1.0


def test_setup_reports_rank_and_processes_and_checks_its_options(sim):
    assert sim.setup(timestep=0.25, min_delay=0.5) == 0
    assert (sim.rank(), sim.num_processes()) == (0, 1)
    assert (sim.get_time_step(), sim.get_min_delay(), sim.get_max_delay()) == (0.25, 0.5, 63.75)
    with pytest.raises(ValueError, match=r"^max_delay=30.0 ms exceeds neuroaix's 255 steps of "
                                         r"0.1 ms; use max_delay <= 25.5$"):
        sim.setup(timestep=0.1, max_delay=30.0)
    with pytest.raises(ValueError, match=r"backend"):
        sim.setup(backend="gpu-ish")


def _sources_network(partitions):
    sim = pyNN.neuroaix
    sim.setup(timestep=0.1, partitions=partitions, threads=1)
    rng = np.random.default_rng(4)
    times = [np.sort(rng.uniform(1.0, 80.0, 30)).round(1).tolist() for _ in range(12)]
    src = sim.Population(12, sim.SpikeSourceArray(spike_times=times), label="src")
    alpha = sim.Population(9, sim.IF_curr_alpha(tau_syn_E=1.0, v_thresh=-60.0), label="a")
    delta = sim.Population(7, sim.IF_curr_delta(v_thresh=-62.0), label="d")
    sim.Projection(src, alpha, sim.FixedProbabilityConnector(0.5),
                   sim.StaticSynapse(weight=0.6, delay=1.0))
    sim.Projection(src, delta, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.9, delay=2.0))
    sim.Projection(alpha, delta, sim.FixedNumberPostConnector(2),
                   sim.StaticSynapse(weight=-0.5, delay=1.0), receptor_type="inhibitory")
    sim.StepCurrentSource(times=[20.0, 60.0], amplitudes=[0.3, 0.0]).inject_into(alpha[:4])
    for pop in (src, alpha, delta):
        pop.record("spikes")
    return src, alpha, delta


def test_new_cell_types_and_inputs_give_the_same_spikes_for_any_partitions():
    results = []
    for partitions in (1, 4):
        pops = _sources_network(partitions)
        pyNN.neuroaix.run(90.0)
        results.append(_spikes(pops))
    assert results[0] == results[1]
    assert all(sum(len(t) for t in pop) > 0 for pop in results[0])


def _changed_times(partitions):
    sim = pyNN.neuroaix
    sim.setup(timestep=0.1, partitions=partitions)
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[2.0, 12.0]))
    cells = sim.Population(3, sim.IF_curr_exp())
    sim.Projection(src, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=2.0))
    for pop in (src, cells):
        pop.record("spikes")
    sim.run(10.0)
    src.set(spike_times=[Sequence([5.0, 15.0]), Sequence([10.0, 10.1, 18.0])])
    sim.run(10.0)
    return sim, src, cells


def test_spike_times_changed_between_runs_apply_to_future_steps_only():
    def ms(steps):
        return spike_times_ms(steps, 0.1).tolist()

    results = []
    for partitions in (1, 4):
        sim, src, cells = _changed_times(partitions)
        results.append(_spikes((src, cells)))
    # 5.0 and 10.0 ms are past at t = 10 ms (ignored); 12.0 ms is replaced
    assert results[0][0] == [ms([19, 149]), ms([19, 100, 179])]
    assert results[0] == results[1]
    sim.reset()
    sim.run(20.0)
    assert [st.magnitude.tolist() for st in src.get_data().segments[1].spiketrains] == \
        [ms([49, 149]), ms([99, 100, 179])]
