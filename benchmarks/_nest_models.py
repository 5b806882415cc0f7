"""NEST 3.10 versions of neuroaix's models, and a worker that runs one and dumps its raster.

Runs in the optional NEST environment (``nest-simulator`` from PyPI plus neuroaix; see
docs/validation.md), never in the main one: ``validate_nest.py`` and ``bench_microcircuit.py``
call it as a subprocess,

    .venv-nest/bin/python benchmarks/_nest_models.py microcircuit --scale 0.1 --seed 1 \\
        --t-presim 500 --t-sim 2000 --threads 2 --out raster.npz

``to_nest`` translates an unbuilt ``neuroaix.Network`` (``neuroaix.models.microcircuit`` or
``brunel``) population by population and projection by projection, so the NEST network is
neuroaix's by construction, not a second copy of the parameters:

- populations: ``iaf_psc_exp`` with the population's ``LIF`` parameters, ``V_m`` drawn from
  the ``v_init`` distribution (``nest.random.normal``, redrawn into finite bounds);
- projections: the same rule (``fixed_total_number`` -> ``N``, ``fixed_indegree`` ->
  ``indegree``, ...), autapses and multapses as neuroaix allows them, weights and delays from
  ``nest.math.redraw(nest.random.normal(mean, std), min=low, max=high)``; NEST rounds delays
  to whole steps as neuroaix does. Projections with negative mean weight use a copy of
  ``static_synapse`` (``static_synapse_in``), which keeps every synapse model below NEST's
  limit of 2**27 connections per virtual process at full scale with two threads;
- Poisson input: one ``poisson_generator`` per population at ``rate * indegree``, weight as
  neuroaix's, delay one step (neuroaix adds the draw of step t in step t; NEST's generator
  spike of step t arrives at t + 1: the same process shifted by 0.1 ms);
- DC input: added to ``I_e``, as neuroaix does.

Spikes come back in neuroaix's conventions: global ids in population order from 0, and
steps ``round(t/h) - 1`` (docs/numerics.md, section 1).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time

import numpy as np

__all__ = ["main", "out_degrees", "run", "to_nest"]

_RULES = {
    "one_to_one": lambda v: {"rule": "one_to_one"},
    "all_to_all": lambda v: {"rule": "all_to_all"},
    "pairwise_bernoulli": lambda v: {"rule": "pairwise_bernoulli", "p": float(v)},
    "fixed_indegree": lambda v: {"rule": "fixed_indegree", "indegree": int(v)},
    "fixed_outdegree": lambda v: {"rule": "fixed_outdegree", "outdegree": int(v)},
    "fixed_total_number": lambda v: {"rule": "fixed_total_number", "N": int(v)},
}


def _param(nest, dist):
    """Return a NEST parameter (or a float) for a ``neuroaix.Normal``."""
    if dist.std == 0:
        return float(dist.mean)
    p = nest.random.normal(mean=float(dist.mean), std=float(dist.std))
    if math.isinf(dist.low) and math.isinf(dist.high):
        return p
    return nest.math.redraw(p, min=float(dist.low), max=float(dist.high))


def to_nest(net, threads: int, rng_seed: int):
    """Build ``net`` (an unbuilt ``neuroaix.Network``) in a freshly reset NEST kernel.

    Parameters
    ----------
    net : neuroaix.Network
        The network, as ``neuroaix.models`` returns it.
    threads : int
        NEST threads (``local_num_threads``).
    rng_seed : int
        NEST's ``rng_seed`` (1 .. 2**31 - 1).

    Returns
    -------
    list of NodeCollection
        The populations, in order; their node ids are contiguous from 1.
    """
    import nest

    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.set(resolution=net.dt, local_num_threads=threads, rng_seed=rng_seed,
             print_time=False, overwrite_files=True)
    nest.CopyModel("static_synapse", "static_synapse_in")
    pops = []
    for pop in net.populations:
        m = pop.model
        i_e = m.I_e + net.dc.get(pop.index, 0.0)
        nodes = nest.Create("iaf_psc_exp", pop.size, params={
            "C_m": m.C_m, "tau_m": m.tau_m, "tau_syn_ex": m.tau_syn_ex,
            "tau_syn_in": m.tau_syn_in, "t_ref": m.t_ref, "E_L": m.E_L, "V_th": m.V_th,
            "V_reset": m.V_reset, "I_e": i_e})
        nodes.V_m = _param(nest, pop.v_init)
        pops.append(nodes)
    for pr in net.projections:
        conn = _RULES[pr.rule](pr.value)
        if pr.rule in ("fixed_indegree", "fixed_outdegree", "fixed_total_number",
                       "pairwise_bernoulli", "all_to_all"):
            conn["allow_autapses"] = pr.allow_autapses
            if pr.rule != "pairwise_bernoulli" and pr.rule != "all_to_all":
                conn["allow_multapses"] = pr.allow_multapses
        model = "static_synapse_in" if pr.weight.mean < 0 else "static_synapse"
        nest.Connect(pops[pr.pre.index], pops[pr.post.index], conn,
                     {"synapse_model": model, "weight": _param(nest, pr.weight),
                      "delay": _param(nest, pr.delay)})
    for index, (rate, k, w) in net.poisson.items():
        if rate * k <= 0:
            continue
        gen = nest.Create("poisson_generator", params={"rate": rate * k})
        nest.Connect(gen, pops[index], "all_to_all",
                     {"synapse_model": "static_synapse_in" if w < 0 else "static_synapse",
                      "weight": w, "delay": net.dt})
    return pops


def out_degrees(net) -> np.ndarray:
    """Return the mean out-degree of each population's neurons (float64, one per population).

    NEST has no counter of delivered synaptic events; ``spikes of population j *
    out_degrees[j]`` estimates them (exact in expectation for the rules of neuroaix.models).
    """
    deg = np.zeros(len(net.populations))
    for pr in net.projections:
        deg[pr.pre.index] += pr.expected_synapses() / pr.pre.size
    return deg


def _peak_rss_bytes() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def run(model: str, *, scale: float, k_scale: float | None = None, input: str | None = None,
        seed: int = 1, threads: int = 2, t_presim: float = 500.0,
        t_sim: float = 1000.0) -> tuple[dict, np.ndarray, np.ndarray]:
    """Build and simulate a neuroaix model in NEST; return (summary, senders, steps).

    Spikes of ``[t_presim, t_presim + t_sim)`` are recorded; ``summary`` holds the wall
    seconds of construction (``wall_s_build``: Create and Connect), presimulation (NEST
    finishes its connection infrastructure there) and simulation, q_RTF, the estimated
    synaptic events, and the peak RSS.
    """
    import nest

    from neuroaix import models

    t_start = time.perf_counter()
    net = models.build(model, scale=scale, k_scale=k_scale, input=input, seed=seed)
    pops = to_nest(net, threads, rng_seed=seed % (2**31 - 2) + 1)
    rec = nest.Create("spike_recorder", params={"start": float(t_presim)})
    for nodes in pops:
        nest.Connect(nodes, rec)
    wall_build = time.perf_counter() - t_start
    t0 = time.perf_counter()
    nest.Simulate(float(t_presim))
    wall_presim = time.perf_counter() - t0
    t0 = time.perf_counter()
    nest.Simulate(float(t_sim))
    wall_sim = time.perf_counter() - t0
    ev = rec.events
    first = pops[0][0].global_id
    senders = np.asarray(ev["senders"], np.int64) - first
    steps = np.rint(np.asarray(ev["times"], np.float64) / net.dt).astype(np.int64) - 1
    order = np.lexsort((senders, steps))
    senders, steps = senders[order].astype(np.int32), steps[order]
    pop_of = np.repeat(np.arange(len(pops)), [len(p) for p in pops])
    per_pop = np.bincount(pop_of[senders], minlength=len(pops))
    syn_events = float(per_pop @ out_degrees(net))
    # Neuron-to-neuron synapses: all connections but those of generators and the recorder.
    n_devices = sum(len(pops[i]) for i, (r, k, _) in net.poisson.items()
                                       if r * k > 0) + sum(len(p) for p in pops)
    n_syn = int(nest.GetKernelStatus("num_connections")) - n_devices
    summary = {
        "simulator": "nest", "nest_version": nest.__version__, "model": model,
        "scale": scale, "k_scale": 1.0 if k_scale is None else k_scale,
        "input": "poisson" if input is None else input, "seed": seed, "threads": threads,
        "dt_ms": net.dt, "n_neurons": int(sum(len(p) for p in pops)), "n_synapses": n_syn,
        "populations": [[p.name, p.start, p.stop] for p in net.populations],
        "t0_step": round(t_presim / net.dt), "t_presim_ms": t_presim, "t_sim_ms": t_sim,
        "spikes": len(senders),
        "synaptic_events_estimated": syn_events,
        "wall_s_build": wall_build, "wall_s_presim": wall_presim, "wall_s_sim": wall_sim,
        "q_rtf": wall_sim / (t_sim * 1e-3),
        "synaptic_events_per_wall_s": syn_events / wall_sim if wall_sim > 0 else None,
        "peak_rss_bytes": _peak_rss_bytes(),
    }
    return summary, senders, steps


def main(argv: list[str] | None = None) -> int:
    """Run one model in NEST and write the raster (.npz) and the summary (.json beside it)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", choices=("microcircuit", "brunel"))
    p.add_argument("--scale", type=float, default=0.1)
    p.add_argument("--k-scale", type=float, default=None, help="microcircuit only (1.0)")
    p.add_argument("--input", choices=("poisson", "dc"), default=None,
                   help="microcircuit only (poisson)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--t-presim", type=float, default=500.0)
    p.add_argument("--t-sim", type=float, default=1000.0)
    p.add_argument("--out", required=True, help="raster file (.npz); summary goes to .json")
    args = p.parse_args(argv)
    summary, senders, steps = run(args.model, scale=args.scale, k_scale=args.k_scale,
                                  input=args.input, seed=args.seed, threads=args.threads,
                                  t_presim=args.t_presim, t_sim=args.t_sim)
    np.savez_compressed(args.out, senders=senders, steps=steps)
    with open(args.out.removesuffix(".npz") + ".json", "w") as fh:
        json.dump(summary, fh, indent=2)
    print(json.dumps({k: summary[k] for k in ("spikes", "wall_s_build", "wall_s_sim",
                                             "q_rtf", "peak_rss_bytes")}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
