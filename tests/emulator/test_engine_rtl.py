"""The cluster step with the RTL node (``node.model = "rtl"``) against the node's own rule.

A small microcircuit on four nodes: every node's cycles of every step are the RTL node's
cycle rule (``neuroaix.emulator.node.node_cycles``, the rule the RTL harness runs) fed the
spikes the cluster offered it, with the harness's own load image (layout, banks, row
pointers); with every spike offered from the step's first cycle they are the harness's
streaming run of the node.
"""

import numpy as np
import pytest
from neuroaix.emulator import (
    Emulator,
    HardwareConfig,
    NodeConfig,
    TopologyConfig,
    counts_from_built,
    targets_from_built,
)
from neuroaix.emulator.node import node_cycles
from neuroaix.emulator.workload import simulate_raster
from neuroaix.rtl.harness.node_engine import emulator_cycles
from neuroaix.rtl.harness.node_image import (
    external_spikes,
    node_image,
    node_timing,
    synapse_banks,
)

from neuroaix import models

N_STEPS = 14
LANES = {"synapse_lanes": 8, "neuron_cores": 10}


@pytest.fixture(scope="module")
def case():
    built = models.microcircuit(scale=0.005, k_scale=0.05, input="dc", seed=5).build(
        partitions=4, threads=1)
    theta = built.coefficients[built.pop_of, 6]
    rng = np.random.default_rng(0)  # potentials around threshold: a burst in the first steps
    built.v0[:] = theta + rng.integers(-(2 << 16), 1 << 16, built.n_neurons)
    senders, steps = simulate_raster(built, N_STEPS * float(built.dt), threads=1)
    keep = steps < steps.max()  # every step kept has a spike after it (trace_step's range)
    return built, senders[keep], steps[keep]


def _hardware(**node):
    return HardwareConfig(node=NodeConfig(model="rtl", **LANES, **node),
                          topology=TopologyConfig(shape=(2, 2)))


def _image(built, p, hw):
    n = hw.node
    return node_image(built, p, synapse_lanes=n.synapse_lanes, update_lanes=n.neuron_cores,
                      max_burst=n.max_burst, fifo_words=n.fifo_words, spike_fifo=n.spike_fifo,
                      merge=n.merge)


