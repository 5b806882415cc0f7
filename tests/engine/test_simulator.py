"""neuroaix.engine.simulator: exactness against the reference, invariance, lifecycle, checkpoints."""

import os
import signal
import threading

import numpy as np
import pytest

from neuroaix.engine import Simulator, spike_hash
from neuroaix.network import Network

from neuroaix import numerics as nx
from neuroaix.neuron import LIF, LIFAlpha, LIFDelta
from neuroaix.reference import run_fixed

from .conftest import assert_same_run, models_network, small_network


def test_every_backend_equals_the_reference(backend, reference_run):
    built, ref = reference_run
    sim = backend.simulator(built)
    sim.run_steps(400)
    assert len(ref.spikes()[0]) > 80  # the network is active
    assert_same_run(sim, ref)


def test_saturation_is_counted_identically(backend):
    net = small_network(w=60_000.0, rate_hz=20_000.0)  # absurd weights: currents saturate
    built = net.build(partitions=2)
    ref = Simulator(built, backend="reference", progress=False)
    ref.run_steps(60)
    sim = backend.simulator(built)
    sim.run_steps(60)
    assert ref.counters["saturations"] > 0
    assert_same_run(sim, ref)


def test_synapses_in_flight_between_runs_are_counted_once(backend):
    """Runs of 7, 13, 1 and 39 steps: every run ends with synapses still in flight (the CPU
    engine delivers them late, docs/performance.md), and the rings, state, events and
    saturation counts still equal the reference's one run."""
    built = small_network(w=60_000.0, rate_hz=20_000.0).build(partitions=3)
    ref = Simulator(built, backend="reference", progress=False)
    ref.run_steps(60)
    sim = backend.simulator(built)
    for n in (7, 13, 1, 39):
        sim.run_steps(n)
    assert ref.counters["saturations"] > 0
    assert_same_run(sim, ref)


def test_probes_equal_the_reference(backend, reference_run):
    built, _ = reference_run
    ref = Simulator(built, backend="reference", probes=[3, 57, 99], progress=False)
    sim = backend.simulator(built, probes=[3, 57, 99])
    for s in (ref, sim):
        s.simulate(2.0, record=False)
        s.simulate(3.0)
    a, b = sim.probes(), ref.probes()
    assert a["v_rel_mv"].shape == (3, 30) and list(a["steps"]) == list(range(20, 50))
    for key in ("steps", "v_rel_mv", "i_ex_pa", "i_in_pa"):
        np.testing.assert_array_equal(a[key], b[key])


def _assert_same_run(sim, straight):
    """Assert that ``sim`` has the raster, counters and state of ``straight``."""
    assert sim.spike_hash() == straight.spike_hash()
    assert sim.counters == straight.counters
    for key, value in straight.state().items():
        np.testing.assert_array_equal(sim.state()[key], value)


@pytest.mark.parametrize("partitions_after", [1, 4])
def test_checkpoints_move_between_backends(tmp_path, backend, partitions_after):
    net = small_network()
    straight = Simulator(net.build(partitions=2), backend="reference", progress=False)
    straight.run_steps(120)
    first = backend.simulator(net.build(partitions=3))
    first.run_steps(70)
    first.checkpoint(tmp_path / "a.npz")
    on_ref = Simulator.restore(net.build(partitions=partitions_after), tmp_path / "a.npz",
                               backend="reference", progress=False)
    on_ref.checkpoint(tmp_path / "b.npz")
    back = Simulator.restore(net.build(partitions=partitions_after), tmp_path / "b.npz",
                             backend=backend.name, threads=backend.threads, progress=False)
    assert back.t == 70
    back.run_steps(50)
    _assert_same_run(back, straight)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("partitions", [1, 4, 35])
def test_raster_is_identical_for_threads_and_partitions(threads, partitions):
    net = small_network(n_exc=400, n_inh=100, indegree=50, rate_hz=8000.0)
    base = Simulator(net.build(partitions=1), threads=1, progress=False)
    base.simulate(200.0)
    sim = Simulator(net.build(partitions=partitions, threads=threads), threads=threads,
                    progress=False)
    sim.simulate(200.0)
    assert len(base.spikes()[0]) > 400
    assert sim.spike_hash() == base.spike_hash()
    assert sim.counters == base.counters


