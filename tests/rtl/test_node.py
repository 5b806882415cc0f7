# amaranth: UnusedElaboratable=no
"""The node in amaranth.sim against the Numba engine: raster, state, rings and counters.

A single-node Brunel network (its spikes loop back), a partition of a scaled microcircuit and
a saturating Brunel partition (the other partitions' spikes injected from the engine's run)
must give the engine's raster of the partition, its neuron state, its ring buffers and its
counters exactly, with back-to-back streams and with backpressure on ``o_spikes`` and idle
cycles on ``i_ext``.
"""

import dataclasses

import numpy as np
import pytest

from neuroaix import formats, models, numerics, timing
from neuroaix.engine import Simulator
from neuroaix.rtl.harness import workloads
from neuroaix.rtl.harness.cocotb_kit import PATTERNS
from neuroaix.rtl.hw.node import Node
from neuroaix.rtl.harness.node_engine import emulator_cycles, engine_case, node_memory
from neuroaix.rtl.harness.node_image import external_spikes, node_image
from neuroaix.rtl.harness.node_sim import node_verilog, simulate
from neuroaix.rtl.model import RingReference
from neuroaix.rtl.params import NodeParams


def _brunel():
    return models.brunel(scale=0.005, epsilon=0.01, eta=4.0, delay=0.5, seed=5).build(
        partitions=1, threads=1)


def _saturating():
    return models.brunel(scale=0.005, epsilon=0.01, eta=4.0, J=50.0, delay=0.5, seed=5).build(
        partitions=2, threads=1)


#: name -> (built network, partition, steps)
CASES = {"brunel": (_brunel, 0, 30), "microcircuit": (workloads.small_microcircuit, 2, 20),
         "saturating": (_saturating, 1, 20)}


#: (synapse lanes L, update lanes U) per case: the one-lane node on every case and pattern,
#: the neuroAIx widths (8, 10) and (2, 3) on every case, (1, 10) and (8, 1) on one each.
LANE_RUNS = ([(name, pattern, (1, 1)) for name in CASES for pattern in PATTERNS]
             + [(name, "streaming", lanes) for name in CASES for lanes in ((8, 10), (2, 3))]
             + [("microcircuit", "streaming", (1, 10)), ("brunel", "streaming", (8, 1))]
             + [("saturating", "idle_backpressure", (4, 5))])


def _step_schedule(built, p, n_local, senders, steps, n_steps):
    """The step schedule of partition ``p``'s ring buffers in the engine's order (ascending
    step and sender), as a :class:`RingReference` holding its events and saturations."""
    part = built.partitions[p]
    ref = RingReference(n_local, built.ring_depth)
    for t in range(n_steps):
        ref.read_and_clear(t & (built.ring_depth - 1))
        ref.deliver(t, sorted(int(s) for s in senders[steps == t]), part.row_ptr[:-1],
                    np.diff(part.row_ptr), part.words)
    return ref


@pytest.mark.parametrize("name, pattern, lanes", LANE_RUNS,
                         ids=[f"{n}-{p}-L{l[0]}U{l[1]}" for n, p, l in LANE_RUNS])
