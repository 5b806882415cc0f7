"""The LIF neuron update of the number contract, pipelined at one neuron per clock per core.

:class:`NeuronUpdate` computes :func:`neuroaix.numerics.lif_update` bit by bit (docs/numerics.md,
section 5): the potential from one sum of four exact 64-bit products with one ``round_shift``
by 30 and an int32 saturation (held while refractory), the decayed currents plus this step's
input with int32 saturation, then threshold, reset and refractory count, in NEST's order.

Each of the ``cores`` lanes accepts one neuron per clock (II = 1). The pipeline has
:data:`LATENCY` stages (the products' 16 x 16-bit partial products; the products; the sums,
roundings and saturations; threshold and reset: docs/rtl_node.md, "Splits") and stalls as a
whole when its output is not taken (``lib.stream`` backpressure); a ``tag`` of any shape
travels with each beat, unchanged, so that the node can carry the neuron index and what it
needs for the write-back.
"""

from amaranth.hdl import Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from neuroaix import numerics, timing
from neuroaix.checks import check_int

__all__ = [
    "LATENCY",
    "Coefficients",
    "NeuronUpdate",
    "neuron_in_layout",
    "neuron_out_layout",
    "saturate32",
]

#: Cycles from an accepted input beat to its output beat (without backpressure): the
#: stages of ``neuroaix.timing.UPDATE_STAGES``, which the node's cycle rule reads.
LATENCY = timing.UPDATE_STAGES

_HALF = 1 << (numerics.COEF_FRAC_BITS - 1)


def _coefficient_layout() -> data.StructLayout:
    fields = {}
    for name in numerics.LIFCoefficients._fields:
        fields[name] = unsigned(16) if name == "ref_steps" else signed(32)
    return data.StructLayout(fields)


#: One population's quantised constants (``numerics.LIFCoefficients`` field order):
#: ``p22 .. i_e`` signed 32-bit (Q1.30, V or I format), ``ref_steps`` unsigned 16-bit.
Coefficients = _coefficient_layout()


def neuron_in_layout() -> data.StructLayout:
    """Return the layout of one lane's input: state, this step's input and coefficients.

    ``v`` (V format), ``i_ex``, ``i_in``, ``in_ex``, ``in_in`` (I format, int32), ``ref``
    (uint16) and ``coef`` (:data:`Coefficients`).
    """
    return data.StructLayout({
        "v": signed(32), "i_ex": signed(32), "i_in": signed(32), "ref": unsigned(16),
        "in_ex": signed(32), "in_in": signed(32), "coef": Coefficients,
    })


def neuron_out_layout() -> data.StructLayout:
    """Return the layout of one lane's output: the new state, ``spiked``, ``saturations``.

    ``saturations`` (0..3) counts the results clamped to int32 in the step, as
    ``numerics.lif_update`` does.
    """
    return data.StructLayout({
        "v": signed(32), "i_ex": signed(32), "i_in": signed(32), "ref": unsigned(16),
        "spiked": unsigned(1), "saturations": unsigned(2),
    })


def saturate32(m: Module, x) -> tuple:
    """Return ``(value, clamped)``: ``x`` clamped to int32 (``numerics.saturate``) and a flag.

    Parameters
    ----------
    m : Module
        Module that receives the combinational logic.
    x : Value
        A signed value of any width.
    """
    s = Signal(signed(max(33, len(x) + 1)))
    m.d.comb += s.eq(x)
    hi = Const(numerics.INT32_MAX, s.shape())
    lo = Const(numerics.INT32_MIN, s.shape())
    # In int32 exactly when bits 31 and up are all equal (no comparison's carry chain).
    top = s[31:]
    over, under = ~s[-1] & top.any(), s[-1] & ~top.all()
    return Mux(over, hi, Mux(under, lo, s))[:32].as_signed(), over | under


def _partial_products(m: Module, advance, a, b, name: str) -> tuple:
    """Register the four 16 x 16-bit partial products of the int32 product ``a * b``.

    Returns the registers ``(hh, hl, lh, ll)``: with ``a = ah 2**16 + al`` (``ah`` signed,
    ``al`` unsigned, 16 bits each) and ``b`` alike, ``a * b = hh 2**32 + (hl + lh) 2**16 +
    ll`` exactly.
    """
    ah, al = a[16:32].as_signed(), a[0:16]
    bh, bl = b[16:32].as_signed(), b[0:16]
    regs = (Signal(signed(32), name=f"{name}_hh"), Signal(signed(33), name=f"{name}_hl"),
            Signal(signed(33), name=f"{name}_lh"), Signal(unsigned(32), name=f"{name}_ll"))
    with m.If(advance):
        m.d.sync += [r.eq(v) for r, v in zip(regs, (ah * bh, ah * bl, al * bh, al * bl))]
    return regs


