"""neuroaix.nir: NIR graphs read into Networks and written back, exactly where they map.

Most graphs here are written with nir's own API; tests/data/snntorch.nir was exported by
snnTorch (tests/data/make_snntorch_nir.py; torch is not installed for the tests). ``nir`` is
the ``io`` extra that ``make test`` installs: a missing one fails these tests at import.
"""

import math
import pathlib

import nir
import numpy as np
import pytest

from neuroaix import numerics as nx
from neuroaix.engine import Simulator
from neuroaix.network import Network
from neuroaix.neuron import LIF, LIFDelta
from neuroaix.nir import IF_TAU_STEPS, NIRError, read, write

DATA = pathlib.Path(__file__).parent / "data"
DT_S = 1e-4  # the networks' dt (0.1 ms) in s: a spike is a pulse of this area


def _cuba(n, *, tau_syn=2e-3, tau_mem=10e-3, r=0.04, v_leak=-65.0, v_th=-50.0,
          v_reset=-70.0, w_in=1.0):
    one = np.ones(n)
    return nir.CubaLIF(tau_syn=one * tau_syn, tau_mem=one * tau_mem, r=one * r,
                       v_leak=one * v_leak, v_threshold=one * v_th, v_reset=one * v_reset,
                       w_in=one * w_in)


def _graph():
    rng = np.random.default_rng(4)
    w1 = np.round(rng.uniform(-2, 4, (5, 3)), 3) * 100
    w1[0, 1] = 0.0  # a zero entry is no synapse
    w2 = np.round(rng.uniform(0, 2, (2, 5)), 3) * 1000
    return nir.NIRGraph(
        nodes={"in": nir.Input(input_type=np.array([3])),
               "aff": nir.Affine(weight=w1, bias=np.full(5, 300.0)),
               "hid": _cuba(5, w_in=2.0),
               "delay": nir.Delay(delay=np.full(5, 1.5e-3)),
               "lin": nir.Linear(weight=w2),
               "scale": nir.Scale(scale=np.array([1.0, 0.5])),
               "out": _cuba(2, tau_syn=5e-3, r=0.05),
               "sink": nir.Output(output_type=np.array([2]))},
        edges=[("in", "aff"), ("aff", "hid"), ("hid", "delay"), ("delay", "lin"),
               ("lin", "scale"), ("scale", "out"), ("out", "sink")]), w1, w2


def test_a_graph_of_nir_nodes_becomes_populations_and_from_list_projections(tmp_path):
    graph, w1, w2 = _graph()
    path = tmp_path / "g.nir"
    nir.write(path, graph)
    net = read(graph, dt=0.1, inputs={"in": [[1.0, 2.0], [], [3.0]]})
    from_file = read(path, dt=0.1, inputs={"in": [[1.0, 2.0], [], [3.0]]})
    assert [p.name for p in from_file.populations] == ["hid", "in", "out"]  # a file: by name
    assert from_file.build().synapse_hash() != ""  # the same network in another id order
    assert from_file.expected_synapses() == net.expected_synapses()
    assert [(p.name, p.size) for p in net.populations] == [("in", 3), ("hid", 5), ("out", 2)]
    hid = net.populations[1].model
    assert isinstance(hid, LIF)
    assert (hid.tau_m, hid.tau_syn_ex, hid.tau_syn_in, hid.t_ref) == (10.0, 2.0, 2.0, 0.0)
    assert hid.C_m == 10.0 / 0.04 and (hid.E_L, hid.V_th, hid.V_reset) == (-65.0, -50.0, -70.0)
    assert net.dc == {1: 2.0 * 300.0}  # w_in * bias, pA
    built = net.build()
    src, tgt, w, d = built.synapses()
    into_hid = tgt < 8
    j, i = tgt[into_hid] - 3, src[into_hid]
    want = w1[j, i] * 2.0 * DT_S / 2e-3  # w_in * W * dt / tau_syn, pA
    assert np.array_equal(w[into_hid], np.floor(want * 4096 + 0.5).astype(np.int32))
    assert np.count_nonzero(into_hid) == np.count_nonzero(w1)
    assert set(d[into_hid].tolist()) == {1}  # no Delay: one step
    j, i = tgt[~into_hid] - 8, src[~into_hid] - 3
    want = w2[j, i] * np.array([1.0, 0.5])[j] * DT_S / 5e-3
    assert np.array_equal(w[~into_hid], np.floor(want * 4096 + 0.5).astype(np.int32))
    assert set(d[~into_hid].tolist()) == {15}  # 1.5 ms
    sim = Simulator(built, backend="reference")
    sim.simulate(20.0)
    assert sim.counters["spikes"] > 3  # the bias drives the hidden layer


