"""The fixed-point, event-driven simulation engine (Numba)."""

from neuroaix.engine.simulator import Simulator, spike_hash

__all__ = ["Simulator", "spike_hash"]
