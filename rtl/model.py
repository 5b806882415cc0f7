"""Reference model of the synapse pipeline: what it computes and when (docs/rtl.md).

Two halves, both pure Python on :mod:`neuroaix.numerics`:

- :class:`RingReference`: the ring buffers as the step schedule defines them (read-and-clear
  of slot ``t & (D-1)``, counting the channels read at their int32 bound, then delivery with
  :func:`neuroaix.numerics.accumulate` in the order given). The RTL testbenches compare every
  value read out against it.
- :func:`spike_timing`: the cycle rule of the pipeline (docs/rtl.md, "Cycle rule"), which
  gives every spike's accept and done cycle and the cycles of a step's delivery phase from
  the row pointers alone. The rule is defined once, in :mod:`neuroaix.timing`
  (``deliver_timing`` with a fixed-latency memory and one synapse per cycle); the cluster
  emulator's kernels compile the same function. The RTL simulations must reproduce it
  exactly.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from neuroaix import formats, numerics, timing
from neuroaix.rtl.params import PipelineConfig

__all__ = [
    "RingReference",
    "SpikeTiming",
    "spike_timing",
]


class RingReference:
    """The ring buffers of one node under the step schedule (pure Python, exact).

    Parameters
    ----------
    n_neurons : int
        Neurons of the node.
    ring_depth : int
        Slots D.
    """

    def __init__(self, n_neurons: int, ring_depth: int):
        self.n_neurons = n_neurons
        self.ring_depth = ring_depth
        #: ``ring[slot][channel][neuron]``, Python ints (int32 range).
        self.ring = [[[0] * n_neurons for _ in range(2)] for _ in range(ring_depth)]
        #: Channels read at their int32 bound so far (``numerics.ring_saturations``).
        self.saturations = 0
        #: Synaptic events delivered so far.
        self.events = 0

    def read_and_clear(self, slot: int) -> np.ndarray:
        """Return slot ``slot`` as an int64 array ``(n_neurons, 2)`` (exc, inh) and zero it;
        count its channels at their int32 bound in ``saturations``."""
        out = np.array(self.ring[slot], dtype=np.int64).T.copy()
        self.saturations += sum(numerics.ring_saturations(int(e), int(i)) for e, i in out)
        self.ring[slot] = [[0] * self.n_neurons for _ in range(2)]
        return out

    def deliver(self, step: int, sources, row_start, row_length, synapse_words) -> None:
        """Accumulate the synapses of ``sources`` (in the given order) for spikes of ``step``.

        Parameters
        ----------
        step : int
            The spikes' step.
        sources : sequence of int
            Source ids, in delivery order.
        row_start, row_length : sequence of int
            Row pointers per source (synapse addresses).
        synapse_words : array of uint64
            The packed synapse memory.
        """
        target, weight, delay = formats.unpack_synapses(synapse_words)
        mask = self.ring_depth - 1
        for s in sources:
            if s >= len(row_start):
                continue
            a = int(row_start[s])
            for k in range(a, a + int(row_length[s])):
                t = int(target[k])
                if t >= self.n_neurons:
                    continue
                w = int(weight[k])
                slot = (step + int(delay[k])) & mask
                ch = 1 if w < 0 else 0
                self.ring[slot][ch][t] = numerics.accumulate(self.ring[slot][ch][t], w)
                self.events += 1


class SpikeTiming(NamedTuple):
    """Cycle timing of one delivery phase (cycles counted from its first cycle, 0)."""

    accept: list[int]  #: cycle each spike was accepted on ``i_spikes``
    done: list[int]  #: cycle of each spike's last ring-buffer write (-1: no local synapses)
    cycles: int  #: cycles until ``o_idle`` is high again after the last spike (0: no spikes)


def spike_timing(config: PipelineConfig, starts, lengths, valid=None) -> SpikeTiming:
    """Return the cycle timing of one delivery phase (the cycle rule of docs/rtl.md).

    Parameters
    ----------
    config : PipelineConfig
        The pipeline and memory parameters.
    starts, lengths : sequence of int
        Row start (synapse address) and length of each spike, in arrival order.
    valid : sequence of int, optional
        Earliest cycle each spike is offered (``i_spikes.valid``); by default each spike is
        offered from the cycle after the previous one was accepted (the first at cycle 0).

    Returns
    -------
    SpikeTiming
        Accept and done cycle of each spike and the cycles of the phase.
    """
    n = len(starts)
    if len(lengths) != n or (valid is not None and len(valid) != n):
        raise ValueError("starts, lengths and valid must have one entry per spike")
    pipe = timing.PipelineParams(max_burst=config.max_burst, fifo_words=config.fifo_words,
                                 lanes=1)
    offered = np.full(n, -1, np.int64) if valid is None else np.asarray(valid, np.int64)
    accept, done = np.zeros(n, np.int64), np.zeros(n, np.int64)
    stats = np.zeros(len(timing.STATS_FIELDS), np.int64)
    timing.deliver_timing(offered, np.asarray(starts, np.int64), np.asarray(lengths, np.int64),
                          pipe, timing.fixed_latency(config.latency), accept, done, stats)
    return SpikeTiming(accept.tolist(), done.tolist(), int(stats[0]))
