"""The fixed-point, event-driven simulation engine (Numba)."""

import os

# Partitions synchronise after every step (the minimum delay is one step), so the OpenMP
# barrier's waiting policy matters. Measured on a 2-core machine: idle, spinning waits made
# the scale-0.1 microcircuit 2.6x faster than passive ones (q_RTF 0.61 vs 1.60); with the
# cores shared with other work, spinning was 6-10x slower (a barrier whose partner thread
# was descheduled costs a whole time slice). So wait passively when the machine is already
# busy at start-up; a value set by the user always wins. Must be decided before the
# threading layer loads (at the first parallel kernel call).
if "OMP_WAIT_POLICY" not in os.environ:
    try:
        _busy = os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1)
    except OSError:  # no load average on this platform
        _busy = False
    if _busy:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

from neuroaix.engine.simulator import Simulator, spike_hash  # noqa: E402

__all__ = ["Simulator", "spike_hash"]
