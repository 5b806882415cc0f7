"""What the build rounds: how many parameters change and by how much (relative).

The number contract (docs/numerics.md) turns every float parameter of a network into an
integer: potentials relative to E_L to ``2**-16`` mV, currents and weights to ``2**-12`` pA,
delays and refractory periods to whole steps. ``report(network)`` compares the parameters
as written with what the build realises, without building: per population the threshold,
reset, constant current (with DC input) and refractory period; per projection its weight
and delay when they are constants or listed (``from_list``); the spike times of spike
sources and the times and amplitudes of step currents. Drawn weights and delays
(``Normal``) are rounded per synapse by the same rules; the report says how many projections
draw theirs, and the rounding bound (half a unit of the format). Propagators are Q1.30
(relative error below ``2**-30``) and are not listed.

``neuroaix run`` prints the report's line and stores it in summary.json (``quantisation``).
"""

from __future__ import annotations

import math

import numpy as np

from neuroaix import numerics as nx

__all__ = ["report", "summary_line"]


#: Relative changes below this are the float arithmetic of ms and steps (3 * 0.1 != 0.3),
#: not rounding.
_FLOAT_NOISE = 1e-12


def _change(exact: float, realised: float) -> float:
    if exact == realised:
        return 0.0
    if exact == 0:
        return math.inf
    rel = abs(realised - exact) / abs(exact)
    return rel if rel > _FLOAT_NOISE else 0.0


def report(network) -> dict:
    """Return the quantisation report of ``network`` (a ``neuroaix.Network``).

    Returns
    -------
    dict
        ``parameters`` (compared), ``rounded`` (changed by the rounding),
        ``max_relative_change`` (0 when none changed), ``largest`` (which parameter, e.g.
        ``"E->I weight"``), ``drawn_projections`` (projections with drawn weights or delays,
        rounded per synapse to ``2**-12`` pA and whole steps).
    """
    dt = float(network.dt)
    rows = []  # (what, exact, realised)
    for pop in network.populations:
        m = pop.model
        if not hasattr(m, "V_th"):  # spike sources: their times round to steps
            for i, train in enumerate(m.spike_times_ms):
                rows += [(f"{pop.name}[{i}] spike time", x, nx.ms_to_steps(x, dt) * dt)
                         for x in train]
            continue
        i_e = m.I_e + network.dc.get(pop.index, 0.0)
        rows += [
            (f"{pop.name} V_th", m.V_th - m.E_L,
             nx.mv_to_fixed(m.V_th - m.E_L) / (1 << nx.V_FRAC_BITS)),
            (f"{pop.name} V_reset", m.V_reset - m.E_L,
             nx.mv_to_fixed(m.V_reset - m.E_L) / (1 << nx.V_FRAC_BITS)),
            (f"{pop.name} I_e", i_e, nx.pa_to_fixed(i_e) / (1 << nx.I_FRAC_BITS)),
            (f"{pop.name} t_ref", m.t_ref, math.floor(m.t_ref / dt + 0.5) * dt),
        ]
    drawn = 0
    for pr in network.projections:
        what = f"{pr.pre.name}->{pr.post.name}"
        pairs = getattr(pr, "pairs", None)
        if pairs is not None:
            w = np.asarray(pairs[2], np.float64)
            d = np.asarray(pairs[3], np.float64)
            wq = np.floor(w * (1 << nx.I_FRAC_BITS) + 0.5) / (1 << nx.I_FRAC_BITS)
            dq = np.floor(d / dt + 0.5) * dt
            for name, exact, real in ((f"{what} weight", w, wq), (f"{what} delay", d, dq)):
                rows += [(name, float(a), float(b)) for a, b in zip(exact, real)]
            continue
        if pr.weight.std != 0 or pr.delay.std != 0 or pr.weight_bits is not None:
            drawn += 1
        if pr.weight.std == 0 and pr.weight_bits is None:
            w = float(pr.weight.mean)
            rows.append((f"{what} weight", w, nx.pa_to_fixed(w) / (1 << nx.I_FRAC_BITS)))
        if pr.delay.std == 0:
            d = float(pr.delay.mean)
            rows.append((f"{what} delay", d, math.floor(d / dt + 0.5) * dt))
    for index, times, amps, _ in network.step_currents:
        name = network.populations[index].name
        rows += [(f"{name} step-current time", x, nx.ms_to_steps(x, dt) * dt) for x in times]
        rows += [(f"{name} step-current amplitude", a,
                  nx.pa_to_fixed(a) / (1 << nx.I_FRAC_BITS)) for a in amps]
    for index, (rate, k, w) in sorted(network.poisson.items()):
        rows.append((f"{network.populations[index].name} Poisson weight", w,
                     nx.pa_to_fixed(w) / (1 << nx.I_FRAC_BITS)))
    changes = [(_change(a, b), what) for what, a, b in rows]
    rounded = [c for c in changes if c[0] > 0]
    worst = max(rounded, default=(0.0, None))
    return {"parameters": len(rows), "rounded": len(rounded),
            "max_relative_change": worst[0], "largest": worst[1],
            "drawn_projections": drawn}


def summary_line(rep: dict) -> str:
    """Return the one line that says what the build rounded (``report``'s result)."""
    line = (f"quantisation: {rep['rounded']} of {rep['parameters']} parameters rounded")
    if rep["rounded"]:
        line += (f", largest relative change {rep['max_relative_change']:.3g} "
                 f"({rep['largest']})")
    if rep["drawn_projections"]:
        line += (f"; {rep['drawn_projections']} projection(s) with drawn weights or delays, "
                 "rounded per synapse (2^-12 pA, whole steps)")
    return line