def test_node_equals_engine(name, pattern, lanes):
    make, p, n_steps = CASES[name]
    built = make()
    sim = Simulator(built, threads=1, progress=False)
    sim.run_steps(n_steps)
    senders, steps = sim.spikes()
    P = len(built.partitions)
    want = [sorted(int(s) for s in senders[steps == t] if s % P == p) for t in range(n_steps)]
    assert sum(map(len, want)) > 0
    image = node_image(built, p, latency=8, fifo_words=16, spike_fifo=4,
                       synapse_lanes=lanes[0], update_lanes=lanes[1])
    external = external_spikes(image, senders, steps, n_steps) if P > 1 else None
    ext, ready = PATTERNS[pattern]
    run = simulate(image, n_steps, external, ready_pattern=ready, ext_pattern=ext)
    assert run.spikes == want
    if pattern == "streaming":  # the emulator's node cycle rule, every step exactly
        assert emulator_cycles(image, external, want).cycles.tolist() == run.cycles
    gids = np.arange(p, built.n_neurons, P)
    state = sim.state()
    np.testing.assert_array_equal(
        run.state, np.stack([state[k][gids] for k in ("v", "i_ex", "i_in", "ref")], axis=1))
    np.testing.assert_array_equal(run.ring, sim.ring_buffer(p))
    c = sim.counters
    if P == 1:
        assert run.counters["events"] == c["synaptic_events"]
        assert run.counters["poisson"] == c["poisson_events"]
        assert (run.counters["saturations"] + run.counters["syn_saturations"]
                == c["saturations"])
    assert run.counters["spike_count"] == sum(map(len, want))
    # The partition's own synaptic events and clamps: the step schedule in ascending order.
    ref = _step_schedule(built, p, image.n_local, senders, steps, n_steps)
    assert run.counters["events"] == ref.events
    assert run.counters["syn_saturations"] == ref.saturations
    if name == "saturating":
        assert run.counters["syn_saturations"] > 0


@pytest.mark.parametrize("lanes", [(1, 1), (8, 10), (1, 4)])
def test_cycles_one_beat_per_clock(lanes):
    """Without spikes a step costs a beat of U neurons per clock plus a fixed overhead: the
    read-and-clear, the state stage, the background and update stages and the barrier."""
    built = _brunel()
    image = node_image(built, 0, latency=8, fifo_words=16, synapse_lanes=lanes[0],
                       update_lanes=lanes[1])
    quiet = image._replace(neurons=[(0, 0, 0, 0, rng, pop)
                                    for (_, _, _, _, rng, pop) in image.neurons],
                           populations=[{**q, "enable": 0} for q in image.populations])
    run = simulate(quiet, 3)
    assert run.spikes == [[], [], []]
    assert run.cycles == [-(-image.n_local // lanes[1]) + timing.NODE_QUIET_OVERHEAD] * 3


def test_node_image_errors():
    built = _brunel()
    with pytest.raises(ValueError, match=r"^partition must lie in \[0, 0\], not 1$"):
        node_image(built, 1)
    with pytest.raises(ValueError, match=r"^n_neurons must be >= 62 for partition 0, not 10; "
                                         r"raise it$"):
        node_image(built, 0, n_neurons=10)
    from tests.engine.mpi_runner import models_network

    with pytest.raises(ValueError, match=r"^the RTL node runs only iaf_psc_exp populations "
                                         r"with Poisson or DC input, but population 'S' is "
                                         r"spike_source_array, .*step currents; run this"):
        node_image(models_network().build(partitions=2), 0)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"n_populations": 0}, ValueError, r"^n_populations must lie in \[1, 256\], not 0$"),
    ({"spike_fifo": 1}, ValueError, r"^spike_fifo must lie in \[2, 65536\], not 1$"),
    ({"n_populations": 2.0}, TypeError, r"^n_populations must be an integer, not 2\.0$"),
    ({"update_lanes": 0}, ValueError, r"^update_lanes must lie in \[1, 16\], not 0$"),
    ({"synapse_lanes": 3}, ValueError,
     r"^synapse_lanes must be one of \(1, 2, 4, 8\), not 3$"),
    ({"merge": "arival"}, ValueError,
     r"^merge must be one of 'ascending', 'arrival', not 'arival'; did you mean 'arrival'\?$"),
])
def test_bad_parameters(kwargs, exc, match):
    params = {"n_neurons": 8, "n_populations": 1, "ring_depth": 8, "n_sources": 8,
              "memory_words": 4}
    with pytest.raises(exc, match=match):
        Node(**{**params, **kwargs})


