"""Whole-brain projection: nodes, acceleration and power of a neuroAIx-style cluster.

In the spirit of Igarashi 2024 (when does hardware reach a whole mouse, marmoset, human
brain?), this scales the cluster of a hardware configuration to a species' neuron and synapse
counts, keeping its architecture: every spike is multicast to every node, each node stores the
synapses of its own neurons in its synapse memory and fetches, for every arriving spike, the
local part of the sender's row.

Bounds, for ``N`` nodes (every quantity per biological second unless stated):

memory
    ``N >= S * synapse_bytes / memory_per_node``.
bandwidth
    A node fetches, per spike, ``k`` local synapses with ``k ~ Poisson(K_out / N)``, rounded up
    to whole ``fetch_bytes`` bursts; empty rows cost nothing. The usable bandwidth of one
    request follows the measured efficiency table (log-linear in the request size). So
    ``A_bw = N * B(request) / (R_spk * E[bytes fetched per spike and node] * N)``.
neuron update
    One step's updates take ``(n / N) / (cores * f_neuron)``: ``A_upd = h * N * cores *
    f_neuron / n``.
spike intake
    Every node takes in every spike (all-to-all multicast) at ``f_spike`` spikes per second:
    ``A_spk = f_spike * spikes_per_cycle / R_spk``, independent of ``N``.
link
    In the multicast tree every node receives every spike over one link: ``A_link =
    link_packets_per_second / R_spk``.
latency
    A step cannot be shorter than a spike's worst-case path through a square torus of ``N``
    nodes, as the emulator times it: dispatcher, router and clock crossing, serialisation,
    transceiver and cable of the first hop, the extra hop delay of every further hop (with
    ``turn = "full-hop"`` each turn into the next dimension is a first hop again) and the
    destination's router.

The acceleration is the smallest of these; the power is ``N * P_static`` plus the dynamic
energy per biological second (energy parameters of the platform) times the acceleration.
Firing rate and out-degree come from the microcircuit (Potjans & Diesmann 2014) unless given.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from neuroaix.emulator import HardwareConfig, load_hardware
from neuroaix.emulator.link import LinkTiming
from neuroaix.emulator.ddr import MemoryModel

from neuroaix import formats
from neuroaix.activity import Activity
from neuroaix.checks import check_choice, check_number
from neuroaix.energy.config import EnergyConfig

__all__ = [
    "MICROCIRCUIT_RATE_HZ",
    "SPECIES",
    "BrainProjection",
    "ProjectionHardware",
    "Species",
    "calibrate",
    "load_projection_hardware",
    "project_brain",
]

#: Mean firing rate of the microcircuit: ~2.5e5 spikes/s over 77,169 neurons (3.24 Hz).
MICROCIRCUIT_RATE_HZ = 2.5e5 / 77_169


@dataclass(frozen=True, slots=True, kw_only=True)
class Species:
    """Neuron and synapse counts of one brain, with sources.

    Attributes
    ----------
    name : str
        Species.
    neurons : float
        Neurons in the whole brain.
    synapses_low, synapses_high : float
        Range of the whole-brain synapse count.
    neurons_source, synapses_source : str
        Where the numbers come from.
    """

    name: str
    neurons: float
    synapses_low: float
    synapses_high: float
    neurons_source: str
    synapses_source: str


#: Whole-brain counts. Synapse counts are known only to an order of magnitude.
SPECIES: dict[str, Species] = {
    "mouse": Species(
        name="mouse", neurons=7.1e7, synapses_low=1e11, synapses_high=1e12,
        neurons_source="Herculano-Houzel et al. 2006, PNAS 103:12138 (71 million neurons)",
        synapses_source="order-of-magnitude range ~1e11 to 1e12 (no whole-brain census; "
                        "~1e3 to 1e4 synapses per neuron)",
    ),
    "marmoset": Species(
        name="marmoset", neurons=6.3e8, synapses_low=6.3e11, synapses_high=6.3e12,
        neurons_source="Herculano-Houzel et al. 2007, PNAS 104:3562 (~630 million neurons)",
        synapses_source="assumption: 1e3 to 1e4 synapses per neuron, the mouse range "
                        "(no whole-brain census)",
    ),
    "human": Species(
        name="human", neurons=8.6e10, synapses_low=1e14, synapses_high=1.5e14,
        neurons_source="Azevedo et al. 2009, J Comp Neurol 513:532 (86 billion neurons)",
        synapses_source="~1e14 to 1.5e14 (e.g. Pakkenberg et al. 2003, Exp Gerontol 38:95: "
                        "~1.5e14 in the neocortex)",
    ),
}


class ProjectionHardware:
    """The cluster the projection scales: an emulator hardware config plus memory per node.

    Every node, memory and link figure is read from ``hardware`` (one source for the
    emulator and the projection); only the synapse memory per node may be overridden.

    Parameters
    ----------
    hardware : neuroaix.emulator.HardwareConfig, optional
        The cluster; default the neuroAIx defaults (``configs/neuroaix-35.toml``).
    memory_gb : float, optional
        Synapse memory per node (GB, 10**9 bytes); default ``hardware.memory.capacity_gb``.
    """

    __slots__ = ("_memory", "_timing", "hardware", "memory_gb")

    def __init__(self, hardware=None, *, memory_gb: float | None = None):
        if hardware is None:
            hardware = HardwareConfig()
        if not isinstance(hardware, HardwareConfig):
            raise TypeError(f"hardware must be a HardwareConfig, not {hardware!r}")
        if memory_gb is None:
            memory_gb = hardware.memory.capacity_gb
        self.hardware = hardware
        self.memory_gb = check_number("memory_gb", memory_gb, low=0, low_open=True,
                                      unit="GB")
        if self.memory_gb * 1e9 < hardware.memory.synapse_bytes:
            raise ValueError(f"memory_gb must hold at least one synapse "
                             f"({hardware.memory.synapse_bytes} bytes), not {memory_gb!r}")
        self._memory = MemoryModel(hardware.memory)
        self._timing = LinkTiming.from_config(hardware.link)

    def __repr__(self) -> str:
        return f"ProjectionHardware({self.hardware.name!r}, memory_gb={self.memory_gb:g})"

    @property
    def name(self) -> str:
        """The hardware config's label."""
        return self.hardware.name

    @property
    def dims(self) -> int:
        """Dimensions of the node grid."""
        return len(self.hardware.topology.shape)

    def usable_bandwidth(self, request_bytes: float) -> float:
        """Return the usable bandwidth (bytes/s) for requests of ``request_bytes`` bytes."""
        return float(self._memory.bandwidth_gbps(max(float(request_bytes), 1.0))) * 1e9


