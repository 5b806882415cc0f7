"""Tests of neuroaix.network: rules, determinism (pinned synapse hashes) and the errors."""

import dataclasses
import inspect
import math
import re

import numpy as np
import pytest

from neuroaix import formats, memory, models, network
from neuroaix import numerics as nx
from neuroaix.construction import connectivity as conn
from neuroaix.construction.built import BuiltNetwork
from neuroaix.distributions import Normal
from neuroaix.network import Network
from neuroaix.neuron import LIF


def _two(n_a=400, n_b=300, seed=5):
    net = Network(dt=0.1, seed=seed)
    a = net.add_population("A", n_a, LIF())
    b = net.add_population("B", n_b, LIF())
    return net, a, b


def _pairs(built: BuiltNetwork):
    src, tgt, w, d = built.synapses()
    return src, tgt, w, d


# Rules ---------------------------------------------------------------------------------------


def test_one_to_one_and_all_to_all_exact():
    net, a, b = _two(50, 50)
    net.connect(a, b, "one_to_one", weight=1.0)
    src, tgt, _, _ = _pairs(net.build(3, threads=2))
    assert sorted(zip(src.tolist(), tgt.tolist())) == [(i, 50 + i) for i in range(50)]
    net, a, b = _two(30, 20)
    net.connect(a, a, "all_to_all", weight=1.0, allow_autapses=False)
    src, tgt, _, _ = _pairs(net.build(1))
    assert len(src) == 30 * 29 and not np.any(src == tgt)
    assert len(set(zip(src.tolist(), tgt.tolist()))) == 30 * 29


@pytest.mark.parametrize("multapses", [True, False])
def test_fixed_indegree_counts(multapses):
    net, a, _ = _two(200, 10)
    net.connect(a, a, "fixed_indegree", indegree=40, weight=1.0, allow_autapses=False,
                allow_multapses=multapses)
    src, tgt, _, _ = _pairs(net.build(4, threads=2))
    assert np.all(np.bincount(tgt, minlength=200) == 40)
    assert not np.any(src == tgt)
    pairs = src * 1000 + tgt
    if not multapses:
        assert len(np.unique(pairs)) == len(pairs)
    else:  # 200*40 draws from 199 sources each: some repeats are certain
        assert len(np.unique(pairs)) < len(pairs)


def test_fixed_outdegree_counts():
    net, a, b = _two(100, 150)
    net.connect(a, b, "fixed_outdegree", outdegree=150, weight=1.0, allow_multapses=False)
    src, tgt, _, _ = _pairs(net.build(2))
    assert np.all(np.bincount(src, minlength=100) == 150)
    assert len(np.unique(src * 1000 + tgt)) == len(src)  # each source hits every target once


def test_fixed_total_number_exact_and_uniform():
    net, a, b = _two(300, 700)
    net.connect(a, b, "fixed_total_number", n=50000, weight=1.0)
    src, tgt, _, _ = _pairs(net.build(5, threads=2))
    assert len(src) == 50000
    # in-degrees are Binomial(50000, 1/700): mean 71.4, sd 8.4
    indeg = np.bincount(tgt - 300, minlength=700)
    assert abs(indeg.mean() - 50000 / 700) < 1e-9
    assert 8.45 * 0.85 < indeg.std() < 8.45 * 1.15
    outdeg = np.bincount(src, minlength=300)
    assert abs(outdeg.std() - math.sqrt(50000 / 300)) < 0.15 * math.sqrt(50000 / 300)


def test_fixed_total_number_without_multapses_or_autapses():
    net, a, _ = _two(40, 5)
    net.connect(a, a, "fixed_total_number", n=40 * 39 - 10, weight=1.0, allow_autapses=False,
                allow_multapses=False)
    src, tgt, _, _ = _pairs(net.build(3))
    assert len(src) == 40 * 39 - 10 and not np.any(src == tgt)
    assert len(np.unique(src * 100 + tgt)) == len(src)


