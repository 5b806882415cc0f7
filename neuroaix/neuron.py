"""Neuron models and spike sources: parameters, propagators and quantisation.

``LIF`` is NEST's ``iaf_psc_exp`` (PyNN's IF_curr_exp), ``LIFAlpha`` ``iaf_psc_alpha``
(IF_curr_alpha), ``LIFDelta`` ``iaf_psc_delta`` (IF_curr_delta); ``SpikeSourceArray`` is a
population of sources that fire at given times (NEST's ``spike_generator``). Parameters carry
NEST's names and units (pF, ms, mV, pA). ``quantise(dt)`` turns them into the integer
constants of the number contract (``neuroaix.numerics.LIFCoefficients``,
``AlphaCoefficients``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from neuroaix import numerics as nx
from neuroaix.checks import check_number

__all__ = ["LIF", "LIFAlpha", "LIFDelta", "MODEL_KINDS", "NEURON_MODELS", "SpikeSourceArray",
           "propagator_31", "propagator_32", "propagators", "realised_parameters",
           "ref_steps"]

#: Model kinds in the order of their codes in ``BuiltNetwork.model_kind`` (NEST's names).
MODEL_KINDS = ("iaf_psc_exp", "iaf_psc_delta", "iaf_psc_alpha", "spike_source_array")


def propagator_32(tau_syn: float, tau: float, c: float, h: float) -> float:
    """Return the current-to-potential propagator of an exponential PSC (mV per pA).

    Computed as NEST's ``propagator_32`` (Rotter & Diesmann 1999): the regular expression,
    replaced by its limit ``h/C exp(-h/tau)`` where ``tau == tau_syn`` or where the regular
    form has lost its accuracy near that limit.
    """
    p32_linear = 1.0 / (2.0 * c * tau * tau) * h * h * (tau_syn - tau) * math.exp(-h / tau)
    p32_singular = h / c * math.exp(-h / tau)
    if tau == tau_syn:
        return p32_singular
    p32 = (
        -tau
        / (c * (1.0 - tau / tau_syn))
        * math.exp(-h / tau_syn)
        * math.expm1(h * (1.0 / tau_syn - 1.0 / tau))
    )
    if abs(tau - tau_syn) < 0.1 and abs(p32 - p32_singular) > 2.0 * abs(p32_linear):
        return p32_singular
    return p32


def propagator_31(tau_syn: float, tau: float, c: float, h: float) -> float:
    """Return the propagator from an alpha current's derivative to the potential (NEST's P31).

    ``exp(-h/tau) (1 - exp(-a h) (1 + a h)) / (C a^2)`` with ``a = 1/tau_syn - 1/tau``: the
    potential after ``h`` of a current ``I(s) = s exp(-s/tau_syn)`` (``dI(0) = 1``). As NEST's
    ``propagator_31``, the limit ``h^2/(2C) exp(-h/tau)`` replaces it where ``tau ==
    tau_syn``, or where ``|tau - tau_syn| < 0.1`` and the regular form deviates from the limit
    by more than twice the first-order term ``h^3 (tau_syn - tau) exp(-h/tau) / (3 C tau^2)``.
    """
    p31_linear = h ** 3 * (tau_syn - tau) * math.exp(-h / tau) / (3.0 * c * tau * tau)
    p31_singular = h * h / (2.0 * c) * math.exp(-h / tau)
    if tau == tau_syn:
        return p31_singular
    a = 1.0 / tau_syn - 1.0 / tau
    p31 = math.exp(-h / tau) * (-math.expm1(-a * h) - a * h * math.exp(-a * h)) / (c * a * a)
    if abs(tau - tau_syn) < 0.1 and abs(p31 - p31_singular) > 2.0 * abs(p31_linear):
        return p31_singular
    return p31


def ref_steps(t_ref: float, dt: float) -> int:
    """Return the refractory period in steps: floor(t_ref/dt + 1/2)."""
    return nx.ms_to_steps(t_ref, dt)


def propagators(p: "LIF", dt: float) -> dict[str, float]:
    """Return the float64 propagators of one step ``dt`` (ms) for parameters ``p``."""
    p22 = math.exp(-dt / p.tau_m)
    return {
        "p22": p22,
        "p11ex": math.exp(-dt / p.tau_syn_ex),
        "p11in": math.exp(-dt / p.tau_syn_in),
        "p21ex": propagator_32(p.tau_syn_ex, p.tau_m, p.C_m, dt),
        "p21in": propagator_32(p.tau_syn_in, p.tau_m, p.C_m, dt),
        "p20": p.tau_m / p.C_m * -math.expm1(-dt / p.tau_m),
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class _SynapticLIF:
    """The parameters of the current-based LIF models with synaptic time constants (``LIF``,
    ``LIFAlpha``), with NEST's names, units and the microcircuit's defaults."""

    C_m: float = 250.0
    tau_m: float = 10.0
    tau_syn_ex: float = 0.5
    tau_syn_in: float = 0.5
    t_ref: float = 2.0
    E_L: float = -65.0
    V_th: float = -50.0
    V_reset: float = -65.0
    I_e: float = 0.0

    def __post_init__(self):
        _check_parameters(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class LIF(_SynapticLIF):
    """Leaky integrate-and-fire neuron with exponential synaptic currents (``iaf_psc_exp``).

    Parameters
    ----------
    C_m : float
        Membrane capacitance (pF), > 0.
    tau_m : float
        Membrane time constant (ms), > 0.
    tau_syn_ex, tau_syn_in : float
        Excitatory and inhibitory synaptic time constants (ms), > 0.
    t_ref : float
        Absolute refractory period (ms), >= 0.
    E_L : float
        Resting potential (mV).
    V_th : float
        Threshold (mV), > V_reset.
    V_reset : float
        Reset potential (mV).
    I_e : float
        Constant input current (pA).

    Defaults are those of the Potjans-Diesmann microcircuit (NEST's PyNEST example).
    """

    #: NEST's name of the model; an index of ``MODEL_KINDS``.
    kind = "iaf_psc_exp"

    def quantise(self, dt: float) -> nx.LIFCoefficients:
        """Return the integer constants of the number contract for time step ``dt`` (ms).

        Raises
        ------
        ValueError
            If a propagator does not fit Q1.30 (C_m too small for this ``dt``) or the
            refractory period does not fit its 16-bit counter.
        """
        return nx.LIFCoefficients(**_quantise(self, dt, propagators(self, dt)))


def _check_parameters(model) -> None:
    """Check a current-based LIF model's parameters (every model's ``__post_init__``)."""
    what = type(model).__name__
    for f in fields(model):
        check_number(f"{what} parameter {f.name}", getattr(model, f.name))
    for name, unit in (("C_m", "pF"), ("tau_m", "ms"), ("tau_syn_ex", "ms"),
                       ("tau_syn_in", "ms")):
        if hasattr(model, name):
            check_number(name, getattr(model, name), low=0, low_open=True, unit=unit)
    check_number("t_ref", model.t_ref, low=0, unit="ms")
    if not model.V_reset < model.V_th:
        raise ValueError(
            f"V_reset must be below V_th, not V_reset={model.V_reset!r} >= "
            f"V_th={model.V_th!r}; lower V_reset or raise V_th"
        )
    for name in ("V_th", "V_reset"):
        rel = getattr(model, name) - model.E_L
        if not abs(rel) < (1 << (31 - nx.V_FRAC_BITS)):
            raise ValueError(
                f"{name} - E_L = {rel!r} mV does not fit the V format (+-32768 mV); "
                "use potentials within 32 V of E_L"
            )
    if not abs(model.I_e) < (1 << (31 - nx.I_FRAC_BITS)):
        raise ValueError(
            f"I_e={model.I_e!r} pA does not fit the I format (+-524288 pA); use a smaller "
            "current"
        )


def realised_parameters(model, dt: float) -> dict[str, float]:
    """Return ``model``'s parameters as the number contract realises them at step ``dt``.

    ``V_th``, ``V_reset`` (relative to ``E_L``, 2**-16 mV), ``I_e`` (2**-12 pA) and ``t_ref``
    (whole steps) come back rounded; ``C_m`` and the time constants enter only through
    Q1.30 propagators (relative error below 2**-30) and are returned as given.
    """
    out = {f.name: getattr(model, f.name) for f in fields(model)}
    for name in ("V_th", "V_reset"):
        out[name] = model.E_L + nx.fixed_to_mv(nx.mv_to_fixed(out[name] - model.E_L))
    out["I_e"] = nx.fixed_to_pa(nx.pa_to_fixed(model.I_e))
    out["t_ref"] = ref_steps(model.t_ref, dt) * dt
    return out


#: Propagators that act on a current (I format) and land in the V format: stored x 16.
_TO_V = ("p21ex", "p21in", "p20", "a31ex", "a31in")


def _quantise(model, dt: float, p: dict[str, float]) -> dict[str, int]:
    """Return the fixed-point constants of ``model`` for the float64 propagators ``p``.

    Propagators become Q1.30, those of ``_TO_V`` pre-multiplied by ``2**(16-12)``; ``a21``
    (at most 1) may be 1.0 exactly. The coefficients of the potential's sum must add up to
    less than 4 in magnitude, so that the sum of their exact products with int32 state
    stays inside int64.
    """
    if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be a positive number of ms, not {dt!r}")
    scale = float(1 << (nx.V_FRAC_BITS - nx.I_FRAC_BITS))
    coef = {}
    for name, value in p.items():
        scaled = value * scale if name in _TO_V else value
        try:
            if name.startswith("a21"):
                coef[name] = nx.to_fixed(scaled, nx.COEF_FRAC_BITS)
                if not 0 <= coef[name] <= 1 << nx.COEF_FRAC_BITS:
                    raise ValueError(name)
            else:
                coef[name] = nx.coef_to_fixed(scaled)
        except ValueError:
            limit = p[name] / scaled if scaled else 0.0
            raise ValueError(
                f"C_m={model.C_m!r} pF is too small for dt={dt!r} ms: the propagator "
                f"{name}={value!r} mV/pA exceeds the Q1.30 coefficient range "
                f"(|{name}| < {limit:g}); use a larger C_m or a smaller dt"
            ) from None
    v_terms = [coef[k] for k in ("p22", "p21ex", "p21in", "p20", "a31ex", "a31in") if k in coef]
    if sum(abs(x) for x in v_terms) >= 4 << nx.COEF_FRAC_BITS:
        raise ValueError(
            f"C_m={model.C_m!r} pF is too small for dt={dt!r} ms: the potential's propagators "
            "add up to 4 or more; use a larger C_m or a smaller dt")
    refs = ref_steps(model.t_ref, dt)
    if refs > nx.REF_MAX:
        raise ValueError(
            f"t_ref={model.t_ref!r} ms is {refs} steps, more than the refractory counter "
            f"holds ({nx.REF_MAX}); use a shorter t_ref or a larger dt"
        )
    return dict(theta=nx.mv_to_fixed(model.V_th - model.E_L),
                v_reset=nx.mv_to_fixed(model.V_reset - model.E_L),
                i_e=nx.pa_to_fixed(model.I_e), ref_steps=refs, **coef)


@dataclass(frozen=True, slots=True, kw_only=True)
class LIFAlpha(_SynapticLIF):
    """Leaky integrate-and-fire neuron with alpha-shaped synaptic currents (``iaf_psc_alpha``).

    PyNN's IF_curr_alpha. A spike of weight ``w`` pA gives the current
    ``w (e/tau_syn) t exp(-t/tau_syn)``, which peaks at ``w`` after ``tau_syn``. Parameters
    and defaults as ``LIF``; integrated exactly (docs/numerics.md, section 5c).
    """

    kind = "iaf_psc_alpha"

    def propagators(self, dt: float) -> dict[str, float]:
        """Return the float64 propagators of one step ``dt`` (ms), NEST's P11 ... P33.

        ``a21`` and ``a31`` act on the scaled derivative ``D = dI tau_syn / e``.
        """
        p = propagators(self, dt)
        for ch, tau in (("ex", self.tau_syn_ex), ("in", self.tau_syn_in)):
            p[f"a21{ch}"] = dt * math.e / tau * math.exp(-dt / tau)
            p[f"a31{ch}"] = propagator_31(tau, self.tau_m, self.C_m, dt) * math.e / tau
        return p

    def quantise(self, dt: float) -> nx.AlphaCoefficients:
        """Return the integer constants for time step ``dt`` (ms); raises as ``LIF.quantise``."""
        return nx.AlphaCoefficients(**_quantise(self, dt, self.propagators(dt)))


@dataclass(frozen=True, slots=True, kw_only=True)
class LIFDelta:
    """Leaky integrate-and-fire neuron with delta synapses (``iaf_psc_delta``).

    PyNN's IF_curr_delta. A spike of weight ``w`` makes the potential jump by ``w`` **mV** in
    the step it arrives; spikes that arrive while the neuron is refractory are discarded (NEST's
    default ``refractory_input = False``). Weights onto it are quantised to ``2**-12`` mV.
    Parameters and defaults as ``LIF``, without synaptic time constants.
    """

    C_m: float = 250.0
    tau_m: float = 10.0
    t_ref: float = 2.0
    E_L: float = -65.0
    V_th: float = -50.0
    V_reset: float = -65.0
    I_e: float = 0.0

    kind = "iaf_psc_delta"

    def __post_init__(self):
        _check_parameters(self)

    def propagators(self, dt: float) -> dict[str, float]:
        """Return the float64 propagators ``p22`` (NEST's P33) and ``p20`` (P30)."""
        return {"p22": math.exp(-dt / self.tau_m),
                "p20": self.tau_m / self.C_m * -math.expm1(-dt / self.tau_m)}

    def quantise(self, dt: float) -> nx.LIFCoefficients:
        """Return the LIF constants with the synaptic propagators zero; raises as ``LIF``."""
        return nx.LIFCoefficients(p11ex=0, p11in=0, p21ex=0, p21in=0,
                                  **_quantise(self, dt, self.propagators(dt)))


@dataclass(frozen=True, slots=True)
class SpikeSourceArray:
    """Sources that fire at given times (NEST's ``spike_generator``, PyNN's SpikeSourceArray).

    ``spike_times_ms[i]`` are the times of source ``i`` (ms). A time ``T`` is quantised to the
    step ``k = floor(T/dt + 1/2)``; the source fires in the update of step ``k - 1``, so
    its spike carries the time ``k*dt`` as every neuron's spike does (docs/numerics.md,
    section 1) and reaches a target ``d`` steps later exactly as a neuron's spike. ``T`` must
    round to ``k >= 1``; two times of one source may not round to the same step.
    """

    spike_times_ms: tuple

    kind = "spike_source_array"

    def __post_init__(self):
        trains = self.spike_times_ms
        if isinstance(trains, (str, bytes)) or not hasattr(trains, "__len__") or \
                not len(trains):
            raise ValueError("spike_times_ms must be a non-empty sequence with one sequence "
                             "of spike times (ms) per source, e.g. [[1.0, 5.0], [2.5]]")
        out = []
        for i, train in enumerate(trains):
            if isinstance(train, (str, bytes)) or not hasattr(train, "__iter__"):
                raise ValueError(f"spike_times_ms[{i}] must be a sequence of times in ms, "
                                 f"not {train!r}; give one sequence per source")
            out.append(tuple(sorted(check_number(f"spike_times_ms[{i}]", x, unit="ms")
                                    for x in train)))
        object.__setattr__(self, "spike_times_ms", tuple(out))

    def __len__(self) -> int:
        return len(self.spike_times_ms)

    def spike_steps(self, dt: float) -> list[list[int]]:
        """Return each source's emission steps ``floor(T/dt + 1/2) - 1`` (ascending).

        Raises
        ------
        ValueError
            If a time rounds below one step, or two times of one source to the same step.
        """
        out = []
        for i, train in enumerate(self.spike_times_ms):
            steps = [nx.ms_to_steps(x, dt) - 1 for x in train]
            for x, s in zip(train, steps):
                if s < 0:
                    raise ValueError(f"spike time {x!r} ms of source {i} rounds to step "
                                     f"{s + 1} of dt={dt!r} ms; spike times must be at least "
                                     f"{0.5 * dt:g} ms (they round to whole steps >= 1)")
            for j in range(1, len(steps)):
                if steps[j] == steps[j - 1]:
                    raise ValueError(
                        f"spike times {train[j - 1]!r} and {train[j]!r} ms of source {i} "
                        f"round to the same step of dt={dt!r} ms; a source fires at most "
                        "once per step, so merge them or use a smaller dt")
            out.append(steps)
        return out


#: The neuron models a population may have.
NEURON_MODELS = (LIF, LIFDelta, LIFAlpha)
