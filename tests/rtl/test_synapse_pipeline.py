# amaranth: UnusedElaboratable=no
"""amaranth.sim tests of the synapse pipeline against the reference model (neuroaix.rtl.model).

Each run loads row pointers, offers spikes step by step, reads every slot out through the
read-and-clear port and compares values, counters and cycles exactly with the model.
"""

import numpy as np
import pytest
from amaranth.sim import Simulator

from neuroaix import formats
from neuroaix.rtl.harness import workloads
from neuroaix.rtl.harness.cocotb_kit import PATTERNS
from neuroaix.rtl.hw.synapse_memory import PipelineWithMemory, words_to_memory
from neuroaix.rtl.params import PipelineConfig
from neuroaix.rtl.harness.pipeline_sim import Workload, simulate
from neuroaix.rtl.hw.synapse_pipeline import RingValues, SplitMemoryData, SynapsePipeline

from tests.rtl._stream import stream_get, stream_put

WORKLOADS = {
    "random": lambda: workloads.random_workload(
        seed=1, n_neurons=16, ring_depth=8, n_sources=40, max_row=30, n_steps=4,
        spikes_per_step=8, max_burst=4, fifo_words=8, latency=10),
    # 12 x 8 ring entries and 40 row pointers: both memories split (64 + 32, 32 + 8 entries)
    "random_split": lambda: workloads.random_workload(
        seed=5, n_neurons=12, ring_depth=8, n_sources=40, max_row=30, n_steps=4,
        spikes_per_step=10, max_burst=4, fifo_words=8, latency=6),
    "credit_bound": lambda: workloads.random_workload(
        seed=2, n_neurons=8, ring_depth=4, n_sources=50, max_row=3, n_steps=2,
        spikes_per_step=25, max_burst=1, fifo_words=2, latency=9),
    "one_address": lambda: workloads.hazard_workload(
        seed=3, n_neurons=4, ring_depth=2, n_sources=4, row=17, n_steps=3, saturate=False,
        max_burst=3, fifo_words=6, latency=2),
    "one_address_saturating": lambda: workloads.hazard_workload(
        seed=4, n_neurons=4, ring_depth=4, n_sources=5, row=19, n_steps=4, saturate=True,
        max_burst=8, fifo_words=8, latency=5),
}


@pytest.mark.parametrize("pattern", list(PATTERNS))
@pytest.mark.parametrize("name", list(WORKLOADS))
def test_matches_reference(name, pattern, scoreboard):
    workload = WORKLOADS[name]()
    spike_pattern, ready_pattern = PATTERNS[pattern]
    result = simulate(workload, spike_pattern=spike_pattern, ready_pattern=ready_pattern)
    ref = scoreboard(workload, result)
    assert ref.events > 0
    if name == "one_address_saturating":
        assert ref.saturations > 0


def test_streams_one_event_per_cycle_on_long_rows():
    """Rows of 256 synapses after the first memory latency: one event per cycle."""
    lengths = np.full(4, 256, dtype=np.int64)
    starts = np.arange(4, dtype=np.int64) * 256
    total = 1024
    rng = np.random.default_rng(5)
    words = formats.pack_synapses(rng.integers(0, 8, total), rng.integers(-9, 9, total),
                                  rng.integers(1, 4, total))
    config = PipelineConfig(n_neurons=8, ring_depth=4, n_sources=4, memory_words=128,
                            max_burst=8, fifo_words=16, latency=16)
    workload = Workload(config, starts, lengths, words, [[0, 1, 2, 3]])
    result = simulate(workload)
    done = result.timing[0].done
    # The first synapse is written latency + lookup + unpack + RMW cycles after the spike;
    # from then on one synapse per cycle, across row boundaries.
    assert np.diff(done).tolist() == [256, 256, 256]
    assert result.timing[0].cycles == done[-1] + 1


def test_unknown_source_and_empty_rows_deliver_nothing(scoreboard):
    words = formats.pack_synapses([1, 2], [100, -100], [1, 2])
    config = PipelineConfig(n_neurons=4, ring_depth=4, n_sources=3, memory_words=1,
                            max_burst=1, fifo_words=1, latency=3)
    workload = Workload(config, np.array([0, 0, 2]), np.array([2, 0, 0]), words,
                        [[1, 2, 7], [0, 9], [], [0]])
    result = simulate(workload)
    scoreboard(workload, result)
    assert result.events == 4
    assert result.timing[2].cycles == 0


def test_target_out_of_range_is_dropped():
    words = formats.pack_synapses([1, 5, 2], [10, 20, 30], [1, 1, 1])
    dut = PipelineWithMemory(n_neurons=4, ring_depth=2, n_sources=1, memory_words=1,
                             max_burst=1, fifo_words=1, latency=2, init=words_to_memory(words))
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    got = []

    async def bench(ctx):
        await stream_put(ctx, dut.i_rows, {"source": 0, "start": 0, "length": 3})
        await stream_put(ctx, dut.i_spikes, {"source": 0, "step": 0})
        await ctx.tick().until(dut.o_idle)
        for n in range(4):
            await stream_put(ctx, dut.i_clear, {"slot": 1, "neuron": n})
            v = await stream_get(ctx, dut.o_cleared)
            got.append((v[0].exc, v[0].inh))
        got.append((ctx.get(dut.o_events), ctx.get(dut.o_dropped)))

    sim.add_testbench(bench)
    sim.run()
    assert got == [(0, 0), (10, 0), (30, 0), (0, 0), (2, 1)]


def test_properties():
    p = SynapsePipeline(n_neurons=10, ring_depth=16, n_sources=5, memory_words=7,
                        max_burst=2, fifo_words=3)
    assert (p.n_neurons, p.ring_depth, p.n_sources, p.memory_words, p.max_burst,
            p.fifo_words) == (10, 16, 5, 7, 2, 3)


@pytest.mark.parametrize("kwargs, err, msg", [
    ({"n_neurons": 0}, ValueError,
     r"^n_neurons must lie in \[1, 16777216\], not 0$"),
    ({"n_neurons": 2.0}, TypeError, r"^n_neurons must be an integer, not 2\.0$"),
    ({"ring_depth": 12}, ValueError,
     r"^ring_depth must be a power of two, not 12; use 16$"),
    ({"ring_depth": 512}, ValueError, r"^ring_depth must lie in \[2, 256\], not 512$"),
    ({"fifo_words": 2, "max_burst": 4}, ValueError,
     r"^fifo_words must be >= 4, not 2; the response FIFO must hold one burst of "
     r"max_burst=4 words$"),
    ({"n_sources": True}, TypeError, r"^n_sources must be an integer, not True$"),
])
def test_constructor_errors(kwargs, err, msg):
    args = dict(n_neurons=4, ring_depth=4, n_sources=4, memory_words=4)
    args.update(kwargs)
    with pytest.raises(err, match=msg):
        SynapsePipeline(**args)


def test_split_memory_parts():
    split = SplitMemoryData(RingValues, 8832)
    assert [p.depth for p in split.parts] == [8192, 640]
    assert [p.depth for p in SplitMemoryData(RingValues, 1024).parts] == [1024]
    p = SynapsePipeline(n_neurons=12, ring_depth=8, n_sources=40, memory_words=4)
    assert [d.depth for d in p.bank_data[0].exc.parts] == [64, 32]
    assert [d.depth for d in p.bank_data[0].inh.parts] == [64, 32]
