"""Distributions of parameters drawn per neuron or per synapse.

``Normal`` is the one distribution of the network description (initial potentials, weights,
delays); a plain number is the constant ``Normal(value, 0)``. The moments of the redrawn
(truncated) normal live here too, since both the description (which refuses bounds that hold
almost no mass) and the construction (low-resolution weight levels) need them. Plain Python:
no NumPy, no Numba.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from neuroaix.checks import check_number, is_number

__all__ = ["Normal", "as_distribution", "normal_interval", "truncated_normal_moments"]

#: Smallest probability mass a redrawn distribution may keep inside its bounds.
MIN_MASS = 1e-6


def _phi(x: float) -> float:
    return 0.0 if math.isinf(x) else math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def normal_interval(mean: float, std: float, a: float, b: float) -> tuple[float, float]:
    """Return the probability and the conditional mean of ``N(mean, std)`` on ``[a, b]``.

    Where the probability underflows to 0 the mean is the middle of
    ``[max(a, mean - 40 std), min(b, mean + 40 std)]``.
    """
    za, zb = (a - mean) / std, (b - mean) / std
    prob = _cdf(zb) - _cdf(za)
    if prob <= 0.0:
        mid = 0.5 * (max(a, mean - 40 * std) + min(b, mean + 40 * std))
        return 0.0, mid
    return prob, mean + std * (_phi(za) - _phi(zb)) / prob


def truncated_normal_moments(mean: float, std: float, low: float, high: float):
    """Return ``(mean, variance, mass)`` of ``N(mean, std)`` redrawn into ``[low, high]``.

    ``mass`` is the probability of ``[low, high]`` before redrawing; where it underflows to
    0 the mean and variance are NaN.
    """
    if std == 0.0:
        return mean, 0.0, 1.0
    za, zb = (low - mean) / std, (high - mean) / std
    if za > 0:  # both bounds in the upper tail: difference of upper-tail probabilities
        mass = _cdf(-za) - _cdf(-zb)
    else:
        mass = _cdf(zb) - _cdf(za)
    if not mass > 0.0:
        return math.nan, math.nan, 0.0
    d = (_phi(za) - _phi(zb)) / mass
    ta = 0.0 if math.isinf(za) else za * _phi(za)
    tb = 0.0 if math.isinf(zb) else zb * _phi(zb)
    var = std * std * (1.0 + (ta - tb) / mass - d * d)
    return mean + std * d, var, mass


# The normal distribution --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Normal:
    """Normal distribution redrawn into ``[low, high]`` (NEST's ``redraw``).

    A value outside the bounds is discarded and drawn again, so the result is the normal
    distribution truncated to ``[low, high]`` (both bounds included).

    Parameters
    ----------
    mean, std : float
        Mean and standard deviation before truncation (std >= 0).
    low, high : float
        Bounds, ``low < high``; infinite by default.
    """

    mean: float
    std: float
    low: float = -math.inf
    high: float = math.inf

    def __post_init__(self):
        check_number("Normal mean", self.mean)
        std = check_number("Normal std", self.std, low=0)
        low = check_number("Normal low", self.low, finite=False)
        high = check_number("Normal high", self.high, finite=False)
        if not low < high:
            raise ValueError(f"Normal bounds need low < high, not low={self.low!r}, "
                             f"high={self.high!r}")
        if std == 0:
            if not low <= self.mean <= high:
                raise ValueError(f"Normal mean {self.mean!r} lies outside [{low!r}, {high!r}] "
                                 "and std is 0; widen the bounds")
        elif truncated_normal_moments(self.mean, std, low, high)[2] < MIN_MASS:
            raise ValueError(
                f"Normal({self.mean!r}, {self.std!r}) keeps less than {MIN_MASS:g} of its "
                f"mass in [{low!r}, {high!r}], so redrawing would practically never end; "
                "widen the bounds or move the mean inside them")

    def moments(self) -> tuple[float, float]:
        """Mean and standard deviation after redrawing into the bounds."""
        m, v, _ = truncated_normal_moments(float(self.mean), float(self.std),
                                           float(self.low), float(self.high))
        return m, math.sqrt(max(v, 0.0))


def as_distribution(name: str, value, unit: str) -> Normal:
    """Return ``value`` as a ``Normal``: a number becomes the constant ``Normal(value, 0)``.

    Parameters
    ----------
    name : str
        The argument's name, for the messages.
    value : float or Normal
        A finite number or a ``Normal``.
    unit : str
        The unit of a number (``"mV"``, ``"pA"``, ``"ms"``).

    Raises
    ------
    TypeError
        If ``value`` is neither a number nor a ``Normal``.
    """
    if isinstance(value, Normal):
        return value
    if is_number(value):
        v = check_number(name, value, unit=unit)
        return Normal(v, 0.0)
    raise TypeError(f"{name} must be a number in {unit} or neuroaix.Normal(mean, std, low=..., "
                    f"high=...), not {value!r}")
