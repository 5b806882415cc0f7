"""The RTL's ring buffers equal the Numba engine's after every step, on real networks.

The engine runs a small Brunel network and a partition of a scaled microcircuit; its raster
drives the RTL (amaranth.sim) of one partition, whose block RAM is read after every step's
delivery phase and compared with ``Simulator.ring_buffer(p)``. The microcircuit starts with
potentials spread around threshold (within -2..+1 mV) so that the first steps already carry
hundreds of spikes.
"""

import numpy as np
import pytest

from neuroaix import models
from neuroaix.engine import Simulator
from neuroaix.rtl import workloads
from neuroaix.rtl.sim import simulate



def _brunel():
    return models.brunel(scale=0.01, epsilon=0.02, eta=4.0, seed=5).build(partitions=3,
                                                                           threads=1)


def _microcircuit():
    built = models.microcircuit(scale=0.005, k_scale=0.05, input="dc", seed=5).build(
        partitions=6, threads=1)
    theta = built.coefficients[built.pop_of, 6]
    rng = np.random.default_rng(0)
    built.v0[:] = theta + rng.integers(-(2 << 16), 1 << 16, built.n_neurons)
    return built


#: name -> (built network, partition, steps)
CASES = {"brunel": (_brunel, 1, 30), "microcircuit": (_microcircuit, 2, 30)}


@pytest.mark.parametrize("name", list(CASES))
def test_ring_buffers_equal_engine_after_every_step(name, scoreboard):
    make, p, n_steps = CASES[name]
    built = make()
    spikes, rings = workloads.engine_raster(Simulator(built, threads=1), n_steps, p)
    assert sum(map(len, spikes)) > 0
    workload = workloads.network_workload(built, p, spikes, max_burst=8, fifo_words=16,
                                          latency=20)
    result = simulate(workload, peek=True)
    for t in range(n_steps):
        np.testing.assert_array_equal(result.rings[t], rings[t], err_msg=f"after step {t}")
    scoreboard(workload, result)
