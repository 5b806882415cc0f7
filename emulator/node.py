"""One node's neuron-update phase: cycles per step and the time each neuron's spike leaves.

Local neuron ``l`` (the ``l``-th neuron the mapping puts on the node) is updated by core
``l % cores`` in slot ``l // cores``; cores start one neuron per neuron-clock cycle (II=1) and
a neuron leaves its core ``depth`` cycles after it entered. So the spike of local neuron ``l``
is out at the end of cycle ``l // cores + depth`` (counting from 0 at the step start), and the
phase lasts ``ceil(n_local / cores) + depth`` cycles (0 for a node without neurons). The
spike dispatcher then takes ``dispatcher_spikes_per_cycle`` spikes per spike-clock cycle, in
the order the spikes leave the cores, at the first spike-clock edge after they are out.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from neuroaix.emulator._kernels import _issue_order, _node_cycles, _node_layout
from neuroaix.emulator.clock import Clock
from neuroaix.emulator.config import NodeConfig

from neuroaix import formats, timing
from neuroaix.checks import check_int

__all__ = ["NodeCycles", "NodeModel", "issue_order", "node_cycles", "node_layout",
           "synapse_banks"]


class NodeModel:
    """Neuron-update timing of a node holding ``n_local`` neurons.

    Parameters
    ----------
    config : NodeConfig
        Cores, clocks and depths.
    n_local : int
        Neurons on the node.
    """

    def __init__(self, config: NodeConfig, n_local: int):
        if not isinstance(config, NodeConfig):
            raise TypeError(f"config must be a NodeConfig, not {config!r}")
        self.config = config
        self.n_local = check_int("n_local", n_local, low=0)
        self.neuron_clock = Clock("neuron", config.neuron_clock_mhz)
        self.spike_clock = Clock("spike", config.spike_clock_mhz)

    @property
    def update_cycles(self) -> int:
        """Neuron-clock cycles of the update phase."""
        if self.n_local == 0:
            return 0
        c = self.config
        return -(-self.n_local // c.neuron_cores) + c.neuron_pipeline_depth

    @property
    def update_fs(self) -> int:
        """Duration of the update phase in femtoseconds."""
        return self.neuron_clock.cycles_to_fs(self.update_cycles)

    def emit_fs(self, local_index):
        """Return the time (fs from the step start) the spikes of local neurons are out."""
        li = np.asarray(local_index, np.int64)
        if li.size and (li.min() < 0 or li.max() >= self.n_local):
            raise ValueError(f"local_index must lie in [0, {self.n_local})")
        cycles = li // self.config.neuron_cores + self.config.neuron_pipeline_depth + 1
        return cycles * self.neuron_clock.period_fs

    def dispatch_cycles(self, local_index) -> np.ndarray:
        """Return the spike-clock cycle in which the dispatcher takes each spike.

        ``local_index`` must be in increasing order (the order the spikes leave the cores).
        """
        emit = self.emit_fs(local_index)
        per = self.config.dispatcher_spikes_per_cycle
        sp = self.spike_clock.period_fs
        out = np.empty(len(emit), np.int64)
        for k, t in enumerate(emit):
            c = -(-int(t) // sp)
            if k >= per:
                c = max(c, int(out[k - per]) + 1)
            out[k] = c
        return out


class NodeCycles(NamedTuple):
    """Cycles of every step of one RTL-like node (:func:`node_cycles`), int64 arrays."""

    cycles: np.ndarray  #: per step, cycles from its first cycle to the barrier (inclusive)
    issue_cycles: np.ndarray  #: per step, cycles in which the unpacker issued synapses
    clear_waits: np.ndarray  #: per step, cycles a read-and-clear waited for its banks
    words: np.ndarray  #: per step, memory words fetched
    events: np.ndarray  #: per step, synaptic events
    update_done: np.ndarray  #: per step, first cycle with the update done (last spike out)
    last_taken: np.ndarray  #: per step, cycle ``last`` was taken (-1: no other nodes)
    spikes_out: np.ndarray  #: per step, local spikes out
    emit: list  #: per step, the cycle each local spike entered ``o_spikes`` (ascending id)


def _ptr(per_step):
    lengths = np.array([len(x) for x in per_step], np.int64)
    ptr = np.zeros(len(per_step) + 1, np.int64)
    np.cumsum(lengths, out=ptr[1:])
    flat = (np.concatenate([np.asarray(x, np.int64) for x in per_step])
            if ptr[-1] else np.zeros(0, np.int64))
    return ptr, flat


def node_cycles(node: timing.NodeTiming, memory: timing.MemoryTiming, spikes_local,
                external, row_start, row_length, syn_bank, *, offers=None) -> NodeCycles:
    """Return the cycles of every step of one node by the node's cycle rule.

    The rule is :func:`neuroaix.timing.node_step_cycles` (the RTL node, register by register,
    in its one clock), jitted.

    Parameters
    ----------
    node : neuroaix.timing.NodeTiming
        The node.
    memory : neuroaix.timing.MemoryTiming
        Its memory, in the node's clock.
    spikes_local : sequence of sequences of int
        Per step, the local neurons (indices ``0 .. n_local - 1``) that spike.
    external : sequence of sequences of int, or None
        Per step, the other nodes' spikes (global ids) in the order they are offered; None
        when ``node.external`` is false.
    row_start, row_length : array of int
        Per source, the row's first synapse address and length in the node's memory.
    syn_bank : array of int
        Per synapse address, the ring bank of its target.
    offers : sequence of sequences of int, optional
        Per step, ``len(external[t]) + 1`` cycles: the first cycle each of the other nodes'
        spikes may be at the head of ``i_ext``, then ``last``'s. Default: all 0 (every
        item from the step's first cycle, the RTL benches' streaming).
    """
    if not isinstance(node, timing.NodeTiming):
        raise TypeError(f"node must be a neuroaix.timing.NodeTiming, not {node!r}")
    n_steps = len(spikes_local)
    if external is None:
        if node.external:
            raise ValueError("external must give the other nodes' spikes of every step "
                             "when node.external is true")
        external = [()] * n_steps
    if len(external) != n_steps:
        raise ValueError(f"external must have one entry per step ({n_steps}), not "
                         f"{len(external)}")
    spk_ptr, spk = _ptr(spikes_local)
    if spk.size and (spk.min() < 0 or spk.max() >= node.n_local):
        raise ValueError(f"spikes_local must be local neurons in [0, {node.n_local})")
    if any(len(set(map(int, s))) != len(s) for s in spikes_local):
        raise ValueError("spikes_local must list each spiking neuron of a step once")
    ext_ptr, ext = _ptr(external)
    if offers is None:
        offer = np.zeros(ext.size + n_steps, np.int64)
    else:
        if len(offers) != n_steps or any(len(o) != len(e) + 1
                                         for o, e in zip(offers, external)):
            raise ValueError("offers must give, per step, one cycle per external spike and "
                             "one for last")
        offer = _ptr(offers)[1]
        if offer.size and offer.min() < 0:
            raise ValueError(f"offers must be cycles >= 0, not {int(offer.min())!r}")
    row_start = np.asarray(row_start, np.int64)
    row_length = np.asarray(row_length, np.int64)
    syn_bank = np.asarray(syn_bank, np.int64)
    if row_start.shape != row_length.shape or row_start.shape[0] < node.n_sources:
        raise ValueError(f"row_start and row_length must have n_sources={node.n_sources} "
                         "entries")
    stats = np.zeros((n_steps, len(timing.NODE_STATS_FIELDS)), np.int64)
    emit = np.zeros(max(spk.size, 1), np.int64)
    _node_cycles(node, memory, spk_ptr, spk, ext_ptr, ext, offer, row_start, row_length,
                 syn_bank, stats, emit)
    per_step = [emit[spk_ptr[t]:spk_ptr[t + 1]].copy() for t in range(n_steps)]
    return NodeCycles(*(stats[:, k].copy() for k in range(stats.shape[1])), per_step)


def issue_order(targets, lanes: int, banks: int, *, fullest_first: bool = False) -> np.ndarray:
    """Return the order in which a node stores one row's synapses for its unpacker.

    :func:`neuroaix.timing.run_issue_order` with the rule compiled: position ``k`` of the
    stored row holds synapse ``order[k]`` (int64).
    """
    return timing.run_issue_order(targets, lanes, banks, fullest_first=fullest_first,
                                  kernel=_issue_order)


def node_layout(row_ptr, targets, lanes: int, banks: int, *,
                fullest_first: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(row_start, row_length, order)``: how a node stores a partition's synapses.

    :func:`neuroaix.timing.run_node_layout` with the rule compiled (the cluster's full-scale
    partitions); the ring bank of address ``a`` is ``targets[order[a]] % banks``
    (:func:`synapse_banks`).
    """
    return timing.run_node_layout(row_ptr, targets, lanes, banks, fullest_first=fullest_first,
                                  kernel=_node_layout)


def synapse_banks(targets, order, banks: int) -> np.ndarray:
    """Return, per synapse address of a :func:`node_layout`, the ring bank of its target (uint8).

    A gap (``order`` -1) holds no synapse: bank 0, as a zero synapse word's target.
    """
    banks = check_int("banks", banks, low=1, high=63)
    order = np.asarray(order, np.int64)
    out = np.zeros(order.size, np.uint8)
    used = order >= 0
    out[used] = (np.asarray(targets)[order[used]] % banks).astype(np.uint8)
    return out
