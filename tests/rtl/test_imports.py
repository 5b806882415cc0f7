"""The RTL package and its blocks import without Numba; only engine-facing harnesses need it.

``neuroaix.rtl`` (the hardware blocks, their parameters and the reference model) sits beside
the engines, not above them (docs/architecture.md): importing it, or any block, the model,
Verilog generation, synthesis, the amaranth.sim drivers or the cocotb kit must work in a
process where Numba cannot be imported.
"""

import subprocess
import sys


NUMBA_FREE = [
    "neuroaix.rtl",
    "neuroaix.rtl.params",
    "neuroaix.rtl.model",
    "neuroaix.rtl.hw.layouts",
    "neuroaix.rtl.hw.synapse_pipeline",
    "neuroaix.rtl.hw.synapse_memory",
    "neuroaix.rtl.hw.neuron_update",
    "neuroaix.rtl.hw.background",
    "neuroaix.rtl.hw.node",
    "neuroaix.rtl.harness.generate",
    "neuroaix.rtl.harness.synth",
    "neuroaix.rtl.harness.pipeline_sim",
    "neuroaix.rtl.harness.node_image",
    "neuroaix.rtl.harness.memory_model",
    "neuroaix.rtl.harness.node_sim",
    "neuroaix.rtl.harness.verilator",
    "neuroaix.rtl.harness.node_verilator",
    "neuroaix.rtl.harness.cocotb_kit",
]


def _import_without_numba(modules):
    code = ("import importlib, sys; sys.modules['numba'] = None\n"
            f"for name in {list(modules)!r}:\n"
            "    importlib.import_module(name)\n"
            "print(sorted(m for m in sys.modules if m.startswith('neuroaix.engine')))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_imports_without_numba():
    res = _import_without_numba(NUMBA_FREE)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "[]"


def test_engine_harness_needs_numba():
    """The guard is real: a harness that runs the engine fails to import without Numba."""
    res = _import_without_numba(["neuroaix.rtl.harness.node_engine"])
    assert res.returncode != 0
    assert "numba" in res.stderr
