"""Load images of a node: what the host loads before a run, and the other nodes' spikes.

:func:`node_image` turns one partition of a ``BuiltNetwork`` into what the host loads: node
parameters, neuron states and population indices, population parameters, row pointers and
synapse memory words, and the global-id mapping. :func:`external_spikes` splits an engine
raster into what the other partitions send this node per step. :func:`image_to_json` and
:func:`image_from_json` carry an image to the cocotb testbench.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from neuroaix import formats, numerics, timing
from neuroaix.checks import check_int
from neuroaix.rtl.hw.synapse_memory import words_to_memory
from neuroaix.timing import ring_banks
from neuroaix.rtl.params import NodeParams

__all__ = [
    "NodeImage",
    "check_offers",
    "external_spikes",
    "image_from_json",
    "image_to_json",
    "issue_order",
    "node_layout",
    "node_image",
    "node_timing",
    "synapse_banks",
    "u32",
    "s32",
]


class NodeImage(NamedTuple):
    """Everything the host loads into a node before it runs."""

    config: NodeParams
    n_local: int  #: neurons of this partition
    gid_base: int  #: partition index p
    gid_stride: int  #: partition count P
    neurons: list  #: per local neuron: (v, i_ex, i_in, ref, rng, pop)
    populations: list  #: per population: dict of ``PopulationParams`` fields
    row_start: np.ndarray  #: per global source, first synapse
    row_length: np.ndarray  #: per global source, synapse count
    memory: list  #: 512-bit memory words


def u32(x) -> int:
    """Return ``x`` as an unsigned 32-bit pattern."""
    return int(x) & 0xFFFFFFFF


def s32(x) -> int:
    """Return the signed value of the 32-bit pattern ``x``."""
    x = int(x) & 0xFFFFFFFF
    return x - (1 << 32) if x >> 31 else x


def issue_order(targets, lanes: int, banks: int, *, fullest_first: bool = False) -> np.ndarray:
    """Return the order in which a node stores one row's synapses for its unpacker.

    The rule is defined once, :func:`neuroaix.timing.issue_order` (docs/rtl.md, "Lanes and
    banks"), run by :func:`neuroaix.timing.run_issue_order`: the row starts at a
    memory word's boundary; position by position the synapse placed next is the earliest
    one not yet placed whose bank the current issue group does not use yet, a group ending
    after ``lanes`` synapses, at a word's end, or when no remaining synapse has an unused
    bank. ``fullest_first`` is the proposed order (``benchmarks/bench_rtl.py``).

    Returns
    -------
    np.ndarray
        ``order`` (int64): position ``k`` of the stored row holds synapse ``order[k]``.
    """
    return timing.run_issue_order(targets, lanes, banks, fullest_first=fullest_first)


def node_layout(words, row_ptr, lanes: int, banks: int) -> tuple:
    """Return ``(row_start, row_length, words)``: how a node stores a partition's synapses.

    With one synapse lane, the partition's rows as they are. With more, every row starts at
    a memory word's boundary (zero synapse words pad the gaps) and holds its synapses in
    :func:`issue_order`: the layout rule :func:`neuroaix.timing.node_layout`, which the
    cluster emulator's RTL node uses too.

    Parameters
    ----------
    words : array of uint64
        The partition's packed synapse words (``row_ptr`` order).
    row_ptr : array of int
        Row ``s`` is ``words[row_ptr[s]:row_ptr[s + 1]]``.
    lanes, banks : int
        Synapse lanes and ring banks of the node.
    """
    words = np.asarray(words, np.uint64)
    row_ptr = np.asarray(row_ptr, np.int64)
    targets = formats.unpack_synapses(words)[0]
    start, length, order = timing.run_node_layout(row_ptr, targets, lanes, banks)
    if lanes == 1:
        return start, length, words
    size = int(start[-1] + length[-1]) if len(length) else 0
    order = order[:size]
    out = np.zeros(size, np.uint64)
    out[order >= 0] = words[order[order >= 0]]
    return start, length, out


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
        ``max_burst``, ``fifo_words``, ``spike_fifo``, ``latency``, ``synapse_lanes``,
        ``update_lanes``, ``merge`` of :class:`~neuroaix.rtl.params.NodeParams`. The synapse memory
        holds the rows as :func:`node_layout` lays them out for the node's lanes.

    Raises
    ------
    ValueError
        If ``partition`` is out of range or a capacity is too small, or the network has
        models or inputs the node does not implement (``BuiltNetwork.require_exp_only``).
    """
    built.require_exp_only("the RTL node")
    P = len(built.partitions)
    check_int("partition", partition, low=0, high=P - 1)
    gids = np.arange(partition, built.n_neurons, P)
    part = built.partitions[partition]
    row_ptr = np.asarray(part.row_ptr, dtype=np.int64)
    lanes = params.get("synapse_lanes", 1)
    row_start, row_length, words = node_layout(
        part.words, row_ptr, lanes, ring_banks(lanes, params.get("update_lanes", 1)))
    memory = words_to_memory(words)
    need = {"n_neurons": max(1, len(gids)), "n_sources": built.n_neurons,
            "memory_words": max(1, len(memory))}
    given = {"n_neurons": n_neurons, "n_sources": n_sources, "memory_words": memory_words}
    for name, value in given.items():
        if value is not None and value < need[name]:
            raise ValueError(f"{name} must be >= {need[name]} for partition {partition}, "
                             f"not {value!r}; raise it")
        given[name] = need[name] if value is None else value
    config = NodeParams(n_populations=len(built.populations), ring_depth=built.ring_depth,
                        **given, **params)
    neurons = []
    for g in gids:
        neurons.append((int(built.v0[g]), 0, 0, 0, numerics.background_seed(built.seed, int(g)),
                        int(built.pop_of[g])))
    pops = []
    for k in range(len(built.populations)):
        coef = dict(zip(numerics.LIFCoefficients._fields, map(int, built.coefficients[k])))
        pops.append({"coef": coef, "table": [int(x) for x in built.poisson_table[k]],
                     "weight": u32(built.poisson_weight[k]),
                     "enable": int(bool(built.has_poisson[k]))})
    return NodeImage(config, len(gids), partition, P, neurons, pops, row_start, row_length,
                     memory)


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


def check_offers(external, offers) -> None:
    """Check late offers of the other nodes' spikes against ``external``.

    Parameters
    ----------
    external : list of list of int or None
        Per step, the other partitions' spikes in the order they are offered.
    offers : sequence of sequences of int or None
        Per step, ``len(external[t]) + 1`` cycles counted from the step's first (0): the
        first cycle each item, then ``last``, may be offered on ``i_ext``.

    Raises
    ------
    ValueError
        If ``offers`` is given without ``external`` or does not match it.
    """
    if offers is None:
        return
    if external is None:
        raise ValueError("offers apply to the other nodes' spikes: pass external with them")
    if len(offers) != len(external) or any(len(o) != len(e) + 1
                                           for o, e in zip(offers, external)):
        raise ValueError("offers must give, per step, one cycle per external spike and "
                         "one for last")


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
    return NodeImage(NodeParams(**doc["config"]), doc["n_local"], doc["gid_base"],
                     doc["gid_stride"], [tuple(n) for n in doc["neurons"]], doc["populations"],
                     np.array(doc["row_start"], np.int64), np.array(doc["row_length"], np.int64),
                     [int(w, 16) for w in doc["memory"]])




def node_timing(image: NodeImage) -> timing.NodeTiming:
    """Return the node's parameters for its cycle rule (``neuroaix.timing.node_step_cycles``)."""
    c = image.config
    return timing.NodeTiming(
        n_local=image.n_local, n_neurons=c.n_neurons, update_lanes=c.update_lanes,
        synapse_lanes=c.synapse_lanes, banks=ring_banks(c.synapse_lanes, c.update_lanes),
        max_burst=c.max_burst, fifo_words=c.fifo_words, spike_fifo=c.spike_fifo,
        gid_base=image.gid_base, gid_stride=image.gid_stride,
        external=image.gid_stride > 1, n_sources=c.n_sources,
        arrival_order=c.merge == "arrival")


def synapse_banks(image: NodeImage) -> np.ndarray:
    """Return, per synapse address of the image's memory, the ring bank of its target."""
    c = image.config
    per = formats.SYNAPSES_PER_WORD
    mask = (1 << 64) - 1
    words = np.array([(w >> (64 * k)) & mask for w in image.memory for k in range(per)],
                     np.uint64)
    targets = formats.unpack_synapses(words)[0].astype(np.int64)
    return targets % ring_banks(c.synapse_lanes, c.update_lanes)
