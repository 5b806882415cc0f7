"""The engine's side of a node comparison: the case a node is run on, and raster hashes.

:func:`engine_case` runs the Numba engine on a built network and returns the load image of one
partition, the other partitions' spikes and the partition's raster; :func:`raster_hash` hashes
a raster given per step as the engine does; :func:`node_memory` gives the testbench memory's
timing (a fixed latency, or the emulator's DDR model of a hardware configuration). This
harness imports the engine and the emulator (and Numba).
"""

from __future__ import annotations

import numpy as np

from neuroaix import timing
from neuroaix.checks import check_choice
from neuroaix.emulator.clock import Clock
from neuroaix.emulator.config import HardwareConfig, load_hardware
from neuroaix.emulator.ddr import MemoryModel
from neuroaix.emulator.node import NodeCycles, node_cycles
from neuroaix.engine import Simulator, spike_hash
from neuroaix.rtl.harness.node_image import (
    NodeImage, external_spikes, node_image, node_timing, synapse_banks,
)

__all__ = ["DEFAULT_HARDWARE", "MEMORIES", "emulator_cycles", "engine_case", "memory_record",
           "node_memory", "raster_hash"]

#: The memories a node's testbench can attach: a fixed latency, or the DDR table.
MEMORIES = ("fixed", "ddr")
#: The hardware configuration whose ``[memory]`` table the DDR memory follows by default: the
#: shipped ``configs/neuroaix-35.toml``.
DEFAULT_HARDWARE = "neuroaix-35"


def node_memory(kind: str, config, hardware=DEFAULT_HARDWARE) -> timing.MemoryTiming:
    """Return the timing of the node's memory: ``fixed`` or ``ddr``.

    Parameters
    ----------
    kind : str
        ``"fixed"``: the first word ``config.latency`` cycles after a request
        (:func:`neuroaix.timing.fixed_latency`). ``"ddr"``: the ``[memory]`` table of
        ``hardware`` (``MemoryModel.memory_timing``, requests of at most
        ``config.max_burst`` words) with the period of its ``[node]`` synapse clock
        (``synapse_clock_mhz``, the memory side's clock, as the emulator takes it).
    config : NodeParams
        The node's parameters.
    hardware : str, path or HardwareConfig
        The hardware configuration (``ddr`` only).
    """
    check_choice("memory", kind, MEMORIES)
    if kind == "fixed":
        return timing.fixed_latency(config.latency)
    hw = hardware if isinstance(hardware, HardwareConfig) else load_hardware(hardware)
    period = Clock("synapse", hw.node.synapse_clock_mhz).period_fs
    return MemoryModel(hw.memory).memory_timing(config.max_burst, period)


def memory_record(kind: str, config, hardware=DEFAULT_HARDWARE) -> dict:
    """Return what a result records of the memory it used (only what that memory uses).

    ``{"memory": "fixed", "latency": L}``, or ``{"memory": "ddr", "hardware": NAME,
    "synapse_clock_mhz": F, "period_fs": T}`` with the configuration's name.
    """
    check_choice("memory", kind, MEMORIES)
    if kind == "fixed":
        return {"memory": "fixed", "latency": config.latency}
    hw = hardware if isinstance(hardware, HardwareConfig) else load_hardware(hardware)
    mem = node_memory(kind, config, hw)
    return {"memory": "ddr", "hardware": hw.name,
            "synapse_clock_mhz": hw.node.synapse_clock_mhz, "period_fs": int(mem.period_fs)}


def engine_case(built, partition: int, n_steps: int, **params):
    """Run the engine on a built network; return what a node of ``partition`` needs.

    Parameters
    ----------
    built : BuiltNetwork
        A built network.
    partition : int
        The node's partition.
    n_steps : int
        Steps to run.
    **params
        Node parameters for :func:`node_image`.

    Returns
    -------
    (image, external, expected, engine_counters)
        The load image, the other partitions' spikes per step (None with one partition),
        the engine's raster of the partition per step, and the engine's counters.
    """
    image = node_image(built, partition, **params)
    sim = Simulator(built, threads=1, progress=False)
    sim.run_steps(n_steps)
    senders, steps = sim.spikes()
    P = len(built.partitions)
    mine = (senders % P) == partition
    expected = [np.sort(senders[mine & (steps == t)]).tolist() for t in range(n_steps)]
    external = external_spikes(image, senders, steps, n_steps) if P > 1 else None
    return image, external, expected, sim.counters


def raster_hash(spikes_per_step) -> str:
    """Return ``neuroaix.engine.spike_hash`` of a raster given as spikes per step."""
    senders = [s for step in spikes_per_step for s in step]
    steps = [t for t, step in enumerate(spikes_per_step) for _ in step]
    return spike_hash(np.array(senders, np.int64), np.array(steps, np.int64))


def emulator_cycles(image: NodeImage, external, spikes, memory=None, *,
                    offers=None) -> NodeCycles:
    """Return the emulator's cycles of every step of the node running ``image``.

    The node's cycle rule (``neuroaix.timing.node_step_cycles``, jitted by the emulator) with
    ``memory`` (a ``neuroaix.timing.MemoryTiming`` in the node's clock; default the image's
    fixed latency), the partition's raster ``spikes`` (global ids per step) and the other
    partitions' spikes ``external`` (per step, in the order they are injected; None for a
    single node); ``offers`` the first cycle of each external item and of ``last`` per step
    (``neuroaix.emulator.node.node_cycles``; default all 0).
    """
    if memory is None:
        memory = timing.fixed_latency(image.config.latency)
    local = [[(g - image.gid_base) // image.gid_stride for g in step] for step in spikes]
    return node_cycles(node_timing(image), memory, local,
                       external, image.row_start, image.row_length, synapse_banks(image),
                       offers=offers)
