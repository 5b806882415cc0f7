"""Numba's OpenMP threads: how the per-step barrier waits, set when threads are first used.

Partitions synchronise after every step (the minimum delay is one step), so how a thread
waits at the OpenMP barrier matters. Spinning is fastest while every thread has a core of
its own, and a disaster when the cores are shared with other work (a spinning thread holds
the core that its descheduled partner needs); sleeping at once costs a wake-up per step.
GNU OpenMP's ``GOMP_SPINCOUNT`` bounds the spinning before a thread sleeps: ``SPIN_COUNT``
polls when the cores are free, ``SHARED_SPIN_COUNT`` (spin very briefly, then sleep) when
other work is running right now - judged from the runnable tasks of the moment, sampled a
few times, not the load average, which lags by minutes. Measurements: docs/performance.md.
A policy set by the user (``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT``) always wins.

OpenMP reads these variables once, when Numba's threading layer loads (the first
``numba.set_num_threads``, ``numba.get_num_threads`` or parallel kernel call). Importing the
package therefore leaves ``os.environ`` unchanged: network construction and the simulators
call ``set_num_threads`` here, which decides first.
"""

from __future__ import annotations

import os
import time

import numba

from neuroaix.checks import check_int

__all__ = ["SHARED_SPIN_COUNT", "SPIN_COUNT", "check_threads", "choose_wait_policy",
           "set_num_threads"]

_chosen = False

#: Polls of GNU OpenMP's barrier before a waiting thread sleeps, cores free / shared.
SPIN_COUNT = 10_000
SHARED_SPIN_COUNT = 30


def _others_running() -> int:
    """The fewest runnable tasks besides this one in five samples of ``/proc/loadavg``
    taken 10 ms apart (0 where the file is missing)."""
    fewest = None
    for i in range(5):
        try:
            with open("/proc/loadavg") as fh:
                running = int(fh.read().split()[3].split("/")[0]) - 1
        except (OSError, ValueError, IndexError):
            return 0
        fewest = running if fewest is None else min(fewest, running)
        if fewest <= 0:
            break
        time.sleep(0.01)
    return max(fewest or 0, 0)


def choose_wait_policy() -> str | None:
    """Bound the barrier's spinning (``GOMP_SPINCOUNT``); decide once per process.

    ``SHARED_SPIN_COUNT`` if other tasks were runnable in every sample (at least half as
    many as the cores), else ``SPIN_COUNT``. Kept as it is when the user set
    ``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT``.

    Returns
    -------
    str or None
        ``GOMP_SPINCOUNT`` in the environment afterwards (None: the user chose a policy).
    """
    global _chosen
    if not _chosen:
        _chosen = True
        if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
            shared = _others_running() >= max(1, (os.cpu_count() or 1) // 2)
            os.environ["GOMP_SPINCOUNT"] = str(SHARED_SPIN_COUNT if shared else SPIN_COUNT)
    return os.environ.get("GOMP_SPINCOUNT")


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
