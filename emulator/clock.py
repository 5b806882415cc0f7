"""The emulator's time base: integer femtoseconds, and clocks that tick on it.

Every time in the emulator is an ``int`` (or ``np.int64``) number of femtoseconds (fs), the
base Amaranth's simulator uses too. One second is ``10**15`` fs, so an ``int64`` holds about
2.5 hours of emulated hardware time, far more than one step (microseconds) or a whole run.
A clock of frequency f has the period ``round(10**9 / f_MHz)`` fs; the rounding error is below
one femtosecond per cycle (for 189.393 MHz, 5,280,026 fs instead of 5,280,026.2 fs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from neuroaix.checks import check_number

__all__ = ["FS_PER_NS", "FS_PER_S", "FS_PER_US", "Clock", "fs_to_ns", "ns_to_fs"]

#: Femtoseconds per nanosecond.
FS_PER_NS = 1_000_000
#: Femtoseconds per microsecond.
FS_PER_US = 1_000_000_000
#: Femtoseconds per second.
FS_PER_S = 1_000_000_000_000_000


def ns_to_fs(ns: float) -> int:
    """Return a latency in nanoseconds as whole femtoseconds (rounded to nearest, ties up).

    Raises
    ------
    ValueError
        If ``ns`` is negative or not finite.
    """
    check_number("latency", ns, low=0, unit="ns")
    return math.floor(ns * FS_PER_NS + 0.5)


def fs_to_ns(fs: int) -> float:
    """Return femtoseconds as nanoseconds (float, for reports)."""
    return fs / FS_PER_NS


@dataclass(frozen=True, slots=True)
class Clock:
    """A clock domain: a name and a frequency in MHz, with its period in whole femtoseconds.

    Parameters
    ----------
    name : str
        Domain name used in reports (``"neuron"``, ``"spike"``).
    mhz : float
        Frequency in MHz; must be positive.

    Raises
    ------
    ValueError
        If ``mhz`` is not a positive finite number.
    """

    name: str
    mhz: float

    def __post_init__(self):
        check_number(f"clock {self.name!r}: mhz", self.mhz, low=0, low_open=True,
                     fix="use e.g. 100.0")

    @property
    def period_fs(self) -> int:
        """Clock period in femtoseconds, ``round(10**9 / mhz)``."""
        return math.floor(1e9 / self.mhz + 0.5)

    def cycles_to_fs(self, cycles: int) -> int:
        """Return the duration of ``cycles`` clock cycles in femtoseconds."""
        return int(cycles) * self.period_fs

    def fs_to_cycles(self, fs: int) -> int:
        """Return the number of whole cycles needed to cover ``fs`` femtoseconds (ceiling)."""
        p = self.period_fs
        return -(-int(fs) // p)

    def next_edge(self, fs: int) -> int:
        """Return the first rising edge at or after ``fs`` (edges at multiples of the period)."""
        return self.fs_to_cycles(fs) * self.period_fs
