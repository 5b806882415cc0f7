import subprocess
import sys

import numpy as np
import pytest
from neuroaix.emulator import PHASES, Emulator, HardwareConfig, _kernels

from neuroaix import timing
from neuroaix.energy import Activity
from neuroaix.emulator.clock import Clock, ns_to_fs
from neuroaix.emulator.config import TopologyConfig
from neuroaix.emulator.ddr import MemoryModel
from neuroaix.emulator.link import LinkTiming


def _cdiv(a, b):
    return -(-a // b)


def test_one_spike_on_two_nodes_closed_form():
    hw = HardwareConfig(topology=TopologyConfig(shape=(2,)))
    em = Emulator(hw)
    n = 20
    counts = np.zeros((2, n), np.int32)
    counts[1, 2] = 16                       # gid 2 lives on node 0 (local 1)
    r = em.run(counts, [2], [0])
    tn = Clock("n", hw.node.neuron_clock_mhz).period_fs
    ts = Clock("s", hw.node.spike_clock_mhz).period_fs
    ty = Clock("y", hw.node.synapse_clock_mhz).period_fs
    lt = LinkTiming.from_config(hw.link)
    update_end = (1 + 30) * tn              # 10 neurons per node on 10 cores, depth 30
    c = _cdiv(31 * tn, ts)                  # spike out at the end of cycle 30
    ready = c * ts + ns_to_fs(880)
    depart = ready + lt.enter_fs
    arrive1 = depart + lt.enter_flight_fs + lt.deliver_fs
    # node 0's marker follows one spike-clock cycle later and queues behind the spike's flit
    marker_depart = max((c + 1) * ts + ns_to_fs(880) + lt.enter_fs,
                        depart + lt.serialisation_fs)
    marker_at_1 = marker_depart + lt.enter_flight_fs + lt.deliver_fs
    # node 1's own marker reaches node 0 without contention
    c1 = _cdiv(update_end, ts)
    marker_at_0 = c1 * ts + ns_to_fs(880) + lt.enter_fs + lt.enter_flight_fs + lt.deliver_fs
    # delivery on node 1: accept, lookup, request, DDR, two words, one cycle each, drain 3
    mem = MemoryModel(hw.memory)
    service, _ = mem.tables(2)
    a = _cdiv(arrive1, ty)
    t0 = (a + 2) * ty
    first = min(mem.latency_fs + ns_to_fs(64 / 12.12), int(service[2]))
    step = (int(service[2]) - first) // 1
    h0 = _cdiv(t0 + first, ty)
    h1 = max(_cdiv(t0 + first + step, ty), h0 + 1)
    e1 = max(h1 + 1, h0 + 2)
    last_write = (e1 + 3) * ty
    done1 = max(update_end, marker_at_1, last_write)
    done0 = max(update_end, marker_at_0)
    assert r.done_fs[0].tolist() == [done0, done1]
    assert r.step_fs.tolist() == [max(done0, done1)]
    assert r.network_fs[0].tolist() == [marker_at_0, max(arrive1, marker_at_1)]
    act = r.activity
    assert (act.spikes, act.packets, act.hops) == (1, 1, 1)
    assert (act.bytes_fetched, act.synaptic_events) == (128, 16)
    assert act.neuron_updates == n and act.steps == 1
    assert r.q_rtf == pytest.approx(r.step_fs[0] / 1e15 / 1e-4)


def _workload(seed=3, n=700, steps=30, rate=6):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 40, (35, n)).astype(np.int32)
    k = rng.poisson(rate, steps)
    st = np.repeat(np.arange(steps), k)
    snd = np.concatenate([np.sort(rng.choice(n, size=kk, replace=False)) for kk in k])
    return counts, snd, st


def test_cluster_counts_and_order_independence():
    counts, snd, st = _workload()
    em = Emulator(HardwareConfig())
    r = em.run(counts, snd, st)
    perm = np.random.default_rng(0).permutation(len(snd))
    r2 = em.run(counts, snd[perm], st[perm])
    np.testing.assert_array_equal(r.step_fs, r2.step_fs)
    np.testing.assert_array_equal(r.done_fs, r2.done_fs)
    act = r.activity
    assert isinstance(act, Activity)
    assert act.hops == 34 * len(snd)
    assert act.packets == 4 * len(snd)       # four ring directions leave each source
    assert act.synaptic_events == int(counts[:, snd].sum())
    words = _cdiv(counts[:, snd].astype(np.int64), 8)
    assert act.bytes_fetched == int(words.sum()) * 64
    assert r.counters["sync_hops"] == 34 * 35 * 30
    assert r.step_fs.min() > 0
    assert sum(r.bottleneck_counts().values()) == 30


def test_trace_matches_run():
    counts, snd, st = _workload()
    em = Emulator(HardwareConfig())
    r = em.run(counts, snd, st)
    tr = em.trace_step(counts, snd, st, 5)
    assert tr["step_fs"] == r.step_fs[5]
    np.testing.assert_array_equal(tr["done"], r.done_fs[5])
    lw = tr["last_write"]
    assert lw.max() <= tr["step_fs"]
    assert (tr["arrival"] > 0).all()