class NeuronUpdate(wiring.Component):
    """LIF update lanes (``numerics.lif_update``), one neuron per clock per lane.

    Parameters
    ----------
    cores : int
        Lanes working in parallel on one beat, in [1, 64].
    tag_shape : shape-castable
        Shape of the ``tag`` that travels with each beat (the node puts the neuron index and
        its generator state there). Default 1 (``unsigned(1)``).

    Members
    -------
    i_neurons : In(stream.Signature(...))
        Beats ``{lanes: [neuron_in_layout()] * cores, tag}``.
    o_neurons : Out(stream.Signature(...))
        Beats ``{lanes: [neuron_out_layout()] * cores, tag}``, :data:`LATENCY` cycles after
        their input when the output is ready; in input order.
    """

    def __init__(self, *, cores: int = 1, tag_shape=1):
        check_int("cores", cores, low=1, high=64, fix="use 1 to 64 lanes")
        self._cores = cores
        self._tag_shape = tag_shape
        in_layout = data.StructLayout({
            "lanes": data.ArrayLayout(neuron_in_layout(), cores), "tag": tag_shape})
        out_layout = data.StructLayout({
            "lanes": data.ArrayLayout(neuron_out_layout(), cores), "tag": tag_shape})
        super().__init__({
            "i_neurons": In(stream.Signature(in_layout)),
            "o_neurons": Out(stream.Signature(out_layout)),
        })

    @property
    def cores(self) -> int:
        """Lanes (neurons per clock)."""
        return self._cores

    @property
    def tag_shape(self):
        """Shape of the tag carried with each beat."""
        return self._tag_shape

    def elaborate(self, platform):
        m = Module()
        valid = [Signal(name=f"valid{k}") for k in range(1, LATENCY + 1)]
        advance = Signal()
        m.d.comb += [
            advance.eq(~valid[-1] | self.o_neurons.ready),
            self.i_neurons.ready.eq(advance),
            self.o_neurons.valid.eq(valid[-1]),
        ]
        tags = [Signal(self._tag_shape, name=f"tag{k}") for k in range(1, LATENCY + 1)]
        with m.If(advance):
            m.d.sync += [valid[0].eq(self.i_neurons.valid), tags[0].eq(self.i_neurons.payload.tag)]
            for k in range(1, LATENCY):
                m.d.sync += [valid[k].eq(valid[k - 1]), tags[k].eq(tags[k - 1])]
        m.d.comb += self.o_neurons.payload.tag.eq(tags[-1])
        for lane in range(self._cores):
            self._lane(m, advance, self.i_neurons.payload.lanes[lane],
                       self.o_neurons.payload.lanes[lane], lane)
        return m

    def _lane(self, m, advance, i, o, lane):
        c = i.coef
        carried = data.StructLayout({
            "v": signed(32), "ref": unsigned(16), "in_ex": signed(32), "in_in": signed(32),
            "theta": signed(32), "v_reset": signed(32), "ref_steps": unsigned(16)})
        # Stage 1: the 16 x 16-bit partial products of the six exact products.
        operands = {"p_v": (c.p22, i.v), "p_ex": (c.p21ex, i.i_ex), "p_in": (c.p21in, i.i_in),
                    "p_e": (c.p20, c.i_e), "d_ex": (c.p11ex, i.i_ex), "d_in": (c.p11in, i.i_in)}
        parts = {name: _partial_products(m, advance, a, b, f"l{lane}_{name}")
                 for name, (a, b) in operands.items()}
        s0 = Signal(carried, name=f"l{lane}_s0")
        with m.If(advance):
            m.d.sync += [
                s0.v.eq(i.v), s0.ref.eq(i.ref), s0.in_ex.eq(i.in_ex), s0.in_in.eq(i.in_in),
                s0.theta.eq(c.theta), s0.v_reset.eq(c.v_reset), s0.ref_steps.eq(c.ref_steps),
            ]
        # Stage 2: the six products from their partial products.
        prod = {name: Signal(signed(64), name=f"l{lane}_{name}") for name in operands}
        s1 = Signal(carried, name=f"l{lane}_s1")
        with m.If(advance):
            m.d.sync += s1.eq(s0)
            for name, (hh, hl, lh, ll) in parts.items():
                m.d.sync += prod[name].eq((hh << 32) + ((hl + lh) << 16) + ll)
        p_v, p_ex, p_in, p_e = prod["p_v"], prod["p_ex"], prod["p_in"], prod["p_e"]
        d_ex, d_in = prod["d_ex"], prod["d_in"]
        # Stage 3: one rounding of the four-product sum; decay plus input; saturations.
        shift = numerics.COEF_FRAC_BITS
        acc = Signal(signed(67), name=f"l{lane}_acc")
        m.d.comb += acc.eq(p_v + p_ex + p_in + p_e + _HALF)
        v_new, v_sat = saturate32(m, acc >> shift)
        ex_new, ex_sat = saturate32(m, ((d_ex + _HALF) >> shift) + s1.in_ex)
        in_new, in_sat = saturate32(m, ((d_in + _HALF) >> shift) + s1.in_in)
        integrating = s1.ref == 0
        s2 = Signal(data.StructLayout({
            "v": signed(32), "i_ex": signed(32), "i_in": signed(32), "ref": unsigned(16),
            "theta": signed(32), "v_reset": signed(32), "ref_steps": unsigned(16),
            "saturations": unsigned(2)}), name=f"l{lane}_s2")
        with m.If(advance):
            m.d.sync += [
                s2.v.eq(Mux(integrating, v_new, s1.v)),
                s2.ref.eq(Mux(integrating, 0, s1.ref - 1)),
                s2.i_ex.eq(ex_new), s2.i_in.eq(in_new),
                s2.theta.eq(s1.theta), s2.v_reset.eq(s1.v_reset),
                s2.ref_steps.eq(s1.ref_steps),
                s2.saturations.eq((integrating & v_sat) + ex_sat + in_sat),
            ]
        # Stage 4: threshold, reset, refractory count.
        spiked = s2.v >= s2.theta
        with m.If(advance):
            m.d.sync += [
                o.v.eq(Mux(spiked, s2.v_reset, s2.v)),
                o.ref.eq(Mux(spiked, s2.ref_steps, s2.ref)),
                o.i_ex.eq(s2.i_ex), o.i_in.eq(s2.i_in),
                o.spiked.eq(spiked), o.saturations.eq(s2.saturations),
            ]
