"""Synapse-pipeline timing of one node in synapse-clock cycles, with a fixed-latency memory.

:class:`PipelineTiming` applies the pipeline's cycle rule (:mod:`neuroaix.timing`, the one
definition the RTL model ``neuroaix.rtl.model`` uses too; docs/rtl.md, "Cycle rule") to one
delivery phase, with the RTL's memory (a fixed latency) and the emulator's unpacker width
(``lanes`` synapses per cycle). The cluster emulator runs the same rule, jitted, with its DDR
model for every node and step (``neuroaix.emulator.engine``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from neuroaix.emulator._kernels import _deliver_timing
from neuroaix.emulator.config import NodeConfig

from neuroaix import timing
from neuroaix.checks import check_int

__all__ = ["DeliveryTiming", "PipelineTiming"]


class DeliveryTiming(NamedTuple):
    """Timing of one delivery phase, in cycles from its first cycle."""

    accept: np.ndarray  #: cycle each spike was accepted
    done: np.ndarray  #: cycle of each spike's last ring-buffer write (-1: no synapses)
    cycles: int  #: cycles until the pipeline is idle again (0 without spikes)
    issue_cycles: int  #: cycles in which the unpacker issued synapses
    words: int  #: 64-byte words fetched


class PipelineTiming:
    """The cycle timing of one node's synapse pipeline with a fixed-latency memory.

    Parameters
    ----------
    max_burst : int
        Most words per memory request (B).
    fifo_words : int
        Response FIFO depth and word credit (C); at least ``max_burst``.
    latency : int
        Cycles from a request to its first word (L).
    lanes : int
        Synapses issued per cycle (the RTL has 1).
    drain : int
        Cycles from a synapse's issue to the cycle after its write.
    """

    def __init__(self, *, max_burst: int = 8, fifo_words: int = 64, latency: int = 32,
                 lanes: int = 1, drain: int = timing.RMW_DRAIN):
        self.max_burst = check_int("max_burst", max_burst, low=1)
        self.fifo_words = check_int("fifo_words", fifo_words, low=1)
        self.latency = check_int("latency", latency, low=1)
        self.lanes = check_int("lanes", lanes, low=1)
        self.drain = check_int("drain", drain, low=1)
        if self.fifo_words < self.max_burst:
            raise ValueError(f"fifo_words must be >= max_burst={self.max_burst!r}, not "
                             f"{self.fifo_words!r}; the FIFO must hold one burst")

    @classmethod
    def from_config(cls, node: NodeConfig, *, latency: int = 1) -> PipelineTiming:
        """Return the pipeline of a node configuration (``latency``: fixed-latency memory)."""
        if not isinstance(node, NodeConfig):
            raise TypeError(f"node must be a NodeConfig, not {node!r}")
        return cls(max_burst=node.max_burst, fifo_words=node.fifo_words, latency=latency,
                   lanes=node.synapse_lanes, drain=node.synapse_drain)

    def timing(self, starts, lengths, valid=None) -> DeliveryTiming:
        """Return the cycle timing of one delivery phase.

        Parameters
        ----------
        starts, lengths : arrays of int
            Row start (synapse address) and length of each spike, in arrival order.
        valid : array of int, optional
            Cycle each spike is first offered; by default the cycle after the previous
            accept (the first at cycle 0).

        Returns
        -------
        DeliveryTiming
        """
        starts = np.asarray(starts, np.int64)
        lengths = np.asarray(lengths, np.int64)
        if starts.ndim != 1 or starts.shape != lengths.shape:
            raise ValueError(f"starts and lengths must be 1-D of equal length, not "
                             f"{starts.shape!r} and {lengths.shape!r}")
        if starts.size and (starts.min() < 0 or lengths.min() < 0):
            raise ValueError("starts and lengths must be >= 0")
        if valid is None:
            valid = np.full(starts.shape, -1, np.int64)
        else:
            valid = np.asarray(valid, np.int64)
            if valid.shape != starts.shape:
                raise ValueError(f"valid must have one entry per spike, not {valid.shape!r}")
            if valid.size and valid.min() < 0:
                raise ValueError("valid cycles must be >= 0")
        accept = np.zeros(starts.shape, np.int64)
        done = np.zeros(starts.shape, np.int64)
        stats = np.zeros(len(timing.STATS_FIELDS), np.int64)
        pipe = timing.PipelineParams(max_burst=self.max_burst, fifo_words=self.fifo_words,
                                     lanes=self.lanes, drain=self.drain)
        _deliver_timing(valid, starts, lengths, pipe, timing.fixed_latency(self.latency),
                        accept, done, stats)
        return DeliveryTiming(accept, done, int(stats[0]), int(stats[2]), int(stats[4]))
