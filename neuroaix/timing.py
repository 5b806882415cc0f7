"""The synapse pipeline's cycle rule, defined once for the RTL model and the cluster emulator.

The rule (docs/rtl.md, "Cycle rule"), with cycles counted from the first cycle of a node's
delivery phase (the pipeline is idle then):

* spike ``i`` is offered from cycle ``valid[i]`` and accepted at
  ``a = max(offered, lookup of the previous spike)``; the row lookup takes one cycle and
  hands the row to the request generator at ``f = max(a + 1, generator free)``;
* the row's memory words (:func:`row_words`) are requested in bursts of at most
  ``max_burst`` words, one request per cycle from ``f + 1``, and never more than
  ``fifo_words`` words in flight (a burst waits for the cycle after enough words have left
  the response FIFO);
* memory hands over one word per cycle at most: with a fixed latency (the RTL's memory) the
  first word of a request ``latency`` cycles after the request; with the DDR tables of the
  cluster emulator when the DDR has it (:class:`MemoryTiming`);
* the unpacker issues a word's synapses of the row, ``lanes`` per cycle (the RTL: one), from
  the cycle after the word's handover, and the word leaves the FIFO with its last synapse;
* the last ring-buffer write of the spike is ``drain - 1`` cycles after its last synapse
  (:data:`RMW_DRAIN`: read, add, write), and the phase ends ``drain`` cycles after it. A
  spike with no synapses on the node frees the generator one cycle after its lookup.

:func:`deliver_timing` is plain Python over NumPy arrays that Numba can compile unchanged:
this module imports no Numba. ``neuroaix.rtl.model`` calls it as it is; the emulator's kernel
file wraps it with ``numba.njit``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from neuroaix import formats
from neuroaix.checks import check_int

__all__ = [
    "CAUSE_MEMORY",
    "CAUSE_NETWORK",
    "CAUSE_PIPELINE",
    "RMW_DRAIN",
    "STATS_FIELDS",
    "MemoryTiming",
    "PipelineParams",
    "deliver_timing",
    "fixed_latency",
    "row_words",
]

#: Cycles from a synapse leaving the unpacker to the cycle after its ring-buffer write
#: (read, add, write).
RMW_DRAIN = 3

#: What delayed the last ring-buffer write of a phase (``stats[3]`` of :func:`deliver_timing`):
#: nothing but the spikes' arrival, the memory (a request waited for the DDR), or the
#: pipeline itself (lookup, request generator, credit or unpacker).
CAUSE_NETWORK = 1
CAUSE_MEMORY = 2
CAUSE_PIPELINE = 3

#: Entries of the ``stats`` array filled by :func:`deliver_timing`, in order.
STATS_FIELDS = ("cycles", "memory_busy_fs", "issue_cycles", "cause", "words")


class PipelineParams(NamedTuple):
    """Parameters of one synapse pipeline, in cycles and words (all ``int``)."""

    #: Most memory words per request (B).
    max_burst: int
    #: Response FIFO depth and word credit (C): most words requested and not yet unpacked.
    fifo_words: int
    #: Synapses the unpacker issues per cycle (the RTL: 1).
    lanes: int
    #: Cycles from a synapse's issue to the cycle after its ring-buffer write.
    drain: int = RMW_DRAIN
    #: Synapses per memory word.
    per_word: int = formats.SYNAPSES_PER_WORD


class MemoryTiming(NamedTuple):
    """When the words of a memory request reach the pipeline.

    With empty tables (:func:`fixed_latency`), the first word of a request is ready
    ``latency`` cycles after the request (the RTL's memory). Otherwise the DDR model of the
    cluster emulator: a request of ``k`` words starts when the memory is free (it stays
    busy ``occupancy_fs[k]``), its first word is ready ``min(first_word_fs, service_fs[k])``
    after the start and its last ``service_fs[k]`` after it, the others evenly between;
    times are femtoseconds and a word is ready at the first cycle (of ``period_fs``) at or
    after that time.
    """

    #: Cycles from a request to its first word (fixed-latency memory only).
    latency: int
    #: Time of one request of ``k`` words on its own, indexed by ``k`` (int64, fs).
    service_fs: np.ndarray
    #: How long a request of ``k`` words keeps the memory from starting the next (int64, fs).
    occupancy_fs: np.ndarray
    #: Time from a request's start to its first word (fs).
    first_word_fs: int
    #: Cycle period of the pipeline (fs).
    period_fs: int


def fixed_latency(latency: int) -> MemoryTiming:
    """Return the timing of a memory that hands over a request's first word after ``latency``.

    Parameters
    ----------
    latency : int
        Cycles from a request to its first word (>= 1).

    Returns
    -------
    MemoryTiming
        Empty DDR tables: :func:`deliver_timing` uses the fixed latency.
    """
    latency = check_int("latency", latency, low=1)
    empty = np.zeros(0, np.int64)
    return MemoryTiming(latency, empty, empty, 0, 1)


def row_words(start: int, length: int, per_word: int = formats.SYNAPSES_PER_WORD) -> int:
    """Return the memory words spanned by a row of ``length`` synapses from address ``start``.

    Parameters
    ----------
    start : int
        Synapse address of the row's first synapse.
    length : int
        Synapses of the row (0: no words).
    per_word : int
        Synapses per memory word.

    Returns
    -------
    int
    """
    if length == 0:
        return 0
    return (start + length - 1) // per_word - start // per_word + 1


def deliver_timing(valid, starts, lengths, pipe, memory, accept, done, stats):
    """Fill the cycle timing of one delivery phase (the cycle rule of this module).

    Plain Python that Numba compiles unchanged (the emulator's kernels wrap it with
    ``numba.njit``); inputs are not checked here (the callers do).

    Parameters
    ----------
    valid : array of int64
        Earliest cycle each spike is offered, in arrival order; -1: the cycle after the
        previous spike's accept (the first spike's: cycle 0).
    starts, lengths : array of int64
        Row start (synapse address) and length of each spike.
    pipe : PipelineParams
        The pipeline.
    memory : MemoryTiming
        The memory (:func:`fixed_latency` or the emulator's DDR tables).
    accept, done : array of int64
        Filled: the cycle each spike was accepted, and the cycle of its last ring-buffer
        write (-1: no synapses).
    stats : array of int64
        Filled with :data:`STATS_FIELDS`: cycles of the phase (until the pipeline is idle
        again; 0 without spikes), memory busy time (fs; 0 with a fixed latency), cycles in
        which the unpacker issued synapses, the cause of the last write (:data:`CAUSE_NETWORK`,
        :data:`CAUSE_MEMORY`, :data:`CAUSE_PIPELINE`) and the memory words fetched.
    """
    per_word = pipe.per_word
    max_burst = pipe.max_burst
    fifo_words = pipe.fifo_words
    lanes = pipe.lanes
    drain = pipe.drain
    ddr = memory.service_fs.shape[0] > 0
    service = memory.service_fs
    occupancy = memory.occupancy_fs
    period = memory.period_fs
    n = valid.shape[0]
    total_words = 0
    for i in range(n):
        if lengths[i] > 0:
            total_words += (starts[i] + lengths[i] - 1) // per_word - starts[i] // per_word + 1
    # pops[m]: cycle the m-th word (0-based, over the phase) left the response FIFO.
    pops = np.empty(max(total_words, 1), np.int64)
    n_pops = 0
    words_requested = 0
    prev_word = -(1 << 60)  # cycle the previous word was handed over by the memory
    prev_emit = -(1 << 60)  # last cycle the unpacker issued synapses
    fire_prev = -1  # cycle the previous spike left the lookup stage
    have_prev = False
    rg_free = 0  # first cycle the request generator can load a row
    end = 0
    mem_free = 0
    mem_busy = 0
    issue = 0
    cause = CAUSE_NETWORK
    last_done = -1
    t0 = 0
    first = 0
    step_fs = 0
    for i in range(n):
        if valid[i] >= 0:
            offered = valid[i]
        else:
            offered = accept[i - 1] + 1 if i > 0 else 0
        a = offered
        waited = False
        if have_prev and fire_prev > a:
            a = fire_prev
            waited = True
        f = a + 1
        if rg_free > f:
            f = rg_free
            waited = True
        length = lengths[i]
        accept[i] = a
        fire_prev = f
        have_prev = True
        if length == 0:
            rg_free = f + 1
            done[i] = -1
            if f + 1 > end:
                end = f + 1
            continue
        start = starts[i]
        w = (start + length - 1) // per_word - start // per_word + 1
        req = f  # cycle of the previous request of this row
        left = w
        idx = start % per_word
        remaining = length
        mem_wait = False
        while left > 0:
            count = left if left < max_burst else max_burst
            r = req + 1
            total = words_requested + count
            if total > fifo_words:
                c = pops[total - fifo_words - 1] + 1
                if c > r:
                    r = c
                    waited = True
            words_requested = total
            if ddr:
                t_issue = r * period
                t0 = t_issue if t_issue > mem_free else mem_free
                if mem_free > t_issue:
                    mem_wait = True
                mem_free = t0 + occupancy[count]
                mem_busy += occupancy[count]
                first = memory.first_word_fs
                if service[count] < first:
                    first = service[count]
                step_fs = (service[count] - first) // (count - 1) if count > 1 else 0
            for k in range(count):
                if ddr:
                    ready = -((-(t0 + first + k * step_fs)) // period)
                elif k == 0:
                    ready = r + memory.latency
                else:
                    ready = -(1 << 60)
                h = prev_word + 1
                if ready > h:
                    h = ready
                prev_word = h
                n_syn = per_word - idx
                if remaining < n_syn:
                    n_syn = remaining
                e0 = h + 1
                if prev_emit + 1 > e0:
                    e0 = prev_emit + 1
                    waited = True
                cyc = (n_syn + lanes - 1) // lanes
                prev_emit = e0 + cyc - 1
                issue += cyc
                pops[n_pops] = prev_emit
                n_pops += 1
                remaining -= n_syn
                idx = 0
            left -= count
            req = r
        rg_free = req
        done[i] = prev_emit + drain - 1
        if prev_emit + drain > end:
            end = prev_emit + drain
        if done[i] >= last_done:
            last_done = done[i]
            if mem_wait:
                cause = CAUSE_MEMORY
            elif waited:
                cause = CAUSE_PIPELINE
            else:
                cause = CAUSE_NETWORK
    stats[0] = end if n > 0 else 0
    stats[1] = mem_busy
    stats[2] = issue
    stats[3] = cause
    stats[4] = total_words
