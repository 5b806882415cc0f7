"""The emulator's event loop: a cluster executing a spike raster step by step.

``Emulator(hardware)`` prepares the topology, the memory tables and the kernel parameters;
``Emulator.run(counts, senders, steps)`` emulates every step of a raster and returns an
``EmulationResult``. ``counts[p, s]`` is the number of synapses of source ``s`` stored on
node ``p`` (``BuiltNetwork.partitions[p].row_ptr`` differences, see ``counts_from_built``).

Per step (all nodes start together at time 0 of the step, all times in integer fs):

1. ``update``: each node updates its neurons (``neuroaix.emulator.node``); every spike is
   out when its neuron leaves its core, and the dispatcher takes it at the spike clock.
2. ``network``: the spike is multicast along its source's tree (``topology``), hop by hop,
   links first come, first served (``link``); with the ``marker`` scheme each node then sends
   an end-of-step marker along the same tree.
3. ``memory``: each node fetches the local synapse list of each arriving spike, in order of
   arrival (ties: lower sender id first) (``ddr``).
4. ``pipeline``: the synapse pipeline writes the synapses into the ring buffers
   (``pipeline``); it starts a spike when the first fetch word is in and cannot finish it
   before the request's data is complete.

A node is done when its update is over, its last ring-buffer write is done and (marker scheme)
it holds every node's marker; the step takes the latest node's time plus ``sync.barrier_ns``.
The phase that determined the latest node's time is the step's bottleneck.
"""

from __future__ import annotations

import logging

import numpy as np
from neuroaix.emulator._kernels import (
    RELEASE_CODES,
    KernelParams,
    NodeLayouts,
    NodeRows,
    RtlParams,
    Trees,
    _emulate_step,
    _emulate_step_rtl,
    _emulate_steps,
    _emulate_steps_rtl,
)
from neuroaix.emulator.clock import FS_PER_NS, FS_PER_S, Clock, ns_to_fs
from neuroaix.emulator.config import HardwareConfig
from neuroaix.emulator.link import Link, LinkTiming
from neuroaix.emulator.ddr import MemoryModel
from neuroaix.emulator.node import NodeModel, node_layout, synapse_banks
from neuroaix.emulator.topology import Topology
from neuroaix import formats
from neuroaix.activity import Activity
from neuroaix.checks import check_int
from neuroaix.timing import NodeTiming, PipelineParams, ring_banks

__all__ = ["PHASES", "RTL_FIELDS", "EmulationResult", "Emulator", "counts_from_built",
           "targets_from_built"]

logger = logging.getLogger(__name__)

#: Phase names, indexed by the bottleneck codes (the pipeline's causes are
#: ``neuroaix.timing.CAUSE_NETWORK``, ``CAUSE_MEMORY`` and ``CAUSE_PIPELINE``).
PHASES = ("update", "network", "memory", "pipeline")


def counts_from_built(built) -> np.ndarray:
    """Return ``counts[p, s]``: synapses of source ``s`` on partition ``p`` (int32).

    Parameters
    ----------
    built : BuiltNetwork
        A network built with as many partitions as the cluster has nodes.
    """
    return np.stack([np.diff(np.asarray(p.row_ptr, np.int64)) for p in _partitions(built)]).astype(np.int32)


def targets_from_built(built) -> list:
    """Return per partition the local target of every synapse, in ``row_ptr`` order (int32).

    What the RTL node's model (``node.model = "rtl"``) needs besides ``counts``: the ring
    bank of a synapse is its target's (``neuroaix.timing.node_layout``).

    Parameters
    ----------
    built : BuiltNetwork
        A network built with as many partitions as the cluster has nodes.
    """
    return [formats.unpack_synapses(p.words)[0] for p in _partitions(built)]


def _partitions(built):
    parts = getattr(built, "partitions", None)
    if parts is None:
        raise TypeError(f"built must be a BuiltNetwork (with .partitions), not {built!r}")
    return parts


