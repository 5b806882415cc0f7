"""The one import of NEST for the tests marked ``nest``.

``make test`` runs those tests in their own environment (``.venv-nest``, nest-simulator from
PyPI) with ``NEUROAIX_NEST=required``: there a missing or broken NEST fails the run. Elsewhere
(the main environment, where NEST and Numba's OpenMP layer cannot share a process) the
modules are skipped.
"""

import os

import pytest


def import_nest():
    """Return the ``nest`` module; fail instead of skipping where NEST is required."""
    if os.environ.get("NEUROAIX_NEST") == "required":
        import nest  # an ImportError here fails the collection

        return nest
    return pytest.importorskip("nest")
