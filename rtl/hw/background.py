"""Background input of the number contract: a xorshift64* generator and a Poisson sampler.

:class:`BackgroundUnit` performs docs/numerics.md, section 8, for one neuron per clock: the
neuron's 64-bit generator state is advanced once (``numerics.xorshift64star``), the 32-bit
uniform ``u`` is compared with the population's 32 inverse-CDF thresholds in parallel (33-bit
comparisons; the count is the number of thresholds ``<= u``, ``numerics.poisson_count``), and
``count * weight`` (exact) is added to this step's ring-buffer value of the channel of its
sign with int32 saturation, as the engine's ``background`` phase does. Neurons without
background input (``enable`` low) keep their state and their ring values.

The pipeline has :data:`LATENCY` stages: the xorshift step; the 16 x 16-bit partial products
of ``x * M``; the upper half of their sum, ``u``; the comparisons and their count; ``count *
weight``; its sum with the ring value (docs/rtl_node.md, "Splits"). It stalls as a whole on output
backpressure; a ``tag`` travels with each beat.
"""

from amaranth.hdl import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from neuroaix import numerics, timing
from neuroaix.rtl.hw.neuron_update import saturate32

__all__ = [
    "LATENCY",
    "XORSHIFT_MULTIPLIER",
    "BackgroundUnit",
    "PoissonTable",
    "background_in_layout",
    "background_out_layout",
]

#: Cycles from an accepted input beat to its output beat (without backpressure): the
#: stages of ``neuroaix.timing.BACKGROUND_STAGES``, which the node's cycle rule reads.
LATENCY = timing.BACKGROUND_STAGES
#: The xorshift64* output multiplier (Vigna 2016).
XORSHIFT_MULTIPLIER = 0x2545F4914F6CDD1D

#: A population's inverse-CDF thresholds ``T[0..31]``, 33 bits each (``2**32`` = never).
PoissonTable = data.ArrayLayout(unsigned(33), numerics.POISSON_TABLE_LEN)


def background_in_layout() -> data.StructLayout:
    """Return the layout of one input beat (without the tag).

    ``state`` (uint64 generator state), ``enable`` (the population has background input),
    ``table`` (:data:`PoissonTable`), ``weight`` (int32, I format), ``exc`` and ``inh`` (this
    step's ring-buffer values, int32).
    """
    return data.StructLayout({
        "state": unsigned(64), "enable": unsigned(1), "table": PoissonTable,
        "weight": signed(32), "exc": signed(32), "inh": signed(32),
    })


def background_out_layout() -> data.StructLayout:
    """Return the layout of one output beat (without the tag).

    ``state`` (the advanced generator, or the old one without ``enable``), ``u`` (the
    uniform drawn), ``count`` (Poisson count, 0 without ``enable``), ``in_ex`` and ``in_in``
    (ring value plus background, saturated) and ``saturated`` (a clamp happened).
    """
    return data.StructLayout({
        "state": unsigned(64), "u": unsigned(32), "count": unsigned(6),
        "in_ex": signed(32), "in_in": signed(32), "saturated": unsigned(1),
    })