@pytest.mark.parametrize("argv, message", [
    (["--steps", "0"], "--steps must be >= 1, not 0; use a positive count"),
    (["--partitions", "2", "--partition", "2"], "--partition must lie in [0, 1], not 2"),
    (["--synapse-lanes", "3"], "--synapse-lanes must be one of (1, 2, 4, 8), not 3"),
    (["--update-lanes", "17"], "--update-lanes must lie in [1, 16], not 17"),
    (["--hardware", "neuroaix-35"],
     "--hardware applies to --memory ddr (the fixed memory has no table)"),
    (["--memory", "ddr", "--latency", "8"], "--latency applies to --memory fixed (the "
     "DDR's latency is its table's, from --hardware)"),
    (["--latency", "1"], "--latency must be >= 2, not 1"),
    (["--merge", "sorted"], "--merge must be one of 'ascending', 'arrival', not 'sorted'"),
])
def test_run_command_bad_input(argv, message, capsys):
    from neuroaix.cli import main

    assert main(["rtl", "run", "microcircuit", *argv]) == 2
    assert capsys.readouterr().err.strip() == f"neuroaix rtl: error: {message}"


def test_delivery_order_changes_nothing():
    """Each channel accumulates weights of one sign, so clamping commutes: delivering the
    node's own spikes before the injected ones, or in descending order, gives the same slots,
    and the saturation count, taken at the read-and-clear, the same count (docs/rtl_node.md,
    "Order and saturation")."""
    built = _saturating()
    p, n_steps = 1, 20
    sim = Simulator(built, threads=1, progress=False)
    sim.run_steps(n_steps)
    senders, steps = sim.spikes()
    part = built.partitions[p]
    start, length = part.row_ptr[:-1], np.diff(part.row_ptr)
    n_local = len(range(p, built.n_neurons, 2))
    reads, counts = {}, {}
    for order in ("ascending", "local_first", "descending"):
        ref = RingReference(n_local, built.ring_depth)
        reads[order] = []
        for t in range(n_steps):
            reads[order].append(ref.read_and_clear(t & (built.ring_depth - 1)))
            spikes = sorted(int(s) for s in senders[steps == t])
            if order == "local_first":
                spikes = sorted(spikes, key=lambda s: (s % 2 != p, s))
            elif order == "descending":
                spikes = spikes[::-1]
            ref.deliver(t, spikes, start, length, part.words)
        counts[order] = ref.saturations
    for order in ("local_first", "descending"):
        np.testing.assert_array_equal(np.array(reads[order]), np.array(reads["ascending"]))
    assert counts["ascending"] > 0
    assert counts["local_first"] == counts["descending"] == counts["ascending"]


def test_saturation_count_does_not_depend_on_the_order():
    """One ring entry receiving ``INT32_MAX, 7, 7`` or ``7, 7, INT32_MAX`` (the schedule's
    order in the two ``workloads.two_orders_network``) counts one saturation either way, at
    the read, in the engine, the reference and the RTL node (amaranth.sim): counting clamped
    additions, the old definition, gives 2 and 1 (docs/numerics.md, section 7)."""
    clamped = []
    for weights in ([numerics.INT32_MAX, 7, 7], [7, 7, numerics.INT32_MAX]):
        value, n = 0, 0
        for w in weights:
            value, c = numerics.saturate(value + w)
            n += c
        clamped.append(n)
    assert clamped == [2, 1]  # the case tells the two definitions apart
    n_steps = 12
    totals = []
    for max_first in (True, False):
        built = workloads.two_orders_network(max_first)
        sim = Simulator(built, threads=1, progress=False)
        sim.run_steps(n_steps)
        ref_sim = Simulator(built, backend="reference", progress=False)
        ref_sim.run_steps(n_steps)
        senders, steps = sim.spikes()
        np.testing.assert_array_equal(ref_sim.spikes()[0], senders)
        assert sim.counters == ref_sim.counters
        assert list(senders[steps == 0]) == [0, 1]
        image = node_image(built, 0, latency=8, fifo_words=16, spike_fifo=4)
        run = simulate(image, n_steps)
        assert run.spikes == [sorted(int(s) for s in senders[steps == t])
                              for t in range(n_steps)]
        np.testing.assert_array_equal(run.ring, sim.ring_buffer(0))
        assert run.counters["syn_saturations"] == 1  # the entry read at step 1
        assert (run.counters["syn_saturations"] + run.counters["saturations"]
                == sim.counters["saturations"])
        totals.append(sim.counters)
    assert totals[0] == totals[1]


