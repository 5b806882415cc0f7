"""Parameters of the RTL blocks, and the size of a neuroAIx node (plain Python, no HDL).

:class:`PipelineConfig` sizes one synapse pipeline with its behavioural memory,
:class:`NodeParams` one node (neuron update, background input and pipeline).
:data:`NEUROAIX_NODE` is the one definition of a neuroAIx node's size; the pipeline's share of
it is ``NEUROAIX_NODE.pipeline()``. :data:`MAX_RING_DEPTH` and :data:`MIN_LATENCY` bound the
parameters that the hardware blocks accept.
"""

from __future__ import annotations

import dataclasses
import tomllib

from neuroaix import formats
from neuroaix.checks import check_choice, check_fields, check_int, checked
from neuroaix.configs import shipped
from neuroaix.timing import MERGES

__all__ = [
    "MAX_RING_DEPTH",
    "MIN_LATENCY",
    "PipelineConfig",
    "NodeParams",
    "NEUROAIX_NODE",
]

#: Largest ring depth: one more than the largest delay a synapse word can hold, rounded up to
#: a power of two.
MAX_RING_DEPTH = 1 << formats.MAX_DELAY_STEPS.bit_length()
#: Smallest latency (cycles from request handshake to the first response word) of the
#: behavioural synapse memory.
MIN_LATENCY = 2


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PipelineConfig:
    """Parameters of one synapse pipeline with its memory (see ``SynapsePipeline``).

    Attributes
    ----------
    n_neurons : int
        Neurons of the node.
    ring_depth : int
        Ring-buffer slots D (power of two).
    n_sources : int
        Row-pointer entries.
    memory_words : int
        Synapse memory depth in 64-byte words.
    max_burst : int
        Most words per memory request (B).
    fifo_words : int
        Response FIFO depth and word credit (C).
    latency : int
        Memory latency: cycles from a request handshake to its first word (L).
    """

    n_neurons: int = checked(check_int, low=1)
    ring_depth: int = checked(check_int, low=1)
    n_sources: int = checked(check_int, low=1)
    memory_words: int = checked(check_int, low=1)
    max_burst: int = checked(check_int, 8, low=1)
    fifo_words: int = checked(check_int, 64, low=1)
    latency: int = checked(check_int, 32, low=1)

    def __post_init__(self):
        check_fields(self)
        d = self.ring_depth
        if d < 2 or d > MAX_RING_DEPTH or d & (d - 1):
            raise ValueError(
                f"ring_depth must be a power of two in [2, {MAX_RING_DEPTH}], not {d!r}"
            )
        if self.fifo_words < self.max_burst:
            raise ValueError(
                f"fifo_words must be >= max_burst={self.max_burst!r}, not "
                f"{self.fifo_words!r}; the response FIFO must hold one burst"
            )
        check_int("latency", self.latency, low=MIN_LATENCY)

    def to_dict(self) -> dict:
        """Return the parameters as a plain dict (JSON order)."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class NodeParams:
    """Parameters of a node (:class:`~neuroaix.rtl.hw.node.Node`) and its fixed-latency memory.

    Attributes
    ----------
    n_neurons, n_populations, ring_depth, n_sources, memory_words : int
        Capacities (see :class:`~neuroaix.rtl.hw.node.Node`).
    max_burst, fifo_words, spike_fifo : int
        Pipeline and FIFO parameters.
    latency : int
        Latency of the testbench's fixed-latency memory (``--memory fixed``); not a
        parameter of the node itself.
    synapse_lanes, update_lanes : int
        Ring-buffer updates and neuron updates per cycle (L, U).
    merge : str
        The merge of local and external spikes, one of :data:`neuroaix.timing.MERGES`
        (``"ascending"`` or ``"arrival"``): the RTL's generation (``Node(merge=)``) and its
        cycle rule (``NodeTiming.arrival_order``) both read it.
    """

    n_neurons: int
    n_populations: int
    ring_depth: int
    n_sources: int
    memory_words: int
    max_burst: int = 8
    fifo_words: int = 64
    spike_fifo: int = 16
    latency: int = 32
    synapse_lanes: int = 1
    update_lanes: int = 1
    merge: str = "ascending"

    def __post_init__(self):
        check_choice("merge", self.merge, MERGES)

    def to_dict(self) -> dict:
        """Return the fields as a dict."""
        return dataclasses.asdict(self)

    def pipeline(self) -> PipelineConfig:
        """Return the parameters of the node's synapse pipeline with its memory."""
        fields = self.to_dict()
        for name in ("n_populations", "spike_fifo", "synapse_lanes", "update_lanes", "merge"):
            del fields[name]
        return PipelineConfig(**fields)


def _shipped_lanes(name: str = "neuroaix-35") -> tuple[int, int, int]:
    """Return ``(synapse_lanes, neuron_cores, spike_fifo)`` of a shipped configuration."""
    node = tomllib.loads(shipped(name).read_text())["node"]
    return int(node["synapse_lanes"]), int(node["neuron_cores"]), int(node["spike_fifo"])


_LANES, _CORES, _SPIKE_FIFO = _shipped_lanes()

#: A neuroAIx node: about 2,205 neurons of the 8 microcircuit populations, D = 64 slots
#: (delays up to 63 steps), the microcircuit's 77,169 sources, 2**20 memory words (64 MiB of
#: synapses).
#: Its synapse lanes, update lanes and local-spike FIFO are ``synapse_lanes``,
#: ``neuron_cores`` and ``spike_fifo`` of the ``[node]`` section of
#: ``configs/neuroaix-35.toml``, the configuration the emulator runs.
NEUROAIX_NODE = NodeParams(n_neurons=2205, n_populations=8, ring_depth=64, n_sources=77169,
                           memory_words=1 << 20, max_burst=8, fifo_words=64,
                           spike_fifo=_SPIKE_FIFO, latency=40, synapse_lanes=_LANES,
                           update_lanes=_CORES)
