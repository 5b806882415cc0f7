"""One node's synapse pipeline: spike events in, ring-buffer accumulation out.

Stages (docs/rtl.md gives the cycle rule of each):

1. ``lookup``: a spike event ``(source, step)`` reads the row pointer ``(start, length)`` of its
   local synapse list (one block-RAM read).
2. ``request``: the row's 64-byte memory words are requested in bursts of at most
   ``max_burst`` words, one request per cycle, while the words requested and not yet consumed
   stay within the ``fifo_words`` credit (so the response FIFO never overflows and the memory
   is never stalled by this pipeline).
3. ``unpack``: one synapse per cycle leaves the response FIFO (II=1), with the spike's step.
4. ``accumulate``: the ring-buffer address ``target * D + ((step + delay) mod D)`` is read,
   the weight is added to the channel of its sign with int32 saturation
   (:func:`neuroaix.numerics.accumulate`; a clamp is not counted, docs/numerics.md, section 4)
   and written back; a one-entry forwarding register makes back-to-back updates of one
   address correct at one synaptic event per cycle.

Two widths (docs/rtl.md, "Lanes and banks"): ``lanes`` (L in 1, 2, 4, 8) synaptic events per
cycle, and ``clear_lanes`` (U) neurons per read-and-clear request. The unpacker issues, per
cycle, the longest run of the current word's next synapses (row order) of at most L
synapses whose ring banks are pairwise distinct (the *bank-conflict stall*: the first synapse
whose bank is taken in that cycle waits, with every later one). The ring buffers are
``ring_banks(L, U)`` block RAMs (the power of two >= max(L, U)): neuron ``n`` in bank
``n mod banks`` at entry ``(n div banks) * D + slot``, each bank with its own read-modify-write
pipeline and forwarding register; the U neurons of a clear are consecutive, so in U distinct
banks. The synapses onto one entry lie in one bank and reach it in row order, spike after
spike, so the order of each bank is the one-lane order (the values would not depend on it
anyway: one sign per channel). With L = U = 1 there is one bank and one synaptic event per
cycle.

A read-and-clear port serves the neuron update: ``(slot, neuron)`` in, ``(exc, inh)`` out, the
entry zeroed. Synaptic events take precedence over clear requests; the port is meant to be
used between the delivery phases of two steps (``o_idle`` high), as in the step schedule of
docs/architecture.md. The saturation count of the ring buffers is taken where the node
reads the cleared values (:class:`~neuroaix.rtl.hw.node.Node`), not here.
"""


from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.memory import Memory, MemoryData
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from neuroaix import formats, numerics
from neuroaix.checks import check_int
from neuroaix.rtl.hw.interleave import Interleaved
from neuroaix.rtl.hw.layouts import MemoryWord, SpikeEvent
from neuroaix.rtl.params import MAX_RING_DEPTH
from neuroaix.timing import ring_banks

__all__ = [
    "SynapsePipeline",
    "RingBank",
    "SplitMemoryData",
    "RingBankData",
    "SYNAPSE_LANES",
    "ring_banks",
    "row_write_layout",
    "mem_request_layout",
    "clear_request_layout",
    "RingValues",
    "CLEAR_FIFO_DEPTH",
]

#: Synapse lanes the unpacker supports (a divisor of the synapses per memory word).
SYNAPSE_LANES = (1, 2, 4, 8)


def _popcount(bits):
    total = Const(0, 1)
    for b in bits:
        total = total + b
    return total


#: Entries of the read-and-clear output FIFO.
CLEAR_FIFO_DEPTH = 4


class RingValues(data.Struct):
    """One ring-buffer entry: the excitatory and inhibitory channel (int32, I format)."""

    exc: signed(32)
    inh: signed(32)


def _addr_bits(n):
    return max(1, ceil_log2(n))


def row_write_layout(n_sources: int, memory_words: int) -> data.StructLayout:
    """Return the layout of a row-pointer write: ``source``, ``start`` and ``length``.

    ``start`` and ``length`` count synapses (8 bytes), not memory words.
    """
    n_syn = memory_words * formats.SYNAPSES_PER_WORD
    return data.StructLayout({
        "source": unsigned(_addr_bits(n_sources)),
        "start": unsigned(_addr_bits(n_syn)),
        "length": unsigned(ceil_log2(n_syn + 1)),
    })


