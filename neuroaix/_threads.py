"""Numba's OpenMP threads: the barrier's wait policy, chosen when threads are first used.

Partitions synchronise after every step (the minimum delay is one step), so the OpenMP
barrier's waiting policy matters. Measured on a 2-core machine: idle, spinning waits made the
scale-0.1 microcircuit 2.6x faster than passive ones (q_RTF 0.61 vs 1.60); with the cores
shared with other work, spinning was 6-10x slower (a barrier whose partner thread was
descheduled costs a whole time slice). So wait passively when the machine is already busy
when threads are first used; a value set by the user always wins.

OpenMP reads ``OMP_WAIT_POLICY`` once, when Numba's threading layer loads (the first
``numba.set_num_threads``, ``numba.get_num_threads`` or parallel kernel call). Importing the
package therefore leaves ``os.environ`` unchanged: network construction and the simulators
call ``set_num_threads`` here, which decides first.
"""

from __future__ import annotations

import os

import numba

from neuroaix.checks import check_int

__all__ = ["check_threads", "choose_wait_policy", "set_num_threads"]

_chosen = False


def choose_wait_policy() -> str | None:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` if the machine is busy; decide once per process.

    The machine counts as busy when the one-minute load average exceeds half the cores. A
    value already in the environment (the user's) is kept.

    Returns
    -------
    str or None
        The policy in the environment afterwards (None: OpenMP's default, spinning).
    """
    global _chosen
    if not _chosen:
        _chosen = True
        if "OMP_WAIT_POLICY" not in os.environ:
            try:
                busy = os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1)
            except OSError:  # no load average on this platform
                busy = False
            if busy:
                os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    return os.environ.get("OMP_WAIT_POLICY")


def set_num_threads(threads: int) -> int:
    """Choose the wait policy (first call only), then set Numba's thread count.

    Parameters
    ----------
    threads : int
        Threads for the parallel kernels, clipped to ``[1, NUMBA_NUM_THREADS]``.

    Returns
    -------
    int
        The thread count before the call (to restore it).
    """
    choose_wait_policy()
    old = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    return old


def check_threads(threads) -> int:
    """Return a valid thread count: ``threads``, or all of Numba's threads for None.

    Raises
    ------
    TypeError
        If ``threads`` is not an integer.
    ValueError
        If it lies outside ``[1, NUMBA_NUM_THREADS]``.
    """
    limit = numba.config.NUMBA_NUM_THREADS
    if threads is None:
        return limit
    return check_int("threads", threads, low=1, high=limit,
                     fix="set the environment variable NUMBA_NUM_THREADS before starting "
                         "Python to allow more")
