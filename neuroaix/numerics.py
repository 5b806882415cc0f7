"""The number contract in executable form (docs/numerics.md, section by section).

Everything here works on plain Python integers, one value at a time, so that it can be read
against the document line by line. The Numba engine, the RTL testbenches and the emulator
import these definitions (constants, coefficient quantisation, Poisson tables) and are tested
for equality against the functions below; none of them carries its own copy of the formats.

Formats (see docs/numerics.md, "Formats"):

======================  =========  ===================  ==============================
quantity                width      LSB                  range
======================  =========  ===================  ==============================
membrane potential V    int32      2**-16 mV (15.3 nV)  +-32.768 V, relative to E_L
synaptic current I      int32      2**-12 pA (0.24 fA)  +-524.288 nA
ring-buffer channel     int32      2**-12 pA            +-524.288 nA
propagator coefficient  int32      2**-30 (Q1.30)       (-1, 1)
refractory counter      uint16     1 step               0 .. 65535 steps
PRNG state              uint64     -                    nonzero
======================  =========  ===================  ==============================
"""

from __future__ import annotations

import math
from typing import NamedTuple

__all__ = [
    "V_FRAC_BITS",
    "I_FRAC_BITS",
    "COEF_FRAC_BITS",
    "INT32_MIN",
    "INT32_MAX",
    "REF_MAX",
    "POISSON_TABLE_LEN",
    "STREAM_BACKGROUND",
    "STREAM_CONNECT",
    "STREAM_INIT",
    "MASK64",
    "round_shift",
    "saturate",
    "to_fixed",
    "mv_to_fixed",
    "pa_to_fixed",
    "fixed_to_mv",
    "fixed_to_pa",
    "coef_to_fixed",
    "splitmix64",
    "stream_key",
    "stream_draw",
    "background_seed",
    "xorshift64star",
    "poisson_table",
    "poisson_count",
    "LIFCoefficients",
    "LIFState",
    "lif_update",
    "delta_update",
    "AlphaCoefficients",
    "AlphaState",
    "alpha_update",
    "ms_to_steps",
    "step_current",
    "accumulate",
    "ring_saturations",
]

# Formats -------------------------------------------------------------------------------------

#: Fractional bits of the membrane potential (mV): LSB = 2**-16 mV.
V_FRAC_BITS = 16
#: Fractional bits of synaptic currents, weights and ring-buffer channels (pA): LSB = 2**-12 pA.
I_FRAC_BITS = 12
#: Fractional bits of the propagator coefficients (Q1.30 in a signed 32-bit word).
COEF_FRAC_BITS = 30
INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1
#: Largest refractory count (uint16 counter).
REF_MAX = (1 << 16) - 1
#: Entries of a Poisson inverse-CDF table; bounds lambda per step to about 7.5.
POISSON_TABLE_LEN = 32
MASK64 = (1 << 64) - 1

#: Stream tags: the first word after the seed of every random stream (docs/numerics.md, PRNG).
STREAM_BACKGROUND = 0
STREAM_CONNECT = 1
STREAM_INIT = 2

# Rounding and saturation ---------------------------------------------------------------------


def round_shift(x: int, shift: int) -> int:
    """Divide by ``2**shift``, rounding to nearest with ties towards +infinity.

    This is ``(x + 2**(shift - 1)) >> shift`` with an arithmetic shift, the single rounding
    operation of the contract.
    """
    if shift <= 0:
        return x << (-shift)
    return (x + (1 << (shift - 1))) >> shift


def saturate(x: int) -> tuple[int, bool]:
    """Clamp ``x`` to int32 and say whether it was clamped.

    Returns
    -------
    (value, saturated)
        The clamped value and True where ``x`` lay outside ``[INT32_MIN, INT32_MAX]``.
    """
    if x > INT32_MAX:
        return INT32_MAX, True
    if x < INT32_MIN:
        return INT32_MIN, True
    return x, False


def to_fixed(value: float, frac_bits: int) -> int:
    """Round a float64 to an integer with ``frac_bits`` fractional bits: floor(x*2**F + 1/2).

    Multiplying by a power of two is exact in float64, so the only rounding is the floor.
    """
    if not math.isfinite(value):
        raise ValueError(f"cannot convert {value!r} to fixed point; use a finite value")
    return math.floor(value * (1 << frac_bits) + 0.5)


def mv_to_fixed(mv: float) -> int:
    """Convert a potential in mV to the V format (saturation is the caller's check)."""
    return to_fixed(mv, V_FRAC_BITS)


def pa_to_fixed(pa: float) -> int:
    """Convert a current or weight in pA to the I format."""
    return to_fixed(pa, I_FRAC_BITS)


