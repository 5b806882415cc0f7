"""Assemble a ``BuiltNetwork`` from population and projection specifications.

The network API (``neuroaix.network.Network.build``) checks its arguments and the memory
budget, turns its populations and projections into the plain specifications below and calls
:func:`build_network`; this module knows nothing of the API, only the primitives beneath it
(``neuroaix.neuron.LIF``, ``neuroaix.distributions.Normal``) and the number contract.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numba
import numpy as np

from neuroaix import numerics as nx
from neuroaix.construction import connectivity as conn
from neuroaix.construction.built import BuiltNetwork, Partition
from neuroaix.distributions import Normal
from neuroaix.neuron import LIF, MODEL_KINDS

__all__ = ["PopulationSpec", "StepCurrentSpec", "build_network", "default_threads"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class PopulationSpec:
    """One population as construction reads it: global ids, model, initial potentials, input.

    ``model`` (a ``neuron.NEURON_MODELS`` model or a ``SpikeSourceArray``) already includes
    any DC input in its ``I_e``; ``poisson`` is ``(rate_hz, indegree, weight_pa)`` or None
    without background input. ``v_init`` is a ``Normal`` or one potential per neuron
    (float64 array, mV); None for spike sources.
    """

    name: str
    start: int
    size: int
    model: LIF
    v_init: Normal | np.ndarray | None
    poisson: tuple[float, int, float] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StepCurrentSpec:
    """One step current: change steps (ascending), amplitudes (I format), target gids."""

    steps: tuple[int, ...]
    values: tuple[int, ...]
    gids: np.ndarray  #: int64, ascending, unique


def default_threads() -> int:
    """Return the default number of construction chunks: Numba's thread count."""
    return int(numba.config.NUMBA_NUM_THREADS)


def _step_currents(step_currents, populations, n: int, i_e: np.ndarray):
    """Merge the step currents of every neuron into one schedule per distinct set of sources.

    Returns ``stim_of, stim_ptr, stim_step, stim_value`` (see ``BuiltNetwork``). The value of
    a schedule after each change is the exact integer sum of its sources' amplitudes; with
    the population's ``I_e`` it must fit int32.
    """
    stim_of = np.full(n, -1, np.int32)
    if not step_currents:
        return stim_of, np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    members: dict[int, list[int]] = {}
    for j, sc in enumerate(step_currents):
        for g in sc.gids.tolist():
            members.setdefault(g, []).append(j)
    combos: dict[tuple, int] = {}
    ptr, steps, values = [0], [], []
    pop_of = np.searchsorted([p.start for p in populations], np.arange(n), side="right") - 1
    for g in sorted(members):
        key = tuple(members[g])
        k = int(pop_of[g])
        if key not in combos:
            change = sorted({s for j in key for s in step_currents[j].steps})
            total = []
            for s in change:
                amp = 0
                for j in key:
                    sc = step_currents[j]
                    idx = np.searchsorted(sc.steps, s, side="right") - 1
                    amp += sc.values[idx] if idx >= 0 else 0
                total.append(amp)
            combos[key] = len(combos)
            steps += change
            values += total
            ptr.append(len(steps))
        c = combos[key]
        lo, hi = ptr[c], ptr[c + 1]
        worst = max((abs(int(i_e[k]) + v) for v in values[lo:hi]), default=0)
        if worst > nx.INT32_MAX:
            raise ValueError(
                f"the step currents of neuron {g} in {populations[k].name!r} reach "
                f"{nx.fixed_to_pa(worst):g} pA with I_e, beyond the I format "
                f"(+-{float(1 << (31 - nx.I_FRAC_BITS)):g} pA); use smaller amplitudes")
        stim_of[g] = c
    return (stim_of, np.array(ptr, np.int64), np.array(steps, np.int64),
            np.array(values, np.int64))


