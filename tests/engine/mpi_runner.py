"""Run under ``mpiexec -n N python tests/engine/mpi_runner.py CASE...``; rank 0 prints JSON.

Not a test module: tests/engine/test_mpi.py launches it and compares what it prints with a
single-process run of the same case (``case_network``, ``run_digest``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys

import numpy as np

from neuroaix import models

__all__ = ["CASES", "case_network", "models_network", "run_digest"]



def _microcircuit_long_delays():
    """The scaled microcircuit with every delay distribution bounded below by 1 ms (10 steps),
    so that the interval exchange batches 10 steps."""
    net = models.microcircuit(scale=0.02, seed=11)
    net.projections = [dataclasses.replace(pr, delay=dataclasses.replace(pr.delay, low=1.0))
                       for pr in net.projections]
    return net


def models_network(min_delay=1.0, seed=3):
    """Every model and input beyond iaf_psc_exp with Poisson/DC: spike sources, iaf_psc_alpha,
    iaf_psc_delta and step currents (on all neurons and on some), delays from ``min_delay``."""
    from neuroaix import Network, Normal
    from neuroaix.neuron import LIF, LIFAlpha, LIFDelta

    net = Network(dt=0.1, seed=seed)
    src = net.add_spike_source("S", [[1.0, 2.0, 7.3, 20.0], [0.5, 3.0, 3.1], []])
    e = net.add_population("E", 30, LIF(), v_init=Normal(-60.0, 4.0))
    a = net.add_population("A", 25, LIFAlpha(tau_syn_ex=1.0, tau_syn_in=2.0),
                           v_init=Normal(-60.0, 4.0))
    d = net.add_population("D", 20, LIFDelta(), v_init=Normal(-60.0, 4.0))
    for pre in (src, e, a, d):
        for post, w in ((e, 300.0), (a, 300.0), (d, 1.5)):
            sign = -3.0 if pre is d else 1.0
            net.connect(pre, post, "fixed_indegree", indegree=5,
                        weight=Normal(sign * w, w * 0.2), delay=Normal(
                            min_delay + 0.5, 0.5, low=min_delay))
    for post, w in ((e, 87.8), (a, 87.8), (d, 0.5)):
        net.add_poisson_input(post, rate_hz=9000.0, weight=w)
    net.add_step_current(e, [5.0, 10.0], [200.0, 0.0], neurons=[0, 3, 5])
    net.add_step_current(e, [7.0], [100.0])
    net.add_step_current(d, [2.0, 15.0], [300.0, -100.0])
    net.add_step_current(a, [2.0], [250.0], neurons=range(10))
    return net


#: name -> (builder, partitions, steps). Brunel's delay is 1.5 ms = 15 steps (interval
#: exchange); the microcircuit's delays reach down to one step (per-step exchange), its
#: ``microcircuit_d1`` variant's down to 10 steps. ``saturating``: Brunel with J = 50 mV,
#: whose ring-buffer channels reach their int32 bound (docs/numerics.md, section 4).
CASES = {
    "brunel": (lambda: models.brunel(scale=0.08, seed=7), 4, 600),
    "microcircuit": (lambda: models.microcircuit(scale=0.02, seed=11), 4, 700),
    "microcircuit_d1": (_microcircuit_long_delays, 4, 700),
    "models": (models_network, 4, 800),
    "saturating": (lambda: models.brunel(scale=0.01, J=50.0, seed=7), 4, 100),
}


def case_network(name: str):
    """Return the unbuilt network, partitions and steps of a case."""
    make, parts, steps = CASES[name]
    return make(), parts, steps


def run_digest(sim) -> dict:
    """Return what must not depend on the rank count: raster hash, counters, state digest."""
    state = sim.state()
    h = hashlib.sha256()
    for key in ("v", "i_ex", "i_in", "ref", "d_ex", "d_in"):
        h.update(np.ascontiguousarray(state[key]).tobytes())
    for p in range(sim.layout.n_partitions):
        h.update(np.ascontiguousarray(sim.ring_buffer(p)).tobytes())
    return {"spike_hash": sim.spike_hash(), "spikes": len(sim.spikes()[0]),
            "counters": sim.counters, "state": h.hexdigest()}


def _run_case(comm, name, exchange):
    from neuroaix.engine.mpi import MPISimulator, rank_partitions

    net, parts, steps = case_network(name)
    own = rank_partitions(parts, comm.Get_size(), comm.Get_rank())
    built = net.build(partitions=parts, threads=1, only=own)
    sim = MPISimulator(built, comm=comm, threads=1, exchange=exchange, progress=False)
    sim.run_steps(steps)
    out = run_digest(sim)
    words = built.partitions[int(own[0])].words
    owner = words if words.base is None else words.base
    out["interval"] = sim.interval
    out["exchanges"] = sim.exchanges
    out["synapses_per_rank"] = comm.allgather(sim.local_synapses)
    out["word_bytes_per_rank"] = comm.allgather(int(owner.nbytes))
    out["total_synapses"] = sim.total_synapses
    return out


def _checkpoint_case(comm, name, path_mpi, path_single):
    """Half the steps, checkpoint (MPI), restore the single-process file, finish."""
    from neuroaix.engine.mpi import MPISimulator, rank_partitions

    net, parts, steps = case_network(name)
    own = rank_partitions(parts, comm.Get_size(), comm.Get_rank())
    built = net.build(partitions=parts, threads=1, only=own)
    sim = MPISimulator(built, comm=comm, threads=1, progress=False)
    sim.run_steps(steps // 2)
    sim.checkpoint(path_mpi)
    resumed = MPISimulator.restore(built, path_single, comm=comm, threads=1, progress=False)
    resumed.run_steps(steps - steps // 2)
    return run_digest(resumed)


def main(argv):
    from neuroaix.engine.mpi import abort_on_error, get_comm

    comm = get_comm()
    results = {}
    with abort_on_error(comm):
        if argv[0] == "checkpoint":
            results["checkpoint"] = _checkpoint_case(comm, *argv[1:4])
        elif argv[0] == "fail":
            # rank 1 fails in the middle of a run while the others wait in the exchange
            net, parts, steps = case_network("brunel")
            from neuroaix.engine.mpi import MPISimulator

            sim = MPISimulator(net.build(partitions=parts, threads=1), comm=comm, threads=1,
                               exchange="step", progress=False)
            sim.run_steps(10)
            if comm.Get_rank() == 1:
                raise RuntimeError("rank 1 lost its data")
            sim.run_steps(steps)
        else:
            for arg in argv:
                name, exchange = arg.split(":")
                results[arg] = _run_case(comm, name, exchange)
    if comm.Get_rank() == 0:
        print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1:])