def test_pairwise_bernoulli_binomial_bounds():
    net, a, b = _two(400, 500)
    net.connect(a, b, "pairwise_bernoulli", p=0.03, weight=1.0)
    net.connect(b, b, "pairwise_bernoulli", p=0.2, weight=1.0, allow_autapses=False)
    src, tgt, _, _ = _pairs(net.build(4, threads=2))
    ab = (src < 400)
    n1, mean1 = ab.sum(), 0.03 * 400 * 500
    assert abs(n1 - mean1) < 5 * math.sqrt(mean1 * 0.97)
    bb = ~ab
    n2, mean2 = bb.sum(), 0.2 * 500 * 499
    assert abs(n2 - mean2) < 5 * math.sqrt(mean2 * 0.8)
    assert not np.any(src[bb] == tgt[bb])
    assert len(np.unique(src * 1000 + tgt)) == len(src)
    # each target's in-degree from A is Binomial(400, 0.03)
    indeg = np.bincount(tgt[ab] - 400, minlength=500)
    assert abs(indeg.var() - 400 * 0.03 * 0.97) < 0.2 * 400 * 0.03 * 0.97


def test_pairwise_bernoulli_extremes():
    net, a, b = _two(20, 30)
    net.connect(a, b, "pairwise_bernoulli", p=1.0, weight=1.0)
    net.connect(b, a, "pairwise_bernoulli", p=0.0, weight=1.0)
    assert net.build(1).n_synapses == 600


# Determinism ---------------------------------------------------------------------------------


def _all_rules_network(seed=11):
    net = Network(dt=0.1, seed=seed)
    e = net.add_population("E", 350, LIF(), v_init=Normal(-60.0, 4.0))
    i = net.add_population("I", 90, LIF(), v_init=-65.0)
    w = Normal(80.0, 8.0, low=0.0)
    dly = Normal(1.5, 0.75, low=0.05)
    net.connect(e, e, "fixed_total_number", n=20000, weight=w, delay=dly)
    net.connect(e, i, "fixed_indegree", indegree=30, weight=w, delay=dly,
                allow_multapses=False)
    net.connect(i, e, "fixed_outdegree", outdegree=25, weight=Normal(-320.0, 32.0, high=0.0),
                delay=0.7, weight_bits=3)
    net.connect(i, i, "pairwise_bernoulli", p=0.1, weight=-300.0, allow_autapses=False)
    net.connect(e, i, "all_to_all", weight=0.5, delay=3.0)
    net.connect(i, i, "one_to_one", weight=2.0)
    return net


def test_synapse_hash_independent_of_threads_and_partitions():
    net = _all_rules_network()
    ref = net.build(1, threads=1)
    h = ref.synapse_hash()
    for partitions, threads in ((1, 2), (4, 1), (4, 2), (35, 1), (35, 2)):
        b = net.build(partitions, threads=threads)
        assert b.n_synapses == ref.n_synapses
        assert b.synapse_hash() == h
        assert np.array_equal(b.v0, ref.v0)
    other = _all_rules_network(seed=12).build(1)
    assert other.synapse_hash() != h


def test_synapse_hash_golden():
    # Pinned draws: a change to the construction kernels that alters any synapse fails here.
    assert _all_rules_network().build(1).synapse_hash() == (
        "d60f3a260c4ffa22018815a8f4f71420c7034347500e3cac3656e60035199bee")
    net = Network(dt=0.1, seed=5)
    a = net.add_population("A", 120, LIF())
    b = net.add_population("B", 80, LIF())
    net.connect(a, a, "fixed_outdegree", outdegree=30, weight=1.0, allow_multapses=False,
                allow_autapses=False)
    net.connect(a, b, "fixed_outdegree", outdegree=90, weight=2.0, delay=0.5)
    net.connect(b, a, "fixed_indegree", indegree=40, weight=-3.0, allow_multapses=False)
    net.connect(b, b, "fixed_indegree", indegree=20, weight=-1.0, allow_autapses=False)
    assert net.build(4, threads=2).synapse_hash() == (
        "c06da26213209c38ed68d74bed6f394b04830af2159c05972bb7638a6eddd152")


