"""The fixed-point, event-driven simulation engine (Numba).

Importing it leaves ``os.environ`` unchanged: the OpenMP wait policy is chosen when threads
are first used (``neuroaix._threads``).
"""

from neuroaix.engine.simulator import Simulator, spike_hash

__all__ = ["Simulator", "spike_hash"]
