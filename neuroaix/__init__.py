"""neuroaix: software twin of a deterministic FPGA spiking-network simulator."""

from neuroaix.neuron import LIF

__all__ = ["LIF", "__version__"]
__version__ = "0.1.0"
