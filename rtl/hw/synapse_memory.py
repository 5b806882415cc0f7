"""Behavioural DRAM-like synapse memory for simulation, and the pipeline with it attached.

:class:`SynapseMemory` answers word requests ``(addr, count)`` with ``count`` consecutive
64-byte words after a fixed latency, one word per cycle, in request order, with backpressure
on both streams. It stands in for the DDR3 controller of a node in amaranth.sim and in the
generated Verilog; the cluster emulator models the same timing (docs/rtl.md).

:class:`PipelineWithMemory` is the simulation top: a :class:`SynapsePipeline` whose memory
port is connected to a :class:`SynapseMemory`, with load ports for the row pointers and the
synapse words.
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Module, Mux, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out, connect
from amaranth.utils import ceil_log2

from neuroaix import formats
from neuroaix.checks import check_int
from neuroaix.rtl.hw.layouts import MEMORY_WORD_BITS, MemoryWord
from neuroaix.rtl.params import MIN_LATENCY
from neuroaix.rtl.hw.synapse_pipeline import SynapsePipeline, mem_request_layout

__all__ = [
    "SynapseMemory",
    "PipelineWithMemory",
    "connect_memory",
    "members_with_memory",
    "memory_load_layout",
    "words_to_memory",
]



def memory_load_layout(memory_words: int) -> data.StructLayout:
    """Return the layout of a memory load: word ``addr`` and its 512-bit ``data``."""
    return data.StructLayout({
        "addr": unsigned(max(1, ceil_log2(memory_words))),
        "data": unsigned(MEMORY_WORD_BITS),
    })


def words_to_memory(synapse_words) -> list[int]:
    """Group packed synapse words (uint64) into 512-bit memory words, zero padded.

    Synapse ``k`` lands in memory word ``k // 8`` at bits ``64 * (k % 8)`` upwards, the
    little-endian order of a 64-byte memory word.
    """
    w = np.asarray(synapse_words, dtype=np.uint64)
    per = formats.SYNAPSES_PER_WORD
    out = []
    for i in range(0, len(w), per):
        value = 0
        for k, syn in enumerate(w[i:i + per]):
            value |= int(syn) << (64 * k)
        out.append(value)
    return out


class SynapseMemory(wiring.Component):
    """A synapse memory with DRAM-like timing (behavioural; for simulation).

    A request accepted in cycle ``q`` has its first word valid in cycle
    ``max(q + latency, previous word + 1)`` and the rest in the following cycles; words of
    consecutive requests follow each other without gaps. A stalled response holds the
    following words back.

    Parameters
    ----------
    memory_words : int
        Depth in 64-byte words.
    latency : int
        Cycles from a request handshake to its first response word, at least ``MIN_LATENCY``.
    max_burst : int
        Largest ``count`` of a request.
    queue_depth : int
        Requests the memory holds before it deasserts ``i_req.ready``.
    init : sequence of int, optional
        Initial 512-bit words (see :func:`words_to_memory`).

    Members
    -------
    i_req : In(stream.Signature(mem_request_layout(...)))
        Read requests ``(addr, count)``.
    o_resp : Out(stream.Signature(MemoryWord))
        Response words.
    i_load : In(stream.Signature(memory_load_layout(...)))
        Word writes ``(addr, data)``, always ready.
    """

    def __init__(self, *, memory_words: int, latency: int, max_burst: int,
                 queue_depth: int = 64, init=()):
        check_int("memory_words", memory_words, low=1)
        check_int("latency", latency, low=MIN_LATENCY, high=1 << 20)
        check_int("max_burst", max_burst, low=1, high=256)
        check_int("queue_depth", queue_depth, low=1)
        init = list(init)
        if len(init) > memory_words:
            raise ValueError(
                f"init holds {len(init)!r} words but memory_words is {memory_words!r}; "
                "raise memory_words"
            )
        self._memory_words = memory_words
        self._latency = latency
        self._max_burst = max_burst
        self._queue_depth = queue_depth
        self._init = init
        super().__init__({
            "i_req": In(stream.Signature(mem_request_layout(memory_words, max_burst))),
            "o_resp": Out(stream.Signature(MemoryWord)),
            "i_load": In(stream.Signature(memory_load_layout(memory_words))),
        })

    @property
    def latency(self) -> int:
        """Cycles from a request handshake to its first response word."""
        return self._latency

    def elaborate(self, platform):
        m = Module()
        m.submodules.mem = mem = Memory(shape=MEMORY_WORD_BITS, depth=self._memory_words,
                                        init=self._init)
        rd = mem.read_port()
        wr = mem.write_port()
        m.d.comb += [
            self.i_load.ready.eq(1),
            wr.en.eq(self.i_load.valid),
            wr.addr.eq(self.i_load.payload.addr),
            wr.data.eq(self.i_load.payload.data),
        ]

        now = Signal(32)
        m.d.sync += now.eq(now + 1)
        req = mem_request_layout(self._memory_words, self._max_burst)
        entry = data.StructLayout({"req": req, "due": unsigned(32)})
        m.submodules.queue = queue = SyncFIFO(width=entry.size, depth=self._queue_depth)
        w_entry = Signal(entry)
        m.d.comb += [
            w_entry.req.eq(self.i_req.payload),
            w_entry.due.eq(now + (self._latency - 1)),
            queue.w_data.eq(w_entry),
            queue.w_en.eq(self.i_req.valid),
            self.i_req.ready.eq(queue.w_rdy),
        ]
        head = entry(queue.r_data)
        done = Signal(range(self._max_burst + 1))
        due = (now - head.due)[31] == 0
        advance = ~self.o_resp.valid | self.o_resp.ready
        issue = advance & queue.r_rdy & due
        last = (done + 1) >= head.req.count
        m.d.comb += [
            rd.addr.eq(head.req.addr + done),
            rd.en.eq(advance),
            self.o_resp.payload.eq(rd.data),
            queue.r_en.eq(issue & last),
        ]
        with m.If(advance):
            m.d.sync += self.o_resp.valid.eq(issue)
        with m.If(issue):
            m.d.sync += done.eq(Mux(last, 0, done + 1))
        return m


def members_with_memory(core, memory: SynapseMemory) -> dict:
    """Return the signature members of ``core`` with ``memory`` attached.

    Parameters
    ----------
    core : wiring.Component
        A block with the memory port ``o_mem_req``, ``i_mem_resp`` (pipeline or node).
    memory : SynapseMemory
        The memory that serves it.

    Returns
    -------
    dict
        ``core``'s members but its memory port, then the memory's ``i_load``.
    """
    members = {name: member for name, member in core.signature.members.items()
               if name not in ("o_mem_req", "i_mem_resp")}
    members["i_load"] = memory.signature.members["i_load"]
    return members


def connect_memory(m: Module, core, memory: SynapseMemory, i_load) -> None:
    """Add ``memory`` to ``m`` and connect it to ``core``'s memory port and to ``i_load``.

    Parameters
    ----------
    m : Module
        The module of the top that holds both.
    core : wiring.Component
        The block with the memory port ``o_mem_req``, ``i_mem_resp``.
    memory : SynapseMemory
        Its memory, added as the submodule ``memory``.
    i_load : stream interface
        The top's load port (``members_with_memory``), connected to the memory's.
    """
    m.submodules.memory = memory
    connect(m, core.o_mem_req, memory.i_req)
    connect(m, memory.o_resp, core.i_mem_resp)
    connect(m, wiring.flipped(i_load), memory.i_load)


class PipelineWithMemory(wiring.Component):
    """A :class:`SynapsePipeline` attached to a :class:`SynapseMemory` (simulation top).

    Parameters
    ----------
    n_neurons, ring_depth, n_sources, memory_words, max_burst, fifo_words
        As for :class:`SynapsePipeline`.
    latency : int
        Memory latency in cycles (see :class:`SynapseMemory`).
    init : sequence of int, optional
        Initial 512-bit memory words.
    lanes, clear_lanes : int
        Synapse lanes and read-and-clear lanes, as for :class:`SynapsePipeline`.

    Members
    -------
    i_spikes, i_rows, i_clear, o_cleared, o_idle, o_events, o_dropped
        The pipeline's ports.
    i_load : In(stream.Signature(memory_load_layout(...)))
        The memory's load port.
    """

    def __init__(self, *, n_neurons: int, ring_depth: int, n_sources: int,
                 memory_words: int, max_burst: int = 8, fifo_words: int = 64,
                 latency: int = 32, init=(), lanes: int = 1, clear_lanes: int = 1):
        self.pipeline = SynapsePipeline(
            n_neurons=n_neurons, ring_depth=ring_depth, n_sources=n_sources,
            memory_words=memory_words, max_burst=max_burst, fifo_words=fifo_words,
            lanes=lanes, clear_lanes=clear_lanes)
        # The queue holds every request the credit allows, so the memory never stalls them.
        self.memory = SynapseMemory(memory_words=memory_words, latency=latency,
                                    max_burst=max_burst, queue_depth=fifo_words, init=init)
        super().__init__(members_with_memory(self.pipeline, self.memory))

    def elaborate(self, platform):
        m = Module()
        m.submodules.pipeline = p = self.pipeline
        connect_memory(m, p, self.memory, self.i_load)
        for name in ("i_spikes", "i_rows", "i_clear"):
            connect(m, wiring.flipped(getattr(self, name)), getattr(p, name))
        connect(m, p.o_cleared, wiring.flipped(self.o_cleared))
        for name in ("o_idle", "o_events", "o_dropped"):
            m.d.comb += getattr(self, name).eq(getattr(p, name))
        return m
