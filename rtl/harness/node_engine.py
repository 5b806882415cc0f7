"""The engine's side of a node comparison: the case a node is run on, and raster hashes.

:func:`engine_case` runs the Numba engine on a built network and returns the load image of one
partition, the other partitions' spikes and the partition's raster; :func:`raster_hash` hashes
a raster given per step as the engine does. This harness imports the engine (and Numba).
"""

from __future__ import annotations

import numpy as np

from neuroaix import timing
from neuroaix.emulator.node import NodeCycles, node_cycles
from neuroaix.engine import Simulator, spike_hash
from neuroaix.rtl.harness.node_image import (
    NodeImage, external_spikes, node_image, node_timing, synapse_banks,
)

__all__ = ["emulator_cycles", "engine_case", "raster_hash"]


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
