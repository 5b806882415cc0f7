"""The fixed-point, event-driven simulation engine (Numba)."""

import os

# Partitions synchronise after every step (the minimum delay is one step). With OpenMP's
# default spinning wait, a barrier whose partner thread was descheduled costs a whole time
# slice; measured on a shared 2-core machine, passive waiting was 6-10x faster there and
# no slower unloaded. A value set by the user wins. Must be set before the threading
# layer loads (at the first parallel kernel call).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from neuroaix.engine.simulator import Simulator, spike_hash  # noqa: E402

__all__ = ["Simulator", "spike_hash"]
