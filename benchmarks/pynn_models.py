"""The microcircuit and Brunel's network written in PyNN, run on one simulator per process.

``python benchmarks/pynn_models.py MODEL SIMULATOR [--scale S] [--k-scale K] [--t-sim T]
[--threads N] [--seed S] [--json PATH] [--save NET.npz]``
builds the model with PyNN's API only: ``transcribe`` writes the network of
``neuroaix.models`` (the microcircuit with Poisson background, at ``--scale`` and the
in-degree scale ``--k-scale`` with its compensation; Brunel's network) as a PyNN user would,
IF_curr_exp cells, FixedTotalNumber / FixedNumberPre connectors, ``normal_clipped`` weights
and delays, one Poisson source per neuron connected one to one. It presimulates 100 ms,
simulates ``T`` ms and prints the mean rate of every population. NEST
and Numba's OpenMP layer cannot share a process, so ``compare_pynn_nest.py`` runs this once
in .venv (``neuroaix``) and once in .venv-nest (``nest``).
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
import time

import numpy as np

from neuroaix import models as nm
from neuroaix import outputs

PRESIM = 100.0
#: The rules of ``neuroaix.Network`` this transcription writes, and PyNN's connector for each.
CONNECTORS = {"fixed_total_number": "FixedTotalNumberConnector",
              "fixed_indegree": "FixedNumberPreConnector"}


def _value(sim, dist, rng, scale: float = 1.0):
    """Return a ``neuroaix.Normal`` (times ``scale``) as a PyNN value: a number if it is one."""
    if dist.std == 0:
        return dist.mean * scale
    bounds = sorted((dist.low * scale, dist.high * scale))
    return sim.RandomDistribution("normal_clipped", (dist.mean * scale, dist.std * abs(scale),
                                                     *bounds), rng=rng)


def transcribe(sim, net, rng) -> list:
    """Write the neuroaix ``Network`` ``net`` with PyNN's API; return its populations.

    Every population of ``LIF`` cells becomes a Population of ``IF_curr_exp`` (C_m pF -> cm
    nF, I_e and the population's DC input pA -> i_offset nA, E_L -> v_rest, ...) with its
    initial potentials as a ``normal_clipped`` distribution; every projection one
    Projection by the connector of ``CONNECTORS`` with ``normal_clipped`` weights (pA -> nA,
    the receptor by the sign) and delays; every Poisson input (rate, indegree, weight) one
    SpikeSourcePoisson per neuron at ``rate * indegree``, connected one to one with delay dt.
    A rule, model or input outside these raises ``ValueError``.
    """
    pops = []
    for pop in net.populations:
        m = pop.model
        if type(m).__name__ != "LIF" or pop.v_init is None or not hasattr(pop.v_init, "std"):
            raise ValueError(f"population {pop.name!r}: only LIF cells with Normal initial "
                             "potentials are transcribed")
        cell = sim.IF_curr_exp(cm=m.C_m / 1000.0, tau_m=m.tau_m, tau_syn_E=m.tau_syn_ex,
                               tau_syn_I=m.tau_syn_in, tau_refrac=m.t_ref, v_rest=m.E_L,
                               v_thresh=m.V_th, v_reset=m.V_reset,
                               i_offset=(m.I_e + net.dc.get(pop.index, 0.0)) / 1000.0)
        pops.append(sim.Population(pop.size, cell, label=pop.name,
                                   initial_values={"v": _value(sim, pop.v_init, rng)}))
    for pr in net.projections:
        if pr.rule not in CONNECTORS:
            raise ValueError(f"rule {pr.rule!r} is not transcribed; use one of "
                             f"{sorted(CONNECTORS)}")
        connector = getattr(sim, CONNECTORS[pr.rule])(
            int(pr.value), allow_self_connections=pr.allow_autapses,
            with_replacement=pr.allow_multapses, rng=rng)
        sim.Projection(pops[pr.pre.index], pops[pr.post.index], connector,
                       sim.StaticSynapse(weight=_value(sim, pr.weight, rng, 1e-3),
                                         delay=_value(sim, pr.delay, rng)),
                       receptor_type="inhibitory" if pr.weight.mean < 0 else "excitatory")
    for index, (rate, indegree, weight) in sorted(net.poisson.items()):
        target = pops[index]
        noise = sim.Population(target.size, sim.SpikeSourcePoisson(rate=rate * indegree),
                               label=f"{target.label}_bg")
        sim.Projection(noise, target, sim.OneToOneConnector(),
                       sim.StaticSynapse(weight=weight / 1000.0, delay=net.dt))
    return pops


def microcircuit(sim, scale: float, k_scale: float, dt: float, seed: int = 12345):
    """The PD14 microcircuit of ``neuroaix.models.microcircuit`` (Poisson background)."""
    net = nm.microcircuit(scale, k_scale, input="poisson", dt=dt)
    return transcribe(sim, net, sim.NumpyRNG(seed=seed))


def brunel(sim, scale: float, k_scale: float, dt: float, seed: int = 12345):
    """Brunel's network of ``neuroaix.models.brunel`` (its in-degrees do not scale)."""
    if k_scale != 1.0:
        raise ValueError("brunel keeps its in-degrees; leave --k-scale at 1")
    return transcribe(sim, nm.brunel(scale, dt=dt), sim.NumpyRNG(seed=seed))


MODELS = {"microcircuit": microcircuit, "brunel": brunel}


def run(model: str, simulator: str, scale: float, t_sim: float, k_scale: float = 1.0,
        dt: float = 0.1, threads: int = 1, seed: int = 12345, save: str | None = None) -> dict:
    """Build and run ``model`` on ``pyNN.<simulator>``; return rates and timings.

    ``rates_hz`` holds each population's mean rate after the pre-simulation, ``rate_sem_hz``
    its standard error over the population's cells. ``seed`` seeds the simulator
    (``rng_seed``: neuroaix's construction and input streams, NEST's generators) and the
    NumpyRNG of PyNN's connectors and distributions. ``save`` (neuroaix only) writes the
    network to that file (``Network.save``, for ``neuroaix run/emulate/energy --network``)
    and returns without running.
    """
    sim = importlib.import_module(f"pyNN.{simulator}")
    sim.setup(timestep=dt, min_delay=dt, max_delay=25.0, threads=threads, rng_seed=seed)
    t0 = time.perf_counter()
    pops = MODELS[model](sim, scale, k_scale, dt, seed)
    if save is not None:
        if simulator != "neuroaix":
            raise ValueError("--save writes a neuroaix network; use the simulator neuroaix")
        from neuroaix.pynn import simulator as state

        state.state.network().save(save)
        return {"saved": save}
    for pop in pops:
        pop.record("spikes")
    sim.run(PRESIM)
    t1 = time.perf_counter()
    sim.run(t_sim)
    t2 = time.perf_counter()
    rates, sems = {}, {}
    for pop in pops:
        trains = pop.get_data().segments[0].spiketrains
        per_cell = np.array([np.count_nonzero(np.asarray(st.magnitude) > PRESIM)
                             for st in trains], dtype=np.float64) / (t_sim * 1e-3)
        rates[pop.label] = float(per_cell.mean())
        sems[pop.label] = float(per_cell.std(ddof=1) / math.sqrt(per_cell.size)
                                if per_cell.size > 1 else math.nan)
    sim.end()
    return {"model": model, "simulator": simulator, "scale": scale, "k_scale": k_scale,
            "t_sim_ms": t_sim, "threads": threads, "seed": seed,
            "neurons": sum(p.size for p in pops),
            "rates_hz": rates, "rate_sem_hz": sems, "build_and_presim_s": t1 - t0,
            "sim_s": t2 - t1}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=sorted(MODELS))
    parser.add_argument("simulator", help="neuroaix or nest")
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--k-scale", type=float, default=1.0,
                        help="in-degree scale of the microcircuit (weights / sqrt(k), DC "
                             "compensation; neuroaix.models.microcircuit)")
    parser.add_argument("--t-sim", type=float, default=1000.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--json", help="write the result here")
    parser.add_argument("--save", metavar="FILE.npz",
                        help="neuroaix: save the network there instead of running it")
    args = parser.parse_args(argv)
    if not (0 < args.scale <= 1 and 0 < args.k_scale <= 1 and math.isfinite(args.t_sim)
            and args.t_sim > 0 and args.threads >= 1):
        parser.error("--scale and --k-scale must lie in (0, 1], --t-sim be positive and "
                     "--threads at least 1")
    if args.save:
        outputs.check_file(args.save, option="--save")
    result = run(args.model, args.simulator, args.scale, args.t_sim, args.k_scale,
                 threads=args.threads, seed=args.seed, save=args.save)
    if args.save:
        print(f"wrote {args.save}")
        return 0
    for name, rate in result["rates_hz"].items():
        print(f"{name:6s} {rate:8.3f} Hz")
    if args.json:
        outputs.write_json(args.json, result, indent=1, nonfinite_as_null=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