def test_rtl_cluster_step_is_the_node_rule_fed_the_offered_spikes(case):
    built, senders, steps = case
    n_steps = int(steps.max()) + 1
    hw = _hardware()
    em = Emulator(hw)
    counts, targets = counts_from_built(built), targets_from_built(built)
    res = em.run(counts, senders, steps, targets=targets)
    assert steps.size > 100 and n_steps >= 8 and res.rounds.min() >= 2
    period = em.rtl.period_fs
    P = hw.n_nodes
    for p in range(P):
        image = _image(built, p, hw)
        local, ext, offers, emit = [], [], [], []
        for t in range(n_steps):
            tr = em.trace_step(counts, senders, steps, t, targets=targets)
            gids = tr["senders"]
            own = gids % P == p
            local.append(((gids[own] - p) // P).tolist())
            emit.append(tr["emit_cycles"][own].tolist())
            ext.append(gids[~own].tolist())
            off = tr["offer_cycles"][p]
            offers.append(off[:-1][~own].tolist() + [int(off[-1])])
            # offered in ascending id, never before arrival, `last` after every marker
            assert np.all(np.diff(gids[~own]) > 0)
            arrival = tr["arrival"][p][~own]
            assert np.all(off[:-1][~own] * period >= arrival)
            assert np.all(off[:-1][~own] <= off[-1])
            assert tr["rtl_cycles"][p].tolist() == res.rtl_cycles[t, p].tolist()
        got = node_cycles(node_timing(image), em.memory_timing, local, ext, image.row_start,
                          image.row_length, synapse_banks(image), offers=offers)
        assert got.cycles.tolist() == res.rtl_cycles[:, p, 0].tolist()
        assert got.update_done.tolist() == res.rtl_cycles[:, p, 1].tolist()
        assert got.last_taken.tolist() == res.rtl_cycles[:, p, 3].tolist()
        # the emissions the network carried are the ones the node's rule makes
        assert [e.tolist() for e in got.emit] == emit
        assert res.done_fs[:, p].tolist() == (got.cycles * period).tolist()
    assert res.step_fs.tolist() == res.done_fs.max(axis=1).tolist()
    act = res.activity
    assert act.synaptic_events == sum(int(counts[:, s].sum()) for s in senders)


def test_rtl_cluster_with_spikes_at_step_start_is_the_harness_rule(case):
    built, senders, steps = case
    hw = _hardware(rtl_release="step-start")
    em = Emulator(hw)
    res = em.run(counts_from_built(built), senders, steps, n_steps=N_STEPS,
                 targets=targets_from_built(built))
    for p in range(hw.n_nodes):
        image = _image(built, p, hw)
        mine = senders % hw.n_nodes == p
        spikes = [np.sort(senders[mine & (steps == t)]).tolist() for t in range(N_STEPS)]
        # the harness's own run of the rule, with the cluster's DDR in the node's clock
        got = emulator_cycles(image, external_spikes(image, senders, steps, N_STEPS), spikes,
                              em.memory_timing)
        assert got.cycles.tolist() == res.rtl_cycles[:, p, 0].tolist()
    ascending = Emulator(_hardware()).run(counts_from_built(built), senders, steps,
                                          n_steps=N_STEPS, targets=targets_from_built(built))
    assert np.all(ascending.step_fs >= res.step_fs)  # waiting for the network never helps


def test_rtl_release_orders_ascending_before_markers(case):
    built, senders, steps = case
    counts, targets = counts_from_built(built), targets_from_built(built)
    asc = Emulator(_hardware()).run(counts, senders, steps, n_steps=N_STEPS, targets=targets)
    mk = Emulator(_hardware(rtl_release="markers")).run(counts, senders, steps,
                                                         n_steps=N_STEPS, targets=targets)
    assert np.all(asc.rtl_cycles[:, :, 2] == mk.rtl_cycles[:, :, 2])  # `last`: every marker
    assert asc.step_fs.sum() <= mk.step_fs.sum()


def test_rtl_model_needs_the_targets(case):
    built, senders, steps = case
    em = Emulator(_hardware())
    with pytest.raises(ValueError, match=r"^node\.model = \"rtl\" needs the synapses' targets"):
        em.run(counts_from_built(built), senders, steps)
    with pytest.raises(ValueError, match=r"^targets must give one array per node \(4\), not 1"):
        em.run(counts_from_built(built), senders, steps, targets=[np.zeros(3)])


def test_arrival_merge_is_the_rule_with_that_merge(case):
    """``rtl_release = "arrival"``: the node built with ``merge = "arrival"``, fed in order of
    arrival; the harness's image of the node carries the merge to the rule."""
    built, senders, steps = case
    n_steps = int(steps.max()) + 1
    hw = _hardware(rtl_release="arrival")
    em = Emulator(hw)
    counts, targets = counts_from_built(built), targets_from_built(built)
    res = em.run(counts, senders, steps, targets=targets)
    asc = Emulator(_hardware()).run(counts, senders, steps, targets=targets)
    assert res.step_fs.sum() < asc.step_fs.sum()
    P = hw.n_nodes
    for p in range(P):
        image = _image(built, p, hw)
        local, ext, offers = [], [], []
        for t in range(n_steps):
            tr = em.trace_step(counts, senders, steps, t, targets=targets)
            gids = tr["senders"]
            own = gids % P == p
            local.append(((gids[own] - p) // P).tolist())
            order = [k for k in np.lexsort((gids, tr["arrival"][p])) if not own[k]]
            ext.append(gids[order].tolist())
            offers.append(tr["offer_cycles"][p][order].tolist()
                          + [int(tr["offer_cycles"][p][-1])])
            assert np.all(np.diff(offers[-1][:-1]) >= 0)
        assert image.config.merge == "arrival" and node_timing(image).arrival_order
        got = node_cycles(node_timing(image), em.memory_timing,
                          local, ext, image.row_start, image.row_length, synapse_banks(image),
                          offers=offers)
        assert got.cycles.tolist() == res.rtl_cycles[:, p, 0].tolist()
