"""Cell types and current sources: closed-form spike times, Poisson rates, refused types."""

import math

import numpy as np
import pytest


def _first_step(i_na, cm=1.0, tau_m=20.0, v_rest=-65.0, v_thresh=-50.0, dt=0.1):
    """Return m: the DC-driven LIF from rest crosses threshold after ceil(t*/dt) steps."""
    t_star = -tau_m * math.log(1.0 - (v_thresh - v_rest) * cm / (i_na * tau_m))
    m = math.ceil(t_star / dt)
    assert abs(t_star / dt - round(t_star / dt)) > 1e-3, "too close to the grid for the test"
    return m


@pytest.mark.parametrize("i_na, tau_refrac", [(0.9, 2.0), (1.3, 0.5), (3.0, 5.0)])
def test_dc_driven_spike_times_equal_the_closed_form(sim, i_na, tau_refrac):
    cells = sim.Population(2, sim.IF_curr_exp(tau_refrac=tau_refrac), label="cells")
    sim.DCSource(amplitude=i_na).inject_into(cells)
    cells.record("spikes")
    sim.run(300.0)
    m, r = _first_step(i_na), round(tau_refrac / 0.1)
    expected = [(m + j * (m + r)) for j in range(100) if (m + j * (m + r)) * 0.1 <= 300.0]
    for train in cells.get_data().segments[0].spiketrains:
        assert np.round(train.magnitude / 0.1).astype(int).tolist() == expected


def test_i_offset_acts_as_a_dc_source(sim):
    cells = sim.Population(1, sim.IF_curr_exp(i_offset=1.3, tau_refrac=0.5))
    cells.record("spikes")
    sim.run(100.0)
    m = _first_step(1.3)
    assert np.round(cells.get_data().segments[0].spiketrains[0].magnitude[:2] / 0.1).astype(
        int).tolist() == [m, 2 * m + 5]


def test_poisson_sources_fire_at_their_rate_with_at_most_one_spike_per_step(sim):
    src = sim.Population(500, sim.SpikeSourcePoisson(rate=40.0))
    src.record("spikes")
    sim.run(1000.0)
    trains = src.get_data().segments[0].spiketrains
    counts = np.array([len(t) for t in trains])
    expected = 500 * 40.0
    assert abs(counts.sum() - expected) < 5 * math.sqrt(expected)
    steps = np.concatenate([np.round(t.magnitude / 0.1) for t in trains])
    assert all(len(np.unique(np.round(t.magnitude / 0.1))) == len(t) for t in trains)
    assert steps.min() >= 2
    isi = np.concatenate([np.diff(t.magnitude) for t in trains])
    assert 0.95 < isi.std() / isi.mean() < 1.05


@pytest.mark.parametrize("make, message", [
    (lambda s: s.IF_cond_exp(), r"^IF_cond_exp is not supported by neuroaix; supported cell "
                                r"types: IF_curr_exp, IF_curr_alpha, IF_curr_delta, "
                                r"SpikeSourcePoisson, SpikeSourceArray$"),
    (lambda s: s.Izhikevich(), r"^Izhikevich is not supported by neuroaix; supported cell "
                               r"types: "),
    (lambda s: s.TsodyksMarkramSynapse(), r"^TsodyksMarkramSynapse is not supported by "
                                          r"neuroaix; supported synapse types: StaticSynapse$"),
    (lambda s: s.STDPMechanism(), r"^STDPMechanism is not supported by neuroaix; supported "
                                  r"synapse types: StaticSynapse$"),
    (lambda s: s.NoisyCurrentSource(), r"^NoisyCurrentSource is not supported by neuroaix; "
                                       r"supported current sources: DCSource, "
                                       r"StepCurrentSource, ACSource$"),
])
def test_unsupported_types_are_refused_where_they_are_created(sim, make, message):
    with pytest.raises(NotImplementedError, match=message):
        make(sim)


