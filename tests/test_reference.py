"""Fixed point against float64 exact integration: the error bound of docs/numerics.md."""

import math

import numpy as np
import pytest

from neuroaix import LIF
from neuroaix import numerics as nx
from neuroaix.neuron import LIFAlpha, LIFDelta
from neuroaix.reference import error_bound_mv, run_fixed, run_float

pytestmark = pytest.mark.backend_independent

N_SEQUENCES = 10_000
N_STEPS = 120


def _sequences(rng, n_seq, n_steps, scale=1.0):
    """Random input: excitatory and inhibitory volleys at random rates and weights."""
    for _ in range(n_seq):
        w_ex = nx.pa_to_fixed(rng.uniform(20.0, 200.0) * scale)
        w_in = -nx.pa_to_fixed(rng.uniform(50.0, 500.0) * scale)
        in_ex = rng.poisson(rng.uniform(0.0, 6.0), n_steps) * w_ex
        in_in = rng.poisson(rng.uniform(0.0, 1.5), n_steps) * w_in
        yield in_ex, in_in, nx.mv_to_fixed(rng.uniform(-10.0, 14.0))


def _step_current(rng, n_steps):
    """A random step current (I format per step): a few changes of up to +-600 pA."""
    changes = np.sort(rng.choice(n_steps, 4, replace=False))
    values = [nx.pa_to_fixed(x) for x in rng.uniform(-600.0, 600.0, 4)]
    return np.array([nx.step_current(changes, values, t) for t in range(n_steps)], np.int64)


def _check_bound(model, n_seq, *, scale=1.0, stim=False, seed=2023):
    """Run ``n_seq`` random sequences through the fixed and the float neuron; assert the
    bound and the admissible spike disagreements; return (worst error, worst bound,
    mismatches, spikes)."""
    dt = 0.1
    coef = model.quantise(dt)
    rng = np.random.default_rng(seed)
    worst = worst_bound = 0.0
    mismatches = spikes_total = 0
    for in_ex, in_in, v0 in _sequences(rng, n_seq, N_STEPS, scale):
        i_stim = _step_current(rng, N_STEPS) if stim else None
        v, iex, iin, spikes, sat = run_fixed(coef, in_ex, in_in, v0=v0, kind=model.kind,
                                             i_stim=i_stim)
        extra = {}
        vf, iexf, iinf, spikes_f, v_pre = run_float(
            model, dt, in_ex / 4096.0, in_in / 4096.0, v0_mv=nx.fixed_to_mv(v0),
            i_stim_pa=None if i_stim is None else i_stim / 4096.0, extra=extra)
        assert sat == 0
        i_max = max(np.abs(iexf).max(), np.abs(iinf).max())
        d_max = max(np.abs(extra["d_ex"]).max(), np.abs(extra["d_in"]).max())
        drive = abs(model.I_e) + (0.0 if i_stim is None else np.abs(i_stim).max() / 4096.0)
        bound = error_bound_mv(model, dt, i_max, max(np.abs(vf).max(), np.abs(v_pre).max()),
                               d_max_pa=d_max, i_drive_max_pa=drive)
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
    print(f"{model}: max |dV| = {worst * 1e3:.4f} uV, largest bound {worst_bound * 1e3:.4f} "
          f"uV, {mismatches} spike-step mismatches in {spikes_total} spikes")
    return worst, worst_bound, mismatches, spikes_total


@pytest.mark.parametrize("lif", [LIF(), LIF(tau_m=20.0, E_L=0.0, V_th=20.0, V_reset=10.0),
                                 LIF(tau_m=5.0, tau_syn_ex=5.0, tau_syn_in=2.0, I_e=200.0)],
                         ids=["microcircuit", "brunel", "equal-taus"])
