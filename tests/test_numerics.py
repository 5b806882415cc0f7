"""neuroaix.numerics against its test vectors and its own definitions."""

import math

import numpy as np
import pytest
from scipy import stats

from neuroaix import numerics as nx

pytestmark = pytest.mark.backend_independent


def test_round_shift_vectors(numerics_vectors):
    for x, s, expected in numerics_vectors["round_shift"]:
        assert nx.round_shift(x, s) == expected


def test_round_shift_is_round_half_up():
    assert [nx.round_shift(x, 1) for x in (-3, -2, -1, 0, 1, 2, 3)] == [-1, -1, 0, 0, 1, 1, 2]
    for x in range(-1000, 1000, 7):
        assert nx.round_shift(x, 3) == math.floor(x / 8 + 0.5)


def test_saturate_vectors(numerics_vectors):
    for x, value, clamped in numerics_vectors["saturate"]:
        assert nx.saturate(x) == (value, clamped)


def test_splitmix64_known_first_output():
    # First output of SplitMix64 seeded with 0 (Steele, Lea & Flood 2014 reference code).
    assert nx.splitmix64(0) == 0xE220A8397B1DCDAF


def test_splitmix_and_stream_vectors(numerics_vectors):
    for z, expected in numerics_vectors["splitmix64"]:
        assert nx.splitmix64(z) == expected
    for words, expected in numerics_vectors["stream_key"]:
        assert nx.stream_key(*words) == expected
    key = nx.stream_key(7, nx.STREAM_CONNECT, 2, 5)
    assert nx.stream_draw(key, 3) == nx.splitmix64(key + 3)


def test_xorshift_vectors(numerics_vectors):
    for rec in numerics_vectors["xorshift64star"]:
        state = nx.background_seed(rec["seed"], rec["gid"])
        assert state == rec["state0"] and state != 0
        for expected_state, expected_u in rec["draws"]:
            state, u = nx.xorshift64star(state)
            assert (state, u) == (expected_state, expected_u)
            assert 0 <= u < 2**32


def test_poisson_vectors(numerics_vectors):
    for lam, rec in numerics_vectors["poisson"].items():
        table = nx.poisson_table(float(lam))
        assert list(table) == rec["table"]
        for u, count in rec["counts"]:
            assert nx.poisson_count(u, table) == count


def test_poisson_table_of_zero_rate_never_fires():
    table = nx.poisson_table(0.0)
    assert set(table) == {2**32}
    assert nx.poisson_count(2**32 - 1, table) == 0


@pytest.mark.parametrize("lam", [1.2, 1.5, 2.1, 2.4])
def test_poisson_counts_pass_chi_square(lam):
    """Counts from the per-neuron generator follow Poisson(lam) (microcircuit input rates)."""
    table = nx.poisson_table(lam)
    state = nx.background_seed(12345, 17)
    n = 40_000
    counts = np.empty(n, np.int64)
    for k in range(n):
        state, u = nx.xorshift64star(state)
        counts[k] = nx.poisson_count(u, table)
    kmax = 7
    observed = np.bincount(np.minimum(counts, kmax), minlength=kmax + 1)
    pmf = stats.poisson.pmf(np.arange(kmax), lam)
    expected = n * np.append(pmf, 1.0 - pmf.sum())
    chi2, p = stats.chisquare(observed, expected)
    assert p > 1e-3, (chi2, p)
    assert abs(counts.mean() - lam) < 4 * math.sqrt(lam / n)


@pytest.mark.parametrize("lam", [-0.1, math.nan, math.inf, 9.0])
def test_poisson_table_rejects_bad_rates(lam):
    with pytest.raises(ValueError, match=r"Poisson mean per step"):
        nx.poisson_table(lam)


def test_lif_update_vectors(numerics_vectors):
    for rec in numerics_vectors["lif_update"]:
        coef = nx.LIFCoefficients(**rec["coefficients"])
        for case in rec["cases"]:
            out, spiked, sat = nx.lif_update(nx.LIFState(*case["state"]), case["in_ex"],
                                             case["in_in"], coef)
            assert list(out) == case["out"]
            assert spiked == case["spiked"]
            assert sat == case["saturations"]


def test_lif_update_holds_v_while_refractory():
    from neuroaix import LIF

    coef = LIF().quantise(0.1)
    s = nx.LIFState(v=2 * coef.theta, i_ex=0, i_in=0, ref=0)  # above after decay
    s, spiked, _ = nx.lif_update(s, 0, 0, coef)
    assert spiked and s.v == coef.v_reset and s.ref == coef.ref_steps
    big = nx.pa_to_fixed(1_000.0)
    held = []
    for _ in range(coef.ref_steps):
        s, spiked, _ = nx.lif_update(s, big, 0, coef)
        held.append(s.v)
    assert held == [coef.v_reset] * coef.ref_steps and s.ref == 0
    s, _, _ = nx.lif_update(s, 0, 0, coef)
    assert s.v > coef.v_reset  # integrates again at step ref_steps + 1


def test_accumulate_saturates_without_counting():
    assert nx.accumulate(nx.INT32_MAX - 1, 5) == nx.INT32_MAX
    assert nx.accumulate(nx.INT32_MIN + 1, -5) == nx.INT32_MIN
    assert nx.accumulate(-5, 3) == -2


def test_ring_saturations_count_channels_at_their_bound():
    assert nx.ring_saturations(nx.INT32_MAX, nx.INT32_MIN) == 2
    assert nx.ring_saturations(nx.INT32_MAX, 0) == 1
    assert nx.ring_saturations(0, nx.INT32_MIN) == 1
    assert nx.ring_saturations(nx.INT32_MAX - 1, nx.INT32_MIN + 1) == 0
    # the count does not depend on the order of the additions onto the entry
    for weights in ([nx.INT32_MAX, 7, 7], [7, 7, nx.INT32_MAX], [7, nx.INT32_MAX, 7]):
        exc = 0
        for w in weights:
            exc = nx.accumulate(exc, w)
        assert nx.ring_saturations(exc, 0) == 1


def test_to_fixed_rejects_non_finite():
    with pytest.raises(ValueError, match=r"^cannot convert nan to fixed point"):
        nx.to_fixed(math.nan, 4)


def test_conversions_round_half_up():
    assert nx.mv_to_fixed(2.0 ** -17) == 1  # exactly half an LSB rounds up
    assert nx.mv_to_fixed(-(2.0 ** -17)) == 0
    assert nx.pa_to_fixed(87.81) == math.floor(87.81 * 4096 + 0.5)
    assert nx.fixed_to_pa(nx.pa_to_fixed(1.5)) == 1.5
