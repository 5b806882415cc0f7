"""Single-neuron references: the integer oracle run over a sequence, and float64 exact integration.

``run_fixed`` applies ``neuroaix.numerics.lif_update`` step by step (the contract itself).
``run_float`` is the same exact-integration scheme in float64, the yardstick for the
fixed-point error; ``error_bound_mv`` is the bound that docs/numerics.md derives between them.
"""

from __future__ import annotations

import numpy as np

from neuroaix import numerics as nx
from neuroaix.neuron import LIF, propagators, ref_steps

__all__ = ["run_fixed", "run_float", "error_bound_mv"]


def run_fixed(coef: nx.LIFCoefficients, in_ex, in_in, v0: int = 0):
    """Run the integer neuron over input sequences (I format) and return its trace.

    Returns
    -------
    (v, i_ex, i_in, spikes, saturations)
        int64 arrays of the state at the end of every step, the steps with a spike, and the
        number of clamped results.
    """
    n = len(in_ex)
    v = np.empty(n, np.int64)
    iex = np.empty(n, np.int64)
    iin = np.empty(n, np.int64)
    spikes = []
    sat = 0
    s = nx.LIFState(v0, 0, 0, 0)
    for t in range(n):
        s, spiked, clamped = nx.lif_update(s, int(in_ex[t]), int(in_in[t]), coef)
        sat += clamped
        if spiked:
            spikes.append(t)
        v[t], iex[t], iin[t] = s.v, s.i_ex, s.i_in
    return v, iex, iin, np.array(spikes, np.int64), sat


def run_float(p: LIF, dt: float, in_ex_pa, in_in_pa, v0_mv: float = 0.0):
    """Run the float64 exact-integration neuron (NEST's update order) over inputs in pA.

    Potentials are relative to E_L. Returns ``(v, i_ex, i_in, spikes, v_pre)``: float64
    arrays of the state at the end of every step, the int64 spike steps, and the potential
    of every step before the threshold test (where a spike decision is made).
    """
    pr = propagators(p, dt)
    theta, v_reset = p.V_th - p.E_L, p.V_reset - p.E_L
    refs = ref_steps(p.t_ref, dt)
    n = len(in_ex_pa)
    v_out, iex_out, iin_out, v_pre = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    spikes = []
    v, iex, iin, ref = v0_mv, 0.0, 0.0, 0
    for t in range(n):
        if ref == 0:
            v = pr["p22"] * v + pr["p21ex"] * iex + pr["p21in"] * iin + pr["p20"] * p.I_e
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
    return v_out, iex_out, iin_out, np.array(spikes, np.int64), v_pre


def error_bound_mv(p: LIF, dt: float, i_max_pa: float, v_max_mv: float) -> float:
    """Return the bound on |V_fixed - V_float| (mV) derived in docs/numerics.md.

    Valid while both neurons have fired at the same steps, for inputs that are exact in the
    I format, and for currents and potentials bounded by ``i_max_pa`` and ``v_max_mv``.
    """
    pr = propagators(p, dt)
    lsb_v = 2.0 ** -nx.V_FRAC_BITS
    lsb_i = 2.0 ** -nx.I_FRAC_BITS
    q = 2.0 ** -(nx.COEF_FRAC_BITS + 1)  # half an LSB of Q1.30
    q_cur = q / 2.0 ** (nx.V_FRAC_BITS - nx.I_FRAC_BITS)  # same, in mV/pA
    e_ex = (q * i_max_pa + 0.5 * lsb_i) / (1.0 - pr["p11ex"])
    e_in = (q * i_max_pa + 0.5 * lsb_i) / (1.0 - pr["p11in"])
    per_step = (
        pr["p21ex"] * e_ex
        + pr["p21in"] * e_in
        + pr["p20"] * 0.5 * lsb_i
        + q * v_max_mv
        + q_cur * (2.0 * i_max_pa + abs(p.I_e))
        + 0.5 * lsb_v
    )
    return 0.5 * lsb_v + per_step / (1.0 - pr["p22"])
