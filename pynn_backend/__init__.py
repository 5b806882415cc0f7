"""``pyNN.neuroaix``: PyNN's name for the neuroaix backend (``neuroaix.pynn``).

PyNN scripts choose their simulator by module name (``import pyNN.neuroaix as sim``, or
``pyNN.utility.get_simulator`` with the argument ``neuroaix``); this module is that name.
"""

from neuroaix.pynn import *  # noqa: F403
from neuroaix.pynn import list_standard_models  # noqa: F401
