"""Verilog of the RTL blocks (deterministic: no source locations, fixed module names).

``synapse_pipeline`` is the pipeline alone (its memory port as a stream pair, for the DDR
controller or a testbench to answer), the unit that synthesis measures; ``neuroaix rtl
generate`` writes it at the neuroAIx node size by default. ``synapse_pipeline_sim`` adds the
behavioural memory of :mod:`neuroaix.rtl.hw.synapse_memory` and load ports: the top that the
cocotb tests simulate on Verilator. Its memory is part of the Verilog (an array of
``memory_words`` 512-bit words with its initial value), so it is written only for a simulation
size, at most :data:`SIM_MEMORY_WORDS` words: a node's 2**20 words (64 MiB) would make the file
hundreds of megabytes and its generation tens of GiB.

:func:`convert` is the one way to Verilog here (the node's tops and synthesis use it too).
Amaranth 0.5's RTLIL back-end builds a memory's initial value as one Python object per bit
(``amaranth.back.rtlil.ModuleEmitter.emit_memory``); at node size (the ring buffer's 141,120
and the row pointers' 77,169 entries) that is 13 million objects, two minutes and 1.3 GiB.
:func:`convert` writes the same ``$meminit_v2`` cell with its constant as one string,
byte-identical output (``tests/rtl/test_generate.py`` compares it with the unpatched back-end).
With ``zero_init=False`` (the node's Verilator builds) it writes no initial value for a memory
that is all zero (the ring buffers, row pointers and state RAMs, which the host clears or
loads). While the node's simulation top held the synapse memory, a 2,205-neuron node's
106,766 words of 512 zero bits made the RTLIL 67 MB and yosys ran for many minutes on them;
without them the RTLIL was 0.5 MB and yosys took seconds.
"""

from __future__ import annotations

import contextlib
import pathlib
import time

from amaranth.back import rtlil, verilog
from amaranth.hdl import _nir

from neuroaix import outputs
from neuroaix.rtl.hw.synapse_memory import PipelineWithMemory
from neuroaix.rtl.hw.synapse_pipeline import SynapsePipeline
from neuroaix.rtl.params import PipelineConfig

__all__ = [
    "SIM_MEMORY_WORDS",
    "FILES",
    "convert",
    "pipeline_verilog",
    "sim_verilog",
    "check_sim_size",
    "write_verilog",
]

#: Largest behavioural memory of a simulation top, in 64-byte words (4 MiB).
SIM_MEMORY_WORDS = 1 << 16

#: The files :func:`write_verilog` writes: file name -> what it holds.
FILES = {
    "synapse_pipeline.v": "the synapse pipeline (memory port as streams; synthesis unit)",
    "synapse_pipeline_sim.v": "the pipeline with its behavioural memory (simulation top)",
}


def _emit_memory(self, cell_idx, cell):
    """``ModuleEmitter.emit_memory`` with the initial value built as one constant string."""
    memory_info = self.memories[cell_idx]
    if _SKIP_ZERO_INIT[0] and not any(cell.init):
        return
    if cell.init:
        mask = (1 << cell.width) - 1
        bits = "".join(format(row & mask, f"0{cell.width}b") for row in reversed(cell.init))
        data = f"{len(cell.init) * cell.width}'{bits}"
    else:
        data = self.sigspec()
    self.builder.cell("$meminit_v2", ports={
        "ADDR": self.sigspec(),
        "DATA": data,
        "EN": self.sigspec(_nir.Value.ones(cell.width)),
    }, parameters={
        "MEMID": memory_info.memid,
        "ABITS": 0,
        "WIDTH": cell.width,
        "WORDS": cell.depth,
        "PRIORITY": 0,
    }, src_loc=cell.src_loc)


#: Set while :func:`convert` runs with ``zero_init=False``.
_SKIP_ZERO_INIT = [False]


@contextlib.contextmanager
def _fast_memory_init(zero_init: bool = True):
    original = rtlil.ModuleEmitter.emit_memory
    rtlil.ModuleEmitter.emit_memory = _emit_memory
    _SKIP_ZERO_INIT[0] = not zero_init
    try:
        yield
    finally:
        rtlil.ModuleEmitter.emit_memory = original
        _SKIP_ZERO_INIT[0] = False


