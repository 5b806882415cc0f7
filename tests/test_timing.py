"""The one cycle rule (neuroaix.timing): numba-free, equal to the RTL runs, equal when jitted."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from neuroaix.emulator._kernels import _deliver_timing
from neuroaix.emulator.ddr import MemoryModel

from neuroaix import timing
from neuroaix.emulator import MemoryConfig

RTL_CYCLES = Path(__file__).parent / "data" / "rtl_cycles.json"


def _run(rule, valid, starts, lengths, pipe, memory):
    n = len(starts)
    accept = np.zeros(n, np.int64)
    done = np.zeros(n, np.int64)
    stats = np.zeros(len(timing.STATS_FIELDS), np.int64)
    rule(np.asarray(valid, np.int64), np.asarray(starts, np.int64),
         np.asarray(lengths, np.int64), pipe, memory, accept, done, stats)
    return accept.tolist(), done.tolist(), stats.tolist()


def test_imports_without_numba():
    """The module (and formats, its one import of the package) loads with Numba blocked."""
    package = Path(timing.__file__).parent
    code = (
        "import sys, types\n"
        "sys.modules['numba'] = None\n"
        "pkg = types.ModuleType('neuroaix')\n"
        f"pkg.__path__ = [{str(package)!r}]\n"
        "sys.modules['neuroaix'] = pkg\n"
        "import neuroaix.timing as t\n"
        "assert 'numba' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
        "print(t.RMW_DRAIN)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == str(timing.RMW_DRAIN)


def _workloads():
    return sorted(json.loads(RTL_CYCLES.read_text())["workloads"].items())


@pytest.mark.parametrize("name,record", _workloads())
def test_plain_rule_reproduces_the_rtl_runs(name, record):
    """Plain Python (the RTL model's use) gives every recorded accept, done and phase length."""
    prm = record["parameters"]
    pipe = timing.PipelineParams(max_burst=prm["max_burst"], fifo_words=prm["fifo_words"],
                                 lanes=1)
    memory = timing.fixed_latency(prm["latency"])
    for step in record["steps"]:
        n = len(step["row_start"])
        accept, done, stats = _run(timing.deliver_timing, [-1] * n, step["row_start"],
                                   step["row_length"], pipe, memory)
        assert accept == step["accept"]
        assert done == step["done"]
        assert stats[0] == step["cycles"]


def _random_phase(rng, n):
    lengths = rng.integers(0, 40, n) * (rng.random(n) < 0.8)
    starts = rng.integers(0, 300, n)
    valid = np.where(rng.random(n) < 0.5, -1, np.sort(rng.integers(0, 4 * n + 1, n)))
    return valid, starts, lengths


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("ddr", [False, True])
def test_jitted_rule_equals_plain_rule(seed, ddr):
    """The emulator's compiled rule equals the plain one, with both memories and lane widths."""
    rng = np.random.default_rng(100 + seed)
    max_burst = int(rng.integers(1, 17))
    pipe = timing.PipelineParams(max_burst=max_burst, fifo_words=max_burst * 2,
                                 lanes=int(rng.integers(1, 9)))
    if ddr:
        model = MemoryModel(MemoryConfig(prefetch=bool(seed % 2)))
        memory = model.memory_timing(max_burst, 5_280_000)
    else:
        memory = timing.fixed_latency(int(rng.integers(1, 40)))
    args = (*_random_phase(rng, 50), pipe, memory)
    plain = _run(timing.deliver_timing, *args)
    assert _run(_deliver_timing, *args) == plain
    assert plain[1] != [-1] * 50
    if ddr:
        assert plain[2][1] > 0


def test_memory_timing_of_the_ddr_table():
    """The [memory] table as the rules see it: the first word ``latency_ns`` plus one word at
    peak after the start, the last ``service_fs[k]`` after it, evenly between, each at the
    first cycle at or after its time; the memory busy ``occupancy_fs[k]`` per request."""
    model = MemoryModel(MemoryConfig())
    memory = model.memory_timing(8, 5_280_000)
    service, occupancy = model.tables(8)
    assert memory.first_word_fs == model.latency_fs + 5_280_528  # 64 B at 12.12 GB/s
    assert memory.service_fs.tolist() == service.tolist()
    assert memory.occupancy_fs.tolist() == occupancy.tolist()
    start, free = timing.memory_start(memory, 10, 0, 8)
    assert (start, free) == (10 * 5_280_000, 10 * 5_280_000 + int(occupancy[8]))
    assert timing.memory_start(memory, 11, free, 4) == (free, free + int(occupancy[4]))
    first = min(memory.first_word_fs, int(service[8]))
    step = (int(service[8]) - first) // 7
    got = [timing.word_ready(memory, 10, start, 8, k) for k in range(8)]
    assert got == [-(-(start + first + k * step) // 5_280_000) for k in range(8)]
    assert got[-1] <= -(-(start + int(service[8])) // 5_280_000)
    fixed = timing.fixed_latency(20)
    assert timing.memory_start(fixed, 10, 7, 8) == (10, 7)
    assert [timing.word_ready(fixed, 10, 10, 8, k) for k in (0, 7)] == [30, 30]


def test_row_words():
    assert [timing.row_words(s, n) for s, n in [(0, 0), (7, 1), (7, 2), (1, 8), (8, 16)]] \
        == [0, 1, 2, 2, 2]


def test_fixed_latency_rejects_bad_values():
    with pytest.raises(ValueError, match=r"^latency must be >= 1, not 0$"):
        timing.fixed_latency(0)
    with pytest.raises(TypeError, match=r"^latency must be an integer, not 1.5$"):
        timing.fixed_latency(1.5)


def _random_node(rng, ddr):
    from neuroaix.emulator._kernels import _node_step_cycles

    L = int(rng.choice([1, 2, 4, 8]))
    U = int(rng.integers(1, 11))
    banks = 1 << (max(L, U) - 1).bit_length()  # ring_banks(L, U)
    n_local, P, p = int(rng.integers(5, 60)), 3, 1
    n_sources = n_local * P
    lengths = rng.integers(0, 30, n_sources) * (rng.random(n_sources) < 0.8)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    syn_bank = rng.integers(0, banks, int(lengths.sum()) + 8)
    node = timing.NodeTiming(n_local=n_local, n_neurons=n_local, update_lanes=U,
                             synapse_lanes=L, banks=banks, max_burst=int(rng.integers(1, 9)),
                             fifo_words=16, spike_fifo=int(rng.integers(2, 8)), gid_base=p,
                             gid_stride=P, external=True, n_sources=n_sources)
    if ddr:
        memory = MemoryModel(MemoryConfig()).memory_timing(node.max_burst, 5_280_000)
    else:
        memory = timing.fixed_latency(int(rng.integers(2, 30)))
    spiked = rng.random(n_local) < 0.3
    ext = np.sort(rng.choice([g for g in range(n_sources) if g % P != p], 12, replace=False))
    # offer cycles: from the first cycle, or spread over the step (with `last` after them)
    offer = np.sort(rng.integers(0, 200, 13)) * (rng.random() < 0.5)
    if rng.random() < 0.5:  # the proposed merge in order of arrival
        node = node._replace(arrival_order=True)
        ext = rng.permutation(ext)
    return (node, memory, spiked, ext.astype(np.int64), starts, lengths.astype(np.int64),
            syn_bank.astype(np.int64)), offer.astype(np.int64), _node_step_cycles


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("ddr", [False, True])
def test_jitted_node_rule_equals_plain_rule(seed, ddr):
    """The node's cycle rule jitted by the emulator equals the plain one (both memories)."""
    args, offer, jitted = _random_node(np.random.default_rng(200 + seed), ddr)
    n = len(timing.NODE_STATS_FIELDS)
    stats_plain, stats_jit = np.zeros(n, np.int64), np.zeros(n, np.int64)
    emit_plain, emit_jit = np.zeros(args[0].n_local, np.int64), np.zeros(args[0].n_local,
                                                                          np.int64)
    plain = timing.node_step_cycles(*args, stats_plain, offer, emit_plain)
    assert jitted(*args, stats_jit, offer, emit_jit) == plain
    assert stats_jit.tolist() == stats_plain.tolist()
    assert emit_jit.tolist() == emit_plain.tolist()
    quiet = -(-args[0].n_local // args[0].update_lanes) + timing.NODE_QUIET_OVERHEAD
    assert stats_plain[0] == plain > quiet
    assert stats_plain[4] > 0
    assert stats_plain[7] == args[2].sum()  # every local spike went out, ascending
    assert np.all(np.diff(emit_plain[:stats_plain[7]]) > 0)
    assert stats_plain[6] >= offer[-1]  # `last` taken no earlier than offered
    assert 0 <= stats_plain[5] < plain
