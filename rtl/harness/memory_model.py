"""The node's synapse memory in its testbenches: requests answered with a ``MemoryTiming``.

The node (``neuroaix.rtl.hw.node.Node``) has no synapse memory of its own: its requests
``(addr, count)`` leave on ``o_mem_req`` and its 64-byte words come back on ``i_mem_resp``,
as from the DDR controller of a neuroAIx node. :class:`TimedMemory` is that memory in the
testbench, one clock at a time, with the timing of a :class:`neuroaix.timing.MemoryTiming`
(:func:`neuroaix.timing.memory_start`, :func:`neuroaix.timing.word_ready`, the functions the
node's cycle rule calls): a fixed latency (:func:`neuroaix.timing.fixed_latency`) or the DDR
table of a hardware configuration's ``[memory]`` section in the node's clock
(``node_engine.node_memory``, which reads it through the emulator). The amaranth.sim bench (``node_sim.simulate``) and the cocotb bench
(``cocotb_kit.MemoryResponder``) both clock it; this module imports neither simulator.

One clock of :class:`TimedMemory`, as the rule has it: the memory takes a request while it
holds fewer than ``queue_depth`` (the node's ``fifo_words``); it starts a request at
``memory_start`` (the DDR: when it is free; a fixed latency: at once) and reads word ``k``
in the cycle before ``word_ready``, one word per cycle in request order, into its output
register, which holds a word until the node takes it.
"""

from __future__ import annotations

import collections

import numpy as np

from neuroaix import timing
from neuroaix.checks import check_int

__all__ = [
    "TimedMemory",
    "timing_from_json",
    "timing_to_json",
]

def timing_to_json(memory: timing.MemoryTiming) -> dict:
    """Return ``memory`` as plain JSON values (for the cocotb bench)."""
    return {"latency": int(memory.latency), "service_fs": memory.service_fs.tolist(),
            "occupancy_fs": memory.occupancy_fs.tolist(),
            "first_word_fs": int(memory.first_word_fs), "period_fs": int(memory.period_fs)}


def timing_from_json(doc: dict) -> timing.MemoryTiming:
    """Return the ``MemoryTiming`` of :func:`timing_to_json`'s ``doc``."""
    return timing.MemoryTiming(
        latency=int(doc["latency"]), service_fs=np.array(doc["service_fs"], np.int64),
        occupancy_fs=np.array(doc["occupancy_fs"], np.int64),
        first_word_fs=int(doc["first_word_fs"]), period_fs=int(doc["period_fs"]))


class TimedMemory:
    """The node's synapse memory, clocked by a testbench.

    Parameters
    ----------
    words : sequence of int
        The 512-bit memory words (``NodeImage.memory``); a word beyond them reads 0.
    memory : neuroaix.timing.MemoryTiming
        Its timing, in the node's clock.
    queue_depth : int
        Requests it holds before it deasserts ``ready`` (the node's ``fifo_words``).

    Notes
    -----
    Per clock the bench drives :attr:`req_ready`, :attr:`resp_valid` and :attr:`resp_word`,
    reads the node's request (when both sides of ``o_mem_req`` are high) and ``i_mem_resp``'s
    ``ready``, and calls :meth:`clock`. Cycles count from any origin that is a whole cycle
    (the timing depends only on differences).
    """

    def __init__(self, words, memory: timing.MemoryTiming, queue_depth: int):
        if not isinstance(memory, timing.MemoryTiming):
            raise TypeError(f"memory must be a neuroaix.timing.MemoryTiming, not {memory!r}")
        self.words = list(words)
        self.memory = memory
        self.queue_depth = check_int("queue_depth", queue_depth, low=1)
        self._queue = collections.deque()  # [addr, count, request cycle, start (fs)]
        self._done = 0  # words of the head request read
        self._free_fs = 0
        #: The output register: a word is offered on ``i_mem_resp``.
        self.resp_valid = False
        #: The word offered.
        self.resp_word = 0
        #: Requests taken and words read, for the bench's report.
        self.requests = 0
        self.words_read = 0

    @property
    def req_ready(self) -> bool:
        """Whether the memory takes a request in this cycle."""
        return len(self._queue) < self.queue_depth

    def clock(self, cycle: int, request, resp_ready: bool) -> None:
        """Advance one clock edge at the end of ``cycle``.

        Parameters
        ----------
        cycle : int
            The cycle that ends.
        request : (int, int) or None
            ``(addr, count)`` taken in this cycle (a handshake on ``o_mem_req``), else None.
        resp_ready : bool
            ``i_mem_resp.ready`` in this cycle.
        """
        if request is not None and not self.req_ready:
            raise RuntimeError("a request was taken while the memory was not ready")
        advance = not self.resp_valid or resp_ready
        issue = False
        if advance and self._queue:
            addr, count, made, start = self._queue[0]
            issue = cycle + 1 >= int(timing.word_ready(self.memory, made, start, count,
                                                       self._done))
        if advance:
            self.resp_valid = issue
            if issue:
                a = addr + self._done
                self.resp_word = self.words[a] if a < len(self.words) else 0
                self.words_read += 1
        if issue:
            self._done += 1
            if self._done >= count:
                self._done = 0
                self._queue.popleft()
        if request is not None:
            addr, count = int(request[0]), int(request[1])
            start, free = timing.memory_start(self.memory, cycle, self._free_fs, count)
            self._free_fs = int(free)
            self._queue.append((addr, count, cycle, int(start)))
            self.requests += 1