def test_cells_of_different_parameters_and_inputs_follow_their_own_closed_form(sim):
    from neuroaix.pynn.simulator import state

    i_na = np.array([0.9, 1.3, 1.3, 3.0, 0.9])
    cells = sim.Population(5, sim.IF_curr_exp(tau_refrac=[2.0, 2.0, 0.5, 0.5, 0.5]))
    sim.DCSource(amplitude=0.9).inject_into(cells[[0, 4]])
    sim.DCSource(amplitude=1.3).inject_into(cells[1:3])
    sim.DCSource(amplitude=3.0).inject_into(cells[[3]])
    cells.record("spikes")
    sim.run(100.0)
    assert [p.size for p in state.network().populations] == [1, 1, 1, 1, 1]
    for i, train in enumerate(cells.get_data().segments[0].spiketrains):
        m, r = _first_step(i_na[i]), round(cells.get("tau_refrac")[i] / 0.1)
        steps = np.round(train.magnitude[:2] / 0.1).astype(int).tolist()
        assert steps == [m, 2 * m + r]


def test_equal_neighbours_share_one_engine_population(sim):
    from neuroaix.pynn.simulator import state

    sim.Population(6, sim.IF_curr_exp(tau_m=[10.0, 10.0, 12.0, 12.0, 12.0, 10.0]), label="het")
    sim.run(0.1)
    assert [(p.name, p.size) for p in state.network().populations] == [
        ("het[0:2]", 2), ("het[2:5]", 3), ("het[5:6]", 1)]


def test_time_varying_poisson_sources_are_refused_by_name(sim):
    sim.Population(2, sim.SpikeSourcePoisson(rate=5.0, start=50.0))
    with pytest.raises(ValueError, match=r"^SpikeSourcePoisson\(start=50.0, "):
        sim.run(1.0)


def test_dc_with_start_and_stop_and_step_currents_act_from_the_step_after(sim):
    cells = sim.Population(3, sim.IF_curr_exp(tau_refrac=2.0, v_thresh=1e4), label="cells")
    sim.DCSource(amplitude=0.5, start=10.0, stop=20.0).inject_into(cells[[0]])
    sim.DCSource(amplitude=0.5, stop=20.0).inject_into(cells[[1]])
    sim.StepCurrentSource(times=[5.0, 15.0], amplitudes=[0.2, -0.1]).inject_into(cells[[2]])
    cells.record("v")
    sim.run(30.0)
    v = cells.get_data().segments[0].analogsignals[0].magnitude  # v[k]: after step k - 1
    rises = [int(np.flatnonzero(v[:, i] != -65.0)[0]) for i in range(3)]
    # a current from time T (step k = T/dt) first moves v in the update of step k
    assert rises == [101, 1, 51]
    top = [int(np.argmax(v[:, i])) for i in range(2)]
    assert top == [200, 200]  # off from stop = 20 ms: v falls in the update of step 200


def test_current_cannot_go_into_a_spike_source(sim):
    src = sim.Population(2, sim.SpikeSourcePoisson())
    with pytest.raises(TypeError, match=r"^cannot inject current into a SpikeSourcePoisson"):
        sim.DCSource(amplitude=1.0).inject_into(src)


def test_parameters_read_back_in_pynn_units(sim):
    pop = sim.Population(2, sim.IF_curr_exp(cm=0.25, i_offset=0.1, tau_m=10.0))
    assert pop.get("cm") == pytest.approx(0.25)
    assert pop.get("i_offset") == pytest.approx(0.1)
    assert sim.list_standard_models() == ["IF_curr_exp", "IF_curr_alpha", "IF_curr_delta",
                                          "SpikeSourcePoisson", "SpikeSourceArray"]


def _poisson_drive(sim, record_sources):
    src = sim.Population(20, sim.SpikeSourcePoisson(rate=10000.0), label="drive")
    cells = sim.Population(20, sim.IF_curr_exp(tau_syn_E=2.0, v_thresh=1e4), label="cells")
    prj = sim.Projection(src, cells, sim.OneToOneConnector(),
                         sim.StaticSynapse(weight=0.01, delay=1.0))
    if record_sources:
        src.record("spikes")
    cells.record("isyn_exc")
    return src, cells, prj


