"""The RTL's ring buffers equal the Numba engine's after every step, on real networks.

The engine runs a small Brunel network and a partition of a scaled microcircuit; its raster
drives the RTL (amaranth.sim) of one partition, whose block RAM is read after every step's
delivery phase and compared with ``Simulator.ring_buffer(p)``. The microcircuit starts with
potentials spread around threshold (within -2..+1 mV) so that the first steps already carry
hundreds of spikes.
"""

import numpy as np
import pytest

from neuroaix.engine import Simulator
from neuroaix.rtl.harness import workloads
from neuroaix.rtl.harness.pipeline_sim import simulate


#: name -> (built network, partition, steps)
CASES = {"brunel": (workloads.small_brunel, 1, 20),
         "microcircuit": (workloads.small_microcircuit, 2, 20)}


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
