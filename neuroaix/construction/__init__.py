"""Network construction: counter-based random streams, count-then-fill packing, the built network.

Layer: above the number contract (``neuroaix.numerics``, ``neuroaix.formats``) and the
description primitives (``neuroaix.neuron``, ``neuroaix.distributions``), below the network
API (``neuroaix.network``) that calls :func:`build_network`, and below every consumer of a
``BuiltNetwork`` (engines, RTL node, emulator). See docs/architecture.md.

- ``connectivity``: projection specifications, delay and weight tables, ``build_synapses``
  (kernels in ``_kernels.py``).
- ``assemble``: ``PopulationSpec`` and ``build_network`` (initial potentials, coefficients,
  Poisson tables, partitions).
- ``built``: ``BuiltNetwork`` and ``Partition``, the interface every consumer reads.
"""

from neuroaix.construction.assemble import PopulationSpec, build_network, default_threads
from neuroaix.construction.built import BuiltNetwork, Partition
from neuroaix.construction.connectivity import RULES, ProjectionSpec, build_synapses

__all__ = ["RULES", "BuiltNetwork", "Partition", "PopulationSpec", "ProjectionSpec",
           "build_network", "build_synapses", "default_threads"]
