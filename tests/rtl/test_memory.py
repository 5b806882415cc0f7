# amaranth: UnusedElaboratable=no
"""The behavioural synapse memory: latency, bursts in order, backpressure, loading."""

import itertools

import pytest
from amaranth.sim import Simulator

from neuroaix.rtl.hw.synapse_memory import SynapseMemory, words_to_memory

from tests.rtl._stream import stream_put


def _run(latency, requests, ready_pattern, loads=()):
    mem = SynapseMemory(memory_words=16, latency=latency, max_burst=4, queue_depth=4,
                        init=[1000 + i for i in range(16)])
    sim = Simulator(mem)
    sim.add_clock(1e-6)
    got = []

    async def driver(ctx):
        for addr, data in loads:
            await stream_put(ctx, mem.i_load, {"addr": addr, "data": data})
        for addr, count in requests:
            await stream_put(ctx, mem.i_req, {"addr": addr, "count": count})

    async def monitor(ctx):
        gate = itertools.cycle(ready_pattern)
        cycle = 0
        want = sum(c for _, c in requests)
        while len(got) < want:
            ready = next(gate)
            ctx.set(mem.o_resp.ready, ready)
            if ready and ctx.get(mem.o_resp.valid):
                got.append((cycle, ctx.get(mem.o_resp.payload.as_value())))
            await ctx.tick()
            cycle += 1

    sim.add_testbench(driver)
    sim.add_testbench(monitor)
    sim.run()
    return got


def test_first_word_after_latency_then_one_per_cycle():
    got = _run(7, [(3, 4), (0, 2)], (1,))
    cycles = [c for c, _ in got]
    # Request 0 handshakes in cycle 0: words at 7..10; request 1 (cycle 1) follows at 11, 12.
    assert cycles == [7, 8, 9, 10, 11, 12]
    assert [v for _, v in got] == [1003, 1004, 1005, 1006, 1000, 1001]


def test_words_in_request_order_under_backpressure():
    got = _run(3, [(5, 3), (1, 1), (14, 2)], (1, 0, 0, 1, 0))
    assert [v for _, v in got] == [1005, 1006, 1007, 1001, 1014, 1015]
    # Words are taken only in cycles whose ready is 1 (cycle % 5 in {0, 3}).
    assert all(c % 5 in (0, 3) for c, _ in got)
    assert got[0][0] == 3


def test_load_port_overwrites_words():
    got = _run(2, [(2, 2)], (1,), loads=[(2, 77), (3, 1 << 500)])
    assert [v for _, v in got] == [77, 1 << 500]


@pytest.mark.parametrize("kwargs, msg", [
    ({"latency": 1}, r"^latency must lie in \[2, 1048576\], not 1$"),
    ({"init": [0] * 17}, r"^init holds 17 words but memory_words is 16; raise memory_words$"),
])
def test_constructor_errors(kwargs, msg):
    args = dict(memory_words=16, latency=4, max_burst=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=msg):
        SynapseMemory(**args)


def test_words_to_memory_little_endian():
    assert words_to_memory([1, 2, 3, 4, 5, 6, 7, 8, 9]) == [
        sum(k << (64 * (k - 1)) for k in range(1, 9)), 9]