def build_network(populations, projections, *, dt: float, seed: int, partitions: int,
                  threads: int, only: tuple[int, ...] | None = None,
                  step_currents=()) -> BuiltNetwork:
    """Draw the initial potentials and synapses and return the partitioned network.

    The arguments are taken as checked (``Network.build`` checks them): this is the seam
    between the network description and its construction, not a second public API.

    Parameters
    ----------
    populations : sequence of PopulationSpec
        In global-id order, contiguous from 0.
    projections : sequence of connectivity.ProjectionSpec
        In creation order (the index is the projection's stream word).
    dt : float
        Time step (ms).
    seed : int
        Network seed.
    partitions : int
        Number of partitions P.
    threads : int
        Work chunks and Numba threads T.
    only : tuple of int, optional
        Store only these partitions' synapses (sorted, unique).
    step_currents : sequence of StepCurrentSpec
        Piecewise-constant currents, summed per neuron.

    Returns
    -------
    BuiltNetwork

    Raises
    ------
    ValueError
        If initial potentials or drawn weights and delays do not fit their formats.
    """
    t0 = time.perf_counter()
    n = sum(p.size for p in populations)
    n_pop = len(populations)
    pop_of = np.empty(n, np.int32)
    v0 = np.empty(n, np.int32)
    coefficients = np.zeros((n_pop, len(nx.LIFCoefficients._fields)), np.int64)
    ptable = np.full((n_pop, nx.POISSON_TABLE_LEN), 1 << 32, np.int64)
    pweight = np.zeros(n_pop, np.int64)
    has_poisson = np.zeros(n_pop, bool)
    model_kind = np.zeros(n_pop, np.int8)
    alpha = np.zeros((n_pop, 4), np.int64)
    src_step, src_gid = [], []
    vlim = float(1 << (31 - nx.V_FRAC_BITS))
    for index, pop in enumerate(populations):
        stop = pop.start + pop.size
        pop_of[pop.start:stop] = index
        model_kind[index] = MODEL_KINDS.index(pop.model.kind)
        if pop.model.kind == "spike_source_array":
            v0[pop.start:stop] = 0
            for i, steps in enumerate(pop.model.spike_steps(dt)):
                src_step += steps
                src_gid += [pop.start + i] * len(steps)
            continue
        v = pop.v_init
        e_l = pop.model.E_L
        if isinstance(v, np.ndarray):  # one potential per neuron, as mv_to_fixed
            vals = np.floor((v - e_l) * float(1 << nx.V_FRAC_BITS) + 0.5)
        else:
            if not (-vlim < v.mean - e_l < vlim):
                raise ValueError(f"v_init of {pop.name!r} ({v.mean!r} mV) does not fit the V "
                                 "format relative to E_L; use potentials within 32 V of E_L")
            vals = conn.draw_initial_potentials(seed, pop.start, pop.size, mean=v.mean,
                                                std=v.std, low=v.low, high=v.high, e_l=e_l)
        if vals.size and (vals.min() < nx.INT32_MIN or vals.max() > nx.INT32_MAX):
            raise ValueError(f"v_init of {pop.name!r} draws potentials outside the V "
                             "format; bound the distribution (low=..., high=...)")
        v0[pop.start:stop] = vals
        coef = pop.model.quantise(dt)
        coefficients[index] = coef[:len(nx.LIFCoefficients._fields)]
        alpha[index] = coef[len(nx.LIFCoefficients._fields):] or (0, 0, 0, 0)
        if pop.poisson is not None:
            rate, k, w = pop.poisson
            ptable[index] = nx.poisson_table(rate * k * dt * 1e-3)
            pweight[index] = nx.pa_to_fixed(w)
            has_poisson[index] = True
    store = conn.build_synapses(projections, n_neurons=n, n_parts=partitions, threads=threads,
                                seed=seed, dt=dt, only=only)
    parts = [Partition(index=p, n_parts=partitions, n_neurons=n, row_ptr=store.row_ptr[p],
                       words=store.words[store.base[p]:store.base[p] + store.row_ptr[p][-1]])
             for p in range(partitions)]
    stim = _step_currents(step_currents, populations, n, coefficients[:, 8])
    order = np.lexsort((np.array(src_gid, np.int64), np.array(src_step, np.int64)))
    depth = 1
    while depth <= store.max_delay:
        depth *= 2
    seconds = time.perf_counter() - t0
    logger.debug("built %d neurons, %d synapses on %d partitions with %d threads in %.2f s",
                 n, store.words.shape[0], partitions, threads, seconds)
    return BuiltNetwork(
        n_neurons=n, dt=dt, seed=seed,
        populations=[(p.name, p.start, p.start + p.size) for p in populations],
        pop_of=pop_of, v0=v0, coefficients=coefficients, poisson_table=ptable,
        poisson_weight=pweight, has_poisson=has_poisson, max_delay=store.max_delay,
        ring_depth=depth, partitions=parts, threads=threads,
        build_seconds=seconds, owned=only,
        e_l=np.array([getattr(p.model, "E_L", 0.0) for p in populations], np.float64),
        model_kind=model_kind, alpha_coefficients=alpha,
        stim_of=stim[0], stim_ptr=stim[1], stim_step=stim[2], stim_value=stim[3],
        source_step=np.array(src_step, np.int64)[order],
        source_gid=np.array(src_gid, np.int64)[order],
    )
