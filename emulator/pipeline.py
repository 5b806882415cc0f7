"""Synapse-pipeline timing in spike-clock cycles (the cycle model of the RTL pipeline).

The pipeline takes spikes in order. Spike ``k`` can start in the cycle its synapse data is
ready (``ready[k]``) and not before the pipeline has issued the previous spike's writes. It
then spends ``overhead`` cycles on the spike and issues its ``n[k]`` synapses ``lanes`` per
cycle; a synapse issued in cycle ``c`` is written into the ring buffer in cycle
``c + depth``. A spike without synapses on the node costs nothing (its row is empty).

For a spike with ``n > 0`` synapses::

    start[k]      = max(ready[k], free)
    free          = start[k] + overhead + ceil(n[k] / lanes)
    last_write[k] = free - 1 + depth

and the pipeline has finished a sequence ``last_write + 1`` cycles after cycle 0.
"""

from __future__ import annotations

import numpy as np

from neuroaix.emulator.config import NodeConfig

__all__ = ["SynapsePipeline"]


class SynapsePipeline:
    """The synapse pipeline's timing parameters and its per-spike schedule.

    Parameters
    ----------
    lanes : int
        Synapses issued per cycle.
    depth : int
        Cycles from issue to ring-buffer write.
    overhead : int
        Cycles per spike besides its synapses.
    """

    def __init__(self, *, lanes: int = 1, depth: int = 0, overhead: int = 0):
        for name, value, low in (("lanes", lanes, 1), ("depth", depth, 0),
                                 ("overhead", overhead, 0)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an integer, not {value!r}")
            if value < low:
                raise ValueError(f"{name} must be >= {low}, not {value!r}")
        self.lanes = int(lanes)
        self.depth = int(depth)
        self.overhead = int(overhead)

    @classmethod
    def from_config(cls, node: NodeConfig) -> "SynapsePipeline":
        """Return the pipeline of a node configuration."""
        if not isinstance(node, NodeConfig):
            raise TypeError(f"node must be a NodeConfig, not {node!r}")
        return cls(lanes=node.synapse_lanes, depth=node.synapse_pipeline_depth,
                   overhead=node.spike_overhead_cycles)

    def busy_cycles(self, n_synapses):
        """Return the issue cycles of spikes with ``n_synapses`` synapses (0 for empty rows)."""
        n = np.asarray(n_synapses, np.int64)
        if n.size and n.min() < 0:
            raise ValueError(f"n_synapses must be >= 0, not {int(n.min())!r}")
        return np.where(n > 0, self.overhead + -(-n // self.lanes), 0)

    def schedule(self, ready, n_synapses) -> tuple[np.ndarray, np.ndarray]:
        """Return the start cycle and the last-write cycle of every spike, in input order.

        Parameters
        ----------
        ready : array of int
            Cycle in which each spike's synapse data is ready (non-decreasing not required;
            spikes are taken in the given order).
        n_synapses : array of int
            Synapses of each spike on this node.

        Returns
        -------
        (start, last_write)
            int64 arrays; both are -1 for a spike with no synapses.
        """
        ready = np.asarray(ready, np.int64)
        n = np.asarray(n_synapses, np.int64)
        if ready.shape != n.shape or ready.ndim != 1:
            raise ValueError(f"ready and n_synapses must be 1-D of equal length, not "
                             f"{ready.shape!r} and {n.shape!r}")
        busy = self.busy_cycles(n)
        start = np.full(len(n), -1, np.int64)
        last = np.full(len(n), -1, np.int64)
        free = 0
        for k in range(len(n)):
            if busy[k] == 0:
                continue
            start[k] = max(int(ready[k]), free)
            free = int(start[k] + busy[k])
            last[k] = free - 1 + self.depth
        return start, last

    def total_cycles(self, ready, n_synapses) -> int:
        """Return the cycles until the last ring-buffer write of the sequence is done."""
        _, last = self.schedule(ready, n_synapses)
        return int(last.max()) + 1 if len(last) and last.max() >= 0 else 0
