"""Single-neuron references: the integer oracle run over a sequence, and float64 exact integration.

``run_fixed`` applies the update of ``neuroaix.numerics`` (``lif_update``, ``delta_update``,
``alpha_update``) step by step (the contract itself). ``run_float`` is the same
exact-integration scheme in float64, in NEST's variables and order, the yardstick for the
fixed-point error; ``error_bound_mv`` is the bound that docs/numerics.md derives between them.
"""

from __future__ import annotations

import math

import numpy as np

from neuroaix import numerics as nx
from neuroaix.neuron import LIF, LIFAlpha, LIFDelta, propagators, ref_steps

__all__ = ["run_fixed", "run_float", "error_bound_mv"]

_UPDATE = {"iaf_psc_exp": nx.lif_update, "iaf_psc_delta": nx.delta_update,
           "iaf_psc_alpha": nx.alpha_update}


def run_fixed(coef, in_ex, in_in, v0: int = 0, *, kind: str = "iaf_psc_exp", i_stim=None):
    """Run the integer neuron over input sequences (I format) and return its trace.

    Parameters
    ----------
    coef : numerics.LIFCoefficients or numerics.AlphaCoefficients
        The quantised constants (``model.quantise(dt)``).
    in_ex, in_in : sequence of int
        Input per step (I format; PSP jumps in units of ``2**-12`` mV for iaf_psc_delta).
    v0 : int
        Initial potential (V format, relative to E_L).
    kind : str
        ``"iaf_psc_exp"``, ``"iaf_psc_delta"`` or ``"iaf_psc_alpha"``.
    i_stim : sequence of int, optional
        Step-current amplitude of every step (I format, ``numerics.step_current``).

    Returns
    -------
    (v, i_ex, i_in, spikes, saturations)
        int64 arrays of the state at the end of every step, the steps with a spike, and the
        number of clamped results.
    """
    update = _UPDATE[kind]
    n = len(in_ex)
    v = np.empty(n, np.int64)
    iex = np.empty(n, np.int64)
    iin = np.empty(n, np.int64)
    spikes = []
    sat = 0
    s = nx.AlphaState(v0, 0, 0, 0, 0, 0) if kind == "iaf_psc_alpha" else nx.LIFState(v0, 0, 0, 0)
    for t in range(n):
        stim = 0 if i_stim is None else int(i_stim[t])
        s, spiked, clamped = update(s, int(in_ex[t]), int(in_in[t]), coef, stim)
        sat += clamped
        if spiked:
            spikes.append(t)
        v[t], iex[t], iin[t] = s.v, s.i_ex, s.i_in
    return v, iex, iin, np.array(spikes, np.int64), sat


