"""neuroaix: software twin of a deterministic FPGA spiking-network simulator.

>>> import neuroaix
>>> net = neuroaix.Network(dt=0.1, seed=12345)
>>> exc = net.add_population("E", 800, neuroaix.LIF(), v_init=neuroaix.Normal(-58.0, 5.0))
>>> net.connect(exc, exc, "fixed_indegree", indegree=80, weight=87.81, delay=1.5)  # doctest: +SKIP
>>> sim = neuroaix.Simulator(net.build(partitions=2))                               # doctest: +SKIP
>>> sim.simulate(1000.0)                                                             # doctest: +SKIP

Importing the package is cheap and changes nothing: the names below are loaded on first use
(PEP 562 module ``__getattr__``), so ``import neuroaix.formats`` or ``import neuroaix.rtl``
does not load the engine or Numba.
"""

import importlib

from neuroaix._version import __version__

__all__ = ["LIF", "LIFAlpha", "LIFDelta", "Network", "Normal", "BuiltNetwork", "Simulator", "spike_hash", "models",
           "__version__"]

#: Where each lazily loaded public name lives.
_LAZY = {
    "LIF": "neuroaix.neuron",
    "LIFAlpha": "neuroaix.neuron",
    "LIFDelta": "neuroaix.neuron",
    "Network": "neuroaix.network",
    "Normal": "neuroaix.distributions",
    "BuiltNetwork": "neuroaix.construction.built",
    "Simulator": "neuroaix.engine",
    "spike_hash": "neuroaix.engine",
    "models": None,
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'neuroaix' has no attribute {name!r}")
    where = _LAZY[name]
    value = (importlib.import_module(f"neuroaix.{name}") if where is None
             else getattr(importlib.import_module(where), name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
