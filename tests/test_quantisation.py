"""neuroaix.quantisation: the count of rounded parameters and the largest relative change."""

from neuroaix.distributions import Normal
from neuroaix.network import Network
from neuroaix.neuron import LIF
from neuroaix.quantisation import report, summary_line


def test_the_report_counts_what_rounds_and_names_the_largest_change():
    net = Network(dt=0.1)
    a = net.add_population("A", 5, LIF(V_th=-50.0, t_ref=2.0))  # exact in their formats
    b = net.add_population("B", 5, LIF(V_th=-49.99999, t_ref=2.03))
    net.connect(a, b, "all_to_all", weight=87.81, delay=1.26)
    net.connect(b, a, "all_to_all", weight=-64.0, delay=1.0)
    net.connect(a, a, "fixed_indegree", indegree=2, weight=Normal(10.0, 1.0), delay=0.5)
    net.connect(b, b, "from_list", pairs=([0, 1], [2, 3]), weight=[0.5, 1e-4], delay=[0.1, 0.2])
    rep = report(net)
    # 4 per population, 2 per constant projection, 1 delay of the drawn one, 4 listed values
    assert rep["parameters"] == 8 + 4 + 1 + 4
    # B's V_th and t_ref, 87.81 pA, 1.26 ms, the listed 1e-4 pA (rounds to 0)
    assert rep["rounded"] == 5
    assert rep["largest"] == "B->B weight" and rep["max_relative_change"] == 1.0
    assert rep["drawn_projections"] == 1
    line = summary_line(rep)
    assert line.startswith("quantisation: 5 of 17 parameters rounded, largest relative "
                           "change 1 (B->B weight); 1 projection(s) with drawn weights")


def test_a_network_of_exact_values_reports_nothing_rounded():
    net = Network(dt=0.1)
    a = net.add_population("A", 3, LIF())
    net.connect(a, a, "one_to_one", weight=0.5, delay=0.3)
    rep = report(net)
    assert (rep["rounded"], rep["max_relative_change"], rep["largest"]) == (0, 0.0, None)
    assert summary_line(rep) == "quantisation: 0 of 6 parameters rounded"
    assert 3 * 0.1 != 0.3  # the float arithmetic of ms and steps is not a rounding


def test_spike_times_and_step_currents_are_reported():
    from neuroaix.neuron import LIFDelta

    net = Network(dt=0.1)
    net.add_spike_source("S", [[1.0, 2.04], [0.3]])
    d = net.add_population("D", 2, LIFDelta())
    net.add_step_current(d, [5.0, 7.52], [100.0, 0.1])
    rep = report(net)
    # 3 spike times, 4 parameters of D, 2 step-current times and 2 amplitudes
    assert rep["parameters"] == 3 + 4 + 2 + 2
    # 2.04 -> 2.0 ms, 7.52 -> 7.5 ms, 0.1 pA -> 410/4096 pA
    assert rep["rounded"] == 3
    assert rep["largest"] == "S[0] spike time"
    assert abs(rep["max_relative_change"] - 0.04 / 2.04) < 1e-9