def test_verilog_is_deterministic():
    config = NodeParams(n_neurons=8, n_populations=2, ring_depth=4, n_sources=16,
                        memory_words=4, latency=4)
    text = node_verilog(config)
    assert text == node_verilog(config)
    assert "module node(" in text and "src =" not in text
    # The memory is the testbench's: the node's ports, not a memory, and no latency in it.
    assert "o_mem_req__payload" in text and "i_mem_resp__payload" in text
    assert "i_load" not in text
    assert node_verilog(dataclasses.replace(config, latency=30)) == text
    assert "module node_x(" in node_verilog(config, name="node_x")


#: The DDR case: a partition of the small microcircuit (spikes of its own and injected ones,
#: long rows) at (L, U) = (1, 1) and (8, 10), the memory of configs/neuroaix-35.toml.
DDR_RUNS = [(1, 1), (8, 10)]


@pytest.mark.parametrize("lanes", DDR_RUNS, ids=[f"L{a}U{b}" for a, b in DDR_RUNS])
def test_ddr_memory_cycles_equal_the_rule(lanes):
    """With the DDR table of the ``[memory]`` section (in the node's 189.4 MHz clock) as the
    testbench memory the raster is the engine's and every step takes the cycles of the
    node's cycle rule with the same memory (difference 0); the DDR's steps differ from the
    fixed latency's (the memory is really used) and cost more than the quiet step."""
    built = workloads.small_microcircuit()
    image, external, expected, _ = engine_case(built, 2, 12, latency=8, fifo_words=16,
                                               spike_fifo=4, synapse_lanes=lanes[0],
                                               update_lanes=lanes[1])
    ddr = node_memory("ddr", image.config)
    assert ddr.service_fs.shape == (image.config.max_burst + 1,)
    assert ddr.period_fs == 5_280_026  # 189.393 MHz
    run = simulate(image, 12, external, memory=ddr)
    assert run.spikes == expected and sum(map(len, expected)) > 0
    rule = emulator_cycles(image, external, expected, ddr).cycles.tolist()
    assert run.cycles == rule
    fixed = emulator_cycles(image, external, expected).cycles.tolist()
    assert fixed != rule


OFFER_RUNS = [(1, 1), (8, 10)]