#: Per step and node of an RTL-node emulation (``EmulationResult.rtl_cycles``), in node
#: cycles: the step's cycles, the first cycle with the update done, the cycle ``last`` was
#: offered and the cycle it was taken.
RTL_FIELDS = ("cycles", "update_done", "last_offered", "last_taken")


def _node_rows(shape) -> NodeRows:
    return NodeRows(done=np.zeros(shape, np.int64), network=np.zeros(shape, np.int64),
                    memory_busy=np.zeros(shape, np.int64),
                    pipeline_busy=np.zeros(shape, np.int64), cause=np.zeros(shape, np.int8))


class EmulationResult:
    """Cycles per step, phase and node, the bottlenecks and the activity of one emulation.

    Attributes
    ----------
    step_fs : ndarray of int64, shape (steps,)
        Duration of each step (fs).
    bottleneck : ndarray of int8, shape (steps,)
        Index into ``PHASES`` of the phase that ended each step.
    done_fs, network_fs, memory_busy_fs : ndarray of int64, shape (steps, nodes)
        When each node finished; when its last spike or marker arrived; how long its memory
        was busy.
    pipeline_cycles : ndarray of int64, shape (steps, nodes)
        Spike-clock cycles the synapse pipeline issued writes.
    update_cycles : ndarray of int64, shape (nodes,) or (steps, nodes)
        Neuron-clock cycles of each node's update phase (the same every step); with the RTL
        node, per step and node the node cycles until its update was done.
    idle_latency : dict
        Worst-case spike latency on the idle cluster (``Emulator.idle_latency``).
    rtl_cycles : ndarray of int64, shape (steps, nodes, 4), or None
        With the RTL node (``node.model = "rtl"``): :data:`RTL_FIELDS` per step and node.
    rounds : ndarray of int64, shape (steps,), or None
        With the RTL node: rounds of each step's fixed point of emissions and offers.
    """

    def __init__(self, hardware, *, step_fs, bottleneck, done_fs, network_fs, memory_busy_fs,
                 pipeline_cycles, update_cycles, counters, n_neurons, idle_latency,
                 rtl_cycles=None, rounds=None):
        self.hardware = hardware
        self.step_fs = step_fs
        self.bottleneck = bottleneck
        self.done_fs = done_fs
        self.network_fs = network_fs
        self.memory_busy_fs = memory_busy_fs
        self.pipeline_cycles = pipeline_cycles
        self.update_cycles = update_cycles
        self.counters = counters
        self.n_neurons = n_neurons
        self.idle_latency = idle_latency
        self.rtl_cycles = rtl_cycles
        self.rounds = rounds

    @property
    def n_steps(self) -> int:
        """Number of emulated steps."""
        return int(self.step_fs.shape[0])

    @property
    def hw_time_fs(self) -> int:
        """Emulated hardware wall time of all steps (fs)."""
        return int(self.step_fs.sum())

    @property
    def bio_time_s(self) -> float:
        """Simulated biological time (s)."""
        return self.n_steps * self.hardware.time_step_ms * 1e-3

    @property
    def q_rtf(self) -> float:
        """Real-time factor: hardware time over biological time."""
        if self.n_steps == 0:
            raise RuntimeError("no steps were emulated; q_rtf is undefined")
        return self.hw_time_fs / FS_PER_S / self.bio_time_s

    @property
    def acceleration(self) -> float:
        """Biological time over hardware time (h divided by the mean step time)."""
        return 1.0 / self.q_rtf

    @property
    def activity(self) -> Activity:
        """Activity counts for the energy model (``neuroaix.energy.Activity``)."""
        if self.n_steps == 0:
            raise RuntimeError("no steps were emulated; the activity is undefined")
        c = self.counters
        return Activity(n_nodes=self.hardware.n_nodes, steps=self.n_steps,
                        bio_time_s=self.bio_time_s, hw_time_s=self.hw_time_fs / FS_PER_S,
                        neuron_updates=self.n_neurons * self.n_steps, spikes=c["spikes"],
                        packets=c["packets"], hops=c["hops"],
                        bytes_fetched=c["bytes_fetched"],
                        synaptic_events=c["synaptic_events"])

    def bottleneck_counts(self) -> dict:
        """Return how many steps each phase ended."""
        counts = np.bincount(self.bottleneck.astype(np.int64), minlength=len(PHASES))
        return {name: int(counts[i]) for i, name in enumerate(PHASES)}

    def rtl_phases(self) -> dict | None:
        """Return where the RTL node's steps go: means over steps of the latest node, in ns.

        ``update_done``, ``last_offered``, ``last_taken`` and ``step`` (from the step's
        start), and ``after_last`` (``step - last_taken``: the delivery that only begins
        when every marker is in); None for the paper's node.
        """
        if self.rtl_cycles is None or self.n_steps == 0:
            return None
        period = Clock("synapse", self.hardware.node.synapse_clock_mhz).period_fs
        late = np.argmax(self.done_fs, axis=1)
        rc = self.rtl_cycles[np.arange(self.n_steps), late]
        ns = period / FS_PER_NS
        out = {name: float(rc[:, i].mean() * ns) for i, name in enumerate(RTL_FIELDS)}
        out["step"] = out.pop("cycles")
        out["after_last"] = float((rc[:, 0] - rc[:, 3]).mean() * ns)
        return out

    def phase_cycles(self) -> dict:
        """Return per-step, per-node cycles of each phase on its own clock.

        ``update`` (neuron clock, constant over steps), ``network`` (spike clock, from the
        step start to the node's last arrival), ``memory`` (spike clock, busy time),
        ``pipeline`` (synapse clock, issue cycles), ``step`` (spike clock, node done).
        """
        sp = Clock("spike", self.hardware.node.spike_clock_mhz).period_fs
        up = np.broadcast_to(self.update_cycles, self.done_fs.shape)
        return {
            "update": up,
            "network": -(-self.network_fs // sp),
            "memory": -(-self.memory_busy_fs // sp),
            "pipeline": self.pipeline_cycles,
            "step": -(-self.done_fs // sp),
        }

    def to_json(self, *, per_node: bool = False) -> dict:
        """Return the result as JSON-serialisable data.

        Parameters
        ----------
        per_node : bool
            Include the full ``[steps][nodes]`` cycle arrays of every phase (large).
        """
        cyc = self.phase_cycles()
        summary = {name: {"mean": float(np.mean(a)) if a.size else 0.0,
                          "max": int(np.max(a)) if a.size else 0,
                          "per_node_mean": np.mean(a, axis=0).tolist() if a.size else []}
                   for name, a in cyc.items()}
        out = {
            "hardware": self.hardware.to_dict(),
            "time_base": "femtoseconds; phase cycles on the neuron clock (update), the "
                         "synapse clock (pipeline) or the spike clock (others)",
            "clocks_mhz": {"neuron": self.hardware.node.neuron_clock_mhz,
                           "spike": self.hardware.node.spike_clock_mhz,
                           "synapse": self.hardware.node.synapse_clock_mhz},
            "steps": self.n_steps,
            "q_rtf": self.q_rtf if self.n_steps else None,
            "acceleration": self.acceleration if self.n_steps else None,
            "mean_step_ns": float(self.step_fs.mean() / FS_PER_NS) if self.n_steps else None,
            "max_step_ns": float(self.step_fs.max() / FS_PER_NS) if self.n_steps else None,
            "step_ns": (self.step_fs / FS_PER_NS).tolist(),
            "bottleneck": [PHASES[i] for i in self.bottleneck],
            "bottleneck_counts": self.bottleneck_counts(),
            "phase_cycles": summary,
            "sync_hops": self.counters["sync_hops"],
            "idle_latency_ns": self.idle_latency,
            "activity": self.activity.to_dict() if self.n_steps else None,
            "node_model": self.hardware.node.model,
            "rtl_phases_ns": self.rtl_phases(),
        }
        if per_node:
            out["phase_cycles_per_node"] = {k: np.asarray(v).tolist() for k, v in cyc.items()}
        return out


class Emulator:
    """A cluster described by a ``HardwareConfig``, ready to execute spike rasters.

    Parameters
    ----------
    hardware : HardwareConfig
        The cluster.
    """

    def __init__(self, hardware: HardwareConfig):
        if not isinstance(hardware, HardwareConfig):
            raise TypeError(f"hardware must be a HardwareConfig, not {hardware!r}; load one "
                            "with neuroaix.emulator.load_hardware(path)")
        self.hardware = hardware
        self.topology = Topology(hardware.topology)
        self.memory = MemoryModel(hardware.memory)
        self.link_timing = LinkTiming.from_config(hardware.link)
        self._trees = self.topology.flat_trees()
        node = hardware.node
        mem = hardware.memory
        sp = Clock("spike", node.spike_clock_mhz)
        lt = self.link_timing
        self.params = KernelParams(
            n_nodes=hardware.n_nodes,
            cores=node.neuron_cores,
            neuron_period=Clock("neuron", node.neuron_clock_mhz).period_fs,
            neuron_depth=node.neuron_pipeline_depth,
            spike_period=sp.period_fs,
            synapse_period=Clock("synapse", node.synapse_clock_mhz).period_fs,
            dispatch_per_cycle=node.dispatcher_spikes_per_cycle,
            dispatch_fs=ns_to_fs(node.dispatcher_latency_ns),
            fetch_bytes=mem.fetch_bytes,
            serialisation_fs=lt.serialisation_fs,
            enter_fs=lt.enter_fs,
            enter_flight_fs=lt.enter_flight_fs,
            pass_flight_fs=lt.pass_flight_fs,
            deliver_fs=lt.deliver_fs,
            markers=hardware.sync.scheme == "marker",
            barrier_fs=ns_to_fs(hardware.sync.barrier_ns),
        )
        #: The synapse pipeline of every node (``neuroaix.timing``).
        self.pipeline = PipelineParams(max_burst=node.max_burst, fifo_words=node.fifo_words,
                                       lanes=node.synapse_lanes, drain=node.synapse_drain)
        #: The DDR timing of every node's synapse memory, on the synapse clock.
        self.memory_timing = self.memory.memory_timing(node.max_burst,
                                                       self.params.synapse_period)
        #: The RTL node's step (``node.model = "rtl"``): its clock is the synapse clock.
        self.rtl = RtlParams(period_fs=self.params.synapse_period,
                             release=RELEASE_CODES[node.rtl_release], max_rounds=64)
        tr = self._trees
        self._kernel_trees = Trees(ptr=tr["ptr"], node=tr["node"], link=tr["link"],
                                   passthrough=tr["passthrough"], deliver=tr["deliver"],
                                   child_start=tr["child_start"], child_count=tr["child_count"],
                                   root_count=tr["root_count"], n_links=len(self.topology.links))

    def idle_latency(self) -> dict:
        """Return the worst-case latency of one spike on an idle cluster, in nanoseconds.

        ``dispatcher_ns``: from the dispatcher taking the spike to its router input;
        ``network_ns``: the largest over sources and destinations from there to the
        destination's fetch queue (each hop timed by an idle ``Link``, then the destination
        router); ``worst_ns``: their sum. A step is at least the update phase plus this.
        """
        t, lt = self._trees, self.link_timing
        worst = 0
        for s in range(self.hardware.n_nodes):
            base, end = int(t["ptr"][s]), int(t["ptr"][s + 1])
            at = np.zeros(end - base, np.int64)
            for i in range(int(t["root_count"][s])):
                at[i] = Link(lt).send(0)[1]
            for i in range(end - base):
                first = int(t["child_start"][base + i])
                for c in range(first, first + int(t["child_count"][base + i])):
                    at[c] = Link(lt).send(int(at[i]),
                                          passthrough=bool(t["passthrough"][base + c]))[1]
                if t["deliver"][base + i]:
                    worst = max(worst, int(at[i]) + lt.deliver_fs)
        dispatcher = ns_to_fs(self.hardware.node.dispatcher_latency_ns)
        return {"dispatcher_ns": dispatcher / FS_PER_NS, "network_ns": worst / FS_PER_NS,
                "worst_ns": (dispatcher + worst) / FS_PER_NS}

    # Inputs -----------------------------------------------------------------------------

    def _check(self, counts, senders, steps, n_steps):
        P = self.hardware.n_nodes
        counts = np.asarray(counts)
        if counts.ndim != 2 or counts.shape[0] != P:
            raise ValueError(f"counts must have shape (nodes={P}, neurons), not "
                             f"{counts.shape!r}; build the network with partitions={P}")
        if not np.issubdtype(counts.dtype, np.integer):
            raise TypeError(f"counts must be integers, not {counts.dtype!r}")
        if counts.size and counts.min() < 0:
            raise ValueError("counts must be >= 0 (synapses per source and node)")
        counts = np.ascontiguousarray(counts, np.int32)
        n = counts.shape[1]
        senders = np.asarray(senders, np.int64)
        steps = np.asarray(steps, np.int64)
        if senders.shape != steps.shape or senders.ndim != 1:
            raise ValueError(f"senders and steps must be 1-D of equal length, not "
                             f"{senders.shape!r} and {steps.shape!r}")
        if senders.size and (senders.min() < 0 or senders.max() >= n):
            raise ValueError(f"senders must be global ids in [0, {n}), not "
                             f"{int(senders.min())!r}..{int(senders.max())!r}")
        if steps.size and steps.min() < 0:
            raise ValueError(f"steps must be >= 0, not {int(steps.min())!r}")
        if n_steps is None:
            n_steps = int(steps.max()) + 1 if steps.size else 0
        n_steps = check_int("n_steps", n_steps, low=0)
        if steps.size and steps.max() >= n_steps:
            raise ValueError(f"n_steps={n_steps!r} must exceed the last spike's step "
                             f"{int(steps.max())}; raise n_steps")
        order = np.lexsort((senders, steps))
        senders, steps = senders[order], steps[order]
        step_ptr = np.searchsorted(steps, np.arange(int(n_steps) + 1)).astype(np.int64)
        return counts, senders, step_ptr, int(n_steps)

    def _update_end(self, n_neurons):
        P = self.hardware.n_nodes
        n_local = [len(range(p, n_neurons, P)) for p in range(P)]
        models = [NodeModel(self.hardware.node, n) for n in n_local]
        cycles = np.array([m.update_cycles for m in models], np.int64)
        return cycles, cycles * self.params.neuron_period

    @property
    def banks(self) -> int:
        """Ring banks of the RTL node (``neuroaix.timing.ring_banks`` of its lanes)."""
        node = self.hardware.node
        return ring_banks(node.synapse_lanes, node.neuron_cores)

    def node_layouts(self, counts, targets) -> NodeLayouts:
        """Return every node's synapse memory as the RTL node lays it out.

        Parameters
        ----------
        counts : array of int, shape (nodes, neurons)
            Synapses of each source on each node.
        targets : sequence of arrays
            Per node, the local target of every synapse in row order
            (:func:`targets_from_built`).

        Returns
        -------
        NodeLayouts
            Row starts and the ring bank of every synapse address
            (``neuroaix.timing.node_layout`` at the node's lanes and banks).
        """
        counts = np.asarray(counts)
        P = self.hardware.n_nodes
        if counts.ndim != 2 or counts.shape[0] != P:
            raise ValueError(f"counts must have shape (nodes={P}, neurons), not "
                             f"{counts.shape!r}; build the network with partitions={P}")
        if len(targets) != P:
            raise ValueError(f"targets must give one array per node ({P}), not "
                             f"{len(targets)}; use targets_from_built(built)")
        lanes, banks = self.hardware.node.synapse_lanes, self.banks
        starts, parts = [], []
        ptr = np.zeros(P + 1, np.int64)
        for p in range(P):
            row_ptr = np.zeros(counts.shape[1] + 1, np.int64)
            np.cumsum(counts[p], out=row_ptr[1:])
            tg = np.asarray(targets[p])
            if tg.shape != (int(row_ptr[-1]),):
                raise ValueError(f"targets[{p}] must have {int(row_ptr[-1])} entries (the "
                                 f"node's synapses), not {tg.shape!r}")
            start, _, order = node_layout(row_ptr, tg, lanes, banks)
            starts.append(start)
            parts.append(synapse_banks(tg, order, banks))
            ptr[p + 1] = ptr[p] + order.size
        bank = np.concatenate(parts) if parts else np.zeros(0, np.uint8)
        return NodeLayouts(row_start=np.stack(starts), bank_ptr=ptr, bank=bank)

    def _nodes(self, n_neurons) -> tuple:
        node = self.hardware.node
        P = self.hardware.n_nodes
        out = []
        for p in range(P):
            n_local = len(range(p, n_neurons, P))
            out.append(NodeTiming(
                n_local=n_local, n_neurons=max(1, n_local), update_lanes=node.neuron_cores,
                synapse_lanes=node.synapse_lanes, banks=self.banks, max_burst=node.max_burst,
                fifo_words=node.fifo_words, spike_fifo=node.spike_fifo, gid_base=p,
                gid_stride=P, external=P > 1, n_sources=n_neurons,
                arrival_order=node.merge == "arrival"))
        return tuple(out)

    def _layouts(self, counts, targets, layouts):
        if self.hardware.node.model != "rtl":
            return None
        if layouts is None:
            if targets is None:
                raise ValueError("node.model = \"rtl\" needs the synapses' targets: pass "
                                 "targets=targets_from_built(built) (or layouts=)")
            layouts = self.node_layouts(counts, targets)
        if not isinstance(layouts, NodeLayouts):
            raise TypeError(f"layouts must come from Emulator.node_layouts, not {layouts!r}")
        if layouts.row_start.shape != counts.shape:
            raise ValueError(f"layouts are for counts of shape {layouts.row_start.shape!r}, "
                             f"not {counts.shape!r}")
        return layouts

    # Run ----------------------------------------------------------------------------------

    def run(self, counts, senders, steps, *, n_steps=None, targets=None,
            layouts=None) -> EmulationResult:
        """Emulate a spike raster.

        Parameters
        ----------
        counts : array of int, shape (nodes, neurons)
            Synapses of each source on each node.
        senders, steps : arrays of int
            The raster: global id and step of every spike (any order).
        n_steps : int, optional
            Steps to emulate (default: up to the last spike's step).
        targets : sequence of arrays, optional
            With ``node.model = "rtl"`` (required there, unless ``layouts`` is given): per
            node the local target of every synapse (:func:`targets_from_built`).
        layouts : NodeLayouts, optional
            With ``node.model = "rtl"``: :meth:`node_layouts` computed before (reused).

        Returns
        -------
        EmulationResult
        """
        counts, senders, step_ptr, n_steps = self._check(counts, senders, steps, n_steps)
        layouts = self._layouts(counts, targets, layouts)
        P = self.hardware.n_nodes
        update_cycles, update_end = self._update_end(counts.shape[1])
        rows = _node_rows((n_steps, P))
        step_fs = np.zeros(n_steps, np.int64)
        bottleneck = np.zeros(n_steps, np.int8)
        act = np.zeros(5, np.int64)
        rtl_cycles = rounds = None
        if layouts is None:
            _emulate_steps(senders, step_ptr, counts, update_end, self._kernel_trees,
                           self.pipeline, self.memory_timing, self.params, rows, step_fs,
                           bottleneck, act)
        else:
            rtl_cycles = np.zeros((n_steps, P, len(RTL_FIELDS)), np.int64)
            rounds = np.zeros(n_steps, np.int64)
            _emulate_steps_rtl(senders, step_ptr, counts, layouts, self._nodes(counts.shape[1]),
                               self._kernel_trees, self.memory_timing, self.params, self.rtl,
                               rows, rtl_cycles, step_fs, bottleneck, act, rounds)
            update_cycles = rtl_cycles[:, :, 1] + 1
        counters = {"spikes": int(senders.size), "packets": int(act[0]), "hops": int(act[1]),
                    "bytes_fetched": int(act[2]), "synaptic_events": int(act[3]),
                    "sync_hops": int(act[4])}
        logger.debug("emulated %d steps on %d nodes", n_steps, P)
        return EmulationResult(self.hardware, step_fs=step_fs, bottleneck=bottleneck,
                               done_fs=rows.done, network_fs=rows.network,
                               memory_busy_fs=rows.memory_busy,
                               pipeline_cycles=rows.pipeline_busy, update_cycles=update_cycles,
                               counters=counters, n_neurons=counts.shape[1],
                               idle_latency=self.idle_latency(), rtl_cycles=rtl_cycles,
                               rounds=rounds)

    def trace_step(self, counts, senders, steps, step: int, *, targets=None,
                   layouts=None) -> dict:
        """Return the event times of one step, for the timeline plot.

        Returns
        -------
        dict
            ``senders`` (the step's spikes, by id), per node and spike (``[nodes, spikes]``,
            fs): ``arrival``, ``accept`` (by the synapse pipeline), ``last_write`` (end of
            the spike's last write, -1 without synapses), ``synapses``; per node
            ``update_end``, ``done`` and ``cause``; ``step_fs``. With the RTL node
            (``targets`` or ``layouts`` as :meth:`run`): ``accept`` is when a spike was
            offered to the node's merge, ``last_write`` is -1, and there are also
            ``offer_cycles`` (``[nodes, spikes + 1]``: -1 at a spike's own node; the last
            column: ``last``), ``emit_cycles`` (per spike, at its node), ``rtl_cycles``
            (:data:`RTL_FIELDS` per node) and ``rounds``.
        """
        counts, senders_s, step_ptr, n_steps = self._check(counts, senders, steps, None)
        step = check_int("step", step, low=0, high=n_steps - 1)
        layouts = self._layouts(counts, targets, layouts)
        gids = np.ascontiguousarray(senders_s[step_ptr[step]:step_ptr[step + 1]])
        P = self.hardware.n_nodes
        _, update_end = self._update_end(counts.shape[1])
        m = len(gids)
        if layouts is not None:
            return self._trace_rtl(counts, gids, layouts)
        trace = np.full((4, P, max(m, 1)), -1, np.int64)
        rows = _node_rows((P,))
        act = np.zeros(5, np.int64)
        _emulate_step(gids, counts, update_end, self._kernel_trees, self.pipeline,
                      self.memory_timing, self.params, rows, act, trace, True)
        names = ("arrival", "accept", "last_write", "synapses")
        out = {name: trace[i, :, :m] for i, name in enumerate(names)}
        out.update(senders=gids, update_end=update_end, done=rows.done,
                   step_fs=int(rows.done.max()) + self.params.barrier_fs if P else 0,
                   cause=rows.cause)
        return out

    def _trace_rtl(self, counts, gids, layouts) -> dict:
        P, m = self.hardware.n_nodes, len(gids)
        trace = np.full((4, P, m + 1), -1, np.int64)
        rows = _node_rows((P,))
        rc = np.zeros((P, len(RTL_FIELDS)), np.int64)
        act = np.zeros(5, np.int64)
        rounds = _emulate_step_rtl(gids, counts, layouts, self._nodes(counts.shape[1]),
                                   self._kernel_trees, self.memory_timing, self.params,
                                   self.rtl, rows, rc, act, trace, True)
        period = self.rtl.period_fs
        offer = trace[1]
        accept = np.where(offer[:, :m] >= 0, offer[:, :m] * period, -1)
        emit = np.full(m, -1, np.int64)
        for k in range(m):
            emit[k] = trace[2, gids[k] % P, k]
        return {"senders": gids, "arrival": trace[0, :, :m], "accept": accept,
                "last_write": np.full((P, m), -1, np.int64), "synapses": trace[3, :, :m],
                "update_end": (rc[:, 1] + 1) * period, "done": rows.done,
                "step_fs": int(rows.done.max()) + self.params.barrier_fs if P else 0,
                "cause": rows.cause, "offer_cycles": offer, "emit_cycles": emit,
                "rtl_cycles": rc, "rounds": int(rounds)}