def test_lif_and_if_nodes_are_delta_neurons():
    one = np.ones(2)
    graph = nir.NIRGraph(
        nodes={"a": nir.LIF(tau=one * 20e-3, r=one * 2.0, v_leak=one * 0.0,
                            v_threshold=one * 1.0, v_reset=one * 0.0),
               "lin": nir.Linear(weight=np.array([[250.0, 0.0], [0.0, 500.0]])),
               "b": nir.IF(r=one * 3.0, v_threshold=one * 2.0, v_reset=one * 0.0)},
        edges=[("a", "lin"), ("lin", "b"), ("b", "a")], type_check=False)
    net = read(graph)
    a, b = (p.model for p in net.populations)
    assert isinstance(a, LIFDelta) and a.tau_m == 20.0 and a.C_m == 10.0
    assert isinstance(b, LIFDelta) and b.tau_m == IF_TAU_STEPS * 0.1
    assert b.quantise(0.1).p22 == (1 << nx.COEF_FRAC_BITS) - 1  # the least leak Q1.30 holds
    src, tgt, w, _ = net.build().synapses()
    into_b = tgt >= 2
    want = np.array([250.0, 500.0]) * 3.0 * DT_S  # r * W * dt mV
    assert np.array_equal(w[into_b], np.floor(want * 4096 + 0.5).astype(np.int32))
    into_a = ~into_b  # the edge b -> a without a transform: one to one, weight 1
    assert (src[into_a] - 2).tolist() == (tgt[into_a]).tolist() == [0, 1]
    assert np.array_equal(w[into_a], np.full(2, math.floor(2.0 * DT_S / 20e-3 * 4096 + 0.5)))


def _recurrent():
    net = Network(dt=0.1, seed=8)
    e = net.add_population("E", 30, LIF(t_ref=0.0, tau_syn_ex=1.0, tau_syn_in=1.0))
    i = net.add_population("I", 10, LIF(t_ref=0.0, C_m=200.0, tau_syn_ex=2.0,
                                        tau_syn_in=2.0))
    net.connect(e, i, "fixed_indegree", indegree=6, weight=300.0, delay=1.2,
                allow_multapses=False)
    net.connect(i, e, "pairwise_bernoulli", p=0.4, weight=-500.0, delay=0.6)
    net.connect(e, e, "fixed_total_number", n=60, weight=120.0, delay=2.0,
                allow_multapses=False, allow_autapses=False)
    net.add_dc_input(e, amplitude_pa=420.0)
    net.add_dc_input(i, amplitude_pa=100.0)
    return net


def test_write_then_read_gives_the_same_synapses_and_raster(tmp_path):
    net = _recurrent()
    path = tmp_path / "net.nir"
    write(net, path)
    graph = nir.read(path, type_check=False)  # nir's reader (no Input: no types to infer)
    assert {type(n).__name__ for n in graph.nodes.values()} == {
        "CubaLIF", "Linear", "Affine", "Delay", "Output"}
    back = read(path, dt=0.1, seed=8)
    one, two = net.build(), back.build()
    assert one.synapse_hash() == two.synapse_hash()
    assert np.array_equal(one.coefficients, two.coefficients)
    a, b = Simulator(one, backend="reference"), Simulator(two, backend="reference")
    a.simulate(50.0)
    b.simulate(50.0)
    assert a.spike_hash() == b.spike_hash() and a.counters["spikes"] > 20


def test_spike_sources_and_delta_neurons_round_trip_as_input_and_lif(tmp_path):
    trains = [[0.5, 3.0, 3.1], [1.0, 7.5]]
    net = Network(dt=0.1, seed=2)
    src = net.add_spike_source("stim", trains)
    cells = net.add_population("cells", 3, LIFDelta(t_ref=0.0, tau_m=5.0, C_m=50.0,
                                                    V_th=-64.0))
    net.connect(src, cells, "all_to_all", weight=0.75, delay=0.4)
    net.connect(cells, cells, "one_to_one", weight=0.5, delay=1.0)
    graph = write(net, tmp_path / "d.nir")
    assert isinstance(graph.nodes["stim"], nir.Input) and isinstance(graph.nodes["cells"],
                                                                     nir.LIF)
    back = read(tmp_path / "d.nir", inputs={"stim": trains})
    one, two = net.build(), back.build()
    assert one.synapse_hash() == two.synapse_hash()
    a, b = Simulator(one, backend="reference"), Simulator(two, backend="reference")
    a.simulate(10.0)
    b.simulate(10.0)
    assert a.spike_hash() == b.spike_hash() and a.counters["spikes"] > len(sum(trains, []))