def fixed_to_mv(v: int) -> float:
    """Convert the V format to mV (exact in float64)."""
    return v / (1 << V_FRAC_BITS)


def fixed_to_pa(i: int) -> float:
    """Convert the I format to pA (exact in float64)."""
    return i / (1 << I_FRAC_BITS)


def coef_to_fixed(value: float) -> int:
    """Round a propagator to Q1.30; it must lie strictly inside (-1, 1) after rounding."""
    q = to_fixed(value, COEF_FRAC_BITS)
    if not -(1 << COEF_FRAC_BITS) < q < (1 << COEF_FRAC_BITS):
        raise ValueError(f"propagator {value!r} does not fit the Q1.30 coefficient format")
    return q


# Random streams ------------------------------------------------------------------------------

_GOLDEN = 0x9E3779B97F4A7C15


def splitmix64(z: int) -> int:
    """Return the SplitMix64 output for counter ``z`` (Steele et al. 2014): add, then mix."""
    z = (z + _GOLDEN) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def stream_key(seed: int, *words: int) -> int:
    """Return the 64-bit key of the stream named by ``(seed, *words)``.

    ``key = splitmix64(seed)``, then for each word ``key = splitmix64(key ^ word)``.
    """
    key = splitmix64(seed & MASK64)
    for w in words:
        key = splitmix64(key ^ (w & MASK64))
    return key


def stream_draw(key: int, index: int) -> int:
    """Return draw number ``index`` (0-based) of a counter-based stream: splitmix64(key + index).

    Counter-based: any draw can be computed without the ones before it, which is what makes
    network construction independent of threads and partitions.
    """
    return splitmix64((key + index) & MASK64)


def background_seed(seed: int, gid: int) -> int:
    """Return the initial xorshift64* state of neuron ``gid``'s background generator.

    ``stream_key(seed, STREAM_BACKGROUND, gid)``; the forbidden state 0 becomes the golden
    ratio constant ``0x9E3779B97F4A7C15``.
    """
    s = stream_key(seed, STREAM_BACKGROUND, gid)
    return s if s != 0 else _GOLDEN


def xorshift64star(state: int) -> tuple[int, int]:
    """Advance a xorshift64* generator (Vigna 2016) by one step.

    Returns
    -------
    (state, u)
        The new state and the 32-bit uniform ``u``: the upper half of ``state * M`` with
        ``M = 0x2545F4914F6CDD1D``, modulo 2**64.
    """
    x = state
    x ^= x >> 12
    x ^= (x << 25) & MASK64
    x ^= x >> 27
    u = ((x * 0x2545F4914F6CDD1D) & MASK64) >> 32
    return x, u


def poisson_table(lam: float) -> tuple[int, ...]:
    """Return the inverse-CDF thresholds of a Poisson distribution with mean ``lam``.

    ``T[k] = min(floor(CDF(k) * 2**32 + 1/2), 2**32)`` for ``k = 0 .. POISSON_TABLE_LEN - 1``,
    with the CDF summed in float64 from ``p0 = exp(-lam)``, ``p_k = p_(k-1) * lam / k``.
    ``lam = 0`` gives all thresholds ``2**32`` (the count is always 0).

    Raises
    ------
    ValueError
        If ``lam`` is negative or not finite, or so large that the table does not reach 1.
    """
    if not (math.isfinite(lam) and lam >= 0.0):
        raise ValueError(f"Poisson mean per step must be finite and >= 0, not {lam!r}")
    one = 1 << 32
    table = []
    p = math.exp(-lam)
    cdf = 0.0
    for k in range(POISSON_TABLE_LEN):
        if k > 0:
            p = p * lam / k
        cdf += p
        table.append(min(math.floor(cdf * one + 0.5), one))
    if table[-1] != one:
        raise ValueError(
            f"Poisson mean per step {lam!r} is too large for the {POISSON_TABLE_LEN}-entry "
            "sampler table (at most about 7.5 per step); use a smaller rate or a smaller dt"
        )
    return tuple(table)


def poisson_count(u: int, table: tuple[int, ...]) -> int:
    """Return the Poisson count for uniform ``u``: the number of thresholds ``T[k] <= u``."""
    return sum(1 for t in table if u >= t)


# LIF neuron ----------------------------------------------------------------------------------