def load_projection_hardware(path, *, memory_gb: float | None = None) -> ProjectionHardware:
    """Read the projection's figures from a hardware TOML (``configs/neuroaix-35.toml``).

    The file is loaded and validated by ``neuroaix.emulator.load_hardware`` (keys not in the
    file keep the neuroAIx defaults). The synapse memory per node is ``memory_gb`` where
    given, else the file's ``memory.capacity_gb``.

    Parameters
    ----------
    path : str or os.PathLike
        The hardware TOML.
    memory_gb : float, optional
        Synapse memory per node (GB), overriding the file's ``memory.capacity_gb``.

    Returns
    -------
    ProjectionHardware

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it is not valid TOML or a value is invalid.
    """
    return ProjectionHardware(load_hardware(path), memory_gb=memory_gb)


@dataclass(frozen=True, slots=True, kw_only=True)
class BrainProjection:
    """Result of :func:`project_brain` (all rates per biological second).

    Attributes
    ----------
    nodes : int
        Nodes needed: the largest of the memory bound and the nodes the target acceleration
        needs (bandwidth, neuron update), where that target is reachable at all.
    nodes_memory, nodes_target : int
        The memory bound, and the nodes the target acceleration needs (0 if unreachable).
    best_acceleration, best_nodes : float, int
        The highest acceleration found from ``nodes_memory`` up to the target (or
        ``max_nodes``), and the node count reaching it.
    acceleration : float
        Acceleration of ``nodes`` nodes: the smallest bound.
    limit : str
        The bound that sets it.
    bounds : dict
        Every acceleration bound at ``nodes``.
    power_w, e_syn_nj, q_rtf : float
        Mean power, energy per synaptic event and real-time factor at that acceleration.
    calibration : float
        The factor applied to every bound (1 for the bare model).
    """

    species: str
    synapses: float
    neurons: float
    rate_hz: float
    r_syn_hz: float
    target_acceleration: float
    nodes: int
    nodes_memory: int
    nodes_target: int
    target_reachable: bool
    best_acceleration: float
    best_nodes: int
    acceleration: float
    q_rtf: float
    limit: str
    bounds: dict
    bytes_per_syn_event: float
    power_w: float
    static_w: float
    e_syn_nj: float
    calibration: float
    sources: dict

    def to_dict(self) -> dict:
        """Return the projection as a JSON-ready dict."""
        return asdict(self)