def test_what_does_not_map_is_refused_by_name(tmp_path):
    g = nir.NIRGraph(nodes={"x": nir.LI(tau=np.ones(2), r=np.ones(2), v_leak=np.zeros(2))},
                     edges=[], type_check=False)
    with pytest.raises(NIRError, match="NIR node 'x' is a LI, which neuroaix cannot run; "
                                       "supported: CubaLIF, LIF, IF"):
        read(g)
    bad = _cuba(3)
    bad.tau_mem[1] = 20e-3
    with pytest.raises(NIRError, match="tau_mem differs between its neurons"):
        read(nir.NIRGraph(nodes={"p": bad}, edges=[], type_check=False))
    net = Network()
    p = net.add_population("P", 4, LIF())
    with pytest.raises(NIRError, match="t_ref=2.0 ms; NIR has no refractory period"):
        write(net, tmp_path / "a.nir")
    net.add_poisson_input(p, rate_hz=5.0, weight=10.0)
    with pytest.raises(NIRError, match="Poisson input"):
        write(net, tmp_path / "b.nir")
    net = Network()
    net.add_population("Q", 4, LIF(t_ref=0.0, tau_syn_in=1.0))
    with pytest.raises(NIRError, match="one synaptic time constant"):
        write(net, tmp_path / "c.nir")
    assert not list(tmp_path.iterdir())
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read(tmp_path / "none.nir")


def test_a_graph_exported_by_snntorch_reads_with_its_discrete_time_weights():
    graph = nir.read(DATA / "snntorch.nir")
    with pytest.raises(NIRError, match="pa_per_unit=1000"):
        read(graph)  # r = tau/dt of unit-free numbers: capacitances of 0.1 pF
    net = read(graph, pa_per_unit=1000.0, inputs={"input": [[1.0], [2.0], [], [3.0]]})
    pops = {p.name: p for p in net.populations}
    assert [(p.name, p.size) for p in net.populations] == [("input", 4), ("lif1", 6),
                                                           ("lif2", 3)]
    syn, leaky = pops["lif1"].model, pops["lif2"].model
    assert isinstance(syn, LIF) and isinstance(leaky, LIFDelta)
    assert syn.tau_m == pytest.approx(1.0) and syn.tau_syn_ex == pytest.approx(0.5)
    assert syn.C_m == pytest.approx(100.0, rel=1e-6) and (syn.V_th, syn.V_reset) == (1.0, 0.0)
    assert leaky.tau_m == pytest.approx(2.0)
    src, tgt, w, d = net.build().synapses()
    fc1 = np.asarray(graph.nodes["fc1"].weight, np.float64)
    fc2 = np.asarray(graph.nodes["fc2"].weight, np.float64)
    # snnTorch's discrete steps: syn += W x (in units of 1000 pA), mem += W x (mV)
    into = tgt < 10
    want = fc1[tgt[into] - 4, src[into]] * 1000.0
    # to half a unit of the I format, and snnTorch's float32 tau / dt (relative 1e-6)
    assert np.all(np.abs(w[into] / 4096 - want) <= 0.5 / 4096 + 1e-6 * np.abs(want))
    into = tgt >= 10
    want = fc2[tgt[into] - 10, src[into] - 4]
    assert np.all(np.abs(w[into] / 4096 - want) <= 0.5 / 4096 + 1e-6 * np.abs(want))
    assert np.count_nonzero(w) == fc1.size + fc2.size and set(d.tolist()) == {1}
    # fc1's bias (one per neuron): w_in * b in 1000 pA, step currents from time 0
    bias = np.asarray(graph.nodes["fc1"].bias, np.float64)
    w_in = np.asarray(graph.nodes["lif1"].w_in, np.float64)
    got = np.zeros(6)
    for k, times, amps, idx in net.step_currents:
        assert k == pops["lif1"].index and list(times) == [0.0]
        got[list(idx)] += amps[0]
    assert np.allclose(got, bias * w_in * 1000.0, rtol=1e-12) and not net.dc


def test_an_affine_bias_counts_once_for_every_source_that_feeds_it():
    one = np.ones(2)
    graph = nir.NIRGraph(
        nodes={"a": nir.Input(input_type=np.array([2])), "b": nir.Input(input_type=np.array([2])),
               "aff": nir.Affine(weight=np.eye(2) * 50.0, bias=one * 100.0),
               "p": _cuba(2)},
        edges=[("a", "aff"), ("b", "aff"), ("aff", "p")])
    net = read(graph)
    assert net.dc == {2: 100.0} and len(net.projections) == 2
