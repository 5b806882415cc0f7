"""Hardware configuration of an emulated cluster: frozen dataclasses loaded from TOML.

A configuration file has one table per section (``[node]``, ``[memory]``, ``[link]``,
``[topology]``, ``[sync]``) and a few top-level keys (``name``, ``time_step_ms``, ``energy``).
Every section and key is optional and defaults to the neuroAIx cluster (Kauth et al. 2023);
unknown keys are rejected by name with a "did you mean" hint, and every value is validated
with a message naming the key, the bad value and the fix. ``configs/neuroaix-35.toml`` states
the source of each value.

``HardwareConfig.with_value("link.transceiver_ns", 34)`` returns a copy with one dotted key
changed; the ``--sweep`` option of ``neuroaix emulate`` is built on it.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from neuroaix import formats
from neuroaix.checks import (
    check_bool, check_choice, check_fields, check_int, check_number, checked, did_you_mean,
)
from neuroaix.configs import shipped
from neuroaix.timing import RMW_DRAIN, ring_banks

__all__ = [
    "PAPER_EFFICIENCY",
    "DefaultsWarning",
    "HardwareConfig",
    "LinkConfig",
    "MemoryConfig",
    "NodeConfig",
    "SyncConfig",
    "TopologyConfig",
    "load_hardware",
]

#: Usable DDR3 bandwidth (GB/s) against request size (bytes), measured on the neuroAIx node
#: with both channels at 12.12 GB/s peak (Kauth et al. 2023).
PAPER_EFFICIENCY = (
    (64, 0.648), (384, 3.08), (768, 4.98), (1600, 6.28), (3200, 7.87),
    (8000, 9.5), (16000, 10.2), (32000, 10.56), (64000, 10.88),
)


# Validation helpers --------------------------------------------------------------------------


def _number(name: str, value, *, positive: bool = False, minimum: float | None = None) -> float:
    if positive:
        return check_number(name, value, low=0, low_open=True, fix="give a positive number")
    return check_number(name, value, low=minimum, fix="give a larger value")


def _integer(name: str, value, *, minimum: int = 0) -> int:
    return check_int(name, value, low=minimum, fix="give a larger integer")


def _reject_unknown(section: str, data: dict, cls) -> None:
    names = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in names:
            where = f"[{section}]" if section else "the top level"
            raise ValueError(f"unknown key {key!r} in {where}{did_you_mean(key, names)} "
                             f"(known keys: {', '.join(names)})")


# Sections ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeConfig:
    """One node: neuron-update cores, spike dispatcher and synapse pipeline.

    Parameters
    ----------
    model : {"paper", "rtl"}
        Which node times a step (docs/emulator.md, "The step model"). ``paper``: the
        neuroAIx node of the paper (update phase, dispatcher, spikes delivered in order of
        arrival by the synapse pipeline's rule, update independent of delivery). ``rtl``:
        the RTL node's cycle rule (``neuroaix.timing.node_step_cycles``) in one clock of
        ``synapse_clock_mhz`` with ``neuron_cores`` update lanes and ``synapse_lanes``
        lanes, the other nodes' spikes offered in ascending global id no earlier than
        their arrival (``rtl_release``); ``neuron_clock_mhz`` and
        ``neuron_pipeline_depth`` are then unused (the RTL's update has its own stages).
    rtl_release : {"ascending", "markers", "step-start", "arrival"}
        With ``model = "rtl"``: when a spike of another node may be offered to the node's
        merge. ``ascending``: once it has arrived and every other node has shown a larger
        global id or its marker (each node's spikes arrive in ascending id, its marker
        last), ``markers``: the sorted stream once every marker is in, ``step-start``: all
        from the step's first cycle (the RTL benches' streaming; not causal, a bound),
        ``arrival``: the RTL node built with ``merge = "arrival"`` (``NodeParams.merge``),
        taking every spike in order of arrival from its arrival
        (``neuroaix.timing.NodeTiming.arrival_order``; the saturation counters do not depend
        on the order, docs/numerics.md, section 4).
    spike_fifo : int
        With ``model = "rtl"``: depth of the node's local-spike FIFO (the RTL node's
        ``spike_fifo``).
    neuron_cores : int
        Neuron-update cores; each updates one neuron per neuron-clock cycle (II=1).
    neuron_clock_mhz : float
        Neuron-update clock.
    neuron_pipeline_depth : int
        Cycles from a neuron entering a core to its spike leaving it.
    spike_clock_mhz : float
        Spike-handling clock (dispatcher, fetch requests, synapse pipeline).
    dispatcher_spikes_per_cycle : int
        Spikes the dispatcher accepts per spike-clock cycle.
    dispatcher_latency_ns : float
        Latency of the spike dispatcher, from spike to router input and to the local fetch.
    synapse_clock_mhz : float
        Clock of the synapse pipeline (row lookup, requests, unpacker, ring-buffer writes).
    synapse_lanes : int
        Synapses the unpacker issues per synapse-clock cycle (the RTL pipeline: 1).
    synapse_drain : int
        Synapse-clock cycles from a synapse's issue to the cycle after its ring-buffer write
        (default ``neuroaix.timing.RMW_DRAIN``, the RTL's read, add, write).
    max_burst : int
        Most 64-byte words per synapse-memory request.
    fifo_words : int
        Response FIFO depth: most words requested but not yet unpacked.
    """

    model: str = checked(check_choice, "paper", choices=("paper", "rtl"))
    rtl_release: str = checked(check_choice, "ascending",
                               choices=("ascending", "markers", "step-start", "arrival"))
    spike_fifo: int = checked(_integer, 64, minimum=1)
    neuron_cores: int = checked(_integer, 10, minimum=1)
    neuron_clock_mhz: float = checked(_number, 189.393, positive=True)
    neuron_pipeline_depth: int = checked(_integer, 30, minimum=0)
    spike_clock_mhz: float = checked(_number, 92.0, positive=True)
    dispatcher_spikes_per_cycle: int = checked(_integer, 1, minimum=1)
    dispatcher_latency_ns: float = checked(_number, 880.0, minimum=0)
    synapse_clock_mhz: float = checked(_number, 189.393, positive=True)
    synapse_lanes: int = checked(_integer, 8, minimum=1)
    synapse_drain: int = checked(_integer, RMW_DRAIN, minimum=1)
    max_burst: int = checked(_integer, 64, minimum=1)
    fifo_words: int = checked(_integer, 128, minimum=1)

    def __post_init__(self):
        check_fields(self, "node.")
        if self.fifo_words < self.max_burst:
            raise ValueError(f"node.fifo_words must be >= max_burst={self.max_burst!r}, not "
                             f"{self.fifo_words!r}; the FIFO must hold one burst")
        if self.model == "rtl" and ring_banks(self.synapse_lanes, self.neuron_cores) > 63:
            raise ValueError(f"node.synapse_lanes={self.synapse_lanes!r} and neuron_cores="
                             f"{self.neuron_cores!r} need more than 63 ring banks, more than "
                             "the RTL node's rule takes; use at most 32 of each with "
                             "model = \"rtl\"")

    @property
    def merge(self) -> str:
        """The RTL node's merge (``neuroaix.timing.MERGES``) with ``model = "rtl"``:
        ``"arrival"`` for ``rtl_release = "arrival"``, else ``"ascending"``."""
        return "arrival" if self.rtl_release == "arrival" else "ascending"


@dataclass(frozen=True, slots=True, kw_only=True)
class MemoryConfig:
    """The synapse memory (DDR3) of one node.

    Parameters
    ----------
    channels : int
        Memory channels; rows are interleaved over them at the fetch granularity, so they act
        as one memory of ``peak_bandwidth_gbps``.
    peak_bandwidth_gbps : float
        Peak bandwidth of all channels together, GB/s (10**9 bytes per second).
    efficiency : tuple of (int, float)
        Usable bandwidth (GB/s) of one request of a given size (bytes), measured at
        ``efficiency_peak_gbps``; sizes strictly increasing. Scaled by
        ``peak_bandwidth_gbps / efficiency_peak_gbps``; a request's time (size over
        bandwidth) is interpolated linearly in the size between the table's sizes, and
        follows the first or last bandwidth outside them (``MemoryModel``).
    efficiency_peak_gbps : float
        The peak bandwidth at which ``efficiency`` was measured.
    latency_ns : float
        Access latency contained in each measured request time; with ``prefetch`` it overlaps
        the previous request's transfer.
    prefetch : bool
        Issue the next request while the current one transfers (hides the latency).
    capacity_gb : float
        Synapse memory per node (GB); bounds the synapses a node can store.

    The fetch granularity and the bytes of a synapse are format facts (``fetch_bytes``,
    ``synapse_bytes``, read from ``neuroaix.formats``); a file may state them only with
    those values.
    """

    channels: int = checked(_integer, 2, minimum=1)
    peak_bandwidth_gbps: float = checked(_number, 12.12, positive=True)
    efficiency: tuple = PAPER_EFFICIENCY
    efficiency_peak_gbps: float = checked(_number, 12.12, positive=True)
    latency_ns: float = checked(_number, 93.48, minimum=0)
    prefetch: bool = checked(check_bool, True)
    capacity_gb: float = checked(_number, 8.0, positive=True)

    def __post_init__(self):
        check_fields(self, "memory.")
        table = self.efficiency
        if not isinstance(table, (tuple, list)) or len(table) == 0:
            raise ValueError(f"memory.efficiency must be a non-empty list of [bytes, GB/s] "
                             f"pairs, not {table!r}")
        rows = []
        for row in table:
            if not isinstance(row, (tuple, list)) or len(row) != 2:
                raise ValueError(f"memory.efficiency entries must be [bytes, GB/s] pairs, "
                                 f"not {row!r}")
            size = _integer("memory.efficiency size", row[0], minimum=1)
            gbps = _number("memory.efficiency bandwidth", row[1], positive=True)
            if gbps > self.efficiency_peak_gbps:
                raise ValueError(f"memory.efficiency bandwidth {gbps!r} exceeds "
                                 f"efficiency_peak_gbps={self.efficiency_peak_gbps!r}; "
                                 "measured bandwidth cannot exceed the peak")
            rows.append((size, float(gbps)))
        sizes = [r[0] for r in rows]
        if any(b <= a for a, b in zip(sizes, sizes[1:])):
            raise ValueError(f"memory.efficiency sizes must increase strictly, not {sizes!r}")
        object.__setattr__(self, "efficiency", tuple(rows))

    @property
    def fetch_bytes(self) -> int:
        """Fetch granularity, one memory word (``neuroaix.formats.MEMORY_WORD_BYTES``)."""
        return formats.MEMORY_WORD_BYTES

    @property
    def synapse_bytes(self) -> int:
        """Bytes of one stored synapse word (``neuroaix.formats.SYNAPSE_BYTES``)."""
        return formats.SYNAPSE_BYTES


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkConfig:
    """The inter-node links and routers.

    Parameters
    ----------
    bandwidth_gbps : float
        Payload bandwidth of one link direction, Gbit/s.
    flit_bits : int
        Flit width; a link carries one flit at a time.
    packet_bits : int
        Bits of one spike packet (rounded up to whole flits).
    router_ns, cdc_ns : float
        Router and clock-domain-crossing latency paid where a packet leaves its source (and
        at a turn with ``topology.turn = "full-hop"``).
    transceiver_ns : float
        Transceiver (serialiser, deserialiser) latency of one link.
    cable_ns : float
        Cable propagation delay of one link.
    extra_hop_ns : float
        Latency of each hop after the first (a ring step through a relay node, and a turn
        with ``topology.turn = "extra-hop"``), measured from departure to arrival; at least
        the flit serialisation time.
    """

    bandwidth_gbps: float = checked(_number, 5.82, positive=True)
    flit_bits: int = checked(_integer, 128, minimum=1)
    packet_bits: int = checked(_integer, 64, minimum=1)
    router_ns: float = checked(_number, 43.0, minimum=0)
    cdc_ns: float = checked(_number, 60.0, minimum=0)
    transceiver_ns: float = checked(_number, 600.0, minimum=0)
    cable_ns: float = checked(_number, 17.0, minimum=0)
    extra_hop_ns: float = checked(_number, 309.0, minimum=0)

    def __post_init__(self):
        check_fields(self, "link.")
        ser_ns = self.flits_per_packet * self.flit_bits / self.bandwidth_gbps
        if self.extra_hop_ns < ser_ns:
            raise ValueError(f"link.extra_hop_ns must be at least the packet serialisation "
                             f"time {ser_ns:.3f} ns, not {self.extra_hop_ns!r}; raise it")

    @property
    def flits_per_packet(self) -> int:
        """Flits of one spike packet."""
        return -(-self.packet_bits // self.flit_bits)


@dataclass(frozen=True, slots=True, kw_only=True)
class TopologyConfig:
    """The node grid, the multicast scheme and the neuron-to-node mapping.

    Parameters
    ----------
    shape : tuple of int
        Grid extent per dimension (1 to 3 dimensions); nodes are numbered row-major.
    kind : {"torus", "mesh"}
        Torus: every dimension is a ring; mesh: a line.
    long_hops : tuple of (int, int)
        Extra bidirectional links between node pairs. With long hops the multicast follows a
        breadth-first tree over all links instead of dimension order.
    multicast : {"dimension-ordered", "unicast"}
        Dimension-ordered: a tree that covers dimension 0 first, then from every node reached
        dimension 1, and so on (on the 5 x 7 grid: first the row and column, then the other
        24 nodes). Unicast: one packet per destination along its dimension-ordered path.
    mapping : {"round-robin"}
        Neuron ``gid`` lives on node ``gid % nodes`` (docs/architecture.md).
    turn : {"extra-hop", "full-hop"}
        What a packet pays where a relay node forwards it into the next dimension of the
        grid. ``extra-hop``: the extra hop delay (``link.extra_hop_ns``), as a ring step
        through the node. ``full-hop``: router and clock-domain crossing, then a hop with
        serialisation, transceiver and cable, as where it leaves its source.
    """

    shape: tuple = (5, 7)
    kind: str = checked(check_choice, "torus", choices=("torus", "mesh"))
    long_hops: tuple = ()
    multicast: str = checked(check_choice, "dimension-ordered",
                             choices=("dimension-ordered", "unicast"))
    mapping: str = checked(check_choice, "round-robin", choices=("round-robin",))
    turn: str = checked(check_choice, "extra-hop", choices=("extra-hop", "full-hop"))

    def __post_init__(self):
        shape = self.shape
        if not isinstance(shape, (tuple, list)) or not 1 <= len(shape) <= 3:
            raise ValueError(f"topology.shape must list 1 to 3 grid extents, not {shape!r}; "
                             "use e.g. [5, 7]")
        for n in shape:
            _integer("topology.shape entry", n, minimum=1)
        object.__setattr__(self, "shape", tuple(shape))
        check_fields(self, "topology.")
        hops = []
        n_nodes = self.n_nodes
        for pair in self.long_hops:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(f"topology.long_hops entries must be [node, node] pairs, "
                                 f"not {pair!r}")
            a = _integer("topology.long_hops node", pair[0])
            b = _integer("topology.long_hops node", pair[1])
            if a >= n_nodes or b >= n_nodes or a == b:
                raise ValueError(f"topology.long_hops pair {list(pair)!r} must name two "
                                 f"different nodes in [0, {n_nodes})")
            hops.append((a, b))
        object.__setattr__(self, "long_hops", tuple(hops))

    @property
    def n_nodes(self) -> int:
        """Number of nodes, the product of ``shape``."""
        return math.prod(self.shape)


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncConfig:
    """Step synchronisation.

    Parameters
    ----------
    scheme : {"marker", "barrier"}
        ``marker``: after its last spike of a step every node multicasts an end-of-step
        marker along the spike paths (links keep order), and a node has the step's traffic
        when it holds the markers of all nodes. ``barrier``: no markers; the step ends when
        the last ring-buffer write of the cluster completes plus ``barrier_ns``.
    barrier_ns : float
        Latency from the end of the step's last ring-buffer write to the start of the next
        neuron update.
    """

    scheme: str = checked(check_choice, "marker", choices=("marker", "barrier"))
    barrier_ns: float = checked(_number, 0.0, minimum=0)

    def __post_init__(self):
        check_fields(self, "sync.")


#: Keys that state a format fact: (section, key) -> (name in neuroaix.formats, the key it
#: follows in ``to_dict``). A file or ``with_value`` may give them only with that value.
_FORMAT_KEYS = {
    ("memory", "fetch_bytes"): ("MEMORY_WORD_BYTES", "latency_ns"),
    ("memory", "synapse_bytes"): ("SYNAPSE_BYTES", "fetch_bytes"),
}


def _drop_format_keys(section: str, data: dict) -> dict:
    """Return ``data`` without its format keys, each checked against ``neuroaix.formats``."""
    out = dict(data)
    for (sec, key), (name, _) in _FORMAT_KEYS.items():
        if sec == section and key in out:
            value = out.pop(key)
            fixed = getattr(formats, name)
            if isinstance(value, bool) or value != fixed:
                raise ValueError(f"{section}.{key} is fixed by the synapse word format "
                                 f"(neuroaix.formats.{name} = {fixed}), not {value!r}; "
                                 "remove the key")
    return out


def _with_format_keys(section: str, sec, data: dict) -> dict:
    """Return ``data`` with the section's format keys inserted where ``to_dict`` lists them."""
    for (s, key), (_, after) in _FORMAT_KEYS.items():
        if s == section:
            items = list(data.items())
            at = [k for k, _ in items].index(after) + 1
            data = dict(items[:at] + [(key, getattr(sec, key))] + items[at:])
    return data