def test_rows_keep_construction_order_per_partition():
    net = _all_rules_network()
    one = net.build(1, threads=1).partitions[0]
    for built in (net.build(4, threads=2), net.build(35, threads=1)):
        n_parts = built.n_partitions
        for part in built.partitions:
            for s in range(0, built.n_neurons, 7):
                t1, w1, d1 = formats.unpack_synapses(one.words[one.row_ptr[s]:one.row_ptr[s + 1]])
                keep = t1 % n_parts == part.index
                t, w, d = formats.unpack_synapses(
                    part.words[part.row_ptr[s]:part.row_ptr[s + 1]])
                np.testing.assert_array_equal(t, t1[keep] // n_parts)
                np.testing.assert_array_equal(w, w1[keep])
                np.testing.assert_array_equal(d, d1[keep])


# Weights and delays --------------------------------------------------------------------------


def test_weight_and_delay_statistics():
    net, a, b = _two(500, 400)
    w = Normal(87.81, 8.781, low=0.0)
    dly = Normal(1.5, 0.75, low=0.05)
    net.connect(a, b, "fixed_indegree", indegree=100, weight=w, delay=dly)
    _, _, wq, dq = _pairs(net.build(2, threads=2))
    n = len(wq)
    x = wq / 2**nx.I_FRAC_BITS
    m, sd = w.moments()
    assert abs(x.mean() - m) < 5 * sd / math.sqrt(n)
    assert abs(x.std() - sd) < 5 * sd / math.sqrt(2 * n)
    k0, table = conn.delay_step_table(1.5, 0.75, 0.05, math.inf, 0.1)
    probs = np.diff(np.concatenate([[0.0], table]))
    steps = k0 + np.arange(len(table))
    dm = np.sum(probs * steps)
    dsd = math.sqrt(np.sum(probs * (steps - dm) ** 2))
    assert dq.min() >= 1
    assert abs(dq.mean() - dm) < 5 * dsd / math.sqrt(n)
    assert abs(dq.std() - dsd) < 5 * dsd / math.sqrt(n / 2)
    # rounding to the nearest step keeps the mean of the redrawn normal (1.5475 ms)
    assert dm == pytest.approx(dly.moments()[0] / 0.1, abs=0.01)


def test_inhibitory_weights_stay_negative_and_constants_are_exact():
    net, a, b = _two(200, 200)
    net.connect(a, b, "fixed_indegree", indegree=50, weight=Normal(-351.24, 35.124, high=0.0),
                delay=0.75)
    net.connect(b, a, "fixed_indegree", indegree=5, weight=87.81, delay=1.5)
    src, _, w, d = _pairs(net.build(1))
    inh = src < 200
    assert np.all(w[inh] < 0) and np.all(d[inh] == 8)  # floor(7.5 + 0.5)
    assert np.all(w[~inh] == nx.pa_to_fixed(87.81)) and np.all(d[~inh] == 15)


@pytest.mark.parametrize("bits", [1, 3])
def test_low_resolution_weights_preserve_mean_and_variance(bits):
    net, a, b = _two(500, 400)
    w = Normal(87.81, 8.781, low=0.0)
    net.connect(a, b, "fixed_indegree", indegree=100, weight=w, weight_bits=bits)
    _, _, wq, _ = _pairs(net.build(1))
    assert len(np.unique(wq)) == 2**bits
    x = wq / 2**nx.I_FRAC_BITS
    m, sd = w.moments()
    n = len(x)
    assert abs(x.mean() - m) < 5 * sd / math.sqrt(n)
    # the variance of a discrete estimate: sd * sqrt(kurtosis - 1) / sqrt(n); 2-level -> ~0
    assert abs(x.std() - sd) < 6 * sd / math.sqrt(n)


# Errors --------------------------------------------------------------------------------------


def test_connect_error_messages():
    net, a, b = _two(10, 10)
    with pytest.raises(TypeError, match=r"^connect\(\) got an unexpected keyword 'wieght'; "
                                        r"did you mean 'weight'\?$"):
        net.connect(a, b, "all_to_all", wieght=1.0)
    with pytest.raises(ValueError, match=r"not 'fixed_indegre'; did you mean 'fixed_indegree'"):
        net.connect(a, b, "fixed_indegre", indegree=3, weight=1.0)
    with pytest.raises(ValueError, match=r"^rule 'fixed_indegree' needs indegree=\.\.\.; add it$"):
        net.connect(a, b, "fixed_indegree", weight=1.0)
    with pytest.raises(ValueError, match=r"^p=0\.1 is not a parameter of rule 'fixed_indegree'; "
                                         r"use indegree=\.\.\.$"):
        net.connect(a, b, "fixed_indegree", p=0.1, weight=1.0)
    with pytest.raises(ValueError, match=r"^p must lie in \[0, 1\], not 1\.5$"):
        net.connect(a, b, "pairwise_bernoulli", p=1.5, weight=1.0)
    with pytest.raises(ValueError, match=r"^indegree=11 exceeds the 10 distinct partners"):
        net.connect(a, b, "fixed_indegree", indegree=11, weight=1.0, allow_multapses=False)
    with pytest.raises(ValueError, match=r"^delay=0\.04 ms rounds to 0 steps of dt=0\.1 ms"):
        net.connect(a, b, "all_to_all", weight=1.0, delay=0.04)
    with pytest.raises(ValueError, match=r"^delay=30\.0 ms rounds to 300 steps"):
        net.connect(a, b, "all_to_all", weight=1.0, delay=30.0)
    with pytest.raises(ValueError, match=r"^delay low=0\.0 ms can round to 0 steps"):
        net.connect(a, b, "all_to_all", weight=1.0, delay=Normal(1.5, 0.7, low=0.0))
    with pytest.raises(ValueError, match=r"^delay Normal\(1\.0, 0\.5\) has low=-inf ms, so a delay "
                                         r"can round to fewer than 1 step of dt=0\.1 ms; bound it "
                                         r"with low=0\.05 \(or larger\), e\.g\. "
                                         r"Normal\(1\.0, 0\.5, low=0\.05\)$"):
        net.connect(a, b, "all_to_all", weight=1.0, delay=Normal(1.0, 0.5))
    with pytest.raises(ValueError, match=r"^weight is required"):
        net.connect(a, b, "all_to_all")
    with pytest.raises(TypeError, match=r"^weight must be a number in pA or neuroaix\.Normal"):
        net.connect(a, b, "all_to_all", weight="strong")
    with pytest.raises(ValueError, match=r"^weight=524287\.9999 pA does not fit the I format "
                                         r"\(\+-524288 pA\); use a smaller weight$"):
        net.connect(a, b, "all_to_all", weight=524287.9999)
    net.connect(a, b, "all_to_all", weight=-524288.0)  # INT32_MIN is representable
    net.projections.clear()
    with pytest.raises(ValueError, match=r"^rule 'all_to_all' never makes multapses"):
        net.connect(a, b, "all_to_all", weight=1.0, allow_multapses=True)
    with pytest.raises(ValueError, match=r"^one_to_one from a population onto itself makes only"):
        net.connect(a, a, "one_to_one", weight=1.0, allow_autapses=False)
    _other, c, _ = _two(10, 10)
    with pytest.raises(ValueError, match=r"^post 'A' belongs to another Network"):
        net.connect(a, c, "all_to_all", weight=1.0)
    assert net.projections == []


def test_network_and_input_error_messages():
    with pytest.raises(ValueError, match=r"^dt must be > 0 ms, not -0\.1; use e\.g\. dt=0\.1$"):
        Network(dt=-0.1)
    with pytest.raises(TypeError, match=r"^seed must be an integer, not 1\.5$"):
        Network(seed=1.5)
    net, a, b = _two(10, 10)
    with pytest.raises(ValueError, match=r"^a population named 'A' exists already"):
        net.add_population("A", 3)
    with pytest.raises(ValueError, match=r"^n must be >= 1, not 0$"):
        net.add_population("C", 0)
    net.add_poisson_input(a, rate_hz=8.0, weight=87.8, indegree=100)
    with pytest.raises(ValueError, match=r"^population 'A' has a Poisson input already"):
        net.add_poisson_input(a, rate_hz=8.0, weight=87.8)
    with pytest.raises(ValueError, match=r"too large for the 32-entry sampler table"):
        net.add_poisson_input(b, rate_hz=8.0, weight=87.8, indegree=100000)
    net.add_dc_input(b, amplitude_pa=5.0)
    with pytest.raises(ValueError, match=r"^population 'B' has a DC input already"):
        net.add_dc_input(b, amplitude_pa=5.0)
    with pytest.raises(ValueError, match=r"^partitions must be >= 1, not 0$"):
        net.build(0)


def test_memory_limit_refuses_with_numbers():
    net, a, b = _two(1000, 1000)
    net.connect(a, b, "fixed_indegree", indegree=1000, weight=1.0)
    net.scale_hint = (0.5, 1.0)
    with pytest.raises(MemoryError, match=r"^building this network needs about 0\.08 GiB "
                                          r"\(1e\+06 synapses x 8 bytes plus indexes\), but "
                                          r"only 0\.07 GiB are available \(memory_limit\); use "
                                          r"--scale 0\.[1-4]\d? or smaller$"):
        net.build(1, threads=1, memory_limit=68 << 20)
    assert net.build(1, threads=1, memory_limit=1 << 30).n_synapses == 10**6


def test_population_helpers():
    net, a, b = _two(10, 20)
    assert (a.start, a.stop, len(b), b.start) == (0, 10, 20, 10)
    assert dataclasses.is_dataclass(net.build(2))


# Docstrings ----------------------------------------------------------------------------------


def _documented_names(doc: str) -> list[str]:
    """Names listed in a numpydoc Parameters section (``a, b : type`` lines)."""
    lines = doc.splitlines()
    names, inside = [], False
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[i + 1].strip()):
            inside = line.strip() == "Parameters"
            continue
        m = re.match(r"^([A-Za-z_][\w, ]*?) :", line) if inside else None
        if m:
            names += [n.strip() for n in m.group(1).split(",")]
    return names