def test_one_to_one_poisson_sources_become_their_targets_own_poisson_input(sim):
    from neuroaix.pynn.simulator import state

    src, cells, prj = _poisson_drive(sim, record_sources=False)
    sim.run(1000.0)
    net = state.network()
    assert net.projections == [] and net.poisson == {1: (10000.0, 1, 10.0)}
    assert prj.get("weight", format="list")[:2] == [(0, 0, 0.01), (1, 1, 0.01)]
    isyn = cells.get_data().segments[0].analogsignals[0].magnitude[100:]
    # the mean of the sampled exponential current: rate dt w / (1 - exp(-dt / tau_syn)) nA
    expected = 10000.0 * 1e-4 * 0.01 / -math.expm1(-0.1 / 2.0)
    assert abs(isyn.mean() / expected - 1.0) < 0.01
    with pytest.raises(RuntimeError, match=r"^neuroaix folded these Poisson sources"):
        src.record("spikes")


def test_recorded_poisson_sources_stay_neurons_and_are_limited_to_one_spike_per_step(sim):
    from neuroaix.pynn.simulator import state

    _poisson_drive(sim, record_sources=True)
    with pytest.raises(ValueError, match=r"^SpikeSourcePoisson rate=10000.0 Hz must lie in "
                                         r"\[0, 10000\) Hz at dt=0.1 ms$"):
        sim.run(1.0)
    sim.setup()
    src = sim.Population(5, sim.SpikeSourcePoisson(rate=100.0))
    cells = sim.Population(5, sim.IF_curr_exp())
    sim.Projection(src, cells, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.1))
    src.record("spikes")
    sim.run(1.0)
    assert [p.rule for p in state.network().projections] == ["one_to_one"]


def _ac_closed_form(k, dt, amplitude, offset, frequency, phase, start):
    """The AC current (pA, quantised to the I format) in the update of step ``k``."""
    a = 1000.0 * offset + 1000.0 * amplitude * math.sin(
        2.0 * math.pi * frequency * (k * dt - start) / 1000.0 + math.radians(phase))
    return math.floor(a * 4096.0 + 0.5) / 4096.0


def test_ac_source_is_the_sine_sampled_once_per_step(sim):
    p = dict(amplitude=0.5, offset=0.1, frequency=70.0, phase=30.0, start=2.0)
    cells = sim.Population(2, sim.IF_curr_exp(v_thresh=1e4), label="cells")
    ac = sim.ACSource(stop=12.0, **p)
    ac.inject_into(cells[[0]])
    ac.record()
    # the same current, given as a step current of the closed form's per-step amplitudes
    steps = np.arange(20, 120)
    amps = [_ac_closed_form(int(k), 0.1, **p) / 1000.0 for k in steps]
    sim.StepCurrentSource(times=np.r_[steps, 120] * 0.1, amplitudes=amps + [0.0]).inject_into(
        cells[[1]])
    cells.record("v")
    sim.run(15.0)
    i = ac.get_data().magnitude[:, 0]
    assert i.size == 151 and (i[:20] == 0.0).all() and (i[120:] == 0.0).all()
    assert i[20:120].tolist() == amps
    v = cells.get_data().segments[0].analogsignals[0].magnitude
    assert np.array_equal(v[:, 0], v[:, 1])
    assert (v[:21, 0] == -65.0).all() and v[21, 0] != -65.0  # acts in the update of step 20


def test_open_ended_ac_source_continues_over_runs(sim):
    def trace(runs):
        sim.setup(timestep=0.1)
        cells = sim.Population(1, sim.IF_curr_delta(v_thresh=-64.0, tau_refrac=1.0))
        sim.ACSource(amplitude=1.0, offset=0.2, frequency=25.0).inject_into(cells)
        cells.record(["v", "spikes"])
        for t in runs:
            sim.run(t)
        seg = cells.get_data().segments[0]
        return seg.analogsignals[0].magnitude[:, 0], seg.spiketrains[0].magnitude.tolist()

    one, split = trace([120.0]), trace([5.0, 30.0, 0.1, 84.9])
    assert np.array_equal(one[0], split[0]) and one[1] == split[1] and len(one[1]) > 3