def _expected_bursts(lam: float, per_burst: int) -> float:
    """Return E[ceil(k / per_burst)] for k ~ Poisson(lam)."""
    if lam > 2000:
        return lam / per_burst + 0.5 * (per_burst - 1) / per_burst
    total, pmf, k = 0.0, math.exp(-lam), 0
    kmax = int(lam + 12 * math.sqrt(lam) + 30)
    while k <= kmax:
        total += pmf * -(-k // per_burst)
        k += 1
        pmf *= lam / k
    return total


def _bounds(hw: ProjectionHardware, n: int, *, neurons: float, r_spk: float,
            k_out: float) -> tuple[dict, float]:
    c = hw.hardware
    node, mem, link = c.node, c.memory, c.link
    h = c.time_step_ms * 1e-3
    per_burst = formats.SYNAPSES_PER_WORD
    lam = k_out / n
    bursts = _expected_bursts(lam, per_burst)
    p_nonempty = -math.expm1(-lam) if lam < 700 else 1.0
    request = bursts / p_nonempty * mem.fetch_bytes if p_nonempty > 0 else mem.fetch_bytes
    bytes_per_spike_node = bursts * mem.fetch_bytes
    demand = r_spk * bytes_per_spike_node  # bytes per second a node fetches (may underflow)
    bw = hw.usable_bandwidth(request)
    side = n ** (1.0 / hw.dims)
    diameter_hops = hw.dims * math.floor(side / 2)
    # the emulator's hop timing (neuroaix.emulator.link) along the torus diameter
    lt = hw._timing
    if c.topology.turn == "full-hop":
        full_hops = min(hw.dims, diameter_hops)
    else:
        full_hops = min(1, diameter_hops)
    network_fs = (full_hops * (lt.enter_fs + lt.enter_flight_fs)
                  + (diameter_hops - full_hops) * lt.pass_flight_fs + lt.deliver_fs)
    latency_s = node.dispatcher_latency_ns * 1e-9 + network_fs * 1e-15
    packet_bits = link.flits_per_packet * link.flit_bits
    link_pps = link.bandwidth_gbps * 1e9 / packet_bits
    bounds = {
        "bandwidth": bw / demand if demand > 0 else math.inf,
        "neuron_update": h * n * node.neuron_cores * node.neuron_clock_mhz * 1e6 / neurons,
        "spike_intake": node.spike_clock_mhz * 1e6 * node.dispatcher_spikes_per_cycle / r_spk,
        "link": link_pps / r_spk,
        "latency": h / latency_s,
    }
    bytes_per_event = bytes_per_spike_node * n / k_out
    return bounds, bytes_per_event


def calibrate(hw: ProjectionHardware, activity) -> float:
    """Return the emulator's acceleration over this model's bound for the same workload.

    The projection's bounds leave out queueing, step-to-step variation and the network's
    latency under load; the emulator has them. Applied to a projection (``calibration=``), the
    factor carries the emulator's overheads to other sizes.

    Parameters
    ----------
    hw : ProjectionHardware
        The hardware the emulation ran on (its ``n_nodes`` is replaced by the activity's).
    activity : Activity or dict
        Emulator counts of one run (``neuroaix.energy.Activity``).

    Returns
    -------
    float
        ``emulated acceleration / min(bounds)``.

    Raises
    ------
    ValueError
        If the activity has no spikes or synaptic events.
    """
    if isinstance(activity, dict):
        activity = Activity.from_dict(activity)
    if activity.spikes == 0 or activity.synaptic_events == 0:
        raise ValueError("activity must contain spikes and synaptic events to calibrate, not "
                         f"spikes={activity.spikes!r}, synaptic_events="
                         f"{activity.synaptic_events!r}; emulate a longer or busier run")
    neurons = activity.neuron_updates / activity.steps
    r_spk = activity.spikes / activity.bio_time_s
    k_out = activity.synaptic_events / activity.spikes
    bounds, _ = _bounds(hw, activity.n_nodes, neurons=neurons, r_spk=r_spk, k_out=k_out)
    return (activity.bio_time_s / activity.hw_time_s) / min(bounds.values())


def project_brain(species: str | Species, hw: ProjectionHardware, energy: EnergyConfig, *,
                  synapses: str | float = "low", rate_hz: float = MICROCIRCUIT_RATE_HZ,
                  target_acceleration: float = 1.0, max_nodes: int = 10**9,
                  calibration: float = 1.0) -> BrainProjection:
    """Project a whole brain onto a cluster built from ``hw`` nodes.

    Parameters
    ----------
    species : str or Species
        ``"mouse"``, ``"marmoset"``, ``"human"`` (see :data:`SPECIES`) or a custom one.
    hw : ProjectionHardware
        Node and link figures.
    energy : EnergyConfig
        Energy parameters per node and per event.
    synapses : {"low", "high"} or float
        Which end of the species' synapse range, or a count.
    rate_hz : float
        Mean firing rate (Hz), in (0, 1 / time step]; defaults to the microcircuit's.
    target_acceleration : float
        The acceleration the node count is sized for (1 = real time).
    max_nodes : int
        Largest cluster considered when sizing for the target.
    calibration : float
        Factor on every acceleration bound (see :func:`calibrate`); 1 for the bare model.

    Returns
    -------
    BrainProjection

    Raises
    ------
    ValueError
        For an unknown species, synapse choice or non-positive rate or target.
    """
    if isinstance(species, str):
        species = SPECIES[check_choice("species", species, SPECIES)]
    if synapses == "low":
        n_syn = species.synapses_low
    elif synapses == "high":
        n_syn = species.synapses_high
    elif isinstance(synapses, (int, float)) and not isinstance(synapses, bool) and synapses > 0:
        n_syn = float(synapses)
    else:
        raise ValueError(f"synapses must be 'low', 'high' or a positive count, not "
                         f"{synapses!r}")
    for name, value in (("rate_hz", rate_hz), ("target_acceleration", target_acceleration),
                        ("calibration", calibration)):
        check_number(name, value, low=0, low_open=True)
    max_rate = 1e3 / hw.hardware.time_step_ms
    if rate_hz > max_rate:
        raise ValueError(f"rate_hz must be at most {max_rate:g} Hz (a neuron spikes at most "
                         f"once per time step of {hw.hardware.time_step_ms:g} ms), not "
                         f"{rate_hz!r}")
    neurons = species.neurons
    k_out = n_syn / neurons
    r_spk = neurons * rate_hz
    r_syn = r_spk * k_out
    nodes_memory = max(1, math.ceil(n_syn * hw.hardware.memory.synapse_bytes
                                   / (hw.memory_gb * 1e9)))

    def calibrated(n):
        b, bpe = _bounds(hw, n, neurons=neurons, r_spk=r_spk, k_out=k_out)
        return {k: v * calibration for k, v in b.items()}, bpe

    def accel(n):
        return min(calibrated(n)[0].values())

    # Sizing for the target: acceleration is not monotonic in N (latency grows, bandwidth
    # per node shrinks as rows fragment), so scan N geometrically from the memory bound.
    nodes_target, n, best = 0, nodes_memory, (0.0, -nodes_memory)
    while n <= max_nodes:
        a_n = accel(n)
        best = max(best, (a_n, -n))
        if a_n >= target_acceleration:
            nodes_target = n
            break
        n = max(n + 1, math.ceil(n * 1.05))
    nodes = max(nodes_memory, nodes_target)
    bounds, bytes_per_event = calibrated(nodes)
    limit = min(bounds, key=bounds.get)
    a = bounds[limit]
    h = hw.hardware.time_step_ms * 1e-3
    # Dynamic energy per biological second: every spike reaches every other node once.
    e_dyn = (neurons / h * energy.e_neuron_update_j
             + r_spk * (nodes - 1) * (energy.e_packet_j + energy.e_hop_j)
             + r_syn * bytes_per_event * energy.e_byte_j
             + r_syn * energy.e_syn_event_j)
    static_w = nodes * energy.p_static_node_w
    power = static_w + e_dyn * a
    return BrainProjection(
        species=species.name, synapses=n_syn, neurons=neurons, rate_hz=rate_hz,
        r_syn_hz=r_syn, target_acceleration=target_acceleration, nodes=nodes,
        nodes_memory=nodes_memory, nodes_target=nodes_target,
        target_reachable=nodes_target > 0, best_acceleration=best[0], best_nodes=-best[1],
        acceleration=a, q_rtf=1.0 / a, limit=limit,
        bounds=bounds, bytes_per_syn_event=bytes_per_event, power_w=power,
        static_w=static_w, e_syn_nj=power / (a * r_syn) * 1e9, calibration=calibration,
        sources={"neurons": species.neurons_source, "synapses": species.synapses_source,
                 "rate": "mean rate of the Potjans-Diesmann microcircuit (2.5e5 spikes/s, "
                         "77,169 neurons)" if rate_hz == MICROCIRCUIT_RATE_HZ else "given",
                 "hardware": hw.name, "energy": energy.name},
    )
