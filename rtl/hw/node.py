"""A whole node: neuron update, background input, synapse pipeline and the step barrier.

:class:`Node` runs time steps of one partition (docs/rtl_node.md) in the schedule of
docs/architecture.md:

- ``update``: for local neurons ``n = 0 .. n_local - 1`` in order, slot ``t & (D-1)`` is
  read and cleared through the synapse pipeline's read-and-clear port, the neuron's state is
  read (read-ahead on one block RAM), its population's parameters are looked up, the
  :class:`~neuroaix.rtl.hw.background.BackgroundUnit` draws its background input and the
  :class:`~neuroaix.rtl.hw.neuron_update.NeuronUpdate` computes the step; the new state is
  written back. ``update_lanes`` (U) consecutive neurons ``n0 .. n0 + U - 1`` per clock
  (``n0`` a multiple of U): one read-and-clear request for all U, U state and population
  block RAMs (neuron ``n`` in RAM ``n mod U`` at entry ``n div U``), U copies of the
  population parameters, U background units and U update cores. A beat's spikes enter the
  spike FIFOs one per cycle in ascending global id: the first in the cycle the beat leaves
  the update, the others in the cycles after it, while the update waits.
- ``exchange``: a local spike (global id ``gid_base + n * gid_stride``) goes to ``o_spikes``
  (for the other nodes and the host) and to a local FIFO. Spikes of the other nodes for step
  ``t`` arrive on ``i_ext`` (in ascending global id for the ascending merge, in any order
  for the arrival merge), closed by a ``last`` marker.
- ``deliver``: the local and the external spikes are merged into the
  :class:`~neuroaix.rtl.hw.synapse_pipeline.SynapsePipeline` (``synapse_lanes`` ring-buffer
  updates per cycle into banked ring buffers), by the node's ``merge``: in ascending global
  id (``"ascending"``, the order of the engine's exchange), or in order of arrival
  (``"arrival"``: ``i_ext``'s head whenever one is there, else the local FIFO's head).
  Delivery overlaps the update: a spike of step ``t`` writes slots ``(t + d) & (D-1)`` with
  ``1 <= d < D``, never the slot being read.
- barrier: step ``t`` ends when every neuron is written back, every spike (local and
  external, marker included) has entered the pipeline and the pipeline is idle.

The node has no synapse memory of its own: its requests leave on ``o_mem_req`` and the words
come back on ``i_mem_resp``, as from a node's DDR controller; the testbenches attach the
memory (``neuroaix.rtl.harness.memory_model``, docs/rtl_node.md, "The memory side").
"""

from amaranth.hdl import Const, Module, Mux, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.memory import Memory, MemoryData
from amaranth.lib.wiring import In, Out, connect
from amaranth.utils import ceil_log2

from neuroaix import numerics
from neuroaix.checks import check_choice, check_int
from neuroaix.timing import MERGES
from neuroaix.rtl.hw.background import BackgroundUnit, PoissonTable
from neuroaix.rtl.hw.layouts import SpikeEvent
from neuroaix.rtl.hw.neuron_update import Coefficients, NeuronUpdate
from neuroaix.rtl.hw.interleave import Interleaved
from neuroaix.rtl.hw.synapse_pipeline import SYNAPSE_LANES, SynapsePipeline, _popcount

__all__ = [
    "Node",
    "NeuronState",
    "PopulationParams",
    "ExternalSpike",
    "neuron_write_layout",
    "population_write_layout",
    "MAX_POPULATIONS",
    "UPDATE_LANES",
    "COUNTERS",
]

#: Largest number of populations a node holds parameters for.
MAX_POPULATIONS = 256


#: The node's counters: port ``o_<name>`` for each name.
COUNTERS = ("events", "syn_saturations", "saturations", "poisson", "spike_count")
#: Largest number of neuron-update lanes.
UPDATE_LANES = 16