@pytest.mark.parametrize("lanes", OFFER_RUNS, ids=[f"L{a}U{b}" for a, b in OFFER_RUNS])
def test_late_offers_cycles_equal_the_rule(lanes):
    """The other nodes' spikes offered at given cycles of their step (as the cluster
    emulator feeds the rule with network arrival times, rising and in bursts, ``last``
    after the update in some steps) give the engine's raster and the rule's cycles of every
    step with the same offers (difference 0), which differ from the streaming cycles."""
    built = workloads.small_microcircuit()
    n_steps = 12
    image, external, expected, _ = engine_case(built, 2, n_steps, latency=8, fifo_words=16,
                                               spike_fifo=4, synapse_lanes=lanes[0],
                                               update_lanes=lanes[1])
    rng = np.random.default_rng(11)
    quiet = -(-image.n_local // lanes[1]) + timing.NODE_QUIET_OVERHEAD
    offers = [sorted(rng.integers(0, 3 * quiet, len(e) + 1).tolist()) for e in external]
    offers[1][-1] = 4 * quiet  # `last` long after the update: the barrier waits for it
    run = simulate(image, n_steps, external, offers=offers)
    assert run.spikes == expected and sum(map(len, external)) > 0
    rule = emulator_cycles(image, external, expected, offers=offers).cycles.tolist()
    assert run.cycles == rule
    assert rule != emulator_cycles(image, external, expected).cycles.tolist()
    assert rule[1] > 4 * quiet


def test_node_layout_keeps_the_order_of_each_bank():
    """With L lanes every row starts at a word, holds the row's synapses, keeps the order of
    each bank's synapses, and no issue group could take one more synapse."""
    from neuroaix.rtl.harness.node_image import issue_order, node_layout

    rng = np.random.default_rng(3)
    lengths = rng.integers(0, 40, 30)
    row_ptr = np.concatenate([[0], np.cumsum(lengths)])
    targets = rng.integers(0, 50, row_ptr[-1])
    words = formats.pack_synapses(targets, rng.integers(-9, 9, row_ptr[-1]),
                                  rng.integers(1, 4, row_ptr[-1]))
    start, length, laid = node_layout(words, row_ptr, 1, 1)
    np.testing.assert_array_equal(laid, words)
    np.testing.assert_array_equal(start, row_ptr[:-1])
    lanes, banks = 8, 16
    start, length, laid = node_layout(words, row_ptr, lanes, banks)
    np.testing.assert_array_equal(length, lengths)
    assert (start % formats.SYNAPSES_PER_WORD == 0).all()
    for s in range(len(lengths)):
        got = laid[start[s]:start[s] + length[s]]
        want = words[row_ptr[s]:row_ptr[s + 1]]
        assert sorted(got.tolist()) == sorted(want.tolist())
        t_got = formats.unpack_synapses(got)[0] % banks
        t_want = formats.unpack_synapses(want)[0] % banks
        for b in range(banks):
            np.testing.assert_array_equal(got[t_got == b], want[t_want == b])
    order = issue_order([0, 16, 1, 2, 32, 3], lanes, banks)
    # banks 0, 0, 1, 2, 0, 3: groups {0, 1, 2, 3}, {0}, {0}
    assert order.tolist() == [0, 2, 3, 5, 1, 4]
    # the proposed order: banks 1, 2, 0, 0, 0 at L = 2 give groups {1, 2}, {0}, {0}, {0}
    # earliest first, but {0, 1}, {0, 2}, {0} fullest first (each bank's order kept)
    assert issue_order([1, 2, 0, 16, 32], 2, banks).tolist() == [0, 1, 2, 3, 4]
    assert issue_order([1, 2, 0, 16, 32], 2, banks, fullest_first=True).tolist() == \
        [2, 0, 3, 1, 4]


def test_node_params_merge_is_checked_and_read_by_rtl_and_rule():
    """``NodeParams.merge`` is the one field: the node it generates and the rule's
    ``NodeTiming`` both follow it."""
    from neuroaix.rtl.harness.node_image import node_timing

    with pytest.raises(ValueError, match=r"^merge must be one of 'ascending', 'arrival', not "
                                         r"'Arrival'; did you mean 'arrival'\?$"):
        NodeParams(n_neurons=8, n_populations=1, ring_depth=4, n_sources=8, memory_words=4,
                   merge="Arrival")
    built = workloads.small_microcircuit()
    for merge, arrival in (("ascending", False), ("arrival", True)):
        image = node_image(built, 2, merge=merge)
        assert image.config.merge == merge
        assert node_timing(image).arrival_order is arrival
    config = NodeParams(n_neurons=8, n_populations=2, ring_depth=4, n_sources=16,
                        memory_words=4)
    assert config.merge == "ascending"
    assert node_verilog(config) != node_verilog(dataclasses.replace(config, merge="arrival"))


def _late_unsorted_offers(external, quiet, seed):
    """Shuffle each step's external spikes (not ascending) and give them rising offer cycles
    spread over three quiet steps, ``last`` after them."""
    rng = np.random.default_rng(seed)
    shuffled = [rng.permutation(e).tolist() for e in external]
    offers = [sorted(rng.integers(0, 3 * quiet, len(e) + 1).tolist()) for e in external]
    return shuffled, offers


#: (case, (L, U)) of the arrival merge with late offers.
ARRIVAL_RUNS = [("microcircuit", (1, 1)), ("microcircuit", (8, 10)), ("saturating", (8, 10))]


@pytest.mark.parametrize("name, lanes", ARRIVAL_RUNS,
                         ids=[f"{n}-L{a}U{b}" for n, (a, b) in ARRIVAL_RUNS])
def test_arrival_merge_late_unsorted_offers_equal_rule_and_engine(name, lanes):
    """The arrival merge (``merge="arrival"``) with the other nodes' spikes offered late and
    not in ascending id, their offers falling between the node's own spikes: every step's
    cycles equal the rule's with ``arrival_order`` (difference 0) and differ from the rule's
    ascending merge on the same offers; raster, neuron state and ring buffers equal the
    engine's, and the synaptic events and ring saturations the step schedule's (the
    saturating case reads channels at their bound, the microcircuit none)."""
    make, p, _ = CASES[name]
    built, n_steps = make(), 12
    image, _, expected, _ = engine_case(built, p, n_steps, latency=8, fifo_words=16,
                                        spike_fifo=4, synapse_lanes=lanes[0],
                                        update_lanes=lanes[1], merge="arrival")
    sim = Simulator(built, threads=1, progress=False)
    sim.run_steps(n_steps)
    senders, steps = sim.spikes()
    quiet = -(-image.n_local // lanes[1]) + 10
    external, offers = _late_unsorted_offers(external_spikes(image, senders, steps, n_steps),
                                             quiet, seed=5)
    assert any(e != sorted(e) for e in external)
    run = simulate(image, n_steps, external, offers=offers)
    assert run.spikes == expected and sum(map(len, expected)) > 0
    rule = emulator_cycles(image, external, expected, offers=offers)
    assert run.cycles == rule.cycles.tolist()
    ascending = image._replace(config=dataclasses.replace(image.config, merge="ascending"))
    assert rule.cycles.tolist() != emulator_cycles(ascending, external, expected,
                                                   offers=offers).cycles.tolist()
    # the offers interleave with the node's own spikes: some local spike enters the merge
    # after one external offer of its step and before another
    assert any(o[0] < c < o[-2] for o, e in zip(offers, rule.emit) if len(o) > 2 for c in e)
    gids = np.arange(p, built.n_neurons, len(built.partitions))
    state = sim.state()
    np.testing.assert_array_equal(
        run.state, np.stack([state[k][gids] for k in ("v", "i_ex", "i_in", "ref")], axis=1))
    np.testing.assert_array_equal(run.ring, sim.ring_buffer(p))
    ref = _step_schedule(built, p, image.n_local, senders, steps, n_steps)
    assert run.counters["events"] == ref.events > 0
    assert run.counters["syn_saturations"] == ref.saturations
    assert (ref.saturations > 0) is (name == "saturating")
    assert run.counters["spike_count"] == sum(map(len, expected))


def test_arrival_merge_counts_saturations_as_the_engine():
    """The arrival merge on the saturating case, the other nodes' spikes offered late and
    not in ascending id: each ring entry receives its synapses in another order than the
    engine's, and the node's counters still equal the step schedule's, the saturation count
    included (docs/numerics.md, section 4: it is taken at the read-and-clear)."""
    built, p, n_steps = _saturating(), 1, 20
    image, _, expected, _ = engine_case(built, p, n_steps, latency=8, fifo_words=16,
                                        spike_fifo=4, merge="arrival")
    sim = Simulator(built, threads=1, progress=False)
    sim.run_steps(n_steps)
    senders, steps = sim.spikes()
    external, offers = _late_unsorted_offers(external_spikes(image, senders, steps, n_steps),
                                             image.n_local + 10, seed=7)
    assert any(e != sorted(e) for e in external)
    run = simulate(image, n_steps, external, offers=offers)
    assert run.spikes == expected
    np.testing.assert_array_equal(run.ring, sim.ring_buffer(p))
    ref = _step_schedule(built, p, image.n_local, senders, steps, n_steps)
    assert run.counters["events"] == ref.events
    assert run.counters["syn_saturations"] == ref.saturations == 90