def mem_request_layout(memory_words: int, max_burst: int) -> data.StructLayout:
    """Return the layout of a memory request: word ``addr`` and word ``count`` (1..burst)."""
    return data.StructLayout({
        "addr": unsigned(_addr_bits(memory_words)),
        "count": unsigned(ceil_log2(max_burst + 1)),
    })


def clear_request_layout(n_neurons: int, ring_depth: int) -> data.StructLayout:
    """Return the layout of a read-and-clear request: ring ``slot`` and local ``neuron``."""
    return data.StructLayout({
        "slot": unsigned(max(1, ceil_log2(ring_depth))),
        "neuron": unsigned(_addr_bits(n_neurons)),
    })


def _saturating_add(m, a, b):
    """Return the int32-saturated sum of two signed(32) values (``numerics.accumulate``) and
    whether it was clamped."""
    s = Signal(signed(33))
    m.d.comb += s.eq(a + b)
    hi = Const(numerics.INT32_MAX, signed(33))
    lo = Const(numerics.INT32_MIN, signed(33))
    # The sum of two int32 lies in [-2**32, 2**32 - 2]: it exceeds INT32_MAX exactly when its
    # sign bit is clear and bit 31 set, and lies below INT32_MIN when the sign bit is set and
    # bit 31 clear (two bits instead of two 33-bit comparisons).
    over = ~s[32] & s[31]
    under = s[32] & ~s[31]
    return Mux(over, hi, Mux(under, lo, s))[:32].as_signed(), over | under


class SplitMemoryData:
    """The contents of one block memory, held in one or two memories (one read, one write port).

    A depth that is not a power of two is split into the entries ``[0, P)`` (``P`` the largest
    power of two below it) and ``[P, depth)``. yosys maps a memory as one block shape repeated
    in depth and width and multiplexes the repeats in LUTs; the split gives the large part a
    shape with no repeat in depth. At the node's size (docs/rtl_node.md, "Per block"): a ring
    bank's 8,832 x 64 bit in one memory map as 9 x 2 blocks of 1K x 36 behind a 9-to-1
    multiplexer; split, each channel of 8,832 x 32 bit maps as 8 blocks of 8K x 4 and one of
    1K x 36 behind a 2-to-1 multiplexer (18 BRAM36 a bank either way); the row pointers'
    77,169 x 47 bit take 114 BRAM36 and 467 LUTs whole, 112 and 98 split.

    Parameters
    ----------
    shape : shape-like
        Shape of an entry.
    depth : int
        Entries.
    """

    def __init__(self, shape, depth: int):
        self.depth = depth
        top = 1 << (depth.bit_length() - 1)
        sizes = [depth] if top == depth else [top, depth - top]
        #: The memories (``MemoryData``): entry ``i`` is entry ``i`` of the first while
        #: ``i < P``, else entry ``i - P`` of the second.
        self.parts = [MemoryData(shape=shape, depth=n, init=[]) for n in sizes]

    def __getitem__(self, i):
        first = self.parts[0]
        return first[i] if i < first.depth else self.parts[1][i - first.depth]


def _split_memory(m, name, data, *, r_addr, r_en, w_addr, w_data, w_en):
    """Add the memories of ``data`` (:class:`SplitMemoryData`) to ``m``; return the read data.

    One synchronous read port (``r_addr``, ``r_en``: the data of the entry read in the
    previous cycle, held while ``r_en`` is low) and one write port, as one ``Memory``: the top
    address bit of a split memory selects the part, the bits below address it.
    """
    parts = data.parts
    reads = []
    hi_bit = ceil_log2(parts[0].depth)
    for i, part in enumerate(parts):
        m.submodules[name if len(parts) == 1 else f"{name}{i}"] = mem = Memory(data=part)
        r = mem.read_port()
        w = mem.write_port()
        en = w_en
        if len(parts) > 1:
            en = en & (w_addr[hi_bit] if i else ~w_addr[hi_bit])
        m.d.comb += [r.addr.eq(r_addr[:len(r.addr)]), r.en.eq(r_en),
                     w.addr.eq(w_addr[:len(w.addr)]), w.data.eq(w_data), w.en.eq(en)]
        reads.append(Value.cast(r.data))
    if len(parts) == 1:
        return reads[0]
    r_hi = Signal(name=f"{name}_hi")
    with m.If(r_en):
        m.d.sync += r_hi.eq(r_addr[hi_bit])
    return Mux(r_hi, reads[1], reads[0])


