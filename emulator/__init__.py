"""Cycle-level emulator of a cluster of neuroAIx-like nodes (``neuroaix.emulator``).

Driven by a spike raster (the engine's actual spikes, step by step) and the synapse counts of
a ``BuiltNetwork``, it returns cycles per step, phase and node, the bottleneck of every step,
q_RTF, the acceleration and the activity counts of the energy model. See docs/emulator.md.
"""

from neuroaix.emulator.clock import Clock
from neuroaix.emulator.config import (
    HardwareConfig,
    LinkConfig,
    MemoryConfig,
    NodeConfig,
    SyncConfig,
    TopologyConfig,
    load_hardware,
)
from neuroaix.emulator.engine import (
    PHASES,
    EmulationResult,
    Emulator,
    counts_from_built,
    targets_from_built,
)
from neuroaix.emulator.link import Link, LinkTiming
from neuroaix.emulator.ddr import MemoryModel
from neuroaix.emulator.node import NodeModel
from neuroaix.emulator.pipeline import PipelineTiming
from neuroaix.emulator.topology import Topology
from neuroaix.emulator.workload import emulate_model, emulate_network

__all__ = [
    "PHASES",
    "Clock",
    "EmulationResult",
    "Emulator",
    "HardwareConfig",
    "Link",
    "LinkConfig",
    "LinkTiming",
    "MemoryConfig",
    "MemoryModel",
    "NodeConfig",
    "NodeModel",
    "PipelineTiming",
    "SyncConfig",
    "Topology",
    "TopologyConfig",
    "counts_from_built",
    "emulate_model",
    "emulate_network",
    "load_hardware",
    "targets_from_built",
]
