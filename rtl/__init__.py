"""One neuroaix node in Amaranth (``neuroaix.rtl``): its hardware blocks, their parameters and
reference model, and (in :mod:`neuroaix.rtl.harness`) what drives and measures them.

Layout (docs/rtl.md):

- :mod:`neuroaix.rtl.hw`: the hardware blocks, Amaranth components and nothing else:
  :mod:`~neuroaix.rtl.hw.layouts` (``data.Struct`` layouts built from :mod:`neuroaix.formats`),
  :mod:`~neuroaix.rtl.hw.synapse_pipeline` (:class:`SynapsePipeline`, II = 1 accumulation),
  :mod:`~neuroaix.rtl.hw.synapse_memory` (the behavioural DRAM-like synapse memory and the
  pipeline's simulation top), :mod:`~neuroaix.rtl.hw.neuron_update`,
  :mod:`~neuroaix.rtl.hw.background` and :mod:`~neuroaix.rtl.hw.node` (docs/rtl_node.md).
- :mod:`neuroaix.rtl.params`: the blocks' parameters and the neuroAIx node size (plain Python).
- :mod:`neuroaix.rtl.model`: the reference ring buffers and the cycle rule (plain Python, no
  HDL).
- :mod:`neuroaix.rtl.harness`: amaranth.sim drivers, workloads, the calibration cycle counts,
  Verilog generation, synthesis, the Verilator builds and the cocotb benches. Harnesses that
  compare with the engine import it (and Numba); this package and :mod:`neuroaix.rtl.hw` do
  not.
"""

from neuroaix.rtl.hw.background import BackgroundUnit
from neuroaix.rtl.hw.layouts import MemoryWord, SpikeEvent, SynapseWord
from neuroaix.rtl.hw.neuron_update import NeuronUpdate
from neuroaix.rtl.hw.node import Node
from neuroaix.rtl.hw.synapse_memory import PipelineWithMemory, SynapseMemory
from neuroaix.rtl.hw.synapse_pipeline import RingValues, SynapsePipeline
from neuroaix.rtl.model import RingReference, spike_timing
from neuroaix.rtl.params import NEUROAIX_NODE, NodeParams, PipelineConfig

__all__ = [
    "SynapseWord",
    "SpikeEvent",
    "MemoryWord",
    "RingValues",
    "SynapsePipeline",
    "SynapseMemory",
    "PipelineWithMemory",
    "PipelineConfig",
    "NodeParams",
    "NEUROAIX_NODE",
    "RingReference",
    "spike_timing",
    "NeuronUpdate",
    "BackgroundUnit",
    "Node",
]
