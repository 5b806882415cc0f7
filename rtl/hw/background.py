"""Background input of the number contract: a xorshift64* generator and a Poisson sampler.

:class:`BackgroundUnit` performs docs/numerics.md, section 8, for one neuron per clock: the
neuron's 64-bit generator state is advanced once (``numerics.xorshift64star``), the 32-bit
uniform ``u`` is compared with the population's 32 inverse-CDF thresholds in parallel (33-bit
comparisons; the count is the number of thresholds ``<= u``, ``numerics.poisson_count``), and
``count * weight`` (exact) is added to this step's ring-buffer value of the channel of its
sign with int32 saturation, as the engine's ``background`` phase does. Neurons without
background input (``enable`` low) keep their state and their ring values.

The pipeline has :data:`LATENCY` stages and stalls as a whole on output backpressure; a
``tag`` travels with each beat.
"""

from amaranth.hdl import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from neuroaix import numerics
from neuroaix.rtl.hw.neuron_update import saturate32

__all__ = [
    "LATENCY",
    "XORSHIFT_MULTIPLIER",
    "BackgroundUnit",
    "PoissonTable",
    "background_in_layout",
    "background_out_layout",
]

#: Cycles from an accepted input beat to its output beat (without backpressure).
LATENCY = 3
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
        v1, v2, v3 = Signal(), Signal(), Signal()
        advance = Signal()
        m.d.comb += [
            advance.eq(~v3 | self.o_neurons.ready),
            self.i_neurons.ready.eq(advance),
            self.o_neurons.valid.eq(v3),
        ]
        carry = data.StructLayout({
            "state": unsigned(64), "enable": unsigned(1), "table": PoissonTable,
            "weight": signed(32), "exc": signed(32), "inh": signed(32),
            "tag": self._tag_shape,
        })
        # Stage 1: the xorshift64* state step (shifts and xors).
        x = Signal(64)
        x1, x2 = Signal(64), Signal(64)
        m.d.comb += [
            x1.eq(i.state ^ (i.state >> 12)),
            x2.eq(x1 ^ (x1 << 25)[:64]),
            x.eq(x2 ^ (x2 >> 27)),
        ]
        s1 = Signal(carry)
        s1_x = Signal(64)
        with m.If(advance):
            m.d.sync += [v1.eq(self.i_neurons.valid), s1_x.eq(x)]
            for name in carry.members:
                m.d.sync += getattr(s1, name).eq(getattr(i, name))
        # Stage 2: the uniform (upper half of x * M mod 2**64) and the parallel comparison.
        u = Signal(32)
        m.d.comb += u.eq((s1_x * XORSHIFT_MULTIPLIER)[32:64])
        count = Signal(6)
        m.d.comb += count.eq(sum(u >= s1.table[k] for k in range(numerics.POISSON_TABLE_LEN)))
        s2 = Signal(carry)
        s2_x, s2_u, s2_count = Signal(64), Signal(32), Signal(6)
        with m.If(advance):
            m.d.sync += [v2.eq(v1), s2.eq(s1), s2_x.eq(s1_x), s2_u.eq(u), s2_count.eq(count)]
        # Stage 3: count * weight into the channel of its sign, saturating.
        en = s2.enable
        count_s = Signal(signed(7))
        bg = Signal(signed(40))
        m.d.comb += [count_s.eq(s2_count), bg.eq(Mux(en, count_s * s2.weight, 0))]
        ex_sum, ex_sat = saturate32(m, s2.exc + bg)
        in_sum, in_sat = saturate32(m, s2.inh + bg)
        to_ex = bg >= 0
        with m.If(advance):
            m.d.sync += [
                v3.eq(v2),
                o.state.eq(Mux(en, s2_x, s2.state)),
                o.u.eq(Mux(en, s2_u, 0)),
                o.count.eq(Mux(en, s2_count, 0)),
                o.in_ex.eq(Mux(to_ex, ex_sum, s2.exc)),
                o.in_in.eq(Mux(to_ex, s2.inh, in_sum)),
                o.saturated.eq(Mux(to_ex, ex_sat, in_sat)),
                o.tag.eq(s2.tag),
            ]
        return m