def test_fixed_point_stays_within_the_derived_bound(lif):
    # At the microcircuit's operating point (I <= 5 nA, |V| <= 20 mV) the bound is below 1 uV.
    assert error_bound_mv(LIF(), 0.1, 5_000.0, 20.0) < 1e-3
    _check_bound(lif, N_SEQUENCES if lif == LIF() else N_SEQUENCES // 10)


@pytest.mark.parametrize("model", [
    LIFAlpha(), LIFAlpha(tau_m=20.0, E_L=0.0, V_th=20.0, V_reset=10.0, tau_syn_ex=2.0),
    LIFAlpha(tau_m=5.0, tau_syn_ex=5.0, tau_syn_in=2.0, I_e=200.0),
    LIFDelta(), LIFDelta(tau_m=20.0, E_L=0.0, V_th=20.0, V_reset=10.0, I_e=100.0)],
    ids=["alpha", "alpha-brunel", "alpha-equal-taus", "delta", "delta-brunel"])
def test_new_models_stay_within_the_derived_bound(model):
    # delta: PSP jumps of 0.1-2.5 mV (the weights read as mV); alpha: the PSCs of LIF's test
    scale = 0.005 if isinstance(model, LIFDelta) else 1.0
    _check_bound(model, 800, scale=scale, stim=True)


def test_step_currents_stay_within_the_derived_bound():
    _check_bound(LIF(), 800, stim=True, seed=5)


def test_float_alpha_current_is_the_closed_form():
    # One spike of w pA: I(t) = w (e/tau) t exp(-t/tau), peak w at t = tau_syn.
    p = LIFAlpha(tau_syn_ex=2.0, V_th=1e3)
    dt, w, n = 0.1, 100.0, 200
    in_ex = np.zeros(n)
    in_ex[0] = w
    v, iex, _, _, _ = run_float(p, dt, in_ex, np.zeros(n))
    t = np.arange(n) * dt  # the spike's current starts at step 0 and is read from step 1
    closed = w * math.e / 2.0 * t * np.exp(-t / 2.0)
    np.testing.assert_allclose(iex, closed, rtol=1e-12, atol=1e-12)
    assert abs(iex[20] - w) < 1e-12  # the peak, at t = tau_syn
    # V: the convolution of the current with the membrane kernel, in closed form
    a = 1 / 2.0 - 1 / p.tau_m
    k = w * math.e / 2.0 / p.C_m
    t_v = t  # V of step s integrates the current from step 0 on
    closed_v = np.where(t_v > 0, k * np.exp(-t_v / p.tau_m)
                        * (1 - np.exp(-a * t_v) * (1 + a * t_v)) / a ** 2, 0.0)
    np.testing.assert_allclose(v, closed_v, rtol=1e-10, atol=1e-15)


def test_delta_dc_first_spike_is_the_closed_form():
    # V(t) = I R (1 - exp(-t/tau_m)) from rest crosses theta at -tau ln(1 - theta/(I R)).
    p = LIFDelta(I_e=400.0)
    dt, n = 0.1, 600
    coef = p.quantise(dt)
    _, _, _, spikes, _ = run_fixed(coef, np.zeros(n, np.int64), np.zeros(n, np.int64),
                                   kind="iaf_psc_delta")
    r = p.tau_m / p.C_m
    t_cross = -p.tau_m * math.log(1 - (p.V_th - p.E_L) / (p.I_e * r))
    # the potential at the end of step s is the closed form at (s + 1) dt
    assert spikes[0] == math.ceil(t_cross / dt - 1e-9) - 1
    # a PSP jump acts in the step it arrives and decays with tau_m
    jump = np.zeros(n, np.int64)
    jump[10] = nx.pa_to_fixed(1.0)  # 1 mV
    v, _, _, _, _ = run_fixed(LIFDelta().quantise(dt), jump, np.zeros(n, np.int64),
                              kind="iaf_psc_delta")
    assert v[9] == 0 and v[10] == 1 << 16
    closed = np.exp(-np.arange(n - 10) * dt / 10.0)
    err = np.abs(v[10:] / 65536.0 - closed).max()
    assert 0 < err <= error_bound_mv(LIFDelta(), dt, 0.0, 1.0)
