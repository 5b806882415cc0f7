"""The cycle rules of the synapse pipeline and of the RTL node, defined once.

:func:`node_step_cycles` is the RTL node's rule (docs/rtl_node.md, "The node's cycle rule"):
the node's registers stepped one clock at a time, which the emulator jits
(``neuroaix.emulator.node.node_cycles``) and the RTL tests hold equal to every step of the
node's amaranth.sim and Verilator runs. :func:`deliver_timing` is the pipeline's rule for one
delivery phase, below.

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
file wraps it with ``numba.njit`` after registering :data:`RULE_HELPERS`, the memory's timing
(:func:`memory_start`, :func:`word_ready`) that both rules and the RTL node's testbench memory
models share.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from neuroaix import formats
from neuroaix.checks import check_int

__all__ = [
    "BACKGROUND_STAGES",
    "NODE_QUIET_OVERHEAD",
    "UPDATE_STAGES",
    "run_issue_order",
    "run_node_layout",
    "MERGES",
    "NODE_STATS_FIELDS",
    "NodeTiming",
    "node_step_cycles",
    "CAUSE_MEMORY",
    "CAUSE_NETWORK",
    "CAUSE_PIPELINE",
    "RMW_DRAIN",
    "STATS_FIELDS",
    "MemoryTiming",
    "PipelineParams",
    "RULE_HELPERS",
    "deliver_timing",
    "fixed_latency",
    "issue_order",
    "memory_start",
    "node_layout",
    "ring_banks",
    "row_words",
    "word_ready",
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


def memory_start(memory, cycle, free_fs, count):
    """Return ``(start_fs, free_fs)`` of a memory request of ``count`` words made in ``cycle``.

    The DDR (``memory`` with tables) starts a request when it is free and is then busy for
    ``occupancy_fs[count]``: ``start = max(cycle * period_fs, free_fs)``, and the memory is
    free again at ``start + occupancy_fs[count]``. A fixed-latency memory is never busy
    (``free_fs`` is returned unchanged). Times are femtoseconds from the same origin as
    ``cycle``; plain Python that Numba compiles unchanged (see :data:`RULE_HELPERS`).

    Parameters
    ----------
    memory : MemoryTiming
        The memory.
    cycle : int
        Cycle of the request's handshake.
    free_fs : int
        When the memory can start a request (0 at first).
    count : int
        Words of the request, in [1, ``len(memory.service_fs) - 1``] for the DDR.

    Returns
    -------
    (int, int)
        The request's start and when the memory is free for the next one.
    """
    t_issue = cycle * memory.period_fs
    if memory.service_fs.shape[0] == 0:
        return t_issue, free_fs
    start = t_issue if t_issue > free_fs else free_fs
    return start, start + memory.occupancy_fs[count]


def word_ready(memory, cycle, start_fs, count, k):
    """Return the first cycle in which word ``k`` of a memory request may be handed over.

    With a fixed latency, ``cycle + latency`` for every word (the memory hands over one word
    per cycle, so only the first word's bound acts). With the DDR tables, word ``k`` of a
    request of ``count`` words that started at ``start_fs`` (:func:`memory_start`) is ready
    ``first + k * step`` after the start, where ``first = min(first_word_fs,
    service_fs[count])`` and ``step = (service_fs[count] - first) // (count - 1)``: the first
    cycle at or after that time. This and :func:`memory_start` are the one definition of the
    memory's timing: the cycle rules, the amaranth.sim and cocotb memory models of the RTL
    node's testbenches call them.

    Parameters
    ----------
    memory : MemoryTiming
        The memory.
    cycle : int
        Cycle of the request's handshake.
    start_fs : int
        The request's start (:func:`memory_start`).
    count : int
        Words of the request.
    k : int
        Word of the request, in [0, ``count``).

    Returns
    -------
    int
        The cycle.
    """
    if memory.service_fs.shape[0] == 0:
        return cycle + memory.latency
    service = memory.service_fs[count]
    first = memory.first_word_fs
    if service < first:
        first = service
    step = (service - first) // (count - 1) if count > 1 else 0
    return -((-(start_fs + first + k * step)) // memory.period_fs)


#: The functions the cycle rules call. A caller that compiles the rules with Numba registers
#: each first (``numba.extending.register_jitable``), so that the compiled rules call these
#: definitions; plain Python calls them as they are.
RULE_HELPERS = (memory_start, word_ready)


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
                if mem_free > r * period:
                    mem_wait = True
                mem_busy += occupancy[count]
            t0, mem_free = memory_start(memory, r, mem_free, count)
            for k in range(count):
                ready = word_ready(memory, r, t0, count, k)
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


# The node's synapse layout -------------------------------------------------------------------


def ring_banks(lanes: int, update_lanes: int) -> int:
    """Return the ring-buffer banks of a node: the power of two >= max(lanes, update_lanes).

    Neuron ``n``'s ring entries live in bank ``n mod banks`` (docs/rtl.md, "Lanes and banks").

    Parameters
    ----------
    lanes, update_lanes : int
        Synapse lanes L and update lanes U (each >= 1).

    Returns
    -------
    int
    """
    lanes = check_int("lanes", lanes, low=1)
    update_lanes = check_int("update_lanes", update_lanes, low=1)
    return 1 << (max(lanes, update_lanes) - 1).bit_length()


def issue_order(targets, lanes, banks, fullest_first, order):
    """Fill the order in which a node stores one row's synapses for its unpacker.

    The row starts at a memory word's boundary. Position by position, the synapse placed
    next is the earliest one not yet placed whose bank (``target mod banks``) the current
    issue group does not use yet; a group ends after ``lanes`` synapses, at a word's end, or
    when no remaining synapse has an unused bank (docs/rtl.md, "Lanes and banks"). So the
    unpacker's bank-conflict stall happens only where no order avoids it, and the synapses of
    one bank (hence of one ring entry) keep their order (the values and the saturation
    count would not depend on it: docs/numerics.md, section 4). Plain Python over NumPy arrays that Numba compiles unchanged (the emulator's
    ``neuroaix.emulator.node.issue_order`` is the checked, compiled form).

    Parameters
    ----------
    targets : array of int
        Local target of each synapse of the row, in the network's order.
    lanes, banks : int
        Synapse lanes and ring banks (at most 63) of the node.
    fullest_first : bool
        Place next the head of the bank with the most synapses left (ties: the earliest
        head) instead of the earliest head: a proposed order (``benchmarks/bench_rtl.py``,
        docs/rtl.md) that leaves fewer conflicts in a row's last words. The node uses the
        default (false).
    order : array of int64
        Filled, ``len(targets)`` entries: position ``k`` of the stored row holds synapse
        ``order[k]``.
    """
    n = targets.shape[0]
    per = _PER_WORD
    ptr = np.zeros(banks + 1, np.int64)
    for k in range(n):
        ptr[targets[k] % banks + 1] += 1
    for b in range(banks):
        ptr[b + 1] += ptr[b]
    items = np.empty(max(n, 1), np.int64)
    head = ptr[:banks].copy()
    for k in range(n):
        b = targets[k] % banks
        items[head[b]] = k
        head[b] += 1
    head[:] = ptr[:banks]
    pos = 0
    while pos < n:
        used = 0
        taken = 0
        word_end = (pos // per + 1) * per
        while pos < n and pos < word_end and taken < lanes:
            best = -1
            best_left = 0
            best_head = 0
            for b in range(banks):
                if head[b] < ptr[b + 1] and not (used >> b) & 1:
                    left = ptr[b + 1] - head[b]
                    h = items[head[b]]
                    if best < 0:
                        better = True
                    elif fullest_first:
                        better = left > best_left or (left == best_left and h < best_head)
                    else:
                        better = h < best_head
                    if better:
                        best = b
                        best_left = left
                        best_head = h
            if best < 0:
                break
            order[pos] = best_head
            head[best] += 1
            used |= 1 << best
            pos += 1
            taken += 1


def node_layout(row_ptr, targets, lanes, banks, fullest_first, row_start, order):
    """Fill how a node stores a partition's synapses: row starts and the stored order.

    With one synapse lane, the partition's rows as they are. With more, every row starts at
    a memory word's boundary and holds its synapses in :func:`issue_order`; the gaps hold
    no synapse (zero words). The bank of the target at synapse address ``a`` is
    ``targets[order[a]] % banks`` (0 in a gap), the ``syn_bank`` of :func:`node_step_cycles`.
    Plain Python that Numba compiles unchanged (``neuroaix.emulator.node.node_layout``).

    Parameters
    ----------
    row_ptr : array of int64
        Row ``s`` is synapses ``row_ptr[s]:row_ptr[s + 1]`` of the partition.
    targets : array of int
        Local target of every synapse of the partition (``row_ptr`` order).
    lanes, banks : int
        Synapse lanes and ring banks of the node.
    fullest_first : bool
        As :func:`issue_order`.
    row_start : array of int64
        Filled, one entry per row: the address of the row's first synapse.
    order : array of int64
        Filled, one entry per synapse address (``row_start[-1] + length`` of the last row,
        rounded up to whole words for more than one lane): the partition's synapse stored
        there, -1 in a gap.

    Returns
    -------
    int
        Synapse addresses used (the length of ``order`` that is filled).
    """
    n_rows = row_ptr.shape[0] - 1
    per = _PER_WORD
    addr = 0
    for s in range(n_rows):
        a = row_ptr[s]
        e = row_ptr[s + 1]
        row_start[s] = addr
        if lanes == 1:
            for k in range(e - a):
                order[addr + k] = a + k
            addr += e - a
            continue
        if e > a:
            issue_order(targets[a:e], lanes, banks, fullest_first, order[addr:addr + e - a])
            for k in range(e - a):
                order[addr + k] += a
        padded = (e - a + per - 1) // per * per
        for k in range(e - a, padded):
            order[addr + k] = -1
        addr += padded
    return addr


# The node's cycle rule ------------------------------------------------------------------------

#: The RTL node's merges of local and external spikes (``Node(merge=)``,
#: ``NodeParams.merge``; ``NodeTiming.arrival_order`` is true for ``"arrival"``):
#: ``"ascending"`` hands the step's spikes to the pipeline in ascending global id, the order
#: of the engine's exchange; ``"arrival"`` takes ``i_ext``'s head whenever one is there and
#: the local FIFO's head otherwise.
MERGES = ("ascending", "arrival")

#: Entries of the ``stats`` array filled by :func:`node_step_cycles`, in order.
NODE_STATS_FIELDS = ("cycles", "issue_cycles", "clear_waits", "words", "events", "update_done",
                     "last_taken", "spikes_out")


class NodeTiming(NamedTuple):
    """Parameters of one RTL node (``neuroaix.rtl.hw.node.Node``) for its cycle rule (``int``)."""

    #: Neurons of the partition (``i_n_local``).
    n_local: int
    #: Neuron capacity N of the node (read-and-clear lanes at or beyond it are skipped).
    n_neurons: int
    #: Neurons per update beat (U).
    update_lanes: int
    #: Ring-buffer updates per cycle at most (L).
    synapse_lanes: int
    #: Ring-buffer banks (``ring_banks(L, U)``, at most 63).
    banks: int
    #: Most memory words per request (B).
    max_burst: int
    #: Response FIFO depth and word credit (C); also the memory's request queue.
    fifo_words: int
    #: Depth of the local-spike FIFO.
    spike_fifo: int
    #: Global id of local neuron ``n``: ``gid_base + n * gid_stride``.
    gid_base: int
    gid_stride: int
    #: Whether other nodes' spikes arrive (``i_external``); else the step has none.
    external: bool
    #: Entries of the row-pointer table (a larger source has no synapses here).
    n_sources: int
    #: The node's merge is ``"arrival"`` (:data:`MERGES`): take ``i_ext``'s head whenever one
    #: is there and the local FIFO's head otherwise, in whatever order the items come
    #: (``last`` is taken whenever it is at the head); false: ``"ascending"``.
    arrival_order: bool = False


_PER_WORD = formats.SYNAPSES_PER_WORD

#: Depth of the read-and-clear output FIFO (``synapse_pipeline.CLEAR_FIFO_DEPTH``).
NODE_CLEAR_FIFO = 4
#: Pipeline stages of the RTL node's background unit (``neuroaix.rtl.hw.background``, whose
#: ``LATENCY`` this is): the xorshift step, the 16 x 16-bit partial products of ``x * M``,
#: their sum's upper half, the 32 comparisons and their count, ``count * weight``, its sum
#: with the ring value.
BACKGROUND_STAGES = 6
#: Pipeline stages of the RTL node's neuron update (``neuroaix.rtl.hw.neuron_update``, whose
#: ``LATENCY`` this is): the partial products, the six products, sums and saturations,
#: threshold and reset.
UPDATE_STAGES = 4
#: Cycles of a step of the RTL node beyond its ``ceil(n_local / U)`` update beats when no
#: spike is delivered: three from the read-and-clear request to the state stage, the state
#: stage, the background and update stages, and the barrier's cycle.
NODE_QUIET_OVERHEAD = 4 + BACKGROUND_STAGES + UPDATE_STAGES


def _lanes_banks(lanes, banks) -> tuple[int, int]:
    return check_int("lanes", lanes, low=1), check_int("banks", banks, low=1, high=63)


def run_issue_order(targets, lanes: int, banks: int, *, fullest_first: bool = False,
                    kernel=None) -> np.ndarray:
    """Return :func:`issue_order` of one row: position ``k`` holds synapse ``order[k]``.

    Checks the arguments and runs ``kernel`` (default :func:`issue_order` as it is, plain
    Python; the emulator passes its compiled form).

    Parameters
    ----------
    targets : array of int
        Local target of each synapse of the row, in the network's order.
    lanes, banks : int
        Synapse lanes and ring banks of the node (banks in [1, 63]).
    fullest_first : bool
        The proposed order of :func:`issue_order`.
    kernel : callable, optional
        :func:`issue_order` or a compiled copy of it.
    """
    targets = np.ascontiguousarray(targets, np.int64)
    lanes, banks = _lanes_banks(lanes, banks)
    if targets.ndim != 1 or (targets.size and targets.min() < 0):
        raise ValueError("targets must be a 1-D array of local neuron indices (>= 0)")
    order = np.empty(targets.size, np.int64)
    (kernel or issue_order)(targets, lanes, banks, bool(fullest_first), order)
    return order


def run_node_layout(row_ptr, targets, lanes: int, banks: int, *, fullest_first: bool = False,
                    kernel=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(row_start, row_length, order)`` of :func:`node_layout` for a partition.

    ``order[a]`` is the partition's synapse at address ``a`` (-1: a gap). Checks the
    arguments and runs ``kernel`` (default :func:`node_layout` as it is, plain Python, as the
    RTL harness does for one node; the emulator passes its compiled form for the cluster).

    Parameters
    ----------
    row_ptr : array of int
        Row ``s`` is synapses ``row_ptr[s]:row_ptr[s + 1]`` of the partition.
    targets : array of int
        Local target of every synapse of the partition.
    lanes, banks : int
        Synapse lanes and ring banks of the node.
    fullest_first : bool
        The proposed order of :func:`issue_order`.
    kernel : callable, optional
        :func:`node_layout` or a compiled copy of it.
    """
    row_ptr = np.ascontiguousarray(row_ptr, np.int64)
    lanes, banks = _lanes_banks(lanes, banks)
    if row_ptr.ndim != 1 or row_ptr.size < 1 or row_ptr[0] != 0 or np.any(np.diff(row_ptr) < 0):
        raise ValueError("row_ptr must be non-decreasing from 0")
    targets = np.ascontiguousarray(targets, np.int64)
    if targets.shape != (int(row_ptr[-1]),):
        raise ValueError(f"targets must have row_ptr[-1]={int(row_ptr[-1])} entries, not "
                         f"{targets.shape!r}")
    length = np.diff(row_ptr)
    per = _PER_WORD
    size = int(row_ptr[-1]) if lanes == 1 else int((-(-length // per) * per).sum())
    row_start = np.empty(length.size, np.int64)
    order = np.empty(size, np.int64)
    used = (kernel or node_layout)(row_ptr, targets, lanes, banks, bool(fullest_first),
                                   row_start, order)
    return row_start, length, order[:used]


def node_step_cycles(node, memory, spiked, ext, row_start, row_length, syn_bank, stats,
                     offer, emit):
    """Return the cycles of one step of the RTL node, from its first cycle to the barrier.

    The rule is the node's hardware, register by register, in one clock (docs/rtl_node.md,
    "The node's cycle rule"): update beats of U neurons whose read-and-clear waits for a
    cycle in which none of its banks receives a synapse, the cleared values through the
    state stage, the background unit and the neuron update (:data:`BACKGROUND_STAGES` +
    :data:`UPDATE_STAGES` stages, stalling as a whole), spikes into the local FIFO one per
    cycle in lane order, the merge of local and external spikes (in ascending global id, or
    with ``node.arrival_order`` in order of arrival: :data:`MERGES`), the synapse pipeline
    (lookup, requests of at
    most B words within the credit C, memory, unpacker issuing the longest bank-distinct run
    of at most L synapses of one word per cycle, read-add-write) and the barrier. Every
    step starts from the idle node; ``o_spikes`` is always ready and the other nodes'
    spikes of the step are offered one per cycle in order, then ``last``, each from its
    offer cycle on (``offer``; all 0: from the step's first cycle, the benches' streaming).

    Parameters
    ----------
    node : NodeTiming
        The node.
    memory : MemoryTiming
        The memory, with the node's clock (:func:`fixed_latency`: the RTL's memory; with
        DDR tables, word ``k`` of a request is handed over at the first cycle at or after
        its ready time, one word per cycle).
    spiked : array of bool
        Per local neuron, whether it spikes in this step (the update's result).
    ext : array of int64
        The other nodes' spikes of the step (global ids) in the order they are offered.
    row_start, row_length : array of int64
        Per source, the row's first synapse address and its length in the node's memory.
    syn_bank : array of int64
        Per synapse address, the ring bank of its target (``target mod banks``).
    stats : array of int64
        Filled with :data:`NODE_STATS_FIELDS`: the step's cycles, cycles in which the
        unpacker issued synapses, cycles in which a read-and-clear waited for its banks,
        memory words fetched, synaptic events, the first cycle in which the update is done
        (every neuron written back, its last spike out), the cycle in which ``last`` was
        taken (-1 when ``node.external`` is false), and the local spikes out.
    offer : array of int64
        ``len(ext) + 1`` entries: the first cycle in which ``ext[i]`` may be at the head of
        ``i_ext`` (``offer[len(ext)]``: ``last``); an item is at the head only after the
        one before it was taken, so only the entries' maxima up to each item act.
    emit : array of int64
        At least ``n_local`` entries; entry ``k`` is filled with the cycle in which the
        step's ``k``-th local spike entered the local FIFO and ``o_spikes`` (ascending
        global id; the spike is out from the next cycle).

    Returns
    -------
    int
        Cycles of the step.
    """
    U = node.update_lanes
    L = node.synapse_lanes
    NB = node.banks
    B = node.max_burst
    C = node.fifo_words
    F = node.spike_fifo
    n_local = node.n_local
    n_cap = node.n_neurons
    per = _PER_WORD
    n_ext = ext.shape[0]
    # Pipeline registers.
    l_valid = False
    l_src = 0
    rg_words = 0
    rg_addr = 0
    outstanding = 0
    desc_off = np.zeros(C + 2, np.int64)
    desc_len = np.zeros(C + 2, np.int64)
    desc_head = 0
    desc_n = 0
    # Memory request queue (word address, count, request cycle, start of the request).
    mq_addr = np.zeros(C, np.int64)
    mq_count = np.zeros(C, np.int64)
    mq_cycle = np.zeros(C, np.int64)
    mq_start = np.zeros(C, np.int64)
    mq_head = 0
    mq_n = 0
    mq_done = 0
    mem_free = 0
    resp_valid = False
    resp_word = 0
    rf = np.zeros(C, np.int64)  # response FIFO: word addresses
    rf_head = 0
    rf_n = 0
    u_valid = False
    u_idx = 0
    u_left = 0
    e_mask = 0
    s1_syn = False
    s1_clear = False
    clr_level = 0
    # Update chain: valid and beat index of the state stage, background and update stages.
    bg_last = BACKGROUND_STAGES
    last_stage = BACKGROUND_STAGES + UPDATE_STAGES
    chain_v = np.zeros(1 + last_stage, np.bool_)
    chain_j = np.zeros(1 + last_stage, np.int64)
    n_req = 0
    j_cons = 0
    n_done = 0
    pending = 0
    pend_j = 0
    lf = np.zeros(F, np.int64)  # local-spike FIFO: global ids
    lf_head = 0
    lf_n = 0
    ei = 0
    ext_done = not node.external
    issue_cycles = 0
    clear_waits = 0
    words = 0
    events = 0
    done_at = -1
    last_at = -1
    n_out = 0
    cycle = 0
    while True:
        # Combinational: the synapse pipeline --------------------------------------------
        req_count = rg_words if rg_words < B else B
        req_fire = rg_words != 0 and outstanding + req_count <= C and mq_n != C
        rg_free = rg_words == 0 or (req_fire and rg_words <= B)
        l_fire = l_valid and rg_free and desc_n != C + 2
        spike_ready = (not l_valid) or l_fire
        if mq_n > 0:
            # the memory reads a word in the cycle before it is valid on the response stream
            head_due = cycle + 1 >= word_ready(memory, mq_cycle[mq_head], mq_start[mq_head],
                                               mq_count[mq_head], mq_done)
        else:
            head_due = False
        advance = (not resp_valid) or rf_n != C
        issue = advance and mq_n > 0 and head_due
        can_emit = u_valid and rf_n > 0
        n_take = 0
        take_mask = 0
        if can_emit:
            base = rf[rf_head] * per
            j = u_idx
            while j < per and n_take < L and n_take < u_left:
                b = syn_bank[base + j]
                if (take_mask >> b) & 1:
                    break
                take_mask |= 1 << b
                n_take += 1
                j += 1
        last_in_row = can_emit and u_left == n_take
        word_pop = can_emit and (u_idx + n_take >= per or last_in_row)
        take_desc = ((not u_valid) or last_in_row) and desc_n > 0
        o_idle = ((not l_valid) and rg_words == 0 and desc_n == 0 and not u_valid
                  and outstanding == 0 and e_mask == 0 and not s1_syn and not s1_clear)
        # Combinational: read-and-clear ---------------------------------------------------
        take_clear = False
        if n_req < n_local:
            clr_mask = 0
            for k in range(U):
                if n_req + k < n_cap:
                    clr_mask |= 1 << ((n_req + k) % NB)
            space = clr_level + (1 if s1_clear else 0) < NODE_CLEAR_FIFO
            if space and (e_mask & clr_mask) == 0:
                take_clear = True
            elif space:
                clear_waits += 1
        # Combinational: the update chain and the spikes out ------------------------------
        wb_ready = pending == 0 and lf_n != F
        adv_nu = (not chain_v[last_stage]) or wb_ready
        wb = chain_v[last_stage] and wb_ready
        adv_bg = (not chain_v[bg_last]) or adv_nu
        h_ready = (not chain_v[0]) or adv_bg
        cons = clr_level > 0 and h_ready
        spk = 0
        beat_n = 0
        if wb:
            jj = chain_j[last_stage]
            for k in range(U):
                n = jj * U + k
                if n < n_local:
                    beat_n += 1
                    if spiked[n]:
                        spk |= 1 << k
        if pending != 0:
            serial = pending
            serial_j = pend_j
        else:
            serial = spk
            serial_j = chain_j[last_stage]
        put = serial != 0 and lf_n != F
        first = 0
        if serial != 0:
            while not (serial >> first) & 1:
                first += 1
        # Combinational: merge and barrier -------------------------------------------------
        update_done = n_done == n_local and pending == 0
        lv = lf_n > 0
        lg = lf[lf_head] if lv else 0
        em = ei >= n_ext
        ev = (not ext_done) and cycle >= offer[ei]
        eg = ext[ei] if (ev and not em) else 0
        if node.arrival_order:
            take_ext = ev and not em
            take_local = lv and not take_ext
        else:
            take_local = lv and (ext_done or (ev and (em or lg < eg)))
            take_ext = ev and (not em) and ((update_done and not lv) or (lv and eg < lg))
        accept = (take_local or take_ext) and spike_ready
        if update_done and done_at < 0:
            done_at = cycle
        if update_done and (not lv) and ext_done and o_idle:
            break
        # Registers ---------------------------------------------------------------------------
        if l_fire:
            length = 0
            if l_src < node.n_sources:
                length = row_length[l_src]
            start = row_start[l_src] if length > 0 else 0
            l_valid = False
        if req_fire:
            slot = (mq_head + mq_n) % C
            mq_start[slot], mem_free = memory_start(memory, cycle, mem_free, req_count)
            mq_cycle[slot] = cycle
            mq_addr[slot] = rg_addr
            mq_count[slot] = req_count
            mq_n += 1
            outstanding += req_count
            words += req_count
            rg_words -= req_count
            rg_addr += req_count
        if l_fire:
            if length > 0:
                rg_words = (start + length - 1) // per - start // per + 1
                rg_addr = start // per
                slot = (desc_head + desc_n) % (C + 2)
                desc_off[slot] = start % per
                desc_len[slot] = length
                desc_n += 1
            else:
                rg_words = 0
        if accept:
            l_valid = True
            l_src = lg if take_local else eg
        # response FIFO: the word handed over in this cycle enters, the unpacked word leaves
        if resp_valid and rf_n != C:
            rf[(rf_head + rf_n) % C] = resp_word
            rf_n += 1
        # memory: a word handed over per cycle
        if advance:
            if issue:
                resp_word = mq_addr[mq_head] + mq_done
            resp_valid = issue
        if issue:
            if mq_done + 1 >= mq_count[mq_head]:
                mq_done = 0
                mq_head = (mq_head + 1) % C
                mq_n -= 1
            else:
                mq_done += 1
        if word_pop:
            rf_head = (rf_head + 1) % C
            rf_n -= 1
            outstanding -= 1
        if can_emit:
            issue_cycles += 1
            events += n_take
            u_idx = (u_idx + n_take) % per
            u_left -= n_take
            if last_in_row:
                u_valid = False
        if take_desc:
            u_valid = True
            u_idx = desc_off[desc_head]
            u_left = desc_len[desc_head]
            desc_head = (desc_head + 1) % (C + 2)
            desc_n -= 1
        # read-and-clear FIFO and the update chain
        if s1_clear:
            clr_level += 1
        if cons:
            clr_level -= 1
        s1_syn = e_mask != 0
        s1_clear = take_clear
        e_mask = take_mask
        if take_clear:
            n_req += U
        j_last = chain_j[last_stage]
        if adv_nu:
            for s in range(last_stage, bg_last, -1):
                chain_v[s] = chain_v[s - 1]
                chain_j[s] = chain_j[s - 1]
        if adv_bg:
            for s in range(bg_last, 1, -1):
                chain_v[s] = chain_v[s - 1]
                chain_j[s] = chain_j[s - 1]
            chain_v[1] = chain_v[0]
            chain_j[1] = chain_j[0]
        if h_ready:
            chain_v[0] = cons
            chain_j[0] = j_cons
        if cons:
            j_cons += 1
        # spikes into the local FIFO, merge out of it
        if take_local and spike_ready:
            lf_head = (lf_head + 1) % F
            lf_n -= 1
        if put:
            emit[n_out] = cycle
            n_out += 1
            pending = serial & ~(1 << first)
            lf[(lf_head + lf_n) % F] = node.gid_base + (serial_j * U + first) * node.gid_stride
            lf_n += 1
        if wb:
            pend_j = j_last
            n_done += beat_n
        if ev and em:
            ext_done = True
            last_at = cycle
            ei += 1
        elif take_ext and spike_ready:
            ei += 1
        cycle += 1
    stats[0] = cycle + 1
    stats[1] = issue_cycles
    stats[2] = clear_waits
    stats[3] = words
    stats[4] = events
    stats[5] = done_at
    stats[6] = last_at
    stats[7] = n_out
    return cycle + 1