def test_simulate_continues_where_it_stopped():
    built = small_network().build(partitions=2)
    one = Simulator(built, threads=1, progress=False)
    one.simulate(30.0)
    two = Simulator(built, threads=1, progress=False)
    two.simulate(10.0)
    two.simulate(20.0)
    assert two.t == one.t == 300
    assert two.spike_hash() == one.spike_hash()


def test_presimulation_is_not_recorded_but_advances_state():
    built = small_network().build(partitions=2)
    full = Simulator(built, threads=1, progress=False)
    full.simulate(30.0)
    pre = Simulator(built, threads=1, progress=False)
    pre.simulate(10.0, record=False)
    pre.simulate(20.0)
    senders, steps = full.spikes()
    late = steps >= 100
    np.testing.assert_array_equal(pre.spikes()[0], senders[late])
    np.testing.assert_array_equal(pre.spikes()[1], steps[late])


@pytest.mark.parametrize("partitions_after", [2, 5])
def test_checkpoint_resume_is_bit_identical(tmp_path, partitions_after):
    net = small_network()
    straight = Simulator(net.build(partitions=2), threads=1, progress=False)
    straight.simulate(40.0)
    first = Simulator(net.build(partitions=2), threads=2, progress=False)
    first.simulate(15.0)
    path = tmp_path / "state.npz"
    first.checkpoint(path)
    assert not os.path.exists(str(path) + ".partial")
    resumed = Simulator.restore(net.build(partitions=partitions_after), path, threads=1,
                                progress=False)
    assert resumed.t == 150
    resumed.simulate(25.0)
    _assert_same_run(resumed, straight)


def test_restore_refuses_another_network(tmp_path):
    sim = Simulator(small_network().build(), threads=1, progress=False)
    sim.checkpoint(tmp_path / "a.npz")
    other = small_network(n_exc=81).build()
    with pytest.raises(ValueError, match=r"was saved for another network"):
        Simulator.restore(other, tmp_path / "a.npz")


def test_interrupt_keeps_a_consistent_prefix():
    net = small_network(n_exc=400, n_inh=100, indegree=50)
    built = net.build(partitions=2)
    full = Simulator(built, threads=1, progress=False)
    full.simulate(200.0)
    sim = Simulator(built, threads=1, progress=False)
    sim.simulate(0.1)  # compile before timing the interrupt
    timer = threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt, match=r"^simulation interrupted at step \d+$"):
        sim.simulate(100_000.0)
    timer.join()
    assert sim.interrupted and 1 < sim.t < 1_000_000
    cont = sim.t
    senders, steps = full.spikes()
    keep = steps < min(cont, 2000)
    got = sim.spikes()
    keep_got = got[1] < min(cont, 2000)
    np.testing.assert_array_equal(got[0][keep_got], senders[keep])


def test_probes_record_state_of_chosen_neurons():
    built = small_network().build(partitions=3)
    sim = Simulator(built, threads=1, probes=[0, 57], progress=False)
    sim.simulate(5.0)
    pr = sim.probes()
    assert pr["v_rel_mv"].shape == (2, 50) and list(pr["steps"]) == list(range(50))
    assert pr["v_rel_mv"][1, -1] == sim.state()["v"][57] / 65536.0


def test_spike_hash_orders_by_step_then_sender():
    a = spike_hash(np.array([5, 2, 9], np.int32), np.array([1, 1, 0], np.int64))
    b = spike_hash(np.array([9, 2, 5], np.int32), np.array([0, 1, 1], np.int64))
    c = spike_hash(np.array([9, 5, 2], np.int32), np.array([0, 1, 2], np.int64))
    assert a == b != c


