"""Reference model of the synapse pipeline: what it computes and when (docs/rtl.md).

Two halves, both pure Python on :mod:`neuroaix.numerics`:

- :class:`RingReference`: the ring buffers as the step schedule defines them (read-and-clear
  of slot ``t & (D-1)``, then delivery with :func:`neuroaix.numerics.accumulate`, ascending
  spike order, row order). The RTL testbenches compare every value read out against it.
- :func:`spike_timing`: the cycle rule of the pipeline (docs/rtl.md, "Cycle rule"), which
  gives every spike's accept and done cycle and the cycles of a step's delivery phase from
  the row pointers alone. The RTL simulations must reproduce it exactly, and the cluster
  emulator uses it (or its description) to charge a node's delivery time.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from neuroaix import formats, numerics
from neuroaix.rtl.params import PipelineConfig

__all__ = [
    "RingReference",
    "SpikeTiming",
    "spike_timing",
    "row_words",
    "RMW_DRAIN",
]

#: Cycles from a synapse leaving the unpacker to the cycle after its ring-buffer write.
RMW_DRAIN = 3


def row_words(start: int, length: int) -> int:
    """Return the 64-byte words spanned by a row of ``length`` synapses from ``start``."""
    if length == 0:
        return 0
    per = formats.SYNAPSES_PER_WORD
    return (start + length - 1) // per - start // per + 1


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
        #: Accumulations clamped to int32 so far.
        self.saturations = 0
        #: Synaptic events delivered so far.
        self.events = 0

    def read_and_clear(self, slot: int) -> np.ndarray:
        """Return slot ``slot`` as an int64 array ``(n_neurons, 2)`` (exc, inh) and zero it."""
        out = np.array(self.ring[slot], dtype=np.int64).T.copy()
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
                value, clamped = numerics.accumulate(self.ring[slot][ch][t], w)
                self.ring[slot][ch][t] = value
                self.saturations += clamped
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
    per = formats.SYNAPSES_PER_WORD
    B, C, L = config.max_burst, config.fifo_words, config.latency
    n = len(starts)
    if len(lengths) != n or (valid is not None and len(valid) != n):
        raise ValueError("starts, lengths and valid must have one entry per spike")
    accept, done = [], []
    # pops[m]: cycle the m-th word (0-based, over the phase) left the response FIFO.
    pops: list[int] = []
    words_requested = 0
    prev_word = -(1 << 60)  # cycle the previous word was handed over by the memory
    prev_emit = -(1 << 60)  # cycle the previous synapse left the unpacker
    fire_prev = None  # cycle the previous spike left the lookup stage
    rg_free = 0  # first cycle the request generator can load a row
    end = 0
    for i in range(n):
        offered = (accept[-1] + 1 if accept else 0) if valid is None else valid[i]
        a = offered if fire_prev is None else max(offered, fire_prev)
        f = max(a + 1, rg_free)
        start, length = int(starts[i]), int(lengths[i])
        w = row_words(start, length)
        if w == 0:
            rg_free = f + 1
            done.append(-1)
            end = max(end, f + 1)
        else:
            req = f  # cycle of the previous request in this row (first one at f + 1 or later)
            left = w
            idx = start % per
            remaining = length
            while left:
                count = min(left, B)
                r = req + 1
                total = words_requested + count
                if total > C:
                    r = max(r, pops[total - C - 1] + 1)
                words_requested = total
                for k in range(count):
                    h = max(r + L, prev_word + 1) if k == 0 else prev_word + 1
                    prev_word = h
                    n_syn = min(per - idx, remaining)
                    for _ in range(n_syn):
                        prev_emit = max(prev_emit + 1, h + 1)
                    pops.append(prev_emit)
                    remaining -= n_syn
                    idx = 0
                left -= count
                req = r
            rg_free = req
            done.append(prev_emit + RMW_DRAIN - 1)
            end = max(end, prev_emit + RMW_DRAIN)
        accept.append(a)
        fire_prev = f
    return SpikeTiming(accept, done, end if n else 0)
