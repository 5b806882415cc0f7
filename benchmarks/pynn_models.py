"""The microcircuit and Brunel's network written in PyNN, run on one simulator per process.

``python benchmarks/pynn_models.py MODEL SIMULATOR [--scale S] [--t-sim T] [--json PATH]``
builds the model with PyNN's API only (the parameters of ``neuroaix.models``, written as a
PyNN user would: IF_curr_exp cells, FixedTotalNumber / FixedNumberPre connectors,
``normal_clipped`` weights and delays, one Poisson source per neuron connected one to one),
presimulates 100 ms, simulates ``T`` ms and prints the mean rate of every population. NEST
and Numba's OpenMP layer cannot share a process, so ``compare_pynn_nest.py`` runs this once
in .venv (``neuroaix``) and once in .venv-nest (``nest``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
import time

import numpy as np

from neuroaix import models as nm

PRESIM = 100.0


def _lif(sim, **kw):
    return sim.IF_curr_exp(**kw)


def microcircuit(sim, scale: float, dt: float):
    """Build the PD14 microcircuit (Poisson background) and return its populations."""
    cell = dict(cm=0.25, tau_m=10.0, tau_syn_E=0.5, tau_syn_I=0.5, tau_refrac=2.0,
                v_rest=-65.0, v_thresh=-50.0, v_reset=-65.0)
    psc = nm.psp_to_psc(0.15, 250.0, 10.0, 0.5) / 1000.0  # nA
    syn = nm.microcircuit_synapses(scale)
    rng = sim.NumpyRNG(seed=12345)
    pops = []
    for i, name in enumerate(nm.POPULATIONS):
        n = max(1, round(nm.FULL_SIZES[i] * scale))
        v0 = sim.RandomDistribution("normal", (nm.V0_MEAN[i], nm.V0_STD[i]), rng=rng)
        pops.append(sim.Population(n, _lif(sim, **cell), label=name,
                                   initial_values={"v": v0}))
    for i, post in enumerate(pops):
        for j, pre in enumerate(pops):
            if syn[i, j] <= 0:
                continue
            w = psc * (-4.0 if j % 2 else 1.0) * (2.0 if (i, j) == (0, 2) else 1.0)
            d = 0.75 if j % 2 else 1.5
            bounds = (0.0, np.inf) if w > 0 else (-np.inf, 0.0)
            weight = sim.RandomDistribution("normal_clipped", (w, abs(w) * 0.1, *bounds),
                                            rng=rng)
            delay = sim.RandomDistribution("normal_clipped", (d, d * 0.5, dt / 2, np.inf),
                                           rng=rng)
            sim.Projection(pre, post, sim.FixedTotalNumberConnector(int(syn[i, j]), rng=rng),
                           sim.StaticSynapse(weight=weight, delay=delay),
                           receptor_type="inhibitory" if w < 0 else "excitatory")
    for i, pop in enumerate(pops):
        noise = sim.Population(pop.size, sim.SpikeSourcePoisson(rate=8.0 * nm.K_EXT[i]),
                               label=f"{pop.label}_bg")
        sim.Projection(noise, pop, sim.OneToOneConnector(),
                       sim.StaticSynapse(weight=psc, delay=dt))
    return pops


def brunel(sim, scale: float, dt: float):
    """Build Brunel's network (neuroaix.models.brunel's parameters) and return E and I."""
    cell = dict(cm=0.25, tau_m=20.0, tau_syn_E=0.5, tau_syn_I=0.5, tau_refrac=2.0,
                v_rest=0.0, v_thresh=20.0, v_reset=10.0)
    j_ex = nm.psp_to_psc(0.1, 250.0, 20.0, 0.5)
    c_e, c_i, g, eta = 1000, 250, 5.0, 2.0
    nu_thr = 20.0 * 250.0 / (j_ex * 0.5e-3 * c_e * 20.0)
    rng = sim.NumpyRNG(seed=12345)
    v0 = sim.RandomDistribution("normal_clipped", (10.0, 5.0, -np.inf, 19.9), rng=rng)
    exc = sim.Population(round(10000 * scale), _lif(sim, **cell), label="E",
                         initial_values={"v": v0})
    inh = sim.Population(round(2500 * scale), _lif(sim, **cell), label="I",
                         initial_values={"v": v0})
    for post in (exc, inh):
        sim.Projection(exc, post, sim.FixedNumberPreConnector(c_e, with_replacement=True,
                                                              rng=rng),
                       sim.StaticSynapse(weight=j_ex / 1000.0, delay=1.5))
        sim.Projection(inh, post, sim.FixedNumberPreConnector(c_i, with_replacement=True,
                                                              rng=rng),
                       sim.StaticSynapse(weight=-g * j_ex / 1000.0, delay=1.5),
                       receptor_type="inhibitory")
    for pop in (exc, inh):
        noise = sim.Population(pop.size, sim.SpikeSourcePoisson(rate=eta * nu_thr * c_e),
                               label=f"{pop.label}_bg")
        sim.Projection(noise, pop, sim.OneToOneConnector(),
                       sim.StaticSynapse(weight=j_ex / 1000.0, delay=dt))
    return [exc, inh]


MODELS = {"microcircuit": microcircuit, "brunel": brunel}


def run(model: str, simulator: str, scale: float, t_sim: float, dt: float = 0.1) -> dict:
    """Build and run ``model`` on ``pyNN.<simulator>``; return rates and timings."""
    sim = importlib.import_module(f"pyNN.{simulator}")
    sim.setup(timestep=dt, min_delay=dt, max_delay=25.0)
    t0 = time.perf_counter()
    pops = MODELS[model](sim, scale, dt)
    for pop in pops:
        pop.record("spikes")
    sim.run(PRESIM)
    t1 = time.perf_counter()
    sim.run(t_sim)
    t2 = time.perf_counter()
    rates = {}
    for pop in pops:
        trains = pop.get_data().segments[0].spiketrains
        n = sum(int(np.count_nonzero(np.asarray(st.magnitude) > PRESIM)) for st in trains)
        rates[pop.label] = n / (pop.size * t_sim * 1e-3)
    sim.end()
    return {"model": model, "simulator": simulator, "scale": scale, "t_sim_ms": t_sim,
            "rates_hz": rates, "build_and_presim_s": t1 - t0, "sim_s": t2 - t1}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=sorted(MODELS))
    parser.add_argument("simulator", help="neuroaix or nest")
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--t-sim", type=float, default=1000.0)
    parser.add_argument("--json", help="write the result here")
    args = parser.parse_args(argv)
    if not (0 < args.scale <= 1 and math.isfinite(args.t_sim) and args.t_sim > 0):
        parser.error("--scale must lie in (0, 1] and --t-sim be positive")
    result = run(args.model, args.simulator, args.scale, args.t_sim)
    for name, rate in result["rates_hz"].items():
        print(f"{name:6s} {rate:8.3f} Hz")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
