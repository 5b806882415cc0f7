"""The fixed-point, event-driven simulation engine: ``Simulator`` on its backends.

Backends (neuroaix.engine.backend): the Numba CPU engine (``"cpu"``), the plain-Python
reference (``"reference"``), the GPU (``neuroaix.engine.cuda``) and MPI
(``neuroaix.engine.mpi``). Importing it leaves ``os.environ`` unchanged: the OpenMP wait
policy is chosen when threads are first used (``neuroaix._threads``).
"""

from neuroaix.engine.backend import BACKENDS
from neuroaix.engine.checkpoint import CheckpointError
from neuroaix.engine.simulator import Simulator, spike_hash

__all__ = ["BACKENDS", "CheckpointError", "Simulator", "spike_hash"]