#: One neuron's state: V (V format), currents (I format) as int32 bit patterns, refractory
#: count, background generator state.
NeuronState = data.StructLayout({
    "v": unsigned(32), "i_ex": unsigned(32), "i_in": unsigned(32), "ref": unsigned(16),
    "rng": unsigned(64),
})
#: One population's parameters: LIF coefficients, Poisson table, background weight, enable.
PopulationParams = data.StructLayout({
    "coef": Coefficients, "table": PoissonTable, "weight": unsigned(32), "enable": unsigned(1),
})
#: A spike of another node: global ``source`` id; ``last`` closes the step (source ignored).
ExternalSpike = data.StructLayout({"source": unsigned(32), "last": unsigned(1)})


def _bits(n):
    return max(1, ceil_log2(n))


def neuron_write_layout(n_neurons: int, n_populations: int) -> data.StructLayout:
    """Return the layout of a host write of one neuron: ``index``, ``state``, ``pop``."""
    return data.StructLayout({
        "index": unsigned(_bits(n_neurons)), "state": NeuronState,
        "pop": unsigned(_bits(n_populations)),
    })


def population_write_layout(n_populations: int) -> data.StructLayout:
    """Return the layout of a host write of one population: ``index`` and ``params``."""
    return data.StructLayout({"index": unsigned(_bits(n_populations)),
                              "params": PopulationParams})


