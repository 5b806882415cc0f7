"""Engine fixtures: small networks built through the public API, and the backend fixture."""

import numpy as np
import pytest

from neuroaix import LIF
from neuroaix.distributions import Normal
from neuroaix.engine import Simulator
from neuroaix.engine.backend import BACKENDS
from neuroaix.network import Network

from .mpi_runner import models_network  # noqa: F401 - shared with the engine tests


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
    """A backend under test and its thread count; ``simulator`` creates one on a network."""

    def __init__(self, name, threads):
        self.name = name
        self.threads = threads

    def __repr__(self):
        return f"{self.name}-threads{self.threads}" if self.threads else self.name

    def simulator(self, built, **kwargs):
        return Simulator(built, backend=self.name, threads=self.threads, progress=False,
                         **kwargs)


#: Every registered backend except the reference (the oracle they are compared with), the
#: CPU engine on 1 and 2 threads. The GPU backend registers only when neuroaix.engine.cuda
#: is imported; it runs under numba-cuda's simulator in its own process (test_cuda.py).
BACKENDS_UNDER_TEST = [Backend(name, threads) for name in BACKENDS
                       if name not in ("reference", "cuda")
                       for threads in ((1, 2) if name == "cpu" else (None,))]


@pytest.fixture(params=BACKENDS_UNDER_TEST, ids=repr)
def backend(request):
    """Each backend under test (never the reference itself)."""
    return request.param


@pytest.fixture(scope="session")
def reference_run():
    """The reference run of the small network on 3 partitions, 400 steps (cached)."""
    built = small_network().build(partitions=3)
    ref = Simulator(built, backend="reference", progress=False)
    ref.run_steps(400)
    return built, ref


@pytest.fixture(scope="session")
def models_reference_run():
    """The reference run of ``models_network`` on 3 partitions, 300 steps, probes (cached)."""
    built = models_network(min_delay=0.1).build(partitions=3)
    ref = Simulator(built, backend="reference", probes=[3, 40, 60], progress=False)
    ref.run_steps(300)
    return built, ref


def assert_same_run(sim, ref):
    """Assert equal rasters, counters, neuron state and ring buffers of two simulators."""
    np.testing.assert_array_equal(sim.spikes()[0], ref.spikes()[0])
    np.testing.assert_array_equal(sim.spikes()[1], ref.spikes()[1])
    assert sim.counters == ref.counters
    for key, value in ref.state().items():
        np.testing.assert_array_equal(sim.state()[key], value)
    for p in range(ref.layout.n_partitions):
        np.testing.assert_array_equal(sim.ring_buffer(p), ref.ring_buffer(p))