@pytest.mark.parametrize("module", [network, models, memory, conn], ids=lambda m: m.__name__)
def test_public_api_docstrings_match_signatures(module):
    assert module.__all__ and all(hasattr(module, n) for n in module.__all__)
    for name in module.__all__:
        obj = getattr(module, name)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        doc = inspect.getdoc(obj)
        assert doc, f"{module.__name__}.{name} has no docstring"
        members = [obj] + ([m for _, m in inspect.getmembers(obj, inspect.isfunction)
                            if not m.__name__.startswith("_")] if inspect.isclass(obj) else [])
        for member in members:
            target = member.__init__ if inspect.isclass(member) else member
            try:
                params = set(inspect.signature(target).parameters)
            except (TypeError, ValueError):
                continue
            if inspect.isclass(member) and dataclasses.is_dataclass(member):
                params |= {f.name for f in dataclasses.fields(member)}
            for p in _documented_names(inspect.getdoc(member) or ""):
                assert p in params, f"{member.__qualname__} documents {p!r}, not a parameter"


# Explicit lists and realised synapses --------------------------------------------------------


def test_from_list_makes_the_listed_synapses_in_list_order_on_every_partitioning():
    net, a, b = _two(40, 30)
    rng = np.random.default_rng(3)
    src, tgt = rng.integers(0, 40, 500), rng.integers(0, 30, 500)
    w = rng.normal(0, 50, 500)
    d = rng.integers(1, 30, 500) * 0.1
    net.connect(a, b, "fixed_indegree", indegree=3, weight=10.0, delay=0.5)
    listed = net.connect(a, b, "from_list", pairs=(src, tgt), weight=w, delay=d)
    hashes = set()
    for parts, threads in ((1, 1), (4, 2), (7, 1)):
        built = net.build(parts, threads=threads)
        hashes.add(built.synapse_hash())
        assert built.n_synapses == 3 * 30 + 500
    assert len(hashes) == 1
    rs, rt, rw, rd = net.realised_synapses(listed)
    order = np.argsort(src, kind="stable")  # by source, then list order
    np.testing.assert_array_equal(rs, src[order])
    np.testing.assert_array_equal(rt, tgt[order])
    np.testing.assert_array_equal(rw, np.floor(w[order] * 4096 + 0.5) / 4096)
    np.testing.assert_array_equal(np.round(rd / 0.1), np.floor(d[order] / 0.1 + 0.5))


