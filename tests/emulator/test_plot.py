import numpy as np
import pytest
from neuroaix.emulator import Emulator, HardwareConfig
from neuroaix.emulator.plot import plot_sweep, plot_timeline


def test_timeline_of_a_step(tmp_path):
    rng = np.random.default_rng(5)
    counts = rng.integers(0, 30, (35, 350)).astype(np.int32)
    em = Emulator(HardwareConfig())
    trace = em.trace_step(counts, [3, 40, 41, 200], [0, 0, 0, 1], 0)
    out = plot_timeline(trace, tmp_path / "t.png")
    assert out.stat().st_size > 10_000
    with pytest.raises(ValueError, match=r"^trace lacks 'arrival'; pass the dict of "):
        plot_timeline({}, tmp_path / "x.png")


def test_sweep_plot(tmp_path):
    out = plot_sweep("link.transceiver_ns", [34.0, 120.0, 600.0], [24.0, 23.0, 20.0],
                     tmp_path / "s.svg", bottlenecks=["memory"] * 3)
    assert "<svg" in out.read_text()[:500]
    out = plot_sweep("topology.kind", ["torus", "mesh"], [20.0, 18.0], tmp_path / "k.png")
    assert out.exists()
    # categories are bars: two more patches than the line of numeric values
    line = plot_sweep("x", [1.0, 2.0], [20.0, 18.0], tmp_path / "l.svg").read_text()
    bars = plot_sweep("x", ["a", "b"], [20.0, 18.0], tmp_path / "b.svg").read_text()
    assert bars.count('<g id="patch_') == line.count('<g id="patch_') + 2
    with pytest.raises(ValueError, match=r"^values and accelerations must be non-empty"):
        plot_sweep("k", [1], [], tmp_path / "e.png")
