"""Stream handshakes for amaranth.sim testbenches (``lib.stream`` valid/ready)."""

import itertools

from amaranth.sim import Simulator

__all__ = ["run_tagged", "stream_get", "stream_put"]


async def stream_put(ctx, stream, payload):
    """Offer ``payload`` on ``stream`` until it is accepted (one handshake), then drop valid."""
    ctx.set(stream.valid, 1)
    ctx.set(stream.payload, payload)
    await ctx.tick().until(stream.ready)
    ctx.set(stream.valid, 0)


async def stream_get(ctx, stream):
    """Accept one payload from ``stream`` and return it with the cycle count waited."""
    ctx.set(stream.ready, 1)
    payload, = await ctx.tick().sample(stream.payload).until(stream.valid)
    ctx.set(stream.ready, 0)
    return payload


def run_tagged(dut, payloads, extract, *, ready_pattern=(1,), valid_pattern=(1,)):
    """Stream tagged ``payloads`` through ``dut.i_neurons`` and collect ``dut.o_neurons``.

    Each payload gets ``tag`` = its index; inputs are offered while ``valid_pattern`` allows
    and outputs accepted while ``ready_pattern`` allows (patterns cycle). Outputs must come
    back in order. Returns ``(outputs, cycles)``: ``extract(payload)`` of each output and the
    cycle it was accepted in.
    """
    out, cycles = [], []
    sim = Simulator(dut)
    sim.add_clock(1e-6)

    async def driver(ctx):
        gate = itertools.cycle(valid_pattern)
        for n, payload in enumerate(payloads):
            while not next(gate):
                await ctx.tick()
            await stream_put(ctx, dut.i_neurons, {**payload, "tag": n})

    async def monitor(ctx):
        gate = itertools.cycle(ready_pattern)
        cycle = 0
        while len(out) < len(payloads):
            ready = next(gate)
            ctx.set(dut.o_neurons.ready, ready)
            await ctx.delay(1e-9)
            if ready and ctx.get(dut.o_neurons.valid):
                p = ctx.get(dut.o_neurons.payload)
                assert p.tag == len(out)
                out.append(extract(p))
                cycles.append(cycle)
            await ctx.tick()
            cycle += 1

    sim.add_testbench(driver)
    sim.add_testbench(monitor)
    sim.run()
    return out, cycles
