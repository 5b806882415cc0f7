"""Memory estimate of a network build, checked before any large allocation.

The build holds the packed synapse words (8 bytes per synapse, ``neuroaix.formats``), two
``[P, N + 1]`` int64 row indexes (row pointers and fill pointers), one ``[T, P, N_pre]`` int64
count array per projection at a time, a write buffer per thread, and a few arrays
per neuron. Nothing else grows with the
number of synapses (docs/networks.md, "Memory").
"""

from __future__ import annotations

import math
import os
import resource
import warnings
from typing import NamedTuple

from neuroaix import formats
from neuroaix.construction.connectivity import WRITE_BUFFER_SYNAPSES

__all__ = ["GIB", "MemoryEstimate", "PartitionWarning", "available_bytes", "cgroup_bytes",
           "check_memory", "check_partitions", "estimate_build", "memory_limit"]

#: Partitions per thread beyond which a build warns (each step visits every partition).
PARTITIONS_PER_THREAD = 64


class PartitionWarning(UserWarning):
    """More partitions than neurons, or far more than threads: costly and no faster."""


def check_partitions(*, n_neurons: int, partitions: int, threads: int) -> None:
    """Warn, with the cost, when ``partitions`` exceeds the neurons or far exceeds threads.

    Parameters
    ----------
    n_neurons : int
        Neurons of the network.
    partitions, threads : int
        Build parameters P and T.

    Warns
    -----
    PartitionWarning
        If P > N (partitions without a neuron) or P > ``PARTITIONS_PER_THREAD`` x T.
    """
    index = 2 * partitions * (n_neurons + 1) * 8
    cost = (f"the row indexes alone take {index / GIB:.2f} GiB ({partitions} x "
            f"{n_neurons + 1} x 16 bytes) and every step visits every partition")
    if partitions > n_neurons:
        warnings.warn(f"--partitions {partitions} exceeds the {n_neurons} neurons: "
                      f"{partitions - n_neurons} partitions own no neuron; {cost}; the raster "
                      f"is the same with --partitions {min(n_neurons, threads)}",
                      PartitionWarning, stacklevel=2)
    elif partitions > PARTITIONS_PER_THREAD * threads:
        warnings.warn(f"--partitions {partitions} is {partitions // threads} per thread "
                      f"({threads} thread{'s' if threads != 1 else ''}); {cost}; the raster "
                      f"is the same with --partitions {threads}", PartitionWarning,
                      stacklevel=2)

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


def _read_int(path: str) -> int | None:
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # "max" (no limit) reads as None


def _status_bytes(key: str, status: str) -> int:
    """Return a ``kB`` field of ``/proc/self/status`` in bytes (0 if unreadable)."""
    try:
        with open(status) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cgroup_bytes(proc_cgroup: str = "/proc/self/cgroup",
                 root: str = "/sys/fs/cgroup") -> int | None:
    """Return the memory this process's cgroup still allows (limit minus usage), or None.

    Reads cgroup v2 (``memory.max``, ``memory.current``) and v1 (``memory.limit_in_bytes``,
    ``memory.usage_in_bytes``), at the process's cgroup path below ``root`` or at ``root``
    itself (the view inside a container).

    Parameters
    ----------
    proc_cgroup : str
        The process's cgroup membership file.
    root : str
        Mount point of the cgroup file systems.
    """
    try:
        with open(proc_cgroup) as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    found = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":  # v2
            names, bases = ("memory.max", "memory.current"), [root]
        elif "memory" in controllers.split(","):  # v1
            names = ("memory.limit_in_bytes", "memory.usage_in_bytes")
            bases = [os.path.join(root, "memory")]
        else:
            continue
        for base in bases:
            for folder in (os.path.join(base, path.lstrip("/")), base):
                limit = _read_int(os.path.join(folder, names[0]))
                if limit is not None and limit < 1 << 60:  # v1 writes "no limit" as ~2^63
                    used = _read_int(os.path.join(folder, names[1])) or 0
                    found.append(max(limit - used, 0))
                    break
    return min(found) if found else None


def memory_limit(*, meminfo: str = "/proc/meminfo", status: str = "/proc/self/status",
                 proc_cgroup: str = "/proc/self/cgroup",
                 root: str = "/sys/fs/cgroup") -> tuple[int, str] | None:
    """Return the memory a build may still use and what sets it, or None if nothing is known.

    The smallest of ``MemAvailable``, the cgroup's limit less its usage, and the room left
    under the address-space and data-segment ulimits (``RLIMIT_AS`` less ``VmSize``,
    ``RLIMIT_DATA`` less ``VmData``).

    Parameters
    ----------
    meminfo, status, proc_cgroup, root : str
        Where the kernel reports them (``/proc`` and ``/sys/fs/cgroup``).

    Returns
    -------
    (int, str) or None
        Bytes, and the source in words (``"the cgroup memory limit"``).
    """
    found = []
    avail = available_bytes(meminfo)
    if avail is not None:
        found.append((avail, "MemAvailable in /proc/meminfo"))
    cg = cgroup_bytes(proc_cgroup, root)
    if cg is not None:
        found.append((cg, "the cgroup memory limit"))
    for name, field in (("RLIMIT_AS", "VmSize"), ("RLIMIT_DATA", "VmData")):
        soft, _ = resource.getrlimit(getattr(resource, name))
        if soft != resource.RLIM_INFINITY:
            room = max(soft - _status_bytes(field, status), 0)
            found.append((room, f"ulimit {name} ({soft / GIB:.2f} GiB, {field} used)"))
    return min(found) if found else None


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
    scratch += threads * WRITE_BUFFER_SYNAPSES * 24  # per-chunk write buffer and its order
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
        Memory the build may use; None reads ``memory_limit()`` (``MemAvailable``, cgroup
        and ulimits; no check if none is readable).
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
        known = memory_limit()
        if known is None:
            return
        limit_bytes, source = known
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