class LIFCoefficients(NamedTuple):
    """Quantised constants of one LIF population (built by ``neuroaix.neuron.LIF.quantise``).

    Propagators are Q1.30; ``p21ex``, ``p21in`` and ``p20`` already include the factor
    ``2**(V_FRAC_BITS - I_FRAC_BITS)`` that turns the I format into the V format.
    """

    p22: int  #: exp(-h/tau_m)
    p11ex: int  #: exp(-h/tau_syn_ex)
    p11in: int  #: exp(-h/tau_syn_in)
    p21ex: int  #: current-to-potential propagator, excitatory (NEST propagator_32)
    p21in: int  #: current-to-potential propagator, inhibitory
    p20: int  #: constant-current propagator tau_m/C_m (1 - exp(-h/tau_m))
    theta: int  #: V_th - E_L in the V format
    v_reset: int  #: V_reset - E_L in the V format
    i_e: int  #: constant current I_e in the I format
    ref_steps: int  #: refractory period in steps


class LIFState(NamedTuple):
    """State of one neuron: V (V format, relative to E_L), currents (I format), counter."""

    v: int
    i_ex: int
    i_in: int
    ref: int


def lif_update(
    s: LIFState, in_ex: int, in_in: int, c: LIFCoefficients, i_stim: int = 0
) -> tuple[LIFState, bool, int]:
    """Advance one neuron by one step in the order of NEST's ``iaf_psc_exp``.

    Parameters
    ----------
    s : LIFState
        State at the start of the step.
    in_ex, in_in : int
        This step's excitatory and inhibitory input (I format, int32): the ring-buffer slot
        plus the background input, already saturated.
    c : LIFCoefficients
        The population's quantised constants.
    i_stim : int
        This step's step-current amplitude (I format; ``step_current``), added to ``c.i_e``
        (their sum fits int32: the build checks it).

    Returns
    -------
    (state, spiked, saturations)
        The state at the end of the step, whether the neuron fired, and how many results
        were clamped to int32 during the step.
    """
    sat = 0
    v, ref = s.v, s.ref
    if ref == 0:
        acc = c.p22 * v + c.p21ex * s.i_ex + c.p21in * s.i_in + c.p20 * (c.i_e + i_stim)
        v, clamped = saturate(round_shift(acc, COEF_FRAC_BITS))
        sat += clamped
    else:
        ref -= 1
    i_ex = round_shift(c.p11ex * s.i_ex, COEF_FRAC_BITS)
    i_in = round_shift(c.p11in * s.i_in, COEF_FRAC_BITS)
    i_ex, clamped = saturate(i_ex + in_ex)
    sat += clamped
    i_in, clamped = saturate(i_in + in_in)
    sat += clamped
    spiked = v >= c.theta
    if spiked:
        ref = c.ref_steps
        v = c.v_reset
    return LIFState(v, i_ex, i_in, ref), spiked, sat


def delta_update(
    s: LIFState, in_ex: int, in_in: int, c: LIFCoefficients, i_stim: int = 0
) -> tuple[LIFState, bool, int]:
    """Advance one ``iaf_psc_delta`` neuron by one step (docs/numerics.md, section 5b).

    The input is a jump of the potential: ``in_ex`` and ``in_in`` are PSP amplitudes in the
    I format's integer scale read as mV (``2**-12`` mV per unit), added to V in the step they
    arrive (``16 * in`` in the V format). While refractory the input is discarded (NEST's
    ``refractory_input = False``). ``c`` holds the LIF constants with the synaptic
    propagators ``p11ex, p11in, p21ex, p21in`` zero; the currents stay 0.
    """
    sat = 0
    v, ref = s.v, s.ref
    if ref == 0:
        acc = round_shift(c.p22 * v + c.p20 * (c.i_e + i_stim), COEF_FRAC_BITS)
        v, clamped = saturate(acc + (in_ex + in_in) * (1 << (V_FRAC_BITS - I_FRAC_BITS)))
        sat += clamped
    else:
        ref -= 1
    spiked = v >= c.theta
    if spiked:
        ref = c.ref_steps
        v = c.v_reset
    return LIFState(v, 0, 0, ref), spiked, sat


# Alpha-shaped currents (NEST ``iaf_psc_alpha``) -------------------------------------------------