def test_realised_synapses_of_a_rule_equal_the_build():
    net, a, b = _two(50, 60)
    first = net.connect(a, b, "pairwise_bernoulli", p=0.2, weight=Normal(20.0, 4.0, low=0.0),
                        delay=Normal(1.0, 0.3, low=0.05))
    second = net.connect(b, a, "fixed_total_number", n=77, weight=-5.0, delay=0.3)
    src, tgt, w, d = net.build(3).synapses()
    for proj in (first, second):
        rs, rt, rw, rd = net.realised_synapses(proj)
        mine = (src >= proj.pre.start) & (src < proj.pre.stop)
        got = sorted(zip(rs + proj.pre.start, rt + proj.post.start,
                         np.round(rw * 4096).astype(int), np.round(rd / 0.1).astype(int)))
        want = sorted(zip(src[mine], tgt[mine], w[mine], d[mine]))
        assert got == want and len(got) > 0


def test_from_list_and_per_neuron_potentials_refuse_bad_input():
    net, a, b = _two(4, 3)
    with pytest.raises(ValueError, match=r"^pairs targets must lie in \[0, 3\) for 'B', not 3$"):
        net.connect(a, b, "from_list", pairs=([0], [3]), weight=1.0)
    with pytest.raises(ValueError, match=r"^weight needs one value per pair \(2\), not shape "
                                         r"\(3,\)$"):
        net.connect(a, b, "from_list", pairs=([0, 1], [0, 1]), weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"^delay=0.01 ms rounds to 0 steps of dt=0.1 ms"):
        net.connect(a, b, "from_list", pairs=([0], [0]), weight=1.0, delay=0.01)
    with pytest.raises(TypeError, match=r"^weight of rule 'from_list' must be a number or one "
                                        r"number per pair, not a Normal"):
        net.connect(a, b, "from_list", pairs=([0], [0]), weight=Normal(1.0, 0.1))
    with pytest.raises(ValueError, match=r"^rule 'from_list' needs pairs=\.\.\.; add it$"):
        net.connect(a, b, "from_list", weight=1.0)
    with pytest.raises(ValueError, match=r"^v_init needs 5 finite potentials \(mV\), one per "
                                         r"neuron, not 2 values$"):
        net.add_population("C", 5, LIF(), v_init=[-60.0, -61.0])
    c = net.add_population("C", 3, LIF(), v_init=[-60.0, -62.5, -70.0])
    built = net.build(2)
    assert (built.v0[c.start:c.stop] / 65536.0 + LIF().E_L).tolist() == [-60.0, -62.5, -70.0]