class BackgroundUnit(wiring.Component):
    """Per-neuron xorshift64* step, inverse-CDF Poisson count and background input.

    Parameters
    ----------
    tag_shape : shape-castable
        Shape of the ``tag`` that travels with each beat. Default 1 (``unsigned(1)``).

    Members
    -------
    i_neurons : In(stream.Signature(...))
        Beats ``{background_in_layout(), tag}`` (fields at the top level).
    o_neurons : Out(stream.Signature(...))
        Beats ``{background_out_layout(), tag}``, :data:`LATENCY` cycles after their input
        when the output is ready; in input order.
    """

    def __init__(self, *, tag_shape=1):
        self._tag_shape = tag_shape
        fields_in = dict(background_in_layout().members)
        fields_out = dict(background_out_layout().members)
        fields_in["tag"] = fields_out["tag"] = tag_shape
        super().__init__({
            "i_neurons": In(stream.Signature(data.StructLayout(fields_in))),
            "o_neurons": Out(stream.Signature(data.StructLayout(fields_out))),
        })

    @property
    def tag_shape(self):
        """Shape of the tag carried with each beat."""
        return self._tag_shape

    def elaborate(self, platform):
        m = Module()
        i, o = self.i_neurons.payload, self.o_neurons.payload
        valid = [Signal(name=f"valid{k}") for k in range(1, LATENCY + 1)]
        advance = Signal()
        m.d.comb += [
            advance.eq(~valid[-1] | self.o_neurons.ready),
            self.i_neurons.ready.eq(advance),
            self.o_neurons.valid.eq(valid[-1]),
        ]
        with m.If(advance):
            m.d.sync += valid[0].eq(self.i_neurons.valid)
            m.d.sync += [valid[k].eq(valid[k - 1]) for k in range(1, LATENCY)]
        # What travels beside the stages: the whole input up to the comparisons, then all
        # but the table.
        late = {"state": unsigned(64), "x": unsigned(64), "enable": unsigned(1),
                "weight": signed(32), "exc": signed(32), "inh": signed(32),
                "tag": self._tag_shape}
        early = data.StructLayout({**late, "table": PoissonTable})
        late = data.StructLayout(late)

        def carry(dst, src, x=None):
            for name in dst.shape().members:
                value = x if name == "x" and x is not None else getattr(src, name)
                m.d.sync += getattr(dst, name).eq(value)

        # Stage 1: the xorshift64* state step (shifts and xors).
        x1, x2, x = Signal(64), Signal(64), Signal(64)
        m.d.comb += [
            x1.eq(i.state ^ (i.state >> 12)),
            x2.eq(x1 ^ (x1 << 25)[:64]),
            x.eq(x2 ^ (x2 >> 27)),
        ]
        s1 = Signal(early)
        with m.If(advance):
            carry(s1, i, x)
        # Stage 2: the 16 x 16-bit partial products x_a * M_b of x * M mod 2**64 (a + b < 4;
        # of those with a + b = 3 only the 16 bits below 2**64 count).
        s2 = Signal(early)
        pp = {}
        for a in range(4):
            for b in range(4 - a):
                width = 16 if a + b == 3 else 32
                pp[a, b] = Signal(width, name=f"pp{a}{b}")
                m_b = (XORSHIFT_MULTIPLIER >> (16 * b)) & 0xFFFF
                with m.If(advance):
                    m.d.sync += pp[a, b].eq((s1.x[16 * a:16 * a + 16] * m_b)[:width])
        with m.If(advance):
            carry(s2, s1)
        # Stage 3: the uniform, the upper half of the partial products' sum.
        u = Signal(32)
        m.d.comb += u.eq(sum(p << (16 * (a + b)) for (a, b), p in pp.items())[32:64])
        s3 = Signal(early)
        s3_u = Signal(32)
        with m.If(advance):
            carry(s3, s2)
            m.d.sync += s3_u.eq(u)
        # Stage 4: the 32 parallel comparisons and their count.
        count = Signal(6)
        m.d.comb += count.eq(sum(s3_u >= s3.table[k]
                                 for k in range(numerics.POISSON_TABLE_LEN)))
        s4 = Signal(late)
        s4_u, s4_count = Signal(32), Signal(6)
        with m.If(advance):
            carry(s4, s3)
            m.d.sync += [s4_u.eq(s3_u), s4_count.eq(count)]
        # Stage 5: count * weight.
        count_s = Signal(signed(7))
        m.d.comb += count_s.eq(s4_count)
        s5 = Signal(late)
        s5_u, s5_count = Signal(32), Signal(6)
        bg = Signal(signed(40))
        with m.If(advance):
            carry(s5, s4)
            m.d.sync += [s5_u.eq(s4_u), s5_count.eq(s4_count),
                         bg.eq(Mux(s4.enable, count_s * s4.weight, 0))]
        # Stage 6: into the channel of its sign, saturating.
        en = s5.enable
        ex_sum, ex_sat = saturate32(m, s5.exc + bg)
        in_sum, in_sat = saturate32(m, s5.inh + bg)
        to_ex = bg >= 0
        with m.If(advance):
            m.d.sync += [
                o.state.eq(Mux(en, s5.x, s5.state)),
                o.u.eq(Mux(en, s5_u, 0)),
                o.count.eq(Mux(en, s5_count, 0)),
                o.in_ex.eq(Mux(to_ex, ex_sum, s5.exc)),
                o.in_in.eq(Mux(to_ex, s5.inh, in_sum)),
                o.saturated.eq(Mux(to_ex, ex_sat, in_sat)),
                o.tag.eq(s5.tag),
            ]
        return m