_SECTIONS = {
    "node": NodeConfig,
    "memory": MemoryConfig,
    "link": LinkConfig,
    "topology": TopologyConfig,
    "sync": SyncConfig,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class HardwareConfig:
    """A cluster: its sections, the time step and an optional energy-model file.

    Parameters
    ----------
    name : str
        Label used in reports.
    time_step_ms : float
        Simulation time step h in ms (sets q_RTF and the acceleration).
    energy : str or None
        Energy-model file, a path relative to the configuration file (kept as written).
    node, memory, link, topology, sync
        The sections (see their classes).
    source : str or None
        The file the configuration was loaded from (set by ``load_hardware``).
    """

    name: str = "neuroaix-35"
    time_step_ms: float = 0.1
    energy: str | None = None
    node: NodeConfig = field(default_factory=NodeConfig)
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    link: LinkConfig = field(default_factory=LinkConfig)
    topology: TopologyConfig = field(default_factory=TopologyConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    source: str | None = None

    def __post_init__(self):
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a string, not {self.name!r}")
        _number("time_step_ms", self.time_step_ms, positive=True)
        if self.energy is not None and not isinstance(self.energy, str):
            raise TypeError(f"energy must be a file name (string), not {self.energy!r}")
        for key, cls in _SECTIONS.items():
            if not isinstance(getattr(self, key), cls):
                raise TypeError(f"{key} must be a {cls.__name__}, not {getattr(self, key)!r}")
        if self.node.model == "rtl" and self.sync.scheme != "marker":
            raise ValueError(f"node.model = \"rtl\" needs sync.scheme = \"marker\", not "
                             f"{self.sync.scheme!r}: the RTL node ends its step on the "
                             "`last` marker of the other nodes' spikes")

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return self.topology.n_nodes

    @property
    def energy_path(self) -> Path | None:
        """The energy-model file resolved against the configuration file's folder."""
        if self.energy is None:
            return None
        base = Path(self.source).parent if self.source else Path.cwd()
        return base / self.energy

    @classmethod
    def from_dict(cls, data: dict, *, source: str | None = None) -> HardwareConfig:
        """Build a configuration from a parsed TOML document.

        Raises
        ------
        ValueError
            For unknown keys (named, with a hint) and invalid values.
        TypeError
            For values of the wrong type.
        """
        if not isinstance(data, dict):
            raise TypeError(f"configuration must be a table, not {data!r}")
        top_keys = ("name", "time_step_ms", "energy", *_SECTIONS)
        for key in data:
            if key not in top_keys:
                raise ValueError(f"unknown key {key!r} at the top level"
                                 f"{did_you_mean(key, top_keys)} "
                                 f"(known keys: {', '.join(top_keys)})")
        kwargs = {k: data[k] for k in ("name", "time_step_ms", "energy") if k in data}
        for key, section_cls in _SECTIONS.items():
            sub = data.get(key, {})
            if not isinstance(sub, dict):
                raise TypeError(f"[{key}] must be a table, not {sub!r}")
            sub = _drop_format_keys(key, sub)
            _reject_unknown(key, sub, section_cls)
            kwargs[key] = section_cls(**sub)
        return cls(**kwargs, source=source)

    def to_dict(self) -> dict:
        """Return the configuration as plain data (TOML-shaped, JSON-serialisable)."""
        out = {"name": self.name, "time_step_ms": self.time_step_ms, "energy": self.energy}
        for key in _SECTIONS:
            sec = getattr(self, key)
            values = {f.name: _plain(getattr(sec, f.name)) for f in dataclasses.fields(sec)}
            out[key] = _with_format_keys(key, sec, values)
        return out

    def with_value(self, key: str, value) -> HardwareConfig:
        """Return a copy with one dotted key (``"link.transceiver_ns"``) set to ``value``.

        Raises
        ------
        ValueError
            If the key is unknown (with a hint) or the value invalid.
        """
        if not isinstance(key, str):
            raise TypeError(f"key must be a dotted string like 'link.transceiver_ns', "
                            f"not {key!r}")
        parts = key.split(".")
        if len(parts) == 1:
            if parts[0] not in ("time_step_ms", "energy", "name"):
                known = [f"{s}.{f.name}" for s, c in _SECTIONS.items()
                         for f in dataclasses.fields(c)]
                raise ValueError(f"unknown key {key!r}{did_you_mean(key, known)}")
            return dataclasses.replace(self, **{parts[0]: value})
        if len(parts) != 2 or parts[0] not in _SECTIONS:
            raise ValueError(f"unknown section in key {key!r}"
                             f"{did_you_mean(parts[0], _SECTIONS)} "
                             f"(sections: {', '.join(_SECTIONS)})")
        section, name = parts
        sec = getattr(self, section)
        if not _drop_format_keys(section, {name: value}):
            return self
        _reject_unknown(section, {name: value}, type(sec))
        return dataclasses.replace(self, **{section: dataclasses.replace(sec, **{name: value})})


def _plain(value):
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


class DefaultsWarning(UserWarning):
    """A hardware configuration file leaves out a section, whose defaults are used."""


def load_hardware(path) -> HardwareConfig:
    """Load a hardware configuration from a TOML file.

    Parameters
    ----------
    path : str or os.PathLike
        The TOML file, or the name of a shipped configuration (``neuroaix-35``).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not valid TOML, has no name, or for unknown keys and invalid values
        (the message names the file).

    Warns
    -----
    DefaultsWarning
        For each section the file leaves out (its defaults are used).
    """
    p = Path(path)
    if not p.is_file() and p.parent == Path("."):
        p = shipped(p.name) or p
    if not p.is_file():
        raise FileNotFoundError(f"hardware configuration {str(p)!r} does not exist; "
                                "pass e.g. configs/neuroaix-35.toml")
    try:
        data = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{p}: not valid TOML: {exc}") from None
    try:
        config = HardwareConfig.from_dict(data, source=str(p))
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{p}: {exc}") from None
    if "name" not in data:  # the default name would claim a configuration it is not
        raise ValueError(f"{p}: no name; a hardware configuration names itself (name = "
                         "\"...\" at the top; configs/neuroaix-35.toml is a complete one)")
    missing = [f"[{k}]" for k in _SECTIONS if k not in data]
    if missing:
        warnings.warn(f"{p}: no {', '.join(missing)}: the defaults of neuroaix.emulator "
                      f"(a neuroAIx node) are used for {'them' if len(missing) > 1 else 'it'}",
                      DefaultsWarning, stacklevel=2)
    return config
