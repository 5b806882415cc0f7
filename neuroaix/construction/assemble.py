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
from neuroaix.neuron import LIF

__all__ = ["PopulationSpec", "build_network", "default_threads"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class PopulationSpec:
    """One population as construction reads it: global ids, model, initial potentials, input.

    ``model`` already includes any DC input in its ``I_e``; ``poisson`` is ``(rate_hz,
    indegree, weight_pa)`` or None without background input. ``v_init`` is a ``Normal`` or
    one potential per neuron (float64 array, mV).
    """

    name: str
    start: int
    size: int
    model: LIF
    v_init: Normal | np.ndarray
    poisson: tuple[float, int, float] | None = None


def default_threads() -> int:
    """Return the default number of construction chunks: Numba's thread count."""
    return int(numba.config.NUMBA_NUM_THREADS)


def build_network(populations, projections, *, dt: float, seed: int, partitions: int,
                  threads: int, only: tuple[int, ...] | None = None) -> BuiltNetwork:
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
    vlim = float(1 << (31 - nx.V_FRAC_BITS))
    for index, pop in enumerate(populations):
        stop = pop.start + pop.size
        pop_of[pop.start:stop] = index
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
        coefficients[index] = pop.model.quantise(dt)
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
        e_l=np.array([p.model.E_L for p in populations], np.float64),
    )
