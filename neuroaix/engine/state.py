"""Partition-major layout of the engine's state, and conversion to and from global order.

Partition ``p`` of ``P`` owns the neurons ``gid = l * P + p`` (round-robin, see
docs/architecture.md), stored contiguously at ``noff[p] + l``; its ring buffer block starts
at ``roff[p]`` and is ``[slot][channel][local]``. Checkpoints and user-facing arrays are in
global order, so a state saved with one partitioning restores into any other.
"""

from __future__ import annotations

import numpy as np

__all__ = ["COUNTERS", "PartitionLayout"]

#: The engines' cumulative counters, in the order of their columns: spikes emitted, synaptic
#: events delivered, Poisson background events, saturated (clamped) results.
COUNTERS = ("spikes", "synaptic_events", "poisson_events", "saturations")


class PartitionLayout:
    """Offsets of each partition's neurons and ring-buffer block in the flat state arrays.

    Parameters
    ----------
    n_neurons : int
        Neurons in the network.
    n_partitions : int
        Partitions (hardware nodes); neuron ``gid`` belongs to partition ``gid % P``.
    ring_depth : int
        Ring-buffer slots D (a power of two).
    """

    def __init__(self, n_neurons: int, n_partitions: int, ring_depth: int):
        self.n_neurons = int(n_neurons)
        self.n_partitions = int(n_partitions)
        self.ring_depth = int(ring_depth)
        p = np.arange(self.n_partitions, dtype=np.int64)
        #: Neurons per partition.
        self.n_loc = (self.n_neurons - p + self.n_partitions - 1) // self.n_partitions
        self.n_loc = np.maximum(self.n_loc, 0)
        #: First flat index of each partition's neurons.
        self.noff = np.concatenate([[0], np.cumsum(self.n_loc)[:-1]]).astype(np.int64)
        #: First flat index of each partition's ring-buffer block.
        self.roff = self.noff * 2 * self.ring_depth
        #: Flat index of every global id (``flat[gid]``).
        gid = np.arange(self.n_neurons, dtype=np.int64)
        self.flat = self.noff[gid % self.n_partitions] + gid // self.n_partitions

    def to_flat(self, global_values: np.ndarray) -> np.ndarray:
        """Return a copy of per-neuron values reordered from global to partition-major order."""
        out = np.empty_like(global_values)
        out[self.flat] = global_values
        return out

    def to_global(self, flat_values: np.ndarray) -> np.ndarray:
        """Return a copy of per-neuron values reordered from partition-major to global order."""
        return flat_values[self.flat]

    def ring_view(self, ring: np.ndarray, p: int) -> np.ndarray:
        """Return partition ``p``'s ring buffers as a ``(D, 2, n_local)`` view of the flat array."""
        n = int(self.n_loc[p])
        start = int(self.roff[p])
        return ring[start:start + self.ring_depth * 2 * n].reshape(self.ring_depth, 2, n)

    def ring_to_global(self, ring: np.ndarray) -> np.ndarray:
        """Return all ring buffers as one ``(D, 2, n_neurons)`` array in global order."""
        out = np.empty((self.ring_depth, 2, self.n_neurons), np.int32)
        for p in range(self.n_partitions):
            out[:, :, p::self.n_partitions] = self.ring_view(ring, p)
        return out

    def ring_from_global(self, ring_global: np.ndarray) -> np.ndarray:
        """Return the flat ring-buffer array for ring buffers given in global order."""
        ring = np.empty(int(self.roff[-1] + 2 * self.ring_depth * self.n_loc[-1])
                        if self.n_partitions else 0, np.int32)
        for p in range(self.n_partitions):
            self.ring_view(ring, p)[...] = ring_global[:, :, p::self.n_partitions]
        return ring