class Node(wiring.Component):
    """One node of the cluster, simulating its partition of a network step by step.

    Parameters
    ----------
    n_neurons : int
        Neuron capacity N (local indices ``0 .. N - 1``); ``i_n_local`` sets how many run.
    n_populations : int
        Populations with parameters, in [1, ``MAX_POPULATIONS``].
    ring_depth, n_sources, memory_words, max_burst, fifo_words
        As for :class:`~neuroaix.rtl.hw.synapse_pipeline.SynapsePipeline`.
    spike_fifo : int
        Depth of the local-spike FIFO and of the ``o_spikes`` FIFO (a full FIFO stalls the
        update).
    synapse_lanes : int
        Ring-buffer updates per cycle (L), one of 1, 2, 4, 8.
    update_lanes : int
        Neurons updated per cycle (U), in [1, :data:`UPDATE_LANES`].
    merge : str
        Order in which local and external spikes enter the pipeline, one of
        :data:`neuroaix.timing.MERGES`: ``"ascending"`` (global id; the local head goes when
        ``i_ext``'s head is larger or ``last``, the external head when the local head is
        larger or the update is done with the FIFO empty) or ``"arrival"`` (``i_ext``'s head
        whenever one is valid, else the local FIFO's head; ``last`` is taken whenever it is
        at ``i_ext``'s head). The raster, state, ring values and counters are the same in
        both (docs/rtl_node.md, "Order and saturation").

    Members
    -------
    i_rows : In(stream.Signature(row_write_layout(...)))
        The synapse pipeline's row-pointer writes (always ready).
    o_mem_req : Out(stream.Signature(mem_request_layout(...)))
        Memory read requests ``(addr, count)``: ``count`` 64-byte words from word ``addr``.
    i_mem_resp : In(stream.Signature(MemoryWord))
        The requested words, in request order, one per cycle at most.
    i_neuron : In(stream.Signature(neuron_write_layout(...)))
        Host writes of neuron state and population index; ready while not running.
    i_population : In(stream.Signature(population_write_layout(...)))
        Host writes of population parameters; ready while not running.
    i_n_local : In(range(N + 1))
        Neurons of this node; held while running.
    i_gid_base, i_gid_stride : In(32)
        Global id of local neuron ``n``: ``i_gid_base + n * i_gid_stride`` (the partition
        ``p`` and the partition count ``P`` of the round-robin mapping).
    i_external : In(1)
        Other nodes' spikes arrive on ``i_ext`` (each step closed by a ``last`` marker);
        low for a single-node network (its spikes loop back only).
    i_run : In(stream.Signature(unsigned(32)))
        Run this many steps from the current step; ready while not busy.
    i_clear_rings : In(stream.Signature(unsigned(1)))
        Zero every ring-buffer entry (N x D read-and-clear requests, one per cycle); ready
        while not busy. Block RAM keeps its contents over a reset: clear before a new run.
    i_ext : In(stream.Signature(ExternalSpike))
        Other nodes' spikes of the current step (ascending global id for the ascending
        merge, any order for the arrival merge), then ``last``.
    o_spikes : Out(stream.Signature(SpikeEvent))
        This node's spikes ``(gid, step)``, ascending gid within a step.
    o_step : Out(32)
        The current step t (steps completed since reset).
    o_running : Out(1)
        High while steps remain.
    o_busy : Out(1)
        High while running or clearing the ring buffers.
    o_events : Out(32)
        The pipeline's synaptic events.
    o_syn_saturations : Out(32)
        Ring-buffer channels read at their int32 bound by the update (excitatory at
        ``INT32_MAX``, inhibitory at ``INT32_MIN``; docs/numerics.md, section 4).
    o_saturations : Out(32)
        Clamps of the background input and the neuron update.
    o_poisson : Out(32)
        Sum of the Poisson counts drawn.
    o_spike_count : Out(32)
        Local spikes.
    """

    def __init__(self, *, n_neurons: int, n_populations: int, ring_depth: int,
                 n_sources: int, memory_words: int, max_burst: int = 8, fifo_words: int = 64,
                 spike_fifo: int = 16, synapse_lanes: int = 1, update_lanes: int = 1,
                 merge: str = "ascending"):
        check_choice("merge", merge, MERGES)
        check_int("n_populations", n_populations, low=1, high=MAX_POPULATIONS)
        check_int("spike_fifo", spike_fifo, low=2, high=1 << 16)
        check_int("update_lanes", update_lanes, low=1, high=UPDATE_LANES)
        if synapse_lanes not in SYNAPSE_LANES:
            raise ValueError(f"synapse_lanes must be one of {SYNAPSE_LANES}, not "
                             f"{synapse_lanes!r}")
        self.pipeline = SynapsePipeline(
            n_neurons=n_neurons, ring_depth=ring_depth, n_sources=n_sources,
            memory_words=memory_words, max_burst=max_burst, fifo_words=fifo_words,
            lanes=synapse_lanes, clear_lanes=update_lanes)
        U = update_lanes
        self._n_neurons = n_neurons
        self._n_populations = n_populations
        self._ring_depth = ring_depth
        self._spike_fifo = spike_fifo
        self._lanes = U
        self._merge = merge
        rows = -(-n_neurons // U)
        #: Neuron state of lane ``k``: neuron ``n = j * U + k`` at entry ``j``.
        self.lane_state_data = [MemoryData(shape=NeuronState, depth=rows, init=[])
                                for _ in range(U)]
        #: Neuron state, entry ``n`` (simulations may read it).
        self.state_data = Interleaved(self.lane_state_data)
        #: Population index of each neuron, per lane as ``state_data``.
        self.pop_data = [MemoryData(shape=_bits(n_populations), depth=rows, init=[])
                         for _ in range(U)]
        #: Population parameters, one copy per lane.
        self.param_data = [MemoryData(shape=PopulationParams, depth=n_populations, init=[])
                           for _ in range(U)]
        members = {
            name: self.pipeline.signature.members[name]
            for name in ("i_rows", "o_mem_req", "i_mem_resp")
        }
        members.update({
            "i_neuron": In(stream.Signature(neuron_write_layout(n_neurons, n_populations))),
            "i_population": In(stream.Signature(population_write_layout(n_populations))),
            "i_n_local": In(range(n_neurons + 1)),
            "i_gid_base": In(32),
            "i_gid_stride": In(32),
            "i_external": In(1),
            "i_run": In(stream.Signature(unsigned(32))),
            "i_clear_rings": In(stream.Signature(unsigned(1))),
            "i_ext": In(stream.Signature(ExternalSpike)),
            "o_spikes": Out(stream.Signature(SpikeEvent)),
            "o_step": Out(32),
            "o_running": Out(1),
            "o_busy": Out(1),
            "o_events": Out(32),
            "o_syn_saturations": Out(32),
            "o_saturations": Out(32),
            "o_poisson": Out(32),
            "o_spike_count": Out(32),
        })
        super().__init__(members)

    @property
    def n_neurons(self) -> int:
        """Neuron capacity N."""
        return self._n_neurons

    @property
    def n_populations(self) -> int:
        """Populations with parameters."""
        return self._n_populations

    @property
    def ring_depth(self) -> int:
        """Ring-buffer slots D."""
        return self._ring_depth

    @property
    def synapse_lanes(self) -> int:
        """Synapse lanes L."""
        return self.pipeline.lanes

    @property
    def update_lanes(self) -> int:
        """Neuron-update lanes U."""
        return self._lanes

    @property
    def merge(self) -> str:
        """The merge of local and external spikes (:data:`neuroaix.timing.MERGES`)."""
        return self._merge

    def state_entry(self, neuron: int) -> tuple:
        """Return ``(lane, entry)`` of a neuron's state and population index."""
        return neuron % self._lanes, neuron // self._lanes

    def elaborate(self, platform):
        m = Module()
        N = self._n_neurons
        U = self._lanes
        rows = -(-N // U)
        D = self._ring_depth
        slot_bits = ceil_log2(D)
        m.submodules.pipeline = pipe = self.pipeline
        connect(m, wiring.flipped(self.i_rows), pipe.i_rows)
        connect(m, pipe.o_mem_req, wiring.flipped(self.o_mem_req))
        connect(m, wiring.flipped(self.i_mem_resp), pipe.i_mem_resp)
        m.d.comb += self.o_events.eq(pipe.o_events)

        st_r, st_w, pop_r, pop_w, par_r, par_w = [], [], [], [], [], []
        for k in range(U):
            m.submodules[f"state{k}"] = state_mem = Memory(data=self.lane_state_data[k])
            m.submodules[f"pops{k}"] = pop_mem = Memory(data=self.pop_data[k])
            m.submodules[f"params{k}"] = param_mem = Memory(data=self.param_data[k])
            st_r.append(state_mem.read_port())
            st_w.append(state_mem.write_port())
            pop_r.append(pop_mem.read_port())
            pop_w.append(pop_mem.write_port())
            par_r.append(param_mem.read_port())
            par_w.append(param_mem.write_port())

        # Run control -------------------------------------------------------------------------
        running = Signal()
        t = self.o_step
        steps_left = Signal(32)
        n_req = Signal(range(N + U + 1))
        j_cons = Signal(range(rows + 1))
        n_done = Signal(range(N + U + 1))
        gid_cons = Signal(32)
        ext_done = Signal()
        n_local = self.i_n_local
        clearing = Signal()
        busy = running | clearing
        m.d.comb += [
            self.o_running.eq(running),
            self.o_busy.eq(busy),
            self.i_run.ready.eq(~busy),
            self.i_clear_rings.ready.eq(~busy),
            self.i_neuron.ready.eq(~busy),
            self.i_population.ready.eq(~busy),
        ]

        def start_step():
            return [n_req.eq(0), j_cons.eq(0), n_done.eq(0), gid_cons.eq(self.i_gid_base),
                    ext_done.eq(~self.i_external)]

        with m.If(self.i_run.valid & self.i_run.ready & (self.i_run.payload != 0)):
            m.d.sync += [running.eq(1), steps_left.eq(self.i_run.payload), *start_step()]

        # Host writes: neuron n to lane n mod U, entry n div U ----------------------------
        host = self.i_neuron.payload
        host_w = self.i_neuron.valid & self.i_neuron.ready
        host_lane = host.index % U if U > 1 else 0
        host_row = host.index // U if U > 1 else host.index
        for k in range(U):
            m.d.comb += [
                pop_w[k].en.eq(host_w & (host_lane == k)),
                pop_w[k].addr.eq(host_row),
                pop_w[k].data.eq(host.pop),
                par_w[k].en.eq(self.i_population.valid & self.i_population.ready),
                par_w[k].addr.eq(self.i_population.payload.index),
                par_w[k].data.eq(self.i_population.payload.params),
            ]

        # Ring clearing: every beat of every slot through the read-and-clear port --------
        beats = rows * D
        clr_req = Signal(range(beats + 1))
        clr_got = Signal(range(beats + 1))
        with m.If(self.i_clear_rings.valid & self.i_clear_rings.ready):
            m.d.sync += [clearing.eq(1), clr_req.eq(0), clr_got.eq(0)]
        with m.If(clearing):
            m.d.comb += [
                pipe.i_clear.valid.eq(clr_req < beats),
                pipe.i_clear.payload.slot.eq(clr_req[:slot_bits]),
                pipe.i_clear.payload.neuron.eq((clr_req >> slot_bits) * U),
                pipe.o_cleared.ready.eq(1),
            ]
            with m.If(pipe.i_clear.valid & pipe.i_clear.ready):
                m.d.sync += clr_req.eq(clr_req + 1)
            with m.If(pipe.o_cleared.valid):
                m.d.sync += clr_got.eq(clr_got + 1)
                with m.If(clr_got == beats - 1):
                    m.d.sync += clearing.eq(0)

        # Update, stage 0: read-and-clear requests, one beat of U neurons per clock -------
        with m.If(running):
            m.d.comb += [
                pipe.i_clear.valid.eq(n_req < n_local),
                pipe.i_clear.payload.slot.eq(t[:slot_bits]),
                pipe.i_clear.payload.neuron.eq(n_req),
            ]
        with m.If(running & pipe.i_clear.valid & pipe.i_clear.ready):
            m.d.sync += n_req.eq(n_req + U)

        # Stage H: the cleared ring values meet the neurons' states (read ahead) ----------
        lane_tag = data.StructLayout({
            "j": unsigned(_bits(rows)), "gid": unsigned(32), "mask": unsigned(U),
            "v": unsigned(32), "i_ex": unsigned(32), "i_in": unsigned(32), "ref": unsigned(16),
            "coef": Coefficients,
        })
        bgs = []
        for k in range(U):
            m.submodules[f"background{k}"] = bg = BackgroundUnit(tag_shape=lane_tag)
            bgs.append(bg)
        h_valid = Signal()
        h_ring = Signal.like(pipe.o_cleared.payload)
        h_state = [Signal(NeuronState, name=f"h_state{k}") for k in range(U)]
        h_j = Signal(_bits(rows))
        h_gid = Signal(32)
        h_mask = Signal(U)
        h_ready = ~h_valid | bgs[0].i_neurons.ready
        cons = Signal()
        with m.If(running):
            m.d.comb += pipe.o_cleared.ready.eq(h_ready)
        m.d.comb += cons.eq(running & pipe.o_cleared.valid & pipe.o_cleared.ready)
        for k in range(U):
            m.d.comb += [
                st_r[k].addr.eq(Mux(cons, j_cons + 1, j_cons)),
                pop_r[k].addr.eq(Mux(cons, j_cons + 1, j_cons)),
                par_r[k].addr.eq(pop_r[k].data),
                par_r[k].en.eq(h_ready),
            ]
        with m.If(h_ready):
            m.d.sync += h_valid.eq(cons)
        n_first = Signal(range(N + U + 1))
        m.d.comb += n_first.eq(j_cons * U)
        mask = Signal(U)
        for k in range(U):
            m.d.comb += mask[k].eq(n_first + k < n_local)
        with m.If(cons):
            m.d.sync += [
                h_ring.eq(pipe.o_cleared.payload), h_j.eq(j_cons), h_gid.eq(gid_cons),
                h_mask.eq(mask), j_cons.eq(j_cons + 1),
                gid_cons.eq(gid_cons + self.i_gid_stride * U),
            ]
            for k in range(U):
                m.d.sync += h_state[k].eq(st_r[k].data)
        for k in range(U):
            params = par_r[k].data
            bi = bgs[k].i_neurons.payload
            m.d.comb += [
                bgs[k].i_neurons.valid.eq(h_valid),
                bi.state.eq(h_state[k].rng), bi.enable.eq(params.enable),
                bi.table.eq(params.table), bi.weight.eq(params.weight),
                bi.exc.eq(h_ring[k].exc), bi.inh.eq(h_ring[k].inh),
                bi.tag.j.eq(h_j), bi.tag.gid.eq(h_gid), bi.tag.mask.eq(h_mask),
                bi.tag.v.eq(h_state[k].v), bi.tag.i_ex.eq(h_state[k].i_ex),
                bi.tag.i_in.eq(h_state[k].i_in), bi.tag.ref.eq(h_state[k].ref),
                bi.tag.coef.eq(params.coef),
            ]
        # The ring buffers' saturation count (docs/numerics.md, section 4): each channel of
        # the beat's neurons read at its int32 bound, up to 2U flags a beat, counted as the
        # beat enters the background units (so the order of delivery never matters).
        ring_flags = []
        for k in range(U):
            ring_flags += [h_mask[k] & (h_ring[k].exc == numerics.INT32_MAX),
                           h_mask[k] & (h_ring[k].inh == numerics.INT32_MIN)]
        with m.If(h_valid & bgs[0].i_neurons.ready):
            m.d.sync += self.o_syn_saturations.eq(self.o_syn_saturations
                                                  + _popcount(ring_flags))

        # Background -> neuron update -------------------------------------------------------
        nu_tag = data.StructLayout({
            "j": unsigned(_bits(rows)), "gid": unsigned(32), "mask": unsigned(U),
            "rng": data.ArrayLayout(unsigned(64), U), "saturated": unsigned(U),
            "count": data.ArrayLayout(unsigned(6), U),
        })
        m.submodules.update = nu = NeuronUpdate(cores=U, tag_shape=nu_tag)
        b0 = bgs[0].o_neurons.payload
        m.d.comb += [
            nu.i_neurons.valid.eq(bgs[0].o_neurons.valid),
            nu.i_neurons.payload.tag.j.eq(b0.tag.j),
            nu.i_neurons.payload.tag.gid.eq(b0.tag.gid),
            nu.i_neurons.payload.tag.mask.eq(b0.tag.mask),
        ]
        for k in range(U):
            bo = bgs[k].o_neurons.payload
            lane = nu.i_neurons.payload.lanes[k]
            m.d.comb += [
                bgs[k].o_neurons.ready.eq(nu.i_neurons.ready),
                lane.v.eq(bo.tag.v), lane.i_ex.eq(bo.tag.i_ex), lane.i_in.eq(bo.tag.i_in),
                lane.ref.eq(bo.tag.ref), lane.in_ex.eq(bo.in_ex), lane.in_in.eq(bo.in_in),
                lane.coef.eq(bo.tag.coef),
                nu.i_neurons.payload.tag.rng[k].eq(bo.state),
                nu.i_neurons.payload.tag.saturated[k].eq(bo.saturated),
                nu.i_neurons.payload.tag.count[k].eq(bo.count),
            ]

        # Write-back and spikes out, one spike per cycle in lane order ---------------------
        m.submodules.local = local = SyncFIFO(width=32, depth=self._spike_fifo)
        m.submodules.out = out = SyncFIFO(width=SpikeEvent.as_shape().size,
                                          depth=self._spike_fifo)
        tag = nu.o_neurons.payload.tag
        res = nu.o_neurons.payload.lanes
        wb = Signal()
        pending = Signal(U)  # spikes of the last beat not yet in the FIFOs
        pend_gid = Signal(32)
        spiked = Signal(U)
        for k in range(U):
            m.d.comb += spiked[k].eq(res[k].spiked & tag.mask[k])
        serial = Signal(U)
        serial_gid = Signal(32)
        m.d.comb += [
            nu.o_neurons.ready.eq((pending == 0) & local.w_rdy & out.w_rdy),
            wb.eq(nu.o_neurons.valid & nu.o_neurons.ready),
            serial.eq(Mux(pending != 0, pending, Mux(wb, spiked, 0))),
            serial_gid.eq(Mux(pending != 0, pend_gid, tag.gid)),
        ]
        first = Signal(range(U))
        for k in reversed(range(U)):
            with m.If(serial[k]):
                m.d.comb += first.eq(k)
        gid = Signal(32)
        for k in range(U):
            with m.If(first == k):
                m.d.comb += gid.eq(serial_gid + self.i_gid_stride * k)
        put = Signal()
        m.d.comb += [
            put.eq((serial != 0) & local.w_rdy & out.w_rdy),
            local.w_en.eq(put),
            local.w_data.eq(gid),
            out.w_en.eq(put),
            out.w_data.eq(gid | (t.as_unsigned() << 32)),
            self.o_spikes.valid.eq(out.r_rdy),
            self.o_spikes.payload.eq(out.r_data),
            out.r_en.eq(self.o_spikes.ready),
        ]
        with m.If(put):
            m.d.sync += pending.eq(serial & ~(Const(1, U) << first)[:U])
        with m.If(wb):
            m.d.sync += pend_gid.eq(tag.gid)
        for k in range(U):
            with m.If(host_w & (host_lane == k)):
                m.d.comb += [st_w[k].en.eq(1), st_w[k].addr.eq(host_row),
                             st_w[k].data.eq(host.state)]
            with m.Elif(~host_w):
                m.d.comb += [
                    st_w[k].en.eq(wb & tag.mask[k]), st_w[k].addr.eq(tag.j),
                    st_w[k].data.v.eq(res[k].v), st_w[k].data.i_ex.eq(res[k].i_ex),
                    st_w[k].data.i_in.eq(res[k].i_in), st_w[k].data.ref.eq(res[k].ref),
                    st_w[k].data.rng.eq(tag.rng[k]),
                ]
        lane_sats = [Mux(tag.mask[k], res[k].saturations + tag.saturated[k], 0) for k in range(U)]
        lane_counts = [Mux(tag.mask[k], tag.count[k], 0) for k in range(U)]
        with m.If(wb):
            m.d.sync += [
                n_done.eq(n_done + _popcount(tag.mask)),
                self.o_saturations.eq(self.o_saturations + sum(lane_sats)),
                self.o_poisson.eq(self.o_poisson + sum(lane_counts)),
                self.o_spike_count.eq(self.o_spike_count + _popcount(spiked)),
            ]

        # Merge of local and external spikes -> delivery -----------------------------------
        update_done = (n_done == n_local) & (pending == 0)
        lv, lg = local.r_rdy, local.r_data
        ev = running & self.i_ext.valid & ~ext_done
        em, eg = self.i_ext.payload.last, self.i_ext.payload.source
        if self._merge == "arrival":
            take_ext = ev & ~em
            take_local = lv & ~take_ext
        else:
            take_local = lv & (ext_done | (ev & (em | (lg < eg))))
            take_ext = ev & ~em & ((update_done & ~lv) | (lv & (eg < lg)))
        sp = pipe.i_spikes
        m.d.comb += [
            sp.valid.eq(running & (take_local | take_ext)),
            sp.payload.source.eq(Mux(take_local, lg, eg)),
            sp.payload.step.eq(t),
            local.r_en.eq(running & take_local & sp.ready),
            self.i_ext.ready.eq(ev & (em | (take_ext & sp.ready))),
        ]
        with m.If(ev & em):
            m.d.sync += ext_done.eq(1)

        # Step barrier ----------------------------------------------------------------------
        barrier = running & update_done & ~lv & ext_done & pipe.o_idle
        with m.If(barrier):
            m.d.sync += [t.eq(t + 1), steps_left.eq(steps_left - 1), *start_step()]
            with m.If(steps_left == 1):
                m.d.sync += running.eq(0)
        return m
