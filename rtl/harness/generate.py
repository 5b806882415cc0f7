"""Verilog of the synapse pipeline (deterministic: no source locations, fixed module names).

``synapse_pipeline`` is the pipeline alone (its memory port as a stream pair), the unit that
synthesis measures. ``synapse_pipeline_sim`` adds the behavioural memory of
:mod:`neuroaix.rtl.hw.synapse_memory` and load ports: the top that the cocotb tests simulate on
Verilator.
"""

import pathlib

from amaranth.back import verilog

from neuroaix.rtl.hw.synapse_memory import PipelineWithMemory
from neuroaix.rtl.params import PipelineConfig
from neuroaix.rtl.hw.synapse_pipeline import SynapsePipeline

__all__ = ["pipeline_verilog", "sim_verilog", "write_verilog"]

def pipeline_verilog(config: PipelineConfig) -> str:
    """Return the Verilog of :class:`SynapsePipeline` as module ``synapse_pipeline``."""
    top = SynapsePipeline(n_neurons=config.n_neurons, ring_depth=config.ring_depth,
                          n_sources=config.n_sources, memory_words=config.memory_words,
                          max_burst=config.max_burst, fifo_words=config.fifo_words)
    return verilog.convert(top, name="synapse_pipeline", emit_src=False)


def sim_verilog(config: PipelineConfig) -> str:
    """Return the Verilog of the pipeline with its memory as module ``synapse_pipeline_sim``."""
    top = PipelineWithMemory(n_neurons=config.n_neurons, ring_depth=config.ring_depth,
                             n_sources=config.n_sources, memory_words=config.memory_words,
                             max_burst=config.max_burst, fifo_words=config.fifo_words,
                             latency=config.latency)
    return verilog.convert(top, name="synapse_pipeline_sim", emit_src=False)


def write_verilog(out_dir, config: PipelineConfig, *, sim: bool = True) -> list[pathlib.Path]:
    """Write ``synapse_pipeline.v`` (and ``synapse_pipeline_sim.v``) into ``out_dir``.

    Parameters
    ----------
    out_dir : str or path
        Output directory, created if missing.
    config : PipelineConfig
        Pipeline (and memory) parameters.
    sim : bool
        Also write the simulation top with the behavioural memory.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "synapse_pipeline.v"]
    paths[0].write_text(pipeline_verilog(config))
    if sim:
        paths.append(out / "synapse_pipeline_sim.v")
        paths[1].write_text(sim_verilog(config))
    return paths
