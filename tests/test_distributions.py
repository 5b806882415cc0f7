"""Tests of neuroaix.distributions: the redrawn normal and its moments."""

import math

import pytest
from scipy import stats

from neuroaix.distributions import Normal, as_distribution, normal_interval, \
    truncated_normal_moments


def test_truncated_normal_moments_match_scipy():
    for mean, std, lo, hi in [(87.8, 8.78, 0.0, math.inf), (-351.0, 35.1, -math.inf, 0.0),
                              (1.5, 0.75, 0.05, math.inf), (0.0, 1.0, -0.5, 2.0)]:
        m, v, mass = truncated_normal_moments(mean, std, lo, hi)
        d = stats.truncnorm((lo - mean) / std, (hi - mean) / std, loc=mean, scale=std)
        assert m == pytest.approx(d.mean(), rel=1e-12, abs=1e-12)
        assert v == pytest.approx(d.var(), rel=1e-9)
        assert 0 < mass <= 1


def test_normal_interval_matches_scipy():
    p, m = normal_interval(1.0, 2.0, 0.0, 3.0)
    d = stats.norm(loc=1.0, scale=2.0)
    assert p == pytest.approx(d.cdf(3.0) - d.cdf(0.0), rel=1e-12)
    assert m == pytest.approx(stats.truncnorm(-0.5, 1.0, loc=1.0, scale=2.0).mean(), rel=1e-12)
    assert normal_interval(0.0, 1.0, 39.0, 60.0) == (0.0, 39.5)  # underflow: the middle


def test_normal_moments_after_redrawing():
    m, sd = Normal(0.0, 1.0, low=0.0).moments()
    assert m == pytest.approx(math.sqrt(2 / math.pi))
    assert sd == pytest.approx(math.sqrt(1 - 2 / math.pi))
    assert Normal(3.0, 0.0).moments() == (3.0, 0.0)


def test_normal_errors():
    with pytest.raises(ValueError, match=r"^Normal std must be >= 0, not -1\.0$"):
        Normal(1.0, -1.0)
    with pytest.raises(ValueError, match=r"keeps less than 1e-06 of its mass"):
        Normal(0.0, 1.0, low=10.0)
    with pytest.raises(ValueError, match=r"^Normal bounds need low < high, not low=1\.0, "
                                         r"high=1\.0$"):
        Normal(1.0, 1.0, low=1.0, high=1.0)
    with pytest.raises(ValueError, match=r"^Normal low must be a number, not nan"):
        Normal(1.0, 1.0, low=math.nan)
    with pytest.raises(ValueError, match=r"^Normal mean must be finite, not inf$"):
        Normal(math.inf, 1.0)
    with pytest.raises(ValueError, match=r"^Normal mean 5\.0 lies outside \[0\.0, 1\.0\] and std "
                                         r"is 0; widen the bounds$"):
        Normal(5.0, 0.0, low=0.0, high=1.0)
    with pytest.raises(TypeError, match=r"^Normal std must be a number, not True$"):
        Normal(1.0, True)


def test_as_distribution():
    assert as_distribution("weight", 2, "pA") == Normal(2.0, 0.0)
    n = Normal(1.0, 0.5, low=0.0)
    assert as_distribution("weight", n, "pA") is n
    with pytest.raises(TypeError, match=r"^delay must be a number in ms or neuroaix\.Normal"):
        as_distribution("delay", "1", "ms")
    with pytest.raises(ValueError, match=r"^delay must be finite, not inf$"):
        as_distribution("delay", math.inf, "ms")
