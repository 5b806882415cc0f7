"""The node's testbench memory (``neuroaix.rtl.harness.memory_model``) on its own.

:class:`TimedMemory` follows ``neuroaix.timing`` clock by clock: a fixed latency, one word per
cycle, a word held while the node is not ready, a full queue; the DDR table starting a
request when the DDR is free. ``node_memory`` builds both; ``memory_record`` records only
what the memory uses; a timing survives its JSON round trip (the cocotb bench's copy).
"""

import numpy as np
import pytest

from neuroaix import timing
from neuroaix.rtl.harness.memory_model import TimedMemory, timing_from_json, timing_to_json
from neuroaix.rtl.harness.node_engine import memory_record, node_memory
from neuroaix.rtl.params import NodeParams

CONFIG = NodeParams(n_neurons=8, n_populations=1, ring_depth=4, n_sources=8, memory_words=8,
                    max_burst=2, latency=3)


def test_timed_memory_follows_the_timing():
    """The testbench memory alone: a fixed latency hands the first word over L cycles after
    the request and then one per cycle, holds a word while the node is not ready, refuses a
    request beyond its queue; the DDR starts a request when it is free."""
    words = [10 + k for k in range(8)]
    mem = TimedMemory(words, timing.fixed_latency(3), queue_depth=1)
    got = []
    for cycle in range(12):
        if mem.resp_valid:
            got.append((cycle, mem.resp_word))
        request = (2, 3) if cycle == 0 else None
        assert mem.req_ready == (cycle == 0 or cycle > 5)
        mem.clock(cycle, request, resp_ready=cycle != 4)
    assert got == [(3, 12), (4, 13), (5, 13), (6, 14)]
    with pytest.raises(RuntimeError, match="not ready"):
        full = TimedMemory(words, timing.fixed_latency(3), queue_depth=1)
        full.clock(0, (0, 1), True)
        full.clock(1, (0, 1), True)
    ddr = node_memory("ddr", CONFIG)
    mem = TimedMemory(words, ddr, queue_depth=4)
    first = []
    for cycle in range(80):
        if mem.resp_valid:
            first.append(cycle)
        mem.clock(cycle, (0, 2) if cycle < 2 else None, True)
    start0, free = timing.memory_start(ddr, 0, 0, 2)
    start1, _ = timing.memory_start(ddr, 1, free, 2)
    assert start1 == free > ddr.period_fs  # the second request waits for the DDR
    want = [timing.word_ready(ddr, 0, start0, 2, k) for k in range(2)]
    want += [timing.word_ready(ddr, 1, start1, 2, k) for k in range(2)]
    expect, prev = [], -1
    for w in want:  # one word per cycle, in order
        prev = max(int(w), prev + 1)
        expect.append(prev)
    assert first == expect


def test_node_memory_and_its_record():
    fixed = node_memory("fixed", CONFIG)
    assert fixed.latency == 3 and fixed.service_fs.shape == (0,)
    assert memory_record("fixed", CONFIG) == {"memory": "fixed", "latency": 3}
    ddr = node_memory("ddr", CONFIG)
    assert ddr.service_fs.shape == (3,) and ddr.period_fs == 5_280_026
    assert ddr.first_word_fs == 93_480_000 + 5_280_528  # latency_ns + 64 B at 12.12 GB/s
    assert memory_record("ddr", CONFIG) == {"memory": "ddr", "hardware": "neuroaix-35",
                                            "synapse_clock_mhz": 189.393,
                                            "period_fs": 5_280_026}
    for memory in (fixed, ddr):
        back = timing_from_json(timing_to_json(memory))
        for a, b in zip(back, memory):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"^memory must be one of"):
        node_memory("sram", CONFIG)
    with pytest.raises(TypeError, match=r"^memory must be a neuroaix.timing.MemoryTiming"):
        TimedMemory([], "fixed", 4)
