"""Synthesis report parsing, and a tiny synth_xilinx run (slow: yosys in WebAssembly)."""

import pytest

from neuroaix.rtl.params import PipelineConfig
from neuroaix.rtl.harness.synth import parse_stat, report_table, strip_zero_init, synthesize

STAT = """
=== synapse_pipeline ===

   Number of cells:                 12
     BUFG                            1
     CARRY4                          4
     DSP48E1                         2
     FDRE                           30
     LUT2                            5
     LUT6                            7
     RAM64M                          3
     RAMB18E1                        1
     RAMB36E1                        6
"""

TINY = PipelineConfig(n_neurons=4, ring_depth=2, n_sources=2, memory_words=2, max_burst=1,
                      fifo_words=1, latency=2)


def test_parse_stat_counts_resource_classes():
    r = parse_stat(STAT)
    assert (r["LUT"], r["FF"], r["BRAM36"], r["DSP"], r["LUTRAM"], r["CARRY4"]) == \
        (12, 30, 6.5, 2, 3, 4)


def test_report_table_lists_the_neuroaix_blocks():
    text = report_table(parse_stat(STAT), TINY)
    assert "neuroAIx ring buffers                   5950" in text
    assert "neuroAIx spike dispatcher               5216" in text
    assert "11166" in text and "278" in text


def test_strip_zero_init_keeps_nonzero_initialisers():
    v = ("  initial begin\n    ring[0] = 64'h0000;\n    ring[1] = 64'h0;\n  end\n"
         "  initial begin\n    rows[0] = 9'h001;\n  end\n")
    assert strip_zero_init(v) == "  initial begin\n    rows[0] = 9'h001;\n  end\n"


@pytest.mark.slow
def test_tiny_pipeline_synthesizes(tmp_path):
    r = synthesize(TINY, tmp_path)
    assert r["LUT"] > 0 and r["FF"] > 0
    assert r["DSP"] == 0