# Spike sources and step currents -----------------------------------------------------------


def _one_line_error(exc_type, fn, *args, match, **kwargs):
    with pytest.raises(exc_type, match=match) as info:
        fn(*args, **kwargs)
    assert "\n" not in str(info.value)


def test_spike_sources_are_checked():
    from neuroaix.neuron import LIFAlpha, LIFDelta

    net = Network(dt=0.1)
    src = net.add_spike_source("S", [[3.0, 1.0], []])
    assert len(src) == 2 and src.model.spike_times_ms == ((1.0, 3.0), ())  # sorted
    pop = net.add_population("N", 3, LIFDelta())
    net.add_population("A", 3, LIFAlpha())
    for bad, match in (([], "non-empty sequence"), ([1.0, 2.0], r"spike_times_ms\[0\] must "
                                                                r"be a sequence"),
                       ([[0.04]], "rounds to step 0 of dt=0.1 ms; spike times must be at "
                                  "least 0.05 ms"),
                       ([[1.0, 1.04]], "round to the same step"),
                       ([[float("nan")]], "spike_times_ms")):
        _one_line_error(ValueError, net.add_spike_source, "T", bad, match=match)
    _one_line_error(ValueError, net.add_spike_source, "S", [[1.0]], match="exists already")
    for call in (lambda: net.connect(pop, src, weight=1.0),
                 lambda: net.add_poisson_input(src, rate_hz=10.0, weight=1.0),
                 lambda: net.add_dc_input(src, amplitude_pa=1.0),
                 lambda: net.add_step_current(src, [1.0], [1.0])):
        _one_line_error(ValueError, call, match="'S' is a spike source, which receives no")
    _one_line_error(TypeError, net.add_population, "X", 2, src.model,
                    match="model must be one of neuroaix.LIF, neuroaix.LIFDelta")
    built = net.build(partitions=2)
    assert built.model_kind.tolist() == [3, 1, 2]
    assert built.source_step.tolist() == [9, 29] and built.source_gid.tolist() == [0, 0]
    assert built.engine_only() == ["population 'S' is spike_source_array",
                                   "population 'N' is iaf_psc_delta",
                                   "population 'A' is iaf_psc_alpha"]
    _one_line_error(ValueError, built.require_exp_only, "the RTL node",
                    match="the RTL node runs only iaf_psc_exp populations")


