"""What drives and measures the hardware blocks (``neuroaix.rtl.harness``).

- amaranth.sim drivers: :mod:`~neuroaix.rtl.harness.pipeline_sim` (the synapse pipeline's step
  schedule) and :mod:`~neuroaix.rtl.harness.node_sim` (a whole node);
  :mod:`~neuroaix.rtl.harness.node_image` (a node's load image).
- recorded workloads: :mod:`~neuroaix.rtl.harness.workloads` (seeded inputs) and
  :mod:`~neuroaix.rtl.harness.cycles` (the calibration cycle counts of
  ``tests/data/rtl_cycles.json``).
- engine comparisons: :mod:`~neuroaix.rtl.harness.node_engine` (imports the engine).
- Verilog and synthesis: :mod:`~neuroaix.rtl.harness.generate`,
  :mod:`~neuroaix.rtl.harness.synth`.
- Verilator and cocotb: :mod:`~neuroaix.rtl.harness.verilator` (the one build path),
  :mod:`~neuroaix.rtl.harness.node_verilator` (node runs) and
  :mod:`~neuroaix.rtl.harness.node_cocotb` (the node's cocotb bench).

Modules are imported by name; this package imports none of them.
"""

__all__: list[str] = []
