"""Load images and runs of :class:`~neuroaix.rtl.node.NodeWithMemory`.

:func:`node_image` turns one partition of a ``BuiltNetwork`` into what the host loads: node
parameters, neuron states and population indices, population parameters, row pointers and
synapse memory words, and the global-id mapping. :func:`external_spikes` splits an engine
raster into what the other partitions send this node per step. :func:`simulate` runs an image
in amaranth.sim and returns the node's spikes per step and the cycles of every step;
``tests/rtl/node_cocotb.py`` does the same on the generated Verilog (Verilator).
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import NamedTuple

import numpy as np
from amaranth.back import verilog
from amaranth.sim import Simulator

from neuroaix import numerics
from neuroaix.rtl.memory import words_to_memory
from neuroaix.rtl.node import Node, NodeWithMemory

__all__ = [
    "NodeConfig",
    "NodeImage",
    "NodeRun",
    "build_node",
    "engine_case",
    "external_spikes",
    "image_from_json",
    "image_to_json",
    "node_core",
    "node_image",
    "node_verilog",
    "raster_hash",
    "simulate",
]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class NodeConfig:
    """Constructor parameters of :class:`~neuroaix.rtl.node.NodeWithMemory`.

    Attributes
    ----------
    n_neurons, n_populations, ring_depth, n_sources, memory_words : int
        Capacities (see :class:`~neuroaix.rtl.node.Node`).
    max_burst, fifo_words, spike_fifo, latency : int
        Pipeline, FIFO and memory parameters.
    """

    n_neurons: int
    n_populations: int
    ring_depth: int
    n_sources: int
    memory_words: int
    max_burst: int = 8
    fifo_words: int = 64
    spike_fifo: int = 16
    latency: int = 32

    def to_dict(self) -> dict:
        """Return the fields as a dict."""
        return dataclasses.asdict(self)


#: A neuroAIx node: about 2,205 neurons of the 8 microcircuit populations, D = 64, the
#: microcircuit's 77,169 sources, 2**20 memory words (64 MiB of synapses).
NODE_SIZE = NodeConfig(n_neurons=2205, n_populations=8, ring_depth=64, n_sources=77169,
                       memory_words=1 << 20, max_burst=8, fifo_words=64, spike_fifo=64,
                       latency=40)


class NodeImage(NamedTuple):
    """Everything the host loads into a node before it runs."""

    config: NodeConfig
    n_local: int  #: neurons of this partition
    gid_base: int  #: partition index p
    gid_stride: int  #: partition count P
    neurons: list  #: per local neuron: (v, i_ex, i_in, ref, rng, pop)
    populations: list  #: per population: dict of ``PopulationParams`` fields
    row_start: np.ndarray  #: per global source, first synapse
    row_length: np.ndarray  #: per global source, synapse count
    memory: list  #: 512-bit memory words


class NodeRun(NamedTuple):
    """What a run of a node produced."""

    spikes: list  #: per step, the node's spikes (global ids, ascending)
    cycles: list  #: per step, clock cycles from its first cycle to the barrier (inclusive)
    counters: dict  #: the node's counters at the end
    state: np.ndarray  #: amaranth.sim only: int64 (n_local, 4) V, I_ex, I_in, ref at the end
    ring: np.ndarray  #: amaranth.sim only: int64 (D, 2, n_local) ring buffers at the end


def _u32(x):
    return int(x) & 0xFFFFFFFF


def _s32(x):
    x = int(x) & 0xFFFFFFFF
    return x - (1 << 32) if x >> 31 else x


def node_image(built, partition: int, *, n_neurons: int | None = None,
               n_sources: int | None = None, memory_words: int | None = None,
               **params) -> NodeImage:
    """Return the load image of one partition of a built network.

    Parameters
    ----------
    built : BuiltNetwork
        A built network (docs/architecture.md).
    partition : int
        The partition this node simulates.
    n_neurons, n_sources, memory_words : int, optional
        Capacities of the node; default the partition's needs.
    **params
        ``max_burst``, ``fifo_words``, ``spike_fifo``, ``latency`` of :class:`NodeConfig`.

    Raises
    ------
    ValueError
        If ``partition`` is out of range or a capacity is too small.
    """
    P = len(built.partitions)
    if not 0 <= partition < P:
        raise ValueError(f"partition must lie in [0, {P}), not {partition!r}")
    gids = np.arange(partition, built.n_neurons, P)
    part = built.partitions[partition]
    row_ptr = np.asarray(part.row_ptr, dtype=np.int64)
    words = np.asarray(part.words, dtype=np.uint64)
    memory = words_to_memory(words)
    need = {"n_neurons": max(1, len(gids)), "n_sources": built.n_neurons,
            "memory_words": max(1, len(memory))}
    given = {"n_neurons": n_neurons, "n_sources": n_sources, "memory_words": memory_words}
    for name, value in given.items():
        if value is not None and value < need[name]:
            raise ValueError(f"{name} must be >= {need[name]} for partition {partition}, "
                             f"not {value!r}; raise it")
        given[name] = need[name] if value is None else value
    config = NodeConfig(n_populations=len(built.populations), ring_depth=built.ring_depth,
                        **given, **params)
    neurons = []
    for g in gids:
        neurons.append((int(built.v0[g]), 0, 0, 0, numerics.background_seed(built.seed, int(g)),
                        int(built.pop_of[g])))
    pops = []
    for k in range(len(built.populations)):
        coef = dict(zip(numerics.LIFCoefficients._fields, map(int, built.coefficients[k])))
        pops.append({"coef": coef, "table": [int(x) for x in built.poisson_table[k]],
                     "weight": _u32(built.poisson_weight[k]),
                     "enable": int(bool(built.has_poisson[k]))})
    return NodeImage(config, len(gids), partition, P, neurons, pops, row_ptr[:-1].copy(),
                     np.diff(row_ptr), memory)


def external_spikes(image: NodeImage, senders, steps, n_steps: int) -> list:
    """Return, per step, the spikes of the other partitions (ascending global id).

    Parameters
    ----------
    image : NodeImage
        The node (its partition is ``gid_base`` of ``gid_stride``).
    senders, steps : array_like
        A raster (e.g. ``Simulator.spikes()``).
    n_steps : int
        Steps to cover.
    """
    senders = np.asarray(senders, dtype=np.int64)
    steps = np.asarray(steps, dtype=np.int64)
    other = (senders % image.gid_stride) != image.gid_base
    out = []
    for t in range(n_steps):
        out.append(np.sort(senders[other & (steps == t)]).tolist())
    return out


def engine_case(built, partition: int, n_steps: int, **params):
    """Run the engine on a built network; return what a node of ``partition`` needs.

    Parameters
    ----------
    built : BuiltNetwork
        A built network.
    partition : int
        The node's partition.
    n_steps : int
        Steps to run.
    **params
        Node parameters for :func:`node_image`.

    Returns
    -------
    (image, external, expected, engine_counters)
        The load image, the other partitions' spikes per step (None with one partition),
        the engine's raster of the partition per step, and the engine's counters.
    """
    from neuroaix.engine import Simulator

    image = node_image(built, partition, **params)
    sim = Simulator(built, threads=1, progress=False)
    sim.run_steps(n_steps)
    senders, steps = sim.spikes()
    P = len(built.partitions)
    mine = (senders % P) == partition
    expected = [np.sort(senders[mine & (steps == t)]).tolist() for t in range(n_steps)]
    external = external_spikes(image, senders, steps, n_steps) if P > 1 else None
    return image, external, expected, sim.counters


def raster_hash(spikes_per_step) -> str:
    """Return ``neuroaix.engine.spike_hash`` of a raster given as spikes per step."""
    from neuroaix.engine import spike_hash

    senders = [s for step in spikes_per_step for s in step]
    steps = [t for t, step in enumerate(spikes_per_step) for _ in step]
    return spike_hash(np.array(senders, np.int64), np.array(steps, np.int64))


def build_node(image: NodeImage) -> NodeWithMemory:
    """Return the simulation top for an image (the host loads the image through ports)."""
    return NodeWithMemory(**image.config.to_dict())


def node_core(config: NodeConfig) -> Node:
    """Return the node without its memory (the unit that synthesis measures)."""
    params = config.to_dict()
    params.pop("latency")
    return Node(**params)


def node_verilog(config: NodeConfig, *, sim: bool = True) -> str:
    """Return deterministic Verilog: ``node_sim`` (with the memory) or ``node`` (without)."""
    if sim:
        return verilog.convert(NodeWithMemory(**config.to_dict()), name="node_sim",
                               emit_src=False)
    return verilog.convert(node_core(config), name="node", emit_src=False)


def image_to_json(image: NodeImage) -> dict:
    """Return a JSON-serialisable dict of an image (for the cocotb testbench)."""
    return {
        "config": image.config.to_dict(), "n_local": image.n_local,
        "gid_base": image.gid_base, "gid_stride": image.gid_stride,
        "neurons": [list(n) for n in image.neurons], "populations": image.populations,
        "row_start": image.row_start.tolist(), "row_length": image.row_length.tolist(),
        "memory": [f"{w:x}" for w in image.memory],
    }


def image_from_json(doc: dict) -> NodeImage:
    """Return the image of :func:`image_to_json`."""
    return NodeImage(NodeConfig(**doc["config"]), doc["n_local"], doc["gid_base"],
                     doc["gid_stride"], [tuple(n) for n in doc["neurons"]], doc["populations"],
                     np.array(doc["row_start"], np.int64), np.array(doc["row_length"], np.int64),
                     [int(w, 16) for w in doc["memory"]])


def simulate(image: NodeImage, n_steps: int, external=None, *, ready_pattern=(1,),
             ext_pattern=(1,)) -> NodeRun:
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
    ready_pattern : sequence of int
        Cycled per cycle: 0 deasserts ``o_spikes.ready`` (backpressure).
    ext_pattern : sequence of int
        Cycled per cycle: 0 withholds ``i_ext.valid`` (idle cycles).

    Returns
    -------
    NodeRun
        Spikes per step, cycles per step and counters.
    """
    c = image.config
    dut = build_node(image)
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    result = {}
    ext_items = []
    if external is not None:
        for spikes in external:
            ext_items += [(s, 0) for s in spikes] + [(0, 1)]

    async def load(ctx):
        ctx.set(dut.i_n_local, image.n_local)
        ctx.set(dut.i_gid_base, image.gid_base)
        ctx.set(dut.i_gid_stride, image.gid_stride)
        ctx.set(dut.i_external, int(external is not None))
        for s in range(c.n_sources):
            ctx.set(dut.i_rows.valid, 1)
            ctx.set(dut.i_rows.payload, {"source": s, "start": int(image.row_start[s]),
                                         "length": int(image.row_length[s])})
            await ctx.tick()
        ctx.set(dut.i_rows.valid, 0)
        for addr, word in enumerate(image.memory):
            ctx.set(dut.i_load.valid, 1)
            ctx.set(dut.i_load.payload, {"addr": addr, "data": word})
            await ctx.tick()
        ctx.set(dut.i_load.valid, 0)
        for k, params in enumerate(image.populations):
            ctx.set(dut.i_population.valid, 1)
            ctx.set(dut.i_population.payload, {"index": k, "params": params})
            await ctx.tick()
        ctx.set(dut.i_population.valid, 0)
        for n, (v, iex, iin, ref, rng, pop) in enumerate(image.neurons):
            ctx.set(dut.i_neuron.valid, 1)
            ctx.set(dut.i_neuron.payload, {
                "index": n, "pop": pop,
                "state": {"v": _u32(v), "i_ex": _u32(iex), "i_in": _u32(iin), "ref": ref,
                          "rng": rng}})
            await ctx.tick()
        ctx.set(dut.i_neuron.valid, 0)

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
            if offer:
                s, last = ext_items[ext_i]
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
        counters = {name: ctx.get(getattr(dut, f"o_{name}")) for name in (
            "events", "syn_saturations", "saturations", "poisson", "spike_count")}
        if ext_i != len(ext_items):
            raise RuntimeError(f"the node took {ext_i} of {len(ext_items)} external items")
        state = np.zeros((image.n_local, 4), np.int64)
        ring = np.zeros((c.ring_depth, 2, image.n_local), np.int64)
        for n in range(image.n_local):
            st = ctx.get(dut.node.state_data[n])
            state[n] = [_s32(st.v), _s32(st.i_ex), _s32(st.i_in), st.ref]
            for slot in range(c.ring_depth):
                r = ctx.get(dut.node.pipeline.ring_data[n * c.ring_depth + slot])
                ring[slot, :, n] = r.exc, r.inh
        result.update(spikes=spikes, cycles=cycles, counters=counters, state=state, ring=ring)

    sim.add_testbench(bench)
    sim.run()
    return NodeRun(**result)