def test_bad_input_is_named():
    built = small_network().build()
    with pytest.raises(TypeError, match=r"^Simulator needs a built network, not Network; "
                                        r"call net\.build\(partitions=\.\.\.\) first$"):
        Simulator(Network())
    with pytest.raises(ValueError, match=r"^threads must lie in \[1, \d+\], not 99"):
        Simulator(built, threads=99)
    with pytest.raises(ValueError, match=r"^probe ids must lie in \[0, 100\), not 100$"):
        Simulator(built, probes=[100])
    sim = Simulator(built, threads=1, progress=False)
    with pytest.raises(ValueError, match=r"^t_ms must be a non-negative multiple of dt=0\.1 "
                                         r"ms, not 0\.25; use e\.g\. 0\.2"):
        sim.simulate(0.25)
    with pytest.raises(ValueError, match=r"^partition must lie in \[0, 1\), not 3$"):
        sim.ring_buffer(3)
    with pytest.raises(ValueError, match=r"^backend must be one of 'cpu', 'reference'(, "
                                         r"'cuda')?, not 'CPU'; did you mean 'cpu'\?$"):
        Simulator(built, backend="CPU")
    for bad, error, message in [
            (float("nan"), ValueError, r"^t_ms must be a number, not nan; give a finite value$"),
            (float("inf"), ValueError, r"^t_ms must be finite, not inf$"),
            (-1.0, ValueError, r"^t_ms must be >= 0\.0 ms, not -1\.0$"),
            ("10", TypeError, r"^t_ms must be a number in ms, not '10'$")]:
        with pytest.raises(error, match=message):
            sim.simulate(bad)
    with pytest.raises(TypeError, match=r"^n_steps must be an integer, not 2\.5$"):
        sim.run_steps(2.5)
    assert sim.t == 0


@pytest.fixture(scope="module")
def model_hashes():
    """Rasters of the two models on one partition and one thread: the baselines."""
    from neuroaix import models

    nets = {"brunel": models.brunel(scale=0.1, seed=11),
            "microcircuit": models.microcircuit(scale=0.02, seed=11)}
    out = {}
    for name, net in nets.items():
        sim = Simulator(net.build(partitions=1, threads=1), threads=1, progress=False)
        sim.simulate(100.0)
        out[name] = (net, sim.spike_hash(), len(sim.spikes()[0]))
    return out


@pytest.mark.parametrize("model", ["brunel", "microcircuit"])
@pytest.mark.parametrize("threads,partitions", [(2, 1), (1, 4), (2, 4), (2, 35)])
def test_models_are_identical_for_threads_and_partitions(model_hashes, model, threads,
                                                         partitions):
    net, expected, n_spikes = model_hashes[model]
    assert n_spikes > 100
    sim = Simulator(net.build(partitions=partitions, threads=threads), threads=threads,
                    progress=False)
    sim.simulate(100.0)
    assert sim.spike_hash() == expected


def test_progress_bar_shows_readable_times(capsys):
    from neuroaix.engine.simulator import _ProgressBar

    bar = _ProgressBar(1000, enabled=True)
    bar.update(250, 1.0)  # under two seconds: nothing yet
    assert capsys.readouterr().err == ""
    bar.update(250, 200.0)
    bar.close()
    err = capsys.readouterr().err
    assert "25.0%" in err and "3 min 20 s" in err and "eta 10 min" in err
    assert err.endswith("\n")


# Models and inputs beyond iaf_psc_exp (docs/numerics.md, sections 5b-5e) ----------------------


def test_models_and_inputs_equal_the_reference(backend, models_reference_run):
    built, ref = models_reference_run
    sim = backend.simulator(built, probes=[3, 40, 60])
    sim.run_steps(300)
    senders = ref.spikes()[0]
    kinds = built.model_kind[built.pop_of[senders]]
    assert set(kinds.tolist()) == {0, 1, 2, 3}  # every model fires
    assert (ref.state()["d_ex"] != 0).any() and (ref.state()["d_in"] != 0).any()
    assert_same_run(sim, ref)
    for key in ("steps", "v_rel_mv", "i_ex_pa", "i_in_pa"):
        np.testing.assert_array_equal(sim.probes()[key], ref.probes()[key])


@pytest.mark.parametrize("partitions", [1, 2, 5])
def test_models_and_inputs_are_identical_for_partitions(partitions, models_reference_run):
    _, ref = models_reference_run
    sim = Simulator(models_network(min_delay=0.1).build(partitions=partitions, threads=2),
                    threads=2, progress=False)
    sim.run_steps(300)
    assert sim.spike_hash() == ref.spike_hash()
    assert sim.counters == ref.counters
    for key, value in ref.state().items():
        np.testing.assert_array_equal(sim.state()[key], value)


