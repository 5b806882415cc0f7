"""Run workloads through the Amaranth design in amaranth.sim, cycle by cycle.

:func:`simulate` drives :class:`~neuroaix.rtl.hw.synapse_memory.PipelineWithMemory` through the step
schedule of docs/architecture.md: for each step ``t`` the read-and-clear port reads slot
``t & (D-1)`` of every neuron (the ``update`` phase), then the step's spikes are offered on
``i_spikes`` (the ``deliver`` phase) and the pipeline runs until ``o_idle``. It records every
value read out and the cycle timing of every delivery phase, so that tests can compare both
against :mod:`neuroaix.rtl.model`.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np
from amaranth.sim import Simulator

from neuroaix.rtl.hw.synapse_memory import PipelineWithMemory, words_to_memory
from neuroaix.rtl.model import SpikeTiming
from neuroaix.rtl.params import PipelineConfig

__all__ = ["Workload", "SimResult", "simulate", "pipeline_top", "put_stream", "row_payloads"]


class Workload(NamedTuple):
    """What a node's pipeline is given: row pointers, synapse words and spikes per step.

    ``row_start[s]`` and ``row_length[s]`` (synapse addresses) describe source ``s``'s local
    synapses in ``synapse_words`` (uint64, :mod:`neuroaix.formats`); ``spikes[t]`` lists the
    sources that fired in step ``t``, in delivery (ascending) order.
    """

    config: PipelineConfig
    row_start: np.ndarray
    row_length: np.ndarray
    synapse_words: np.ndarray
    spikes: list


class SimResult(NamedTuple):
    """What a simulation measured."""

    readouts: list  #: per step, the slot read before delivery: int64 ``(n_neurons, 2)``
    final: np.ndarray  #: after the last step, every slot: int64 ``(D, n_neurons, 2)``
    timing: list  #: per step, the :class:`~neuroaix.rtl.model.SpikeTiming` measured
    valid: list  #: per step, the cycle each spike was first offered
    rings: list  #: with ``peek``, per step after delivery: int64 ``(D, 2, n_neurons)``
    events: int  #: the pipeline's event counter at the end


def pipeline_top(workload: Workload) -> PipelineWithMemory:
    """Return the simulation top for a workload, its memory initialised from the words."""
    c = workload.config
    return PipelineWithMemory(
        n_neurons=c.n_neurons, ring_depth=c.ring_depth, n_sources=c.n_sources,
        memory_words=c.memory_words, max_burst=c.max_burst, fifo_words=c.fifo_words,
        latency=c.latency, init=words_to_memory(workload.synapse_words))


async def put_stream(ctx, stream, payloads) -> None:
    """Put one payload a cycle on a stream whose ``ready`` is always high, then idle it.

    Parameters
    ----------
    ctx : amaranth.sim testbench context
        The testbench's context.
    stream : stream interface
        The port (``valid`` and ``payload``) of the design under test.
    payloads : iterable
        The payloads, one a cycle.
    """
    for payload in payloads:
        ctx.set(stream.valid, 1)
        ctx.set(stream.payload, payload)
        await ctx.tick()
    ctx.set(stream.valid, 0)


def row_payloads(rows, n_sources: int) -> list[dict]:
    """Return the ``i_rows`` payloads of the row pointers of sources ``0 .. n_sources - 1``.

    Parameters
    ----------
    rows : Workload or NodeImage
        Anything with ``row_start`` and ``row_length`` arrays.
    n_sources : int
        Row-pointer entries to load.
    """
    return [{"source": s, "start": int(rows.row_start[s]), "length": int(rows.row_length[s])}
            for s in range(n_sources)]


def simulate(workload: Workload, *, spike_pattern=(1,), ready_pattern=(1,),
             peek: bool = False, vcd: str | None = None) -> SimResult:
    """Simulate a workload in amaranth.sim and return what was read out and when.

    Parameters
    ----------
    workload : Workload
        Row pointers, synapse words and spikes.
    spike_pattern : sequence of int
        Cycled per cycle: 0 withholds ``i_spikes.valid`` that cycle (idle insertion).
    ready_pattern : sequence of int
        Cycled per cycle: 0 deasserts ``o_cleared.ready`` that cycle (backpressure).
    peek : bool
        After each delivery phase, also read every ring-buffer entry directly from the
        simulated block RAM (without the read-and-clear port).
    vcd : str, optional
        Write waveforms to this path.

    Returns
    -------
    SimResult
        Readouts, final ring contents, per-step timing and counters.
    """
    c = workload.config
    dut = pipeline_top(workload)
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    result = {}

    async def bench(ctx):
        spike_gate = itertools.cycle(spike_pattern)
        ready_gate = itertools.cycle(ready_pattern)
        await put_stream(ctx, dut.i_rows, row_payloads(workload, c.n_sources))

        async def read_slots(slots):
            requests = [(slot, n) for slot in slots for n in range(c.n_neurons)]
            got = []
            sent = 0
            while len(got) < len(requests):
                if sent < len(requests):
                    slot, n = requests[sent]
                    ctx.set(dut.i_clear.valid, 1)
                    ctx.set(dut.i_clear.payload, {"slot": slot, "neuron": n})
                else:
                    ctx.set(dut.i_clear.valid, 0)
                ready = next(ready_gate)
                ctx.set(dut.o_cleared.ready, ready)
                if sent < len(requests) and ctx.get(dut.i_clear.ready):
                    sent += 1
                if ready and ctx.get(dut.o_cleared.valid):
                    v = ctx.get(dut.o_cleared.payload)
                    got.append((v[0].exc, v[0].inh))
                await ctx.tick()
            ctx.set(dut.i_clear.valid, 0)
            ctx.set(dut.o_cleared.ready, 0)
            return np.array(got, dtype=np.int64).reshape(len(slots), c.n_neurons, 2)

        readouts, timings, valids, rings = [], [], [], []
        ring_data = dut.pipeline.ring_data

        def peek_ring():
            out = np.zeros((c.ring_depth, 2, c.n_neurons), dtype=np.int64)
            for n in range(c.n_neurons):
                for slot in range(c.ring_depth):
                    v = ctx.get(ring_data[n * c.ring_depth + slot])
                    out[slot, 0, n], out[slot, 1, n] = v.exc, v.inh
            return out

        mask = c.ring_depth - 1
        for t, sources in enumerate(workload.spikes):
            readouts.append((await read_slots([t & mask]))[0])
            accept, valid, done = [], [], []
            lengths = [int(workload.row_length[s]) if s < c.n_sources else 0 for s in sources]
            targets = np.cumsum(lengths)
            base = ctx.get(dut.o_events)
            cycle = 0
            i = 0
            offered = False

            def watch_events():
                # o_events counts writes of the cycles before this one.
                count = ctx.get(dut.o_events) - base
                while len(done) < len(sources) and count >= targets[len(done)]:
                    done.append(cycle - 1 if lengths[len(done)] else -1)

            while i < len(sources):
                watch_events()
                if not offered and next(spike_gate):
                    offered = True
                    valid.append(cycle)
                    ctx.set(dut.i_spikes.valid, 1)
                    ctx.set(dut.i_spikes.payload, {"source": int(sources[i]), "step": t})
                fire = offered and ctx.get(dut.i_spikes.ready)
                await ctx.tick()
                cycle += 1
                if fire:
                    accept.append(cycle - 1)
                    offered = False
                    i += 1
                    ctx.set(dut.i_spikes.valid, 0)
            while sources and not ctx.get(dut.o_idle):
                watch_events()
                await ctx.tick()
                cycle += 1
            watch_events()
            timings.append(SpikeTiming(accept, done, cycle if sources else 0))
            if peek:
                rings.append(peek_ring())
            valids.append(valid)
        final = await read_slots(range(c.ring_depth))
        result.update(readouts=readouts, final=final, timing=timings, valid=valids,
                      rings=rings, events=ctx.get(dut.o_events))

    sim.add_testbench(bench)
    if vcd:
        with sim.write_vcd(vcd):
            sim.run()
    else:
        sim.run()
    return SimResult(**result)