def convert(top, name: str, *, zero_init: bool = True) -> str:
    """Return the deterministic Verilog of component ``top`` as module ``name``.

    Parameters
    ----------
    top : amaranth.lib.wiring.Component
        The top; its signature gives the ports (Amaranth's ``__`` joined names).
    name : str
        Verilog module name of the top.
    zero_init : bool
        False: a memory whose initial value is all zero gets no initial value at all (no
        ``$meminit_v2`` cell, no ``initial`` block), the Verilog of :func:`~neuroaix.rtl.
        harness.synth.strip_zero_init` without writing the zeros first. Verilator starts such
        a memory at zero (``--x-initial 0``, :func:`~neuroaix.rtl.harness.verilator.
        verilate`), as the initial value would; yosys reads the zeros of a node's synapse
        memory (tens of Mbit) and writes one line per word, most of a node's generation time.

    Returns
    -------
    str
        Verilog without source locations.
    """
    with _fast_memory_init(zero_init):
        return verilog.convert(top, name=name, emit_src=False)


def pipeline_verilog(config: PipelineConfig) -> str:
    """Return the Verilog of :class:`SynapsePipeline` as module ``synapse_pipeline``."""
    top = SynapsePipeline(n_neurons=config.n_neurons, ring_depth=config.ring_depth,
                          n_sources=config.n_sources, memory_words=config.memory_words,
                          max_burst=config.max_burst, fifo_words=config.fifo_words)
    return convert(top, "synapse_pipeline")


def check_sim_size(config: PipelineConfig) -> None:
    """Check that ``config`` gives a simulation top of a simulation size.

    Raises
    ------
    ValueError
        If ``config.memory_words`` exceeds :data:`SIM_MEMORY_WORDS`: the behavioural memory is
        written into the Verilog.
    """
    if config.memory_words > SIM_MEMORY_WORDS:
        raise ValueError(
            f"memory_words must be <= {SIM_MEMORY_WORDS} for a simulation top, not "
            f"{config.memory_words!r}: its behavioural memory is written into the Verilog; "
            f"give a simulation size (e.g. --memory-words 4096) or leave out the simulation top")


def sim_verilog(config: PipelineConfig) -> str:
    """Return the Verilog of the pipeline with its memory as module ``synapse_pipeline_sim``.

    Raises
    ------
    ValueError
        If ``config.memory_words`` exceeds :data:`SIM_MEMORY_WORDS`.
    """
    check_sim_size(config)
    top = PipelineWithMemory(n_neurons=config.n_neurons, ring_depth=config.ring_depth,
                             n_sources=config.n_sources, memory_words=config.memory_words,
                             max_burst=config.max_burst, fifo_words=config.fifo_words,
                             latency=config.latency)
    return convert(top, "synapse_pipeline_sim")


def write_verilog(out_dir, config: PipelineConfig, *, sim: bool = False,
                  on_done=None) -> list[pathlib.Path]:
    """Write ``synapse_pipeline.v`` (and with ``sim`` ``synapse_pipeline_sim.v``).

    The simulation size is checked before any Verilog is generated; each file is written
    atomically (``neuroaix.outputs.atomic_path``), and its generation is a named phase
    (announced under a command, named if interrupted). The command checks the folder first
    (``neuroaix.outputs.check_folder``).

    Parameters
    ----------
    out_dir : str or path
        Output folder, created if missing.
    config : PipelineConfig
        Pipeline (and memory) parameters.
    sim : bool
        Also write the simulation top with the behavioural memory (needs
        ``config.memory_words <= SIM_MEMORY_WORDS``).
    on_done : callable, optional
        Called with ``(path, n_bytes, seconds)`` after each file is written.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    ValueError
        If the simulation top's memory is not a simulation size.
    """
    jobs = [("synapse_pipeline.v", pipeline_verilog)]
    if sim:
        check_sim_size(config)
        jobs.append(("synapse_pipeline_sim.v", sim_verilog))
    out = pathlib.Path(out_dir)
    paths = []
    for name, make in jobs:
        path = out / name
        t0 = time.perf_counter()
        with outputs.phase("generation", f"of {path}: {FILES[name]}"):
            text = make(config).encode()
            outputs.write_bytes(path, text)
        paths.append(path)
        if on_done is not None:
            on_done(path, len(text), time.perf_counter() - t0)
    return paths