def run_float(p, dt: float, in_ex_pa, in_in_pa, v0_mv: float = 0.0, *, i_stim_pa=None,
              extra: dict | None = None):
    """Run the float64 exact-integration neuron (NEST's update order) over inputs in pA.

    ``p`` is a ``LIF``, ``LIFAlpha`` or ``LIFDelta`` (whose inputs are PSP jumps in mV).
    Potentials are relative to E_L; ``i_stim_pa`` is the step current of every step (pA).
    Returns ``(v, i_ex, i_in, spikes, v_pre)``: float64 arrays of the state at the end of
    every step, the int64 spike steps, and the potential of every step before the threshold
    test (where a spike decision is made). For ``LIFAlpha``, ``extra`` (a dict) receives
    ``d_ex`` and ``d_in``: the current derivatives scaled as the integer neuron's,
    ``dI tau_syn / e`` (pA).
    """
    alpha, delta = isinstance(p, LIFAlpha), isinstance(p, LIFDelta)
    pr = p.propagators(dt) if alpha or delta else propagators(p, dt)
    if alpha:
        # NEST's variables: dI (pA/ms) jumps by w e / tau_syn; I = P21 dI + P22 I, P21 = h P11
        eps = {"ex": math.e / p.tau_syn_ex, "in": math.e / p.tau_syn_in}
        p31 = {ch: pr[f"a31{ch}"] / eps[ch] for ch in ("ex", "in")}
        p21 = {ch: dt * pr[f"p11{ch}"] for ch in ("ex", "in")}
    theta, v_reset = p.V_th - p.E_L, p.V_reset - p.E_L
    refs = ref_steps(p.t_ref, dt)
    n = len(in_ex_pa)
    v_out, iex_out, iin_out, v_pre = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    dex_out, din_out = np.zeros(n), np.zeros(n)
    spikes = []
    v, iex, iin, dex, din, ref = v0_mv, 0.0, 0.0, 0.0, 0.0, 0
    for t in range(n):
        i_drive = p.I_e + (0.0 if i_stim_pa is None else float(i_stim_pa[t]))
        if delta:
            if ref == 0:
                v = pr["p22"] * v + pr["p20"] * i_drive + in_ex_pa[t] + in_in_pa[t]
            else:
                ref -= 1
        elif alpha:
            if ref == 0:
                v = (pr["p22"] * v + p31["ex"] * dex + pr["p21ex"] * iex + p31["in"] * din
                     + pr["p21in"] * iin + pr["p20"] * i_drive)
            else:
                ref -= 1
            iex = p21["ex"] * dex + pr["p11ex"] * iex
            iin = p21["in"] * din + pr["p11in"] * iin
            dex = pr["p11ex"] * dex + eps["ex"] * in_ex_pa[t]
            din = pr["p11in"] * din + eps["in"] * in_in_pa[t]
            dex_out[t], din_out[t] = dex / eps["ex"], din / eps["in"]
        else:
            if ref == 0:
                v = pr["p22"] * v + pr["p21ex"] * iex + pr["p21in"] * iin + pr["p20"] * i_drive
            else:
                ref -= 1
            iex = pr["p11ex"] * iex + in_ex_pa[t]
            iin = pr["p11in"] * iin + in_in_pa[t]
        v_pre[t] = v
        if v >= theta:
            ref = refs
            v = v_reset
            spikes.append(t)
        v_out[t], iex_out[t], iin_out[t] = v, iex, iin
    if extra is not None:
        extra["d_ex"], extra["d_in"] = dex_out, din_out
    return v_out, iex_out, iin_out, np.array(spikes, np.int64), v_pre


def error_bound_mv(p, dt: float, i_max_pa: float, v_max_mv: float, *, d_max_pa: float = 0.0,
                   i_drive_max_pa: float | None = None) -> float:
    """Return the bound on |V_fixed - V_float| (mV) derived in docs/numerics.md.

    Valid while both neurons have fired at the same steps, for inputs that are exact in the
    I format, and for currents, scaled derivatives (``LIFAlpha``) and potentials bounded by
    ``i_max_pa``, ``d_max_pa`` and ``v_max_mv``; ``i_drive_max_pa`` bounds ``|I_e + step
    current|`` (default ``|I_e|``).
    """
    lsb_v = 2.0 ** -nx.V_FRAC_BITS
    lsb_i = 2.0 ** -nx.I_FRAC_BITS
    q = 2.0 ** -(nx.COEF_FRAC_BITS + 1)  # half an LSB of Q1.30
    q_cur = q / 2.0 ** (nx.V_FRAC_BITS - nx.I_FRAC_BITS)  # same, in mV/pA
    i_drive = abs(p.I_e) if i_drive_max_pa is None else i_drive_max_pa
    if isinstance(p, LIFDelta):
        pr = p.propagators(dt)
        per_step = pr["p20"] * 0.5 * lsb_i + q * v_max_mv + q_cur * i_drive + 0.5 * lsb_v
        return 0.5 * lsb_v + per_step / (1.0 - pr["p22"])
    alpha = isinstance(p, LIFAlpha)
    pr = p.propagators(dt) if alpha else propagators(p, dt)
    per_step = pr["p20"] * 0.5 * lsb_i + q * v_max_mv + 0.5 * lsb_v
    for ch in ("ex", "in"):
        if alpha:  # D and I both decay with P11; I is fed by D through a21 (<= 1)
            e_d = (q * d_max_pa + 0.5 * lsb_i) / (1.0 - pr[f"p11{ch}"])
            e_i = ((pr[f"a21{ch}"] * e_d + q * (d_max_pa + i_max_pa) + 0.5 * lsb_i)
                   / (1.0 - pr[f"p11{ch}"]))
            per_step += pr[f"a31{ch}"] * e_d + q_cur * d_max_pa
        else:
            e_i = (q * i_max_pa + 0.5 * lsb_i) / (1.0 - pr[f"p11{ch}"])
        per_step += pr[f"p21{ch}"] * e_i + q_cur * i_max_pa
    per_step += q_cur * i_drive
    return 0.5 * lsb_v + per_step / (1.0 - pr["p22"])
