"""Finding ``mpiexec`` for the tests that start MPI jobs.

``make test`` installs the ``mpi`` extra (mpi4py and mpich): a missing one is a failure, not a
skip.
"""

import pathlib
import shutil
import sys

import pytest


def mpiexec() -> str:
    """Return the path of ``mpiexec`` beside this interpreter (or on ``PATH``); fail if none."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        pytest.fail("mpi4py is not installed (pip install 'neuroaix[mpi]')")
    exe = pathlib.Path(sys.executable).parent / "mpiexec"
    found = str(exe) if exe.exists() else shutil.which("mpiexec")
    if not found:
        pytest.fail("no mpiexec found (pip install 'neuroaix[mpi]', which brings mpich)")
    return found
