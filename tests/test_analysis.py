"""neuroaix.analysis on rasters whose statistics are known in closed form."""

import numpy as np
import pytest

from neuroaix.analysis import isi_cv, population_statistics, rates_hz, spike_count_correlations

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