def test_step_currents_are_checked_and_merged():
    net = Network(dt=0.1)
    pop = net.add_population("N", 4, LIF(I_e=10.0))
    for args, kwargs, exc, match in (
            (([1.0], [1.0, 2.0]), {}, ValueError, "one amplitude per time"),
            (([], []), {}, ValueError, "at least one"),
            (([1.0, 1.04], [1.0, 2.0]), {}, ValueError, "round to steps 10 and 10"),
            (([2.0, 1.0], [1.0, 2.0]), {}, ValueError, "must increase"),
            (([-1.0], [1.0]), {}, ValueError, r"times_ms\[0\]"),
            (([1.0], [1e9]), {}, ValueError, "does not fit the I format"),
            (([1.0], [1.0]), {"neurons": [4]}, ValueError, r"neurons\[0\]"),
            (([1.0], [1.0]), {"neurons": [1, 1]}, ValueError, "distinct indices"),
            (("1.0", [1.0]), {}, TypeError, "sequences of numbers")):
        _one_line_error(exc, net.add_step_current, pop, *args, match=match, **kwargs)
    net.add_step_current(pop, [1.0, 3.0], [100.0, -20.0], neurons=[1, 2])
    net.add_step_current(pop, [2.0], [0.5], neurons=[2, 3])
    built = net.build()
    assert built.stim_of.tolist() == [-1, 0, 1, 2]
    assert built.stim_ptr.tolist() == [0, 2, 5, 6]
    assert built.stim_step.tolist() == [10, 30, 10, 20, 30, 20]
    f = nx.pa_to_fixed
    assert built.stim_value.tolist() == [f(100.0), f(-20.0), f(100.0), f(100.0) + f(0.5),
                                         f(-20.0) + f(0.5), f(0.5)]
    assert built.engine_only() == ["step currents"]
    early = Network(dt=0.1)
    q = early.add_population("N", 1, LIF())
    early.add_step_current(q, [0.0, 0.14], [7.0, 0.0])  # [0, dt/2) is step 0, 0.14 step 1
    assert early.build().stim_step.tolist() == [0, 1]
    big = Network(dt=0.1)
    p = big.add_population("N", 1, LIF(I_e=500_000.0))
    big.add_step_current(p, [1.0], [100_000.0])
    _one_line_error(ValueError, big.build, match="reach 600000 pA with I_e, beyond the I "
                                                 "format")
