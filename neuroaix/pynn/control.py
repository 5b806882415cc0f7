"""Set-up and run control of the PyNN backend (``setup``, ``run``, ``reset``, ``end``, ...)."""

from __future__ import annotations

from pyNN import common
from pyNN.common.control import DEFAULT_MIN_DELAY, DEFAULT_TIMESTEP
from pyNN.recording import get_io

from neuroaix import formats
from neuroaix.checks import check_choice, check_int, check_number
from neuroaix.engine import mpi
from neuroaix.engine.backend import BACKENDS
from neuroaix.pynn import simulator

__all__ = ["end", "get_current_time", "get_max_delay", "get_min_delay", "get_time_step",
           "initialize", "num_processes", "rank", "reset", "run", "run_for", "run_until",
           "setup"]

#: neuroaix's own keywords of ``setup()``; PyNN's backends ignore what they do not know.
SETUP_OPTIONS = ("rng_seed", "partitions", "threads", "backend")


def setup(timestep=DEFAULT_TIMESTEP, min_delay=DEFAULT_MIN_DELAY, **extra_params):
    """Start a new model with time step ``timestep`` (ms); see the module for the options.

    ``min_delay`` defaults to one step and ``max_delay`` to the engine's 255 steps. Under an
    MPI launcher (``mpiexec -n N``, N > 1) the ranks share the engine's partitions
    (``partitions`` defaults to N and must be at least N): ``rank()`` and
    ``num_processes()`` are MPI's, every rank must make the same calls, and the results
    equal a run in one process.

    Returns
    -------
    int
        The MPI rank (0 in one process).

    Raises
    ------
    ValueError
        For options out of range, or fewer partitions than MPI ranks.
    """
    common.setup(timestep, min_delay, **extra_params)
    state = simulator.state
    state.clear()
    dt = check_number("timestep", timestep, low=0, low_open=True, unit="ms")
    state.dt = dt
    state.min_delay = dt if min_delay == "auto" else float(min_delay)
    max_delay = extra_params.get("max_delay", "auto")
    limit = formats.MAX_DELAY_STEPS * dt
    state.max_delay = limit if max_delay == "auto" else float(max_delay)
    if state.max_delay > limit + 1e-9 * limit:
        raise ValueError(f"max_delay={max_delay!r} ms exceeds neuroaix's "
                         f"{formats.MAX_DELAY_STEPS} steps of {dt!r} ms; use max_delay <= "
                         f"{limit:g}")
    state.seed = check_int("rng_seed", extra_params.get("rng_seed", 12345), low=0)
    _join_mpi(state)
    state.partitions = check_int("partitions", extra_params.get("partitions",
                                                              state.num_processes), low=1)
    if state.partitions < state.num_processes:
        raise ValueError(f"partitions={state.partitions} is fewer than the "
                         f"{state.num_processes} MPI processes; use partitions >= "
                         f"{state.num_processes} (or leave it unset)")
    threads = extra_params.get("threads")
    state.threads = None if threads is None else check_int("threads", threads, low=1)
    state.backend = check_choice("backend", extra_params.get("backend", "cpu"),
                                 tuple(BACKENDS))
    return rank()


def _join_mpi(state) -> None:
    """Take rank and size from MPI when an MPI launcher started more than one process."""
    state.comm, state.mpi_rank, state.num_processes = None, 0, 1
    if mpi.launched_ranks() > 1:
        comm = mpi.get_comm()
        if comm.Get_size() > 1:
            state.comm, state.mpi_rank = comm, comm.Get_rank()
            state.num_processes = comm.Get_size()


def end(compatible_output=True):
    """Write the data asked for with ``record(..., to_file=...)``.

    The recorded data stay readable (``get_data`` after ``end()``, as pyNN.nest); the next
    ``setup()`` forgets the model.
    """
    state = simulator.state
    for population, variables, filename in state.write_on_end:
        population.write_data(get_io(filename), variables)
    state.write_on_end = []


run, run_until = common.build_run(simulator)
run_for = run
reset = common.build_reset(simulator)
initialize = common.initialize
get_current_time, get_time_step, get_min_delay, get_max_delay, num_processes, rank = \
    common.build_state_queries(simulator)