def test_spike_sources_fire_at_their_quantised_times():
    net = Network(dt=0.1)
    net.add_spike_source("S", [[0.05, 1.0, 2.44, 2.46], [], [0.3]])
    sim = Simulator(net.build(partitions=2), threads=1, progress=False)
    sim.run_steps(40)
    senders, steps = sim.spikes()
    # T -> step floor(T/dt + 1/2) - 1: the spike is reported at floor(T/dt + 1/2) * dt
    assert list(zip(senders.tolist(), steps.tolist())) == [(0, 0), (2, 2), (0, 9), (0, 23),
                                                           (0, 24)]
    assert sim.counters["spikes"] == 5


def _changed_sources_run(backend, partitions):
    net = Network(dt=0.1)
    src = net.add_spike_source("S", [[0.5, 1.0, 3.0], [2.0]])
    other = net.add_spike_source("T", [[1.5, 3.5]])
    cells = net.add_population("E", 3, LIF(), v_init=-65.0)
    net.connect(src, cells, rule="all_to_all", weight=900.0, delay=0.2)
    net.connect(other, cells, rule="all_to_all", weight=900.0, delay=0.2)
    sim = Simulator(net.build(partitions=partitions), backend=backend, threads=1,
                    progress=False)
    sim.run_steps(15)
    # steps 0..14 are past: 1.0 and 1.5 ms (steps 9, 14) are ignored, 1.6 ms is step 15
    sim.set_spike_times("S", [[1.0, 1.5, 1.6, 4.0], [2.6]])
    sim.run_steps(30)
    return sim


@pytest.mark.parametrize("backend,partitions", [("cpu", 1), ("cpu", 3), ("reference", 2)])
def test_spike_times_changed_between_runs_act_on_future_steps(backend, partitions):
    sim = _changed_sources_run(backend, partitions)
    senders, steps = sim.spikes()
    sources = [(g, k) for g, k in zip(senders.tolist(), steps.tolist()) if g < 3]
    # the old 0.5 and 1.0 ms stay, 3.0 (source 0) and 2.0 (source 1) are replaced
    assert sources == [(0, 4), (0, 9), (2, 14), (0, 15), (1, 25), (2, 34), (0, 39)]
    assert spike_hash(senders, steps) == _changed_sources_run("cpu", 2).spike_hash()


def test_spike_times_are_set_only_on_sources():
    sim = _changed_sources_run("cpu", 1)
    with pytest.raises(ValueError, match=r"^population 'E' is not a spike source"):
        sim.set_spike_times("E", [[5.0]] * 3)
    with pytest.raises(ValueError, match=r"one sequence of times per source of 'S' \(2\)"):
        sim.set_spike_times("S", [[5.0]])
    with pytest.raises(ValueError, match=r"round to the same step"):
        sim.set_spike_times("S", [[5.0, 5.01], []])
    with pytest.raises(ValueError, match=r"cannot be checkpointed"):
        sim.checkpoint("unused.npz")


@pytest.mark.parametrize("model", [LIF(), LIFAlpha(), LIFDelta()], ids=lambda m: m.kind)
def test_a_neuron_with_a_step_current_follows_the_oracle(model):
    net = Network(dt=0.1)
    pop = net.add_population("N", 2, model)
    net.add_step_current(pop, [1.0, 3.04, 6.0], [500.0, 2000.0, -50.0], neurons=[1])
    net.add_step_current(pop, [2.0], [120.0])
    sim = Simulator(net.build(), threads=1, probes=[0, 1], progress=False)
    sim.run_steps(120)
    coef = model.quantise(0.1)
    for g, changes in ((0, ([20], [nx.pa_to_fixed(120.0)])),
                       (1, ([10, 20, 30, 60], [nx.pa_to_fixed(x) for x in
                                               (500.0, 620.0, 2120.0, 70.0)]))):
        i_stim = [nx.step_current(*changes, t) for t in range(120)]
        v, _, _, spikes, _ = run_fixed(coef, [0] * 120, [0] * 120, kind=model.kind,
                                       i_stim=i_stim)
        np.testing.assert_array_equal(sim.probes()["v_rel_mv"][g], v / 65536.0)
        assert v[10] == 0 if g == 0 else v[10] == 0 and v[11] > 0  # acts from step s + 1
        np.testing.assert_array_equal(sim.spikes()[1][sim.spikes()[0] == g], spikes)
    assert len(sim.spikes()[0]) > 0
