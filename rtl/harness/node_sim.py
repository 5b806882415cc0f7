"""Runs of :class:`~neuroaix.rtl.hw.node.Node` in amaranth.sim, and its Verilog.

:func:`simulate` loads an image (:mod:`neuroaix.rtl.harness.node_image`) through the host
ports, answers the node's memory requests with the testbench memory
(:class:`~neuroaix.rtl.harness.memory_model.TimedMemory`: a fixed latency or the DDR table),
runs it in amaranth.sim and returns the node's spikes per step and the cycles of every step;
:mod:`neuroaix.rtl.harness.node_cocotb` does the same on the generated Verilog (Verilator).
:func:`node_verilog` writes the deterministic Verilog of the node.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np
from amaranth.sim import Simulator

from neuroaix import timing
from neuroaix.rtl.harness.generate import convert
from neuroaix.rtl.harness.memory_model import TimedMemory
from neuroaix.rtl.harness.node_image import NodeImage, check_offers, s32, u32
from neuroaix.rtl.harness.pipeline_sim import put_stream, row_payloads
from neuroaix.rtl.hw.node import COUNTERS, Node
from neuroaix.rtl.params import NodeParams

__all__ = [
    "NodeRun",
    "node_core",
    "node_verilog",
    "simulate",
]


class NodeRun(NamedTuple):
    """What a run of a node produced."""

    spikes: list  #: per step, the node's spikes (global ids, ascending)
    cycles: list  #: per step, clock cycles from its first cycle to the barrier (inclusive)
    counters: dict  #: the node's counters at the end
    state: np.ndarray  #: amaranth.sim only: int64 (n_local, 4) V, I_ex, I_in, ref at the end
    ring: np.ndarray  #: amaranth.sim only: int64 (D, 2, n_local) ring buffers at the end


def node_core(config: NodeParams) -> Node:
    """Return the node of ``config`` (its memory is the testbench's: ``latency`` is unused)."""
    params = config.to_dict()
    params.pop("latency")
    return Node(**params)


def node_verilog(config: NodeParams, *, name: str = "node", zero_init: bool = True) -> str:
    """Return the deterministic Verilog of the node as module ``name``.

    ``zero_init=False`` leaves out the all-zero initial values of the memories
    (``generate.convert``).
    """
    return convert(node_core(config), name, zero_init=zero_init)


def simulate(image: NodeImage, n_steps: int, external=None, *, memory=None,
             ready_pattern=(1,), ext_pattern=(1,), offers=None) -> NodeRun:
    """Load an image into the node in amaranth.sim, run ``n_steps`` steps, return the raster.

    Parameters
    ----------
    image : NodeImage
        What to load.
    n_steps : int
        Steps to run (in one ``i_run`` command).
    external : list of list of int, optional
        Per step, the other partitions' spikes (:func:`external_spikes`); None for a
        single-node network (``i_external`` low).
    memory : neuroaix.timing.MemoryTiming, optional
        The timing of the testbench memory, in the node's clock
        (``node_engine.node_memory``); the default is the fixed latency
        ``image.config.latency``.
    ready_pattern : sequence of int
        Cycled per cycle: 0 deasserts ``o_spikes.ready`` (backpressure).
    ext_pattern : sequence of int
        Cycled per cycle: 0 withholds ``i_ext.valid`` (idle cycles).
    offers : sequence of sequences of int, optional
        Per step, ``len(external[t]) + 1`` cycles counted from the step's first (0): the
        first cycle each of the step's external items, then ``last``, is offered on
        ``i_ext`` (the arrival times the cluster emulator feeds the node's cycle rule,
        ``neuroaix.emulator.node.node_cycles``); an item is offered only in its own step.
        Default: every item as soon as the node takes it (streaming).

    Returns
    -------
    NodeRun
        Spikes per step, cycles per step and counters.
    """
    c = image.config
    dut = node_core(c)
    if memory is None:
        memory = timing.fixed_latency(c.latency)
    mem = TimedMemory(image.memory, memory, c.fifo_words)
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    result = {}
    ext_items = []  # (source, last, step, first cycle in the step it may be offered)
    check_offers(external, offers)
    for t, spikes in enumerate(external or ()):
        when = offers[t] if offers is not None else (0,) * (len(spikes) + 1)
        ext_items += [(s, 0, t, int(w)) for s, w in zip(spikes, when)]
        ext_items.append((0, 1, t, int(when[-1])))

    async def load(ctx):
        ctx.set(dut.i_n_local, image.n_local)
        ctx.set(dut.i_gid_base, image.gid_base)
        ctx.set(dut.i_gid_stride, image.gid_stride)
        ctx.set(dut.i_external, int(external is not None))
        await put_stream(ctx, dut.i_rows, row_payloads(image, c.n_sources))
        await put_stream(ctx, dut.i_population, ({"index": k, "params": params}
                                                 for k, params in enumerate(image.populations)))
        await put_stream(ctx, dut.i_neuron, (
            {"index": n, "pop": pop,
             "state": {"v": u32(v), "i_ex": u32(iex), "i_in": u32(iin), "ref": ref, "rng": rng}}
            for n, (v, iex, iin, ref, rng, pop) in enumerate(image.neurons)))

    async def memory_side(ctx):
        """The testbench memory on ``o_mem_req`` / ``i_mem_resp``, one clock at a time."""
        cycle = 0
        while True:
            ctx.set(dut.o_mem_req.ready, mem.req_ready)
            ctx.set(dut.i_mem_resp.valid, mem.resp_valid)
            ctx.set(dut.i_mem_resp.payload.as_value(), mem.resp_word)
            request = None
            if mem.req_ready and ctx.get(dut.o_mem_req.valid):
                req = ctx.get(dut.o_mem_req.payload)
                request = (req.addr, req.count)
            mem.clock(cycle, request, bool(ctx.get(dut.i_mem_resp.ready)))
            cycle += 1
            await ctx.tick()

    async def bench(ctx):
        await load(ctx)
        ctx.set(dut.i_clear_rings.valid, 1)
        await ctx.tick()
        ctx.set(dut.i_clear_rings.valid, 0)
        await ctx.tick().until(~dut.o_busy)
        ctx.set(dut.i_run.valid, 1)
        ctx.set(dut.i_run.payload, n_steps)
        await ctx.tick()
        ctx.set(dut.i_run.valid, 0)
        spikes = [[] for _ in range(n_steps)]
        cycles = [0] * n_steps
        ready_gate, ext_gate = itertools.cycle(ready_pattern), itertools.cycle(ext_pattern)
        ext_i = 0
        while ctx.get(dut.o_running):
            step = ctx.get(dut.o_step)
            cycles[step] += 1
            ready = next(ready_gate)
            ctx.set(dut.o_spikes.ready, ready)
            offer = ext_i < len(ext_items) and next(ext_gate)
            if offer and offers is not None:
                _, _, item_step, first = ext_items[ext_i]
                offer = item_step == step and cycles[step] - 1 >= first
            if offer:
                s, last = ext_items[ext_i][:2]
                ctx.set(dut.i_ext.payload, {"source": s, "last": last})
            ctx.set(dut.i_ext.valid, int(offer))
            if ready and ctx.get(dut.o_spikes.valid):
                ev = ctx.get(dut.o_spikes.payload)
                spikes[ev.step].append(ev.source)
            if offer and ctx.get(dut.i_ext.ready):
                ext_i += 1
            await ctx.tick()
        ctx.set(dut.i_ext.valid, 0)
        ctx.set(dut.o_spikes.ready, 1)
        for _ in range(2 * c.spike_fifo):
            if ctx.get(dut.o_spikes.valid):
                ev = ctx.get(dut.o_spikes.payload)
                spikes[ev.step].append(ev.source)
            await ctx.tick()
        counters = {name: ctx.get(getattr(dut, f"o_{name}")) for name in COUNTERS}
        if ext_i != len(ext_items):
            raise RuntimeError(f"the node took {ext_i} of {len(ext_items)} external items")
        state = np.zeros((image.n_local, 4), np.int64)
        ring = np.zeros((c.ring_depth, 2, image.n_local), np.int64)
        for n in range(image.n_local):
            st = ctx.get(dut.state_data[n])
            state[n] = [s32(st.v), s32(st.i_ex), s32(st.i_in), st.ref]
            for slot in range(c.ring_depth):
                r = ctx.get(dut.pipeline.ring_data[n * c.ring_depth + slot])
                ring[slot, :, n] = r.exc, r.inh
        result.update(spikes=spikes, cycles=cycles, counters=counters, state=state, ring=ring)

    sim.add_testbench(memory_side, background=True)
    sim.add_testbench(bench)
    sim.run()
    return NodeRun(**result)