class RingBankData:
    """The contents of one ring bank: one :class:`SplitMemoryData` per channel.

    ``bank[i]`` is entry ``i`` as ``RingValues`` (for simulations, which read it). Each channel
    is written on its own, so that a synaptic event writes only the channel of its sign.

    Parameters
    ----------
    depth : int
        Entries of the bank.
    """

    def __init__(self, depth: int):
        self.depth = depth
        #: The excitatory and the inhibitory channel (signed(32) entries).
        self.exc = SplitMemoryData(signed(32), depth)
        self.inh = SplitMemoryData(signed(32), depth)

    def __getitem__(self, i):
        return RingValues(Cat(self.exc[i], self.inh[i]))


class RingBank(wiring.Component):
    """One ring-buffer bank: block RAM with a read-modify-write pipeline and forwarding.

    A synaptic event (``e_valid``; ``e_in_range``: its target is ``< n_neurons``; ``e_row``:
    its target ``div banks``, the bank's row of ``D`` slots; ring ``e_slot``; ``e_weight``)
    or a read-and-clear (``clear``, entry ``clear_addr``; events have priority) is read in
    one cycle (stage s1) and written in the next: an event writes the channel of its sign
    only (the other channel's memory keeps its value), a clear zeroes both. A forwarding
    register holds the value written in the previous cycle and the channels it went to, so
    back-to-back updates of one entry are exact. ``old`` is
    the entry's value in stage s1 (the cleared value of a clear). Events out of range are
    dropped (``dropped``); ``event`` and ``saturated`` flag the accumulation and its clamp in
    stage s1 (the pipeline counts no clamps: the saturation counter counts the values read at
    their bound, docs/numerics.md, section 4).

    The node's ring buffers are ``banks`` of these (:class:`SynapsePipeline`); synthesis
    reports them as one block (docs/rtl_node.md, "Synthesis").

    Parameters
    ----------
    bank_data : RingBankData
        The bank's contents (``RingValues`` entries, ``(target div banks) * D + slot``).
    slot_bits : int
        Bits of a ring slot.
    """

    def __init__(self, bank_data, *, slot_bits: int):
        self._data = bank_data
        self._slot_bits = slot_bits
        addr_w = _addr_bits(bank_data.depth)
        super().__init__({
            "e_valid": In(1), "e_in_range": In(1),
            "e_row": In(max(1, addr_w - slot_bits)), "e_slot": In(slot_bits),
            "e_weight": In(signed(32)), "clear": In(1),
            "clear_addr": In(addr_w),
            "old": Out(RingValues), "s1_valid": Out(1), "event": Out(1),
            "saturated": Out(1), "dropped": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        addr_w = len(self.clear_addr)
        syn_ok = self.e_valid & self.e_in_range
        s1_valid = self.s1_valid
        s1_clear = Signal()
        s1_addr = Signal(addr_w)
        s1_weight = Signal(signed(32))
        syn_addr = Cat(self.e_slot[:self._slot_bits], self.e_row)[:addr_w]
        a_addr = Mux(self.e_valid, syn_addr, self.clear_addr)
        m.d.sync += [
            s1_valid.eq(syn_ok | self.clear),
            s1_clear.eq(~self.e_valid & self.clear),
            s1_addr.eq(a_addr),
            s1_weight.eq(self.e_weight),
        ]
        inh = s1_weight < 0
        # A synaptic event writes the channel of its sign (the other keeps its value in the
        # memory), a clear writes zero to both: one 32-bit value ``new`` for both channels.
        w_exc = s1_valid & (s1_clear | ~inh)
        w_inh = s1_valid & (s1_clear | inh)
        # Forwarding: the entry written in this cycle is the next one's ``old`` when the next
        # one has its address; the comparison is made a cycle early (on ``a_addr``, which
        # becomes ``s1_addr``) and registered, so that it is off the add's path.
        # Per channel: the forwarded value is the channel's when that channel was written.
        fwd_exc = Signal()
        fwd_inh = Signal()
        fwd_data = Signal(signed(32))
        same = s1_addr == a_addr
        m.d.sync += [fwd_exc.eq(w_exc & same), fwd_inh.eq(w_inh & same)]
        old = self.old
        new = Signal(signed(32))
        exc = _split_memory(m, "exc", self._data.exc, r_addr=a_addr, r_en=Const(1, 1),
                            w_addr=s1_addr, w_data=new, w_en=w_exc)
        inh_data = _split_memory(m, "inh", self._data.inh, r_addr=a_addr, r_en=Const(1, 1),
                                 w_addr=s1_addr, w_data=new, w_en=w_inh)
        m.d.comb += [old.exc.eq(Mux(fwd_exc, fwd_data, exc)),
                     old.inh.eq(Mux(fwd_inh, fwd_data, inh_data))]
        ch_old = Mux(inh, old.inh, old.exc)
        ch_new, ch_sat = _saturating_add(m, ch_old, s1_weight)
        m.d.comb += new.eq(Mux(s1_clear, 0, ch_new))
        m.d.sync += fwd_data.eq(new)
        m.d.comb += [
            self.event.eq(s1_valid & ~s1_clear),
            self.saturated.eq(s1_valid & ~s1_clear & ch_sat),
            self.dropped.eq(self.e_valid & ~self.e_in_range),
        ]
        return m


class SynapsePipeline(wiring.Component):
    """The synapse pipeline of one node: L synaptic events per cycle, U-neuron clears.

    Parameters
    ----------
    n_neurons : int
        Neurons of the node (local targets ``0 .. n_neurons - 1``).
    ring_depth : int
        Ring-buffer slots D, a power of two greater than the largest delay (steps).
    n_sources : int
        Entries of the row-pointer table (global source ids ``0 .. n_sources - 1``; a spike
        from a larger id has no local synapses).
    memory_words : int
        Size of the synapse memory in 64-byte words (sets the address widths).
    max_burst : int
        Most words in one memory request.
    fifo_words : int
        Depth of the response FIFO in words, and the credit: words requested and not yet
        unpacked never exceed it. At least ``max_burst``.
    lanes : int
        Synaptic events per cycle at most (L), one of :data:`SYNAPSE_LANES`.
    clear_lanes : int
        Neurons per read-and-clear request (U), in [1, 64].

    Members
    -------
    i_spikes : In(stream.Signature(SpikeEvent))
        Spike events ``(source, step)``.
    i_rows : In(stream.Signature(row_write_layout(...)))
        Row-pointer writes ``(source, start, length)``, always ready; load before use.
    o_mem_req : Out(stream.Signature(mem_request_layout(...)))
        Memory read requests ``(addr, count)`` in words.
    i_mem_resp : In(stream.Signature(MemoryWord))
        Memory words, in request order.
    o_idle : Out(1)
        High when every accepted spike's synapses have been written to the ring buffers.
    o_events : Out(32)
        Synaptic events accumulated since reset (wraps).
    o_dropped : Out(32)
        Synapses whose local target was ``>= n_neurons`` (ignored) since reset.
    i_clear : In(stream.Signature(clear_request_layout(...)))
        Read-and-clear requests ``(slot, neuron)`` for neurons ``neuron .. neuron + U - 1``
        (those ``>= n_neurons`` are skipped and read as zero).
    o_cleared : Out(stream.Signature(data.ArrayLayout(RingValues, U)))
        The U entries of each request, in request order.
    """

    def __init__(self, *, n_neurons: int, ring_depth: int, n_sources: int,
                 memory_words: int, max_burst: int = 8, fifo_words: int = 64,
                 lanes: int = 1, clear_lanes: int = 1):
        check_int("n_neurons", n_neurons, low=1, high=formats.MAX_LOCAL_TARGETS)
        check_int("ring_depth", ring_depth, low=2, high=MAX_RING_DEPTH)
        if ring_depth & (ring_depth - 1):
            raise ValueError(
                f"ring_depth must be a power of two, not {ring_depth!r}; "
                f"use {1 << ceil_log2(ring_depth)}"
            )
        check_int("n_sources", n_sources, low=1)
        check_int("memory_words", memory_words, low=1)
        check_int("max_burst", max_burst, low=1, high=256)
        check_int("fifo_words", fifo_words, low=max_burst,
                  fix=f"the response FIFO must hold one burst of max_burst={max_burst} words")
        if lanes not in SYNAPSE_LANES:
            raise ValueError(f"lanes must be one of {SYNAPSE_LANES}, not {lanes!r}")
        check_int("clear_lanes", clear_lanes, low=1, high=64)
        self._n_neurons = n_neurons
        self._ring_depth = ring_depth
        self._n_sources = n_sources
        self._memory_words = memory_words
        self._max_burst = max_burst
        self._fifo_words = fifo_words
        self._lanes = lanes
        self._clear_lanes = clear_lanes
        self._banks = ring_banks(lanes, clear_lanes)
        per_bank = -(-n_neurons // self._banks) * ring_depth
        #: Contents of ring bank ``b``: neuron ``n = k * banks + b`` at entry ``k * D + slot``.
        self.bank_data = [RingBankData(per_bank) for _ in range(self._banks)]
        #: The ring buffers, entry ``neuron * D + slot`` (simulations may read it).
        self.ring_data = Interleaved(self.bank_data, ring_depth)
        super().__init__({
            "i_spikes": In(stream.Signature(SpikeEvent)),
            "i_rows": In(stream.Signature(row_write_layout(n_sources, memory_words))),
            "o_mem_req": Out(stream.Signature(mem_request_layout(memory_words, max_burst))),
            "i_mem_resp": In(stream.Signature(MemoryWord)),
            "i_clear": In(stream.Signature(clear_request_layout(n_neurons, ring_depth))),
            "o_cleared": Out(stream.Signature(data.ArrayLayout(RingValues, clear_lanes))),
            "o_idle": Out(1),
            "o_events": Out(32),
            "o_dropped": Out(32),
        })

    @property
    def n_neurons(self) -> int:
        """Neurons of the node."""
        return self._n_neurons

    @property
    def ring_depth(self) -> int:
        """Ring-buffer slots D."""
        return self._ring_depth

    @property
    def n_sources(self) -> int:
        """Entries of the row-pointer table."""
        return self._n_sources

    @property
    def memory_words(self) -> int:
        """Synapse memory size in 64-byte words."""
        return self._memory_words

    @property
    def max_burst(self) -> int:
        """Most words in one memory request."""
        return self._max_burst

    @property
    def fifo_words(self) -> int:
        """Response FIFO depth and word credit."""
        return self._fifo_words

    @property
    def lanes(self) -> int:
        """Synapse lanes L."""
        return self._lanes

    @property
    def clear_lanes(self) -> int:
        """Neurons per read-and-clear request U."""
        return self._clear_lanes

    @property
    def banks(self) -> int:
        """Ring-buffer banks (block RAMs)."""
        return self._banks

    def ring_entry(self, neuron: int, slot: int) -> tuple:
        """Return ``(bank, entry)`` of ring-buffer entry ``(neuron, slot)``."""
        return neuron % self._banks, (neuron // self._banks) * self._ring_depth + slot

    def elaborate(self, platform):
        m = Module()
        per_word = formats.SYNAPSES_PER_WORD
        off_bits = ceil_log2(per_word)
        slot_bits = ceil_log2(self._ring_depth)
        n_syn = self._memory_words * per_word
        B = self._max_burst
        C = self._fifo_words
        L = self._lanes
        U = self._clear_lanes
        NB = self._banks
        bank_bits = ceil_log2(NB)

        row_layout = data.StructLayout({
            "start": unsigned(_addr_bits(n_syn)),
            "length": unsigned(ceil_log2(n_syn + 1)),
        })
        desc_layout = data.StructLayout({
            "offset": unsigned(off_bits),
            "length": unsigned(ceil_log2(n_syn + 1)),
            "slot": unsigned(slot_bits),
        })

        # Row pointers ----------------------------------------------------------------------
        row_w_data = Signal(row_layout)
        m.d.comb += [
            self.i_rows.ready.eq(1),
            row_w_data.start.eq(self.i_rows.payload.start),
            row_w_data.length.eq(self.i_rows.payload.length),
        ]
        row_r_data = row_layout(_split_memory(
            m, "rows", SplitMemoryData(row_layout, self._n_sources),
            r_addr=self.i_spikes.payload.source, r_en=self.i_spikes.ready,
            w_addr=self.i_rows.payload.source, w_data=row_w_data, w_en=self.i_rows.valid))

        # Lookup stage: the spike waits here while its row pointer is read.
        l_valid = Signal()
        l_step = Signal(32)
        l_oob = Signal()
        l_fire = Signal()
        m.d.comb += [
            self.i_spikes.ready.eq(~l_valid | l_fire),
        ]
        with m.If(l_fire):
            m.d.sync += l_valid.eq(0)
        with m.If(self.i_spikes.valid & self.i_spikes.ready):
            m.d.sync += [
                l_valid.eq(1),
                l_step.eq(self.i_spikes.payload.step),
                l_oob.eq(self.i_spikes.payload.source >= self._n_sources),
            ]

        # Request generator -----------------------------------------------------------------
        rg_words = Signal(range(self._memory_words + 1))
        rg_addr = Signal(range(self._memory_words + 1))
        outstanding = Signal(range(C + 1))
        req_count = Signal(range(B + 1))
        word_pop = Signal()
        m.d.comb += req_count.eq(Mux(rg_words > B, B, rg_words))
        credit_ok = (outstanding + req_count) <= C
        req_fire = self.o_mem_req.valid & self.o_mem_req.ready
        m.d.comb += [
            self.o_mem_req.valid.eq((rg_words != 0) & credit_ok),
            self.o_mem_req.payload.addr.eq(rg_addr),
            self.o_mem_req.payload.count.eq(req_count),
        ]
        rg_free = (rg_words == 0) | (req_fire & (rg_words <= B))
        m.d.sync += outstanding.eq(outstanding + Mux(req_fire, req_count, 0) - word_pop)

        m.submodules.desc = desc = SyncFIFO(width=desc_layout.size, depth=C + 2)
        m.d.comb += l_fire.eq(l_valid & rg_free & desc.w_rdy)

        start = row_r_data.start
        length = Mux(l_oob, 0, row_r_data.length)
        first_word = start >> off_bits
        last_word = (start + length - 1)[:len(start) + 1] >> off_bits
        n_words = Mux(length == 0, 0, last_word - first_word + 1)
        new_desc = Signal(desc_layout)
        m.d.comb += [
            new_desc.offset.eq(start[:off_bits]),
            new_desc.length.eq(length),
            new_desc.slot.eq(l_step[:slot_bits]),
            desc.w_data.eq(new_desc),
            desc.w_en.eq(l_fire & (length != 0)),
        ]
        with m.If(req_fire):
            m.d.sync += [rg_words.eq(rg_words - req_count), rg_addr.eq(rg_addr + req_count)]
        with m.If(l_fire):
            m.d.sync += [rg_words.eq(n_words), rg_addr.eq(first_word)]

        # Response FIFO ---------------------------------------------------------------------
        m.submodules.resp = resp = SyncFIFO(width=MemoryWord.size, depth=C)
        m.d.comb += [
            resp.w_data.eq(self.i_mem_resp.payload),
            resp.w_en.eq(self.i_mem_resp.valid),
            self.i_mem_resp.ready.eq(resp.w_rdy),
        ]

        # Unpacker: up to L synapses of one word per cycle, in distinct banks --------------
        u_valid = Signal()
        u_idx = Signal(off_bits)
        u_left = Signal(ceil_log2(n_syn + 1))
        u_slot = Signal(slot_bits)
        word = MemoryWord(resp.r_data)
        can_emit = u_valid & resp.r_rdy

        def bank_of(target):
            return target[:bank_bits] if bank_bits else Const(0, 1)

        takes = []
        stop = Const(0, 1)
        for j in range(per_word):
            dist = Const(j, off_bits + 1) - u_idx
            cand = Signal(name=f"cand{j}")
            take = Signal(name=f"take{j}")
            m.d.comb += cand.eq(can_emit & (u_idx <= j) & (dist < L) & (dist < u_left))
            conflict = Const(0, 1)
            for i in range(j):
                conflict = conflict | (takes[i] & (bank_of(word[i].target)
                                                   == bank_of(word[j].target)))
            m.d.comb += take.eq(cand & ~stop & ~conflict)
            stop = stop | (cand & ~take)
            takes.append(take)
        n_take = Signal(range(L + 1))
        m.d.comb += n_take.eq(_popcount(takes))
        last_in_row = u_left == n_take
        last_in_word = ((u_idx + n_take) >= per_word) | last_in_row
        m.d.comb += [
            resp.r_en.eq(can_emit & last_in_word),
            word_pop.eq(can_emit & last_in_word),
        ]
        cur_desc = desc_layout(desc.r_data)
        take_desc = (~u_valid | (can_emit & last_in_row)) & desc.r_rdy
        m.d.comb += desc.r_en.eq(take_desc)

        with m.If(can_emit):
            m.d.sync += [u_idx.eq(u_idx + n_take), u_left.eq(u_left - n_take)]
            with m.If(last_in_row):
                m.d.sync += u_valid.eq(0)
        with m.If(take_desc):
            m.d.sync += [
                u_valid.eq(1),
                u_idx.eq(cur_desc.offset),
                u_left.eq(cur_desc.length),
                u_slot.eq(cur_desc.slot),
            ]

        # Stage e: the issued synapses, routed to their banks -----------------------------
        # What a bank needs of synapse j is computed once per synapse (range check, the
        # bank's row, the ring slot) and registered, with each bank's choice: the index of
        # the synapse it takes (the issue rule gives a bank at most one per cycle). After the
        # register, each bank's index selects through a tree of two-way multiplexers. The
        # bank sees the same values in the same cycle as with the choice made before the
        # register, but the tree's select comes straight from flip-flops (the 16 banks'
        # routing alone at node size: 2,448 LUTs, 3,933 with the select computed in front of
        # the tree, 6,912 as a one-hot AND-OR; docs/rtl_node.md, "Per block") and half the
        # bits are registered (8 synapses instead of 16 banks).
        row_bits = max(1, _addr_bits(self.bank_data[0].depth) - slot_bits)
        fields = []  # per synapse j, registered: (in_range, row, slot, weight)
        for j in range(per_word):
            syn = word[j]
            in_range = Signal(name=f"in_range{j}")
            row = Signal(row_bits, name=f"row{j}")
            slot = Signal(slot_bits, name=f"slot{j}")
            m.d.comb += [
                in_range.eq(syn.target < self._n_neurons),
                row.eq((syn.target >> bank_bits)[:row_bits]),
                slot.eq((u_slot + syn.delay)[:slot_bits]),
            ]
            field = Signal(1 + row_bits + slot_bits + 32, name=f"e_syn{j}")
            m.d.sync += field.eq(Cat(in_range, row, slot, syn.weight))
            fields.append(field)
        field_w = len(fields[0])
        e_valid = [Signal(name=f"e_valid{b}") for b in range(NB)]
        e_field = [Signal(field_w, name=f"e_field{b}") for b in range(NB)]
        for b in range(NB):
            hit = [Signal(name=f"hit{b}_{j}") for j in range(per_word)]
            for j in range(per_word):
                m.d.comb += hit[j].eq(takes[j] & (bank_of(word[j].target) == b))
            # The hit is one-hot (or none): its index, bit by bit; without a hit the field
            # is unused.
            sel = Signal(off_bits, name=f"e_sel{b}")
            m.d.sync += [
                e_valid[b].eq(Cat(*hit).any()),
                sel.eq(Cat(*[Cat(*[hit[j] for j in range(per_word) if j >> i & 1]).any()
                             for i in range(off_bits)])),
            ]
            level = fields
            for i in range(off_bits):
                level = [Mux(sel[i], level[k + 1], level[k]) for k in range(0, len(level), 2)]
            m.d.comb += e_field[b].eq(level[0])

        # Clear requests: lane k reads neuron ``neuron + k`` in bank ``(neuron + k) mod NB``.
        # Bank b holds the lane ``k = (b - rot) mod NB`` (rot = neuron mod NB) if k < U, and
        # that lane's row is ``neuron div NB``, plus one where it wrapped (b < rot).
        m.submodules.cleared = cleared = SyncFIFO(
            width=data.ArrayLayout(RingValues, U).size, depth=CLEAR_FIFO_DEPTH)
        clr = self.i_clear.payload
        lane_ok = [Signal(name=f"clr_ok{k}") for k in range(U)]
        for k in range(U):
            m.d.comb += lane_ok[k].eq((clr.neuron + k) < self._n_neurons)
        rot = clr.neuron[:bank_bits] if bank_bits else Const(0, 1)
        hi = clr.neuron >> bank_bits
        hi_next = Signal(len(hi) + 1)
        m.d.comb += hi_next.eq(hi + 1)
        bank_clr = []  # per bank: a lane of the request reads it
        bank_clr_addr = []
        for b in range(NB):
            hit = Signal(name=f"clr_hit{b}")
            addr = Signal(_addr_bits(self.bank_data[b].depth), name=f"clr_addr{b}")
            row = Mux(rot > b, hi_next, hi) if bank_bits else hi
            lane = (Const(b, bank_bits) - rot)[:bank_bits] if bank_bits else Const(0, 1)
            covered = (lane < U) if U < NB else Const(1, 1)
            neuron_b = Cat(Const(b, bank_bits), row) if bank_bits else row
            m.d.comb += [
                hit.eq(covered & (neuron_b < self._n_neurons)),
                addr.eq(Cat(clr.slot[:slot_bits], row)),
            ]
            bank_clr.append(hit)
            bank_clr_addr.append(addr)
        s1_clear_any = Signal()
        busy = Cat(*[e_valid[b] & bank_clr[b] for b in range(NB)]).any()
        clear_space = (cleared.level + s1_clear_any) < CLEAR_FIFO_DEPTH
        m.d.comb += self.i_clear.ready.eq(~busy & clear_space)
        take_clear = self.i_clear.valid & self.i_clear.ready
        s1_rot = Signal(max(1, bank_bits))
        s1_lane_ok = Signal(U)
        m.d.sync += s1_clear_any.eq(take_clear)
        with m.If(take_clear):
            m.d.sync += [s1_rot.eq(clr.neuron[:bank_bits] if bank_bits else 0),
                         s1_lane_ok.eq(Cat(*lane_ok))]

        # Ring banks: read-modify-write with forwarding (one ``RingBank`` each) ------------
        events = []
        drops = []
        olds = []
        s1_valid_any = []
        for b in range(NB):
            m.submodules[f"bank{b}"] = bank = RingBank(self.bank_data[b], slot_bits=slot_bits)
            f = e_field[b]
            m.d.comb += [
                bank.e_valid.eq(e_valid[b]), bank.e_in_range.eq(f[0]),
                bank.e_row.eq(f[1:1 + row_bits]),
                bank.e_slot.eq(f[1 + row_bits:1 + row_bits + slot_bits]),
                bank.e_weight.eq(f[1 + row_bits + slot_bits:]),
                bank.clear.eq(take_clear & bank_clr[b]),
                bank.clear_addr.eq(bank_clr_addr[b][:len(bank.clear_addr)]),
            ]
            events.append(bank.event)
            drops.append(bank.dropped)
            olds.append(bank.old)
            s1_valid_any.append(bank.s1_valid)

        # Cleared values back in lane order ---------------------------------------------------
        # Lane k reads bank (rot + k) mod NB: the banks' values rotated by rot in log2(NB)
        # stages of two-way multiplexers (a barrel rotator), of which lanes 0 .. U - 1 are
        # kept.
        out = Signal(data.ArrayLayout(RingValues, U))
        values = [Value.cast(v) for v in olds]
        for i in range(bank_bits):
            step = 1 << i
            values = [Mux(s1_rot[i], values[(x + step) % NB], values[x]) for x in range(NB)]
        for k in range(U):
            m.d.comb += out[k].eq(Mux(s1_lane_ok[k], values[k], 0))
        m.d.comb += [
            cleared.w_data.eq(out),
            cleared.w_en.eq(s1_clear_any),
            self.o_cleared.payload.eq(cleared.r_data),
            self.o_cleared.valid.eq(cleared.r_rdy),
            cleared.r_en.eq(self.o_cleared.ready),
        ]

        # Counters and idle -----------------------------------------------------------------
        m.d.sync += [
            self.o_events.eq(self.o_events + _popcount(events)),
            self.o_dropped.eq(self.o_dropped + _popcount(drops)),
        ]
        m.d.comb += self.o_idle.eq(
            ~l_valid & (rg_words == 0) & ~desc.r_rdy & ~u_valid & (outstanding == 0)
            & ~Cat(*e_valid).any() & ~Cat(*s1_valid_any).any()
        )
        return m