def test_faster_links_never_slow_a_step_down_and_barrier_adds():
    counts, snd, st = _workload()
    base = Emulator(HardwareConfig()).run(counts, snd, st)
    fast = Emulator(HardwareConfig().with_value("link.transceiver_ns", 34.0)).run(
        counts, snd, st)
    assert (fast.step_fs <= base.step_fs).all() and fast.acceleration > base.acceleration
    hw = HardwareConfig().with_value("sync.barrier_ns", 100.0)
    slow = Emulator(hw).run(counts, snd, st)
    np.testing.assert_array_equal(slow.step_fs, base.step_fs + 100_000_000)


@pytest.mark.parametrize("turn", ["extra-hop", "full-hop"])
def test_worst_case_spike_latency_on_the_5x7_torus(turn):
    # One spike from node 0 on an idle network, no markers: the farthest nodes are 2 + 3
    # hops away; the first hop pays router, clock crossing, serialisation, transceiver and
    # cable, the others the extra hop delay, except a full-hop turn into the second dimension.
    hw = HardwareConfig().with_value("sync.scheme", "barrier").with_value("topology.turn", turn)
    counts = np.zeros((35, 70), np.int32)
    r = Emulator(hw).run(counts, [0], [0])
    lt = LinkTiming.from_config(hw.link)
    ts = Clock("s", hw.node.spike_clock_mhz).period_fs
    tn = Clock("n", hw.node.neuron_clock_mhz).period_fs
    ready = _cdiv(31 * tn, ts) * ts + ns_to_fs(hw.node.dispatcher_latency_ns)
    first = lt.enter_fs + lt.enter_flight_fs
    if turn == "extra-hop":
        net = first + 4 * lt.pass_flight_fs + lt.deliver_fs
    else:
        net = 2 * first + 3 * lt.pass_flight_fs + lt.deliver_fs
    assert r.network_fs[0].max() == ready + net
    assert int((r.network_fs[0] == ready + net).sum()) == 4      # rows +-2 x columns +-3
    lat = Emulator(hw).idle_latency()
    assert lat == r.idle_latency == r.to_json()["idle_latency_ns"]
    assert lat["network_ns"] == net / 1e6 and lat["dispatcher_ns"] == 880.0
    assert lat["worst_ns"] == (net + ns_to_fs(880)) / 1e6
    if turn == "extra-hop":
        # the paper's "about 2 us" from source to destination (Kauth et al. 2023)
        assert 1_900 < net / 1e6 < 2_100


def test_to_json_shape():
    counts, snd, st = _workload(steps=4)
    r = Emulator(HardwareConfig()).run(counts, snd, st, n_steps=6)
    out = r.to_json(per_node=True)
    assert out["steps"] == 6 and len(out["step_ns"]) == 6 and len(out["bottleneck"]) == 6
    assert np.asarray(out["phase_cycles_per_node"]["network"]).shape == (6, 35)
    assert out["acceleration"] == pytest.approx(0.1e6 / np.mean(out["step_ns"]))


def test_step_kernels_are_keyed_by_the_cycle_rule():
    """The digest of neuroaix/timing.py is the step kernels' one closure cell (cache key)."""
    for kernel in (_kernels._emulate_step, _kernels._emulate_steps):
        cells = [c.cell_contents for c in kernel.py_func.__closure__]
        assert cells == [_kernels._rule_digest()]


def test_step_kernels_load_from_the_numba_cache():
    """A second process finds both step kernels in Numba's cache (their key is stable)."""
    code = ("import numpy as np\n"
            "from neuroaix.emulator import Emulator, HardwareConfig, _kernels as k\n"
            "em = Emulator(HardwareConfig())\n"
            "counts = np.ones((35, 50), np.int32)\n"
            "em.run(counts, [1, 2, 3], [0, 0, 1])\n"
            "em.trace_step(counts, [1, 2, 3], [0, 0, 1], 0)\n"
            "print(sum(k._emulate_steps.stats.cache_hits.values()),\n"
            "      sum(k._emulate_step.stats.cache_hits.values()))\n")
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
    assert out.stdout.split() == ["1", "1"]


def test_pipeline_causes_are_phase_indices():
    assert [PHASES[c] for c in (timing.CAUSE_NETWORK, timing.CAUSE_MEMORY,
                                timing.CAUSE_PIPELINE)] == ["network", "memory", "pipeline"]


def test_no_steps_have_no_activity():
    r = Emulator(HardwareConfig()).run(np.zeros((35, 4), np.int32), [], [])
    assert r.to_json()["activity"] is None
    with pytest.raises(RuntimeError, match=r"^no steps were emulated; the activity is "):
        r.activity


def test_bad_inputs():
    em = Emulator(HardwareConfig())
    with pytest.raises(ValueError, match=r"^counts must have shape \(nodes=35, neurons\), not "
                                         r"\(2, 3\); build the network with partitions=35$"):
        em.run(np.zeros((2, 3), np.int32), [], [])
    counts = np.zeros((35, 10), np.int32)
    with pytest.raises(ValueError, match=r"^senders must be global ids in \[0, 10\)"):
        em.run(counts, [10], [0])
    with pytest.raises(ValueError, match=r"^n_steps=1 must exceed the last spike's step 3"):
        em.run(counts, [1], [3], n_steps=1)
    with pytest.raises(TypeError, match=r"^hardware must be a HardwareConfig, not 'x'"):
        Emulator("x")
