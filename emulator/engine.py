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
    KernelParams,
    NodeRows,
    Trees,
    _emulate_step,
    _emulate_steps,
)
from neuroaix.emulator.clock import FS_PER_NS, FS_PER_S, Clock, ns_to_fs
from neuroaix.emulator.config import HardwareConfig
from neuroaix.emulator.link import Link, LinkTiming
from neuroaix.emulator.ddr import MemoryModel
from neuroaix.emulator.node import NodeModel
from neuroaix.emulator.topology import Topology
from neuroaix.activity import Activity
from neuroaix.checks import check_int
from neuroaix.timing import PipelineParams

__all__ = ["PHASES", "EmulationResult", "Emulator", "counts_from_built"]

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
    parts = getattr(built, "partitions", None)
    if parts is None:
        raise TypeError(f"built must be a BuiltNetwork (with .partitions), not {built!r}")
    return np.stack([np.diff(np.asarray(p.row_ptr, np.int64)) for p in parts]).astype(np.int32)


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
    update_cycles : ndarray of int64, shape (nodes,)
        Neuron-clock cycles of each node's update phase (the same every step).
    idle_latency : dict
        Worst-case spike latency on the idle cluster (``Emulator.idle_latency``).
    """

    def __init__(self, hardware, *, step_fs, bottleneck, done_fs, network_fs, memory_busy_fs,
                 pipeline_cycles, update_cycles, counters, n_neurons, idle_latency):
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

    # Run ----------------------------------------------------------------------------------

    def run(self, counts, senders, steps, *, n_steps=None) -> EmulationResult:
        """Emulate a spike raster.

        Parameters
        ----------
        counts : array of int, shape (nodes, neurons)
            Synapses of each source on each node.
        senders, steps : arrays of int
            The raster: global id and step of every spike (any order).
        n_steps : int, optional
            Steps to emulate (default: up to the last spike's step).

        Returns
        -------
        EmulationResult
        """
        counts, senders, step_ptr, n_steps = self._check(counts, senders, steps, n_steps)
        P = self.hardware.n_nodes
        update_cycles, update_end = self._update_end(counts.shape[1])
        rows = _node_rows((n_steps, P))
        step_fs = np.zeros(n_steps, np.int64)
        bottleneck = np.zeros(n_steps, np.int8)
        act = np.zeros(5, np.int64)
        _emulate_steps(senders, step_ptr, counts, update_end, self._kernel_trees, self.pipeline,
                       self.memory_timing, self.params, rows, step_fs, bottleneck, act)
        counters = {"spikes": int(senders.size), "packets": int(act[0]), "hops": int(act[1]),
                    "bytes_fetched": int(act[2]), "synaptic_events": int(act[3]),
                    "sync_hops": int(act[4])}
        logger.debug("emulated %d steps on %d nodes", n_steps, P)
        return EmulationResult(self.hardware, step_fs=step_fs, bottleneck=bottleneck,
                               done_fs=rows.done, network_fs=rows.network,
                               memory_busy_fs=rows.memory_busy,
                               pipeline_cycles=rows.pipeline_busy, update_cycles=update_cycles,
                               counters=counters, n_neurons=counts.shape[1],
                               idle_latency=self.idle_latency())

    def trace_step(self, counts, senders, steps, step: int) -> dict:
        """Return the event times of one step, for the timeline plot.

        Returns
        -------
        dict
            ``senders`` (the step's spikes, by id), per node and spike (``[nodes, spikes]``,
            fs): ``arrival``, ``accept`` (by the synapse pipeline), ``last_write`` (end of
            the spike's last write, -1 without synapses), ``synapses``; per node
            ``update_end``, ``done`` and ``cause``; ``step_fs``.
        """
        counts, senders_s, step_ptr, n_steps = self._check(counts, senders, steps, None)
        step = check_int("step", step, low=0, high=n_steps - 1)
        gids = np.ascontiguousarray(senders_s[step_ptr[step]:step_ptr[step + 1]])
        P = self.hardware.n_nodes
        _, update_end = self._update_end(counts.shape[1])
        m = len(gids)
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
