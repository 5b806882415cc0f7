"""Fixed point against float64 exact integration: the error bound of docs/numerics.md."""

import numpy as np
import pytest

from neuroaix import LIF
from neuroaix import numerics as nx
from neuroaix.reference import error_bound_mv, run_fixed, run_float

pytestmark = pytest.mark.backend_independent

N_SEQUENCES = 10_000
N_STEPS = 120


def _sequences(rng, n_seq, n_steps):
    """Random input: excitatory and inhibitory volleys at random rates and weights."""
    for _ in range(n_seq):
        w_ex = nx.pa_to_fixed(rng.uniform(20.0, 200.0))
        w_in = -nx.pa_to_fixed(rng.uniform(50.0, 500.0))
        in_ex = rng.poisson(rng.uniform(0.0, 6.0), n_steps) * w_ex
        in_in = rng.poisson(rng.uniform(0.0, 1.5), n_steps) * w_in
        yield in_ex, in_in, nx.mv_to_fixed(rng.uniform(-10.0, 14.0))


@pytest.mark.parametrize("lif", [LIF(), LIF(tau_m=20.0, E_L=0.0, V_th=20.0, V_reset=10.0),
                                 LIF(tau_m=5.0, tau_syn_ex=5.0, tau_syn_in=2.0, I_e=200.0)],
                         ids=["microcircuit", "brunel", "equal-taus"])
def test_fixed_point_stays_within_the_derived_bound(lif):
    dt = 0.1
    coef = lif.quantise(dt)
    # At the microcircuit's operating point (I <= 5 nA, |V| <= 20 mV) the bound is below 1 uV.
    assert error_bound_mv(LIF(), dt, 5_000.0, 20.0) < 1e-3
    worst_bound = 0.0
    rng = np.random.default_rng(2023)
    n_seq = N_SEQUENCES if lif == LIF() else N_SEQUENCES // 10
    worst = 0.0
    mismatches = 0
    spikes_total = 0
    for in_ex, in_in, v0 in _sequences(rng, n_seq, N_STEPS):
        v, iex, iin, spikes, sat = run_fixed(coef, in_ex, in_in, v0=v0)
        vf, iexf, iinf, spikes_f, v_pre = run_float(
            lif, dt, in_ex / 4096.0, in_in / 4096.0, v0_mv=nx.fixed_to_mv(v0))
        assert sat == 0
        i_max = max(np.abs(iexf).max(), np.abs(iinf).max())
        bound = error_bound_mv(lif, dt, i_max, max(np.abs(vf).max(), np.abs(v_pre).max()))
        worst_bound = max(worst_bound, bound)
        spikes_total += len(spikes_f)
        n_agree = min(len(spikes), len(spikes_f))
        first_diff = next((k for k in range(n_agree) if spikes[k] != spikes_f[k]), None)
        if first_diff is None and len(spikes) == len(spikes_f):
            end = N_STEPS
        else:
            mismatches += 1
            k = n_agree if first_diff is None else first_diff
            t = min(np.concatenate([spikes[k:k + 1], spikes_f[k:k + 1]]))
            # The only admissible disagreement: float V within the bound of threshold.
            assert abs(v_pre[t] - nx.fixed_to_mv(coef.theta)) <= bound
            end = t
        if end:
            err = float(np.abs(v[:end] / 65536.0 - vf[:end]).max())
            assert err <= bound, (err, bound)
            worst = max(worst, err)
    assert spikes_total > n_seq  # the sequences do make the neuron fire
    assert mismatches <= max(2, spikes_total // 10_000), (mismatches, spikes_total)
    print(f"{lif}: max |dV| = {worst * 1e3:.4f} uV, largest bound {worst_bound * 1e3:.4f} uV, "
          f"{mismatches} spike-step mismatches in {spikes_total} spikes")
