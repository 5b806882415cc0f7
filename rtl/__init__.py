"""The synapse pipeline of one node in Amaranth (``neuroaix.rtl``), its model and its tools.

- :mod:`~neuroaix.rtl.layouts`: ``data.Struct`` layouts built from :mod:`neuroaix.formats`.
- :mod:`~neuroaix.rtl.synapse_pipeline`: :class:`SynapsePipeline` (II = 1 accumulation).
- :mod:`~neuroaix.rtl.memory`: the behavioural DRAM-like synapse memory and the simulation top.
- :mod:`~neuroaix.rtl.model`: the reference ring buffers and the cycle rule (docs/rtl.md).
- :mod:`~neuroaix.rtl.sim`, :mod:`~neuroaix.rtl.workloads`, :mod:`~neuroaix.rtl.cycles`:
  amaranth.sim runs, deterministic workloads and the calibration cycle counts.
- :mod:`~neuroaix.rtl.generate`, :mod:`~neuroaix.rtl.synth`: Verilog and synthesis.
"""

from neuroaix.rtl.layouts import MemoryWord, SpikeEvent, SynapseWord
from neuroaix.rtl.memory import PipelineWithMemory, SynapseMemory
from neuroaix.rtl.model import PipelineConfig, RingReference, spike_timing
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
]
