"""PyNN's procedural API (``create``, ``connect``, ``record``) on this backend's classes."""

from pyNN import common
from pyNN.connectors import FixedProbabilityConnector

from neuroaix.pynn import simulator
from neuroaix.pynn.populations import Population
from neuroaix.pynn.projections import Projection
from neuroaix.pynn.standardmodels import StaticSynapse

__all__ = ["connect", "create", "record", "record_v"]

create = common.build_create(Population)
connect = common.build_connect(Projection, FixedProbabilityConnector, StaticSynapse)
record = common.build_record(simulator)


def record_v(source, filename):
    """Record the membrane potential of ``source`` into ``filename`` at ``end()``."""
    return record(["v"], source, filename)
