"""PyNN under MPI: the same script gives the same spikes in one process and on two ranks.

``mpi_script.py`` (a PyNN script with Poisson sources folded and not, a SpikeSourceArray,
native and PyNN-drawn connectors, and weights, a DC amplitude and spike times changed
between runs) runs here in this process and under ``mpiexec -n 2``; mpi4py and mpiexec come
with ``make test`` (the mpi extra), and their absence is a failure.
"""

import contextlib
import io
import json
import os
import pathlib
import subprocess
import sys

from tests._mpi import mpiexec

HERE = pathlib.Path(__file__).parent
ROOT = HERE.parent.parent


def test_a_pynn_script_gives_the_same_spikes_on_one_and_two_ranks():
    from tests.pynn import mpi_script

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        mpi_script.main()
    one = json.loads(out.getvalue().strip().splitlines()[-1])
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_NUM_THREADS": "1"}
    proc = subprocess.run([mpiexec(), "-n", "2", sys.executable, str(HERE / "mpi_script.py")],
                          capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    two = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (one["rank"], one["processes"], two["rank"], two["processes"]) == (0, 1, 0, 2)
    assert two["spikes"] == one["spikes"] and two["counts"] == one["counts"]
    assert one["counts"]["exc"] > 100 and one["counts"]["inh"] > 0
    # gather=False: each rank holds the cells of its partitions (40 = 20 + 20)
    assert one["local_trains"] == [40] and two["local_trains"] == [20, 20]


def test_state_recordings_are_refused_under_mpi_by_name():
    script = ("import pyNN.neuroaix as sim\n"
              "sim.setup(timestep=0.1)\n"
              "p = sim.Population(4, sim.IF_curr_exp())\n"
              "p.record('v')\n"
              "sim.run(1.0)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_NUM_THREADS": "1"}
    proc = subprocess.run([mpiexec(), "-n", "2", sys.executable, "-c", script],
                          capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert proc.returncode != 0
    assert "recording 'v', 'isyn_exc' or 'isyn_inh' is not supported by neuroaix under MPI " \
           "(2 processes)" in proc.stderr
