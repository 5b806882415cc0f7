"""Memory estimate of a network build, checked before any large allocation.

The build holds the packed synapse words (8 bytes per synapse, ``neuroaix.formats``), two
``[P, N + 1]`` int64 row indexes (row pointers and fill pointers), one ``[T, P, N_pre]`` int64
count array per projection at a time, with P > 1 a write buffer per thread, and a few arrays
per neuron. Nothing else grows with the
number of synapses (docs/networks.md, "Memory").
"""

from __future__ import annotations

import math
from typing import NamedTuple

from neuroaix import formats
from neuroaix.construction.connectivity import WRITE_BUFFER_SYNAPSES

__all__ = ["GIB", "MemoryEstimate", "available_bytes", "check_memory", "estimate_build"]

GIB = float(1 << 30)
#: Fixed allowance for interpreter, Numba and bookkeeping on top of the arrays (bytes).
OVERHEAD_BYTES = 64 << 20
#: Bytes per neuron outside the synapse store (pop_of, v0, partition bookkeeping).
NEURON_BYTES = 64


class MemoryEstimate(NamedTuple):
    """Bytes a build needs, by part, and the expected number of synapses."""

    synapses: int  #: expected synapses (an upper bound for pairwise_bernoulli)
    synapse_bytes: int  #: packed words
    index_bytes: int  #: row pointers and fill pointers
    scratch_bytes: int  #: per-projection chunk counts
    neuron_bytes: int  #: per-neuron arrays and a fixed overhead
    total_bytes: int  #: sum of the above


def available_bytes(meminfo: str = "/proc/meminfo") -> int | None:
    """Return ``MemAvailable`` from ``/proc/meminfo`` in bytes, or None if it is unreadable."""
    try:
        with open(meminfo) as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def estimate_build(*, n_neurons: int, synapses: int, partitions: int, threads: int,
                   max_pre: int) -> MemoryEstimate:
    """Return the memory a build of this size needs.

    Parameters
    ----------
    n_neurons : int
        Total neurons.
    synapses : int
        Expected synapses.
    partitions, threads : int
        Build parameters P and T.
    max_pre : int
        Largest source population of any projection.
    """
    syn = synapses * formats.SYNAPSE_BYTES
    index = 2 * partitions * (n_neurons + 1) * 8
    scratch = 2 * threads * partitions * max_pre * 8
    if partitions > 1:  # per-chunk write buffer (16 bytes) and its ordering (8 bytes)
        scratch += threads * WRITE_BUFFER_SYNAPSES * 24
    neuron = n_neurons * NEURON_BYTES + OVERHEAD_BYTES
    return MemoryEstimate(synapses, syn, index, scratch, neuron, syn + index + scratch + neuron)


def check_memory(estimate: MemoryEstimate, limit_bytes: int | None = None, *,
                 scale: float | None = None, scale_exponent: float = 1.0) -> None:
    """Refuse a build that would not fit.

    Parameters
    ----------
    estimate : MemoryEstimate
        From ``estimate_build``.
    limit_bytes : int or None
        Memory the build may use; None reads ``MemAvailable`` (no check if unreadable).
    scale : float or None
        The model's ``--scale``, if the network came from ``neuroaix.models``; the message
        then names the largest scale that fits.
    scale_exponent : float
        How the memory grows with the scale (1 for the microcircuit, 2 for Brunel's model).

    Raises
    ------
    MemoryError
        With the GiB needed, the GiB available and the scale (or reduction) that would fit.
    """
    source = "memory_limit"
    if limit_bytes is None:
        limit_bytes = available_bytes()
        source = "MemAvailable in /proc/meminfo"
        if limit_bytes is None:
            return
    need = estimate.total_bytes
    if need <= limit_bytes:
        return
    ratio = max(limit_bytes - estimate.neuron_bytes, 0) / max(need - estimate.neuron_bytes, 1)
    if scale is not None and ratio > 0:
        fit = scale * ratio ** (1.0 / scale_exponent)
        digits = max(0, 1 - math.floor(math.log10(fit))) if fit > 0 else 2
        fit = math.floor(fit * 10 ** digits) / 10 ** digits
        fix = f"use --scale {fit:g} or smaller"
    else:
        fix = f"reduce the number of synapses about {1 / max(ratio, 1e-9):.3g}-fold"
    raise MemoryError(
        f"building this network needs about {need / GIB:.2f} GiB ({estimate.synapses:.4g} "
        f"synapses x {formats.SYNAPSE_BYTES} bytes plus indexes), but only "
        f"{limit_bytes / GIB:.2f} GiB are available ({source}); {fix}"
    )
