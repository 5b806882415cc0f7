"""neuroaix as a PyNN 0.13 backend: ``import pyNN.neuroaix as sim`` (or ``neuroaix.pynn``).

A PyNN script runs on the fixed-point engine unchanged where it uses the supported types
(docs/pynn.md): cells IF_curr_exp, IF_curr_alpha, IF_curr_delta, SpikeSourcePoisson and
SpikeSourceArray, StaticSynapse, DCSource, StepCurrentSource and ACSource, every
connector (those with a counter-based rule natively), recording of 'spikes', 'v',
'isyn_exc' and 'isyn_inh' into Neo blocks. The network is built at the first ``run()``;
parameters, current sources and weights set between runs carry the simulation into the
network rebuilt with them; under ``mpiexec`` the ranks share the partitions.
``setup()`` takes neuroaix's own options besides PyNN's:

- ``rng_seed`` (default 12345): the seed of every construction and input stream;
- ``partitions`` (default 1, or the MPI process count) and ``threads`` (default:
  Numba's): the engine's partitions and threads, which change nothing in the results;
- ``backend`` (``"cpu"`` or ``"reference"``).

Other PyNN types raise ``NotImplementedError`` naming the type and the supported ones.
"""

from pyNN import errors, random, space  # noqa: F401
from pyNN.connectors import *  # noqa: F403
from pyNN.network import Network  # noqa: F401
from pyNN.random import GSLRNG, NumpyRNG, RandomDistribution  # noqa: F401
from pyNN.recording import *  # noqa: F403
from pyNN.space import Space  # noqa: F401

from neuroaix.pynn.control import (end, get_current_time, get_max_delay,  # noqa: F401
                                   get_min_delay, get_time_step, initialize, num_processes,
                                   rank, reset, run, run_for, run_until, setup)
from neuroaix.pynn.populations import Assembly, Population, PopulationView  # noqa: F401
from neuroaix.pynn.procedural_api import connect, create, record, record_v  # noqa: F401
from neuroaix.pynn.projections import Projection  # noqa: F401
from neuroaix.pynn.standardmodels import *  # noqa: F403


def list_standard_models():
    """Return the names of the standard cell types neuroaix runs."""
    return list(CELL_TYPES)  # noqa: F405
