"""neuroaix: software twin of a deterministic FPGA spiking-network simulator.

>>> import neuroaix
>>> net = neuroaix.Network(dt=0.1, seed=12345)
>>> exc = net.add_population("E", 800, neuroaix.LIF(), v_init=neuroaix.Normal(-58.0, 5.0))
>>> net.connect(exc, exc, "fixed_indegree", indegree=80, weight=87.81, delay=1.5)  # doctest: +SKIP
>>> sim = neuroaix.Simulator(net.build(partitions=2))                               # doctest: +SKIP
>>> sim.simulate(1000.0)                                                             # doctest: +SKIP
"""

from neuroaix import models
from neuroaix.engine import Simulator, spike_hash
from neuroaix.network import BuiltNetwork, Network, Normal
from neuroaix.neuron import LIF

__all__ = ["LIF", "Network", "Normal", "BuiltNetwork", "Simulator", "spike_hash", "models",
           "__version__"]
__version__ = "0.1.0"
