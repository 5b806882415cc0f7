"""neuroaix.analysis on rasters whose statistics are known in closed form."""

import numpy as np
import pytest

from neuroaix.analysis import (STATISTICS, compare_with_nest, isi_cv, ks_distance,
                               population_statistics, rates_hz, spike_count_correlations)

pytestmark = pytest.mark.backend_independent


def test_rates_of_a_regular_raster():
    senders = np.repeat(np.arange(4), 10)
    assert np.allclose(rates_hz(senders, 0, 4, 1000.0), 10.0)
    assert np.allclose(rates_hz(senders, 2, 6, 1000.0), [10, 10, 0, 0])


def test_cv_is_zero_for_regular_and_one_for_poisson_trains():
    steps = np.arange(0, 1000, 10)
    assert isi_cv(np.zeros(100, np.int32), steps, 0, 1) == pytest.approx([0.0])
    rng = np.random.default_rng(0)
    t = np.cumsum(rng.exponential(50.0, 20_000)).astype(np.int64)
    assert isi_cv(np.zeros(len(t), np.int32), t, 0, 1)[0] == pytest.approx(1.0, abs=0.03)


def test_identical_trains_are_fully_correlated():
    rng = np.random.default_rng(1)
    t = np.sort(rng.choice(10_000, 300, replace=False))
    senders = np.concatenate([np.zeros(300, np.int32), np.ones(300, np.int32)])
    steps = np.concatenate([t, t])
    cc = spike_count_correlations(senders, steps, 0, 2, 0, 10_000, 20)
    assert cc == pytest.approx([1.0])


def test_population_statistics_fields():
    senders = np.array([0, 1, 0, 1, 0, 1, 5], np.int32)
    steps = np.array([0, 0, 100, 100, 200, 200, 50], np.int64)
    stats = population_statistics(senders, steps, [("A", 0, 4), ("B", 4, 8)], 0, 1000, 0.1)
    assert [s["name"] for s in stats] == ["A", "B"]
    assert stats[0]["rate_mean_hz"] == pytest.approx(6 / 4 / 0.1)
    assert stats[0]["cv_isi_mean"] == pytest.approx(0.0)
    assert stats[1]["n"] == 4


def test_ks_distance_is_scipys_statistic():
    from scipy.stats import ks_2samp

    rng = np.random.default_rng(2)
    for n, m in ((50, 80), (7, 300), (1, 1)):
        a, b = rng.normal(0, 1, n), rng.normal(0.3, 1.2, m)
        assert ks_distance(a, b) == ks_2samp(a, b).statistic
    tied = np.array([0.0, 0.0, 1.0, 1.0])
    assert ks_distance(tied, tied) == 0.0 and ks_distance(tied, tied + 2) == 1.0
    assert np.isnan(ks_distance([], [1.0]))


def _seed(rng, rate_hz):
    """Per-population distributions of one seed: rates drawn around ``rate_hz``."""
    return {"A": {"rate": rng.normal(rate_hz, 1.0, 200), "cv_isi": rng.normal(0.8, 0.1, 200),
                  "correlation": rng.normal(0.01, 0.01, 500)}}


def test_compare_with_nest_accepts_a_seed_of_nest_and_refuses_a_shifted_rate():
    rng = np.random.default_rng(3)
    nest = [_seed(rng, 5.0) for _ in range(5)]
    same = compare_with_nest(nest, [_seed(rng, 5.0) for _ in range(5)])
    assert [(r["population"], r["statistic"]) for r in same] == [
        ("A", s) for s in STATISTICS]
    assert all(r["ok"] and r["ok_pooled"] for r in same)
    shifted = compare_with_nest(nest, [_seed(rng, 6.0) for _ in range(5)])
    assert [r["ok"] for r in shifted] == [False, True, True]
    assert shifted[0]["ks_cross_mean"] > 0.3 > shifted[0]["ks_nest_max"]
