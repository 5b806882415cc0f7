"""Engine fixtures: small networks built through the public API, and the backend fixture."""

import numpy as np
import pytest

from neuroaix import LIF
from neuroaix.distributions import Normal
from neuroaix.engine import Simulator
from neuroaix.engine._reference import simulate_reference
from neuroaix.network import Network


def small_network(n_exc=80, n_inh=20, *, seed=7, w=87.81, g=-5.0, rate_hz=11000.0,
                  delay_mean=1.5, indegree=15):
    """A small E/I network with Poisson input, normal weights and delays (many delay slots)."""
    net = Network(dt=0.1, seed=seed)
    exc = net.add_population("E", n_exc, LIF(), v_init=Normal(-58.0, 5.0))
    inh = net.add_population("I", n_inh, LIF(), v_init=Normal(-58.0, 5.0))
    for pre, weight in ((exc, w), (inh, g * w)):
        for post in (exc, inh):
            net.connect(pre, post, "fixed_indegree", indegree=indegree,
                        weight=Normal(weight, abs(weight) * 0.1),
                        delay=Normal(delay_mean, delay_mean * 0.5, low=0.1))
    for pop in (exc, inh):
        net.add_poisson_input(pop, rate_hz=rate_hz, weight=w)
    return net


class Backend:
    """Runs a built network for n steps and returns (senders, steps, rings, counters)."""

    def __init__(self, name, threads):
        self.name = name
        self.threads = threads

    def __repr__(self):
        return f"{self.name}-{self.threads}" if self.threads else self.name

    def run(self, built, n_steps):
        if self.name == "reference":
            r = simulate_reference(built, n_steps)
            return r.senders, r.steps, r.rings, r.counters, r.state
        sim = Simulator(built, threads=self.threads, progress=False)
        sim.run_steps(n_steps)
        senders, steps = sim.spikes()
        rings = [sim.ring_buffer(p) for p in range(built.n_partitions)]
        return senders, steps, rings, sim.counters, sim.state()


@pytest.fixture(params=[("reference", None), ("numba", 1), ("numba", 2)],
                ids=lambda p: p[0] + (f"-threads{p[1]}" if p[1] else ""))
def backend(request):
    """Every backend: the plain-Python reference and the Numba engine on 1 and 2 threads."""
    return Backend(*request.param)


@pytest.fixture(scope="session")
def reference_run():
    """The reference result of the small network on 3 partitions, 400 steps (cached)."""
    built = small_network().build(partitions=3)
    r = simulate_reference(built, 400)
    return built, r


def assert_same_raster(a, b):
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