class AlphaCoefficients(NamedTuple):
    """Quantised constants of one ``iaf_psc_alpha`` population (``neuron.LIFAlpha.quantise``).

    The first ten fields are those of ``LIFCoefficients`` with the same meaning (``p21ex``,
    ``p21in``: NEST's ``P32``, the current-to-potential propagator); the last four act on
    the scaled derivative ``D = dI * tau_syn / e`` (I format), which a spike of weight ``w``
    raises by exactly ``w``.
    """

    p22: int  #: exp(-h/tau_m)
    p11ex: int  #: exp(-h/tau_syn_ex): decay of D and of I
    p11in: int  #: exp(-h/tau_syn_in)
    p21ex: int  #: 16 * propagator_32(tau_syn_ex, ...): I_ex to V
    p21in: int  #: 16 * propagator_32(tau_syn_in, ...): I_in to V
    p20: int  #: 16 * tau_m/C_m (1 - exp(-h/tau_m))
    theta: int  #: V_th - E_L in the V format
    v_reset: int  #: V_reset - E_L in the V format
    i_e: int  #: constant current I_e in the I format
    ref_steps: int  #: refractory period in steps
    a21ex: int  #: (h e / tau_syn_ex) exp(-h/tau_syn_ex): D_ex to I_ex, in (0, 1]
    a21in: int  #: (h e / tau_syn_in) exp(-h/tau_syn_in)
    a31ex: int  #: 16 * propagator_31(tau_syn_ex, ...) * e / tau_syn_ex: D_ex to V
    a31in: int  #: 16 * propagator_31(tau_syn_in, ...) * e / tau_syn_in


class AlphaState(NamedTuple):
    """State of one ``iaf_psc_alpha`` neuron: V, currents I, scaled derivatives D, counter."""

    v: int
    i_ex: int
    i_in: int
    d_ex: int
    d_in: int
    ref: int


def alpha_update(
    s: AlphaState, in_ex: int, in_in: int, c: AlphaCoefficients, i_stim: int = 0
) -> tuple[AlphaState, bool, int]:
    """Advance one ``iaf_psc_alpha`` neuron by one step in NEST's order (section 5c).

    V is propagated with the old ``D`` and ``I`` (one sum of six exact products, one
    rounding), then ``I = P21 D + P11 I`` (one rounding, saturated), then
    ``D = P11 D + in`` (saturated), then threshold, reset and refractoriness.
    """
    sat = 0
    v, ref = s.v, s.ref
    if ref == 0:
        acc = (c.p22 * v + c.p21ex * s.i_ex + c.p21in * s.i_in + c.a31ex * s.d_ex
               + c.a31in * s.d_in + c.p20 * (c.i_e + i_stim))
        v, clamped = saturate(round_shift(acc, COEF_FRAC_BITS))
        sat += clamped
    else:
        ref -= 1
    i_ex, c1 = saturate(round_shift(c.a21ex * s.d_ex + c.p11ex * s.i_ex, COEF_FRAC_BITS))
    i_in, c2 = saturate(round_shift(c.a21in * s.d_in + c.p11in * s.i_in, COEF_FRAC_BITS))
    d_ex, c3 = saturate(round_shift(c.p11ex * s.d_ex, COEF_FRAC_BITS) + in_ex)
    d_in, c4 = saturate(round_shift(c.p11in * s.d_in, COEF_FRAC_BITS) + in_in)
    sat += c1 + c2 + c3 + c4
    spiked = v >= c.theta
    if spiked:
        ref = c.ref_steps
        v = c.v_reset
    return AlphaState(v, i_ex, i_in, d_ex, d_in, ref), spiked, sat


# Inputs given in time ------------------------------------------------------------------------


def ms_to_steps(ms: float, dt: float) -> int:
    """Return a time or duration in ms as whole steps of ``dt``: ``floor(ms/dt + 1/2)``."""
    return math.floor(ms / dt + 0.5)


def step_current(steps, values, t: int) -> int:
    """Return the amplitude of a step current in the update of step ``t`` (I format).

    ``steps`` ascending and ``values`` are the change points of the neuron's summed step
    currents (docs/numerics.md, section 5d): the value set at step ``s`` acts from step
    ``s + 1`` on, as NEST's ``step_current_generator`` through a delay of one step; before
    the first change the amplitude is 0.
    """
    out = 0
    for s, a in zip(steps, values):
        if s >= t:
            break
        out = a
    return out


def accumulate(slot: int, weight: int) -> int:
    """Add a weight to a ring-buffer channel with int32 saturation (the synapse pipeline's RMW).

    The clamp is not counted (docs/numerics.md, section 4): a channel receives weights of one
    sign, so the value is ``saturate(exact sum)`` in any order, and the saturation counter
    counts the channels read at their bound instead (:func:`ring_saturations`).
    """
    return saturate(slot + weight)[0]


def ring_saturations(exc: int, inh: int) -> int:
    """Return the saturations counted at the read-and-clear of one ring-buffer entry (0..2).

    One for an excitatory channel read at ``INT32_MAX`` and one for an inhibitory channel read
    at ``INT32_MIN`` (docs/numerics.md, sections 4 and 7): the entry's exact sum reached or
    left the int32 range, whatever the order of its additions.
    """
    return int(exc == INT32_MAX) + int(inh == INT32_MIN)
