"""The LIF neuron model (NEST ``iaf_psc_exp``): parameters, propagators and quantisation.

Parameters carry NEST's names and units (pF, ms, mV, pA). ``LIF.quantise(dt)`` turns them
into the integer constants of the number contract (``neuroaix.numerics.LIFCoefficients``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from neuroaix import numerics as nx
from neuroaix.checks import check_number

__all__ = ["LIF", "propagator_32", "propagators", "ref_steps"]


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


def ref_steps(t_ref: float, dt: float) -> int:
    """Return the refractory period in steps: floor(t_ref/dt + 1/2)."""
    return math.floor(t_ref / dt + 0.5)


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
class LIF:
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
        for f in fields(self):
            check_number(f"LIF parameter {f.name}", getattr(self, f.name))
        for name, unit in (("C_m", "pF"), ("tau_m", "ms"), ("tau_syn_ex", "ms"),
                           ("tau_syn_in", "ms")):
            check_number(name, getattr(self, name), low=0, low_open=True, unit=unit)
        check_number("t_ref", self.t_ref, low=0, unit="ms")
        if not self.V_reset < self.V_th:
            raise ValueError(
                f"V_reset must be below V_th, not V_reset={self.V_reset!r} >= "
                f"V_th={self.V_th!r}; lower V_reset or raise V_th"
            )
        for name in ("V_th", "V_reset"):
            rel = getattr(self, name) - self.E_L
            if not abs(rel) < (1 << (31 - nx.V_FRAC_BITS)):
                raise ValueError(
                    f"{name} - E_L = {rel!r} mV does not fit the V format (+-32768 mV); "
                    "use potentials within 32 V of E_L"
                )
        if not abs(self.I_e) < (1 << (31 - nx.I_FRAC_BITS)):
            raise ValueError(
                f"I_e={self.I_e!r} pA does not fit the I format (+-524288 pA); use a smaller "
                "current"
            )

    def quantise(self, dt: float) -> nx.LIFCoefficients:
        """Return the integer constants of the number contract for time step ``dt`` (ms).

        Raises
        ------
        ValueError
            If a propagator does not fit Q1.30 (C_m too small for this ``dt``) or the
            refractory period does not fit its 16-bit counter.
        """
        if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
            raise ValueError(f"dt must be a positive number of ms, not {dt!r}")
        p = propagators(self, dt)
        scale = float(1 << (nx.V_FRAC_BITS - nx.I_FRAC_BITS))
        coef = {}
        for name, value in p.items():
            scaled = value * scale if name in ("p21ex", "p21in", "p20") else value
            try:
                coef[name] = nx.coef_to_fixed(scaled)
            except ValueError:
                limit = p[name] / scaled if scaled else 0.0
                raise ValueError(
                    f"C_m={self.C_m!r} pF is too small for dt={dt!r} ms: the propagator "
                    f"{name}={value!r} mV/pA exceeds the Q1.30 coefficient range "
                    f"(|{name}| < {limit:g}); use a larger C_m or a smaller dt"
                ) from None
        refs = ref_steps(self.t_ref, dt)
        if refs > nx.REF_MAX:
            raise ValueError(
                f"t_ref={self.t_ref!r} ms is {refs} steps, more than the refractory counter "
                f"holds ({nx.REF_MAX}); use a shorter t_ref or a larger dt"
            )
        return nx.LIFCoefficients(
            theta=nx.mv_to_fixed(self.V_th - self.E_L),
            v_reset=nx.mv_to_fixed(self.V_reset - self.E_L),
            i_e=nx.pa_to_fixed(self.I_e),
            ref_steps=refs,
            **coef,
        )
