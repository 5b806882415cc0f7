"""Fixtures of the PyNN backend's tests: ``sim`` is ``pyNN.neuroaix`` after a fresh setup().

PyNN and Neo are the ``pynn`` extra, installed by ``make test``; without them these tests
fail at import rather than being skipped.
"""

import pyNN  # noqa: F401 - the pynn extra must be installed
import pytest

import pyNN.neuroaix


@pytest.fixture
def sim():
    pyNN.neuroaix.setup(timestep=0.1)
    yield pyNN.neuroaix
    pyNN.neuroaix.end()
