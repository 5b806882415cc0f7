"""Deterministic workloads for the synapse pipeline: row pointers, synapse words, spikes.

Every workload is a pure function of its arguments (seeded ``numpy.random.default_rng``), so
the cycle counts in ``tests/data/rtl_cycles.json`` can be regenerated and compared exactly.
"""

import numpy as np

from neuroaix import formats, models, numerics
from neuroaix.checks import check_int
from neuroaix.network import Network
from neuroaix.neuron import LIF
from neuroaix.rtl.harness.pipeline_sim import Workload
from neuroaix.rtl.params import PipelineConfig

__all__ = [
    "small_brunel",
    "small_microcircuit",
    "two_orders_network",
    "engine_raster",
    "random_workload",
    "hazard_workload",
    "network_workload",
    "network_sample",
    "memory_words_for",
]


def memory_words_for(n_synapses: int) -> int:
    """Return the memory words that hold ``n_synapses`` synapses (at least one)."""
    return max(1, -(-int(n_synapses) // formats.SYNAPSES_PER_WORD))


def _config(n_synapses, **params) -> PipelineConfig:
    return PipelineConfig(memory_words=memory_words_for(n_synapses), **params)


def random_workload(*, seed: int, n_neurons: int, ring_depth: int, n_sources: int,
                    max_row: int, n_steps: int, spikes_per_step: int,
                    weight_range: tuple[int, int] = (-4096, 4096), **params) -> Workload:
    """Return a workload of random rows (lengths uniform in ``[0, max_row]``) and spikes.

    Parameters
    ----------
    seed : int
        Seed of the generator; the workload is a pure function of the arguments.
    n_neurons, ring_depth, n_sources : int
        Node size, ring depth and row-pointer entries.
    max_row : int
        Longest row.
    n_steps, spikes_per_step : int
        Steps, and distinct sources firing per step (sorted ascending).
    weight_range : (int, int)
        Weights are uniform in ``[lo, hi)`` (I format).
    **params
        ``max_burst``, ``fifo_words``, ``latency`` for :class:`PipelineConfig`.
    """
    check_int("spikes_per_step", spikes_per_step, low=0, high=n_sources,
              fix=f"at most n_sources={n_sources!r} sources fire per step")
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, max_row + 1, n_sources).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    total = int(lengths.sum())
    words = formats.pack_synapses(
        rng.integers(0, n_neurons, total),
        rng.integers(weight_range[0], weight_range[1], total),
        rng.integers(1, ring_depth, total),
    )
    spikes = [np.sort(rng.choice(n_sources, spikes_per_step, replace=False)).tolist()
              for _ in range(n_steps)]
    config = _config(total, n_neurons=n_neurons, ring_depth=ring_depth,
                     n_sources=n_sources, **params)
    return Workload(config, starts, lengths, words, spikes)


def hazard_workload(*, seed: int, n_neurons: int, ring_depth: int, n_sources: int,
                    row: int, n_steps: int, saturate: bool, **params) -> Workload:
    """Return a workload in which every synapse hits neuron 0 with one delay.

    Every synapse of every row then read-modify-writes the same ring-buffer address on
    consecutive cycles (the forwarding path). With ``saturate`` the weights are near the
    int32 limits, of both signs, so that the channel clamps and recovers repeatedly.
    """
    rng = np.random.default_rng(seed)
    lengths = np.full(n_sources, row, dtype=np.int64)
    # Odd starting offsets: rows straddle memory words.
    starts = (np.arange(n_sources, dtype=np.int64) * (row + 3)) + 1
    total = int(starts[-1] + row + 1)
    if saturate:
        big = (1 << 31) - 1
        weight = rng.choice(np.array([big, big // 2, -big - 1, -(big // 3), 7, -7]), total)
    else:
        weight = rng.integers(-1000, 1000, total)
    words = formats.pack_synapses(np.zeros(total, dtype=np.int64), weight,
                                  np.ones(total, dtype=np.int64))
    spikes = [list(range(n_sources)) for _ in range(n_steps)]
    config = _config(total, n_neurons=n_neurons, ring_depth=ring_depth,
                     n_sources=n_sources, **params)
    return Workload(config, starts, lengths, words, spikes)


def network_workload(built, partition: int, spikes, **params) -> Workload:
    """Return the workload of one partition of a built network.

    Parameters
    ----------
    built : BuiltNetwork
        A built network (docs/architecture.md): ``partitions[p].row_ptr`` and ``.words``.
    partition : int
        The partition (node) to load.
    spikes : list of sequence of int
        Global source ids per step, ascending (e.g. the engine's raster).
    **params
        ``max_burst``, ``fifo_words``, ``latency`` for :class:`PipelineConfig`.
    """
    part = built.partitions[partition]
    row_ptr = np.asarray(part.row_ptr, dtype=np.int64)
    words = np.asarray(part.words, dtype=np.uint64)
    n_local = len(range(partition, built.n_neurons, len(built.partitions)))
    config = _config(len(words), n_neurons=max(1, n_local), ring_depth=built.ring_depth,
                     n_sources=built.n_neurons, **params)
    return Workload(config, row_ptr[:-1].copy(), np.diff(row_ptr), words,
                    [list(map(int, s)) for s in spikes])


def engine_raster(sim, n_steps: int, partition: int):
    """Run an engine for ``n_steps`` steps; return spikes per step and ring buffers per step.

    Parameters
    ----------
    sim : neuroaix.engine.Simulator
        A fresh simulator (step 0 next).
    n_steps : int
        Steps to run.
    partition : int
        Whose ring buffers to record.

    Returns
    -------
    (spikes, rings)
        ``spikes[t]``: ascending sender ids of step ``t``; ``rings[t]``: the partition's ring
        buffers after step ``t``, int32 ``(D, 2, n_local)``.
    """
    rings = []
    for _ in range(n_steps):
        sim.run_steps(1)
        rings.append(sim.ring_buffer(partition))
    senders, steps = sim.spikes()
    spikes = [np.sort(senders[steps == t]).tolist() for t in range(n_steps)]
    return spikes, rings


def small_brunel():
    """Return a built Brunel network of 125 neurons in 3 partitions, delay 4 ms (D = 64)."""
    return models.brunel(scale=0.01, epsilon=0.02, eta=4.0, delay=4.0, seed=5).build(
        partitions=3, threads=1)


def two_orders_network(max_first: bool):
    """Return a built network (one partition) whose one ring entry receives ``INT32_MAX, 7, 7``
    (``max_first``) or ``7, 7, INT32_MAX`` in the schedule's order.

    Two DC-driven neurons (global ids 0 and 1) fire in step 0 onto neuron 2 with a delay of
    one step: source 0 carries ``INT32_MAX`` and source 1 twice 7 LSB, or source 0 twice 7 and
    source 1 ``INT32_MAX``. The entry's sum saturates either way; counting clamped
    additions, the old definition, would give 2 and 1 (docs/numerics.md, section 4).
    """
    lsb = 2.0 ** -numerics.I_FRAC_BITS  # pA
    net = Network(dt=0.1, seed=1)
    src = net.add_population("src", 2, LIF(), v_init=-50.01)
    tgt = net.add_population("tgt", 1, LIF())
    net.add_dc_input(src, amplitude_pa=1000.0)
    big, small = numerics.INT32_MAX * lsb, 7 * lsb
    sources, weights = (([0, 1, 1], [big, small, small]) if max_first
                        else ([0, 0, 1], [small, small, big]))
    net.connect(src, tgt, "from_list", pairs=(sources, [0, 0, 0]), weight=weights, delay=0.1)
    return net.build(partitions=1, threads=1)


def small_microcircuit():
    """Return a built microcircuit at scale 0.005 (385 neurons) in 6 partitions.

    In-degrees are scaled by 0.05 with DC input, and the initial potentials are spread
    around threshold (-2 .. +1 mV, seeded) so that the first steps already carry hundreds of
    spikes.
    """
    built = models.microcircuit(scale=0.005, k_scale=0.05, input="dc", seed=5).build(
        partitions=6, threads=1)
    theta = built.coefficients[built.pop_of, 6]
    rng = np.random.default_rng(0)
    built.v0[:] = theta + rng.integers(-(2 << 16), 1 << 16, built.n_neurons)
    return built


def network_sample(built, partition: int, *, seed: int, n_steps: int, spikes_per_step: int,
                   **params) -> Workload:
    """Return one partition of a built network driven by seeded random spikes.

    Parameters
    ----------
    built : BuiltNetwork
        A built network.
    partition : int
        The partition (node) to load.
    seed : int
        Seed of the spike draws.
    n_steps, spikes_per_step : int
        Steps, and distinct senders per step (ascending).
    **params
        ``max_burst``, ``fifo_words``, ``latency`` for :class:`PipelineConfig`.
    """
    rng = np.random.default_rng(seed)
    spikes = [np.sort(rng.choice(built.n_neurons, spikes_per_step, replace=False)).tolist()
              for _ in range(n_steps)]
    return network_workload(built, partition, spikes, **params)
