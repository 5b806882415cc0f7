"""A PyNN script run by tests/pynn/test_mpi.py in one process and under ``mpiexec -n N``.

Not a test module. Rank 0 prints one JSON line: rank and process count, every cell's spike
times (gathered), the spike counts, and the number of spike trains each rank holds with
``gather=False``.
"""

import json
import sys

import pyNN.neuroaix as sim


def main() -> None:
    sim.setup(timestep=0.1, rng_seed=21, threads=1)
    noise = sim.Population(60, sim.SpikeSourcePoisson(rate=30.0), label="noise")
    drive = sim.Population(40, sim.SpikeSourcePoisson(rate=800.0), label="drive")
    stim = sim.Population(3, sim.SpikeSourceArray(spike_times=[[5.0, 25.0], [12.0], []]),
                          label="stim")
    exc = sim.Population(40, sim.IF_curr_exp(tau_refrac=2.0), label="exc")
    inh = sim.Population(10, sim.IF_curr_alpha(tau_refrac=1.0), label="inh")
    sim.Projection(drive, exc, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.3))
    ee = sim.Projection(noise, exc, sim.FixedProbabilityConnector(0.2),
                        sim.StaticSynapse(weight=0.5, delay=1.0))
    sim.Projection(stim, inh, sim.AllToAllConnector(), sim.StaticSynapse(weight=2.0))
    sim.Projection(exc, inh, sim.FixedNumberPreConnector(5),
                   sim.StaticSynapse(weight=0.4, delay=0.5))
    sim.Projection(inh, exc, sim.FixedProbabilityConnector(0.3),
                   sim.StaticSynapse(weight=-0.6, delay=1.5), receptor_type="inhibitory")
    dc = sim.DCSource(amplitude=0.1, start=10.0)
    dc.inject_into(exc[:20])
    for pop in (noise, exc, inh):
        pop.record("spikes")
    sim.run(30.0)
    ee.set(weight=0.8)
    dc.amplitude = 0.3
    stim.set(spike_times=[[35.0], [40.0, 41.0], [45.0]])
    sim.run(30.0)
    spikes = {pop.label: [st.magnitude.tolist() for st in pop.get_data().segments[0].spiketrains]
              for pop in (noise, exc, inh)}
    counts = {pop.label: int(sum(pop.get_spike_counts().values())) for pop in (exc, inh)}
    local = len(exc.get_data(gather=False).segments[0].spiketrains)
    if sim.num_processes() > 1:
        from mpi4py import MPI
        local = MPI.COMM_WORLD.gather(local, root=0)
    else:
        local = [local]
    out = {"rank": sim.rank(), "processes": sim.num_processes(), "spikes": spikes,
           "counts": counts, "local_trains": local}
    sim.end()
    if out["rank"] == 0:
        print(json.dumps(out))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
