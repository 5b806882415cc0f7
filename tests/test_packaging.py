"""Packaging: rtl/ and emulator/ install as neuroaix.rtl and neuroaix.emulator, never bare;
the PyNN backend also as pyNN.neuroaix, into PyNN's own package."""

import pathlib
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.backend_independent
def test_wheel_maps_subpackages_under_neuroaix(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.fail(res.stderr[-2000:])
    wheel = next(tmp_path.glob("neuroaix-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("neuroaix/rtl/__init__.py", "neuroaix/rtl/hw/node.py",
                     "neuroaix/rtl/harness/node_cocotb.py", "neuroaix/emulator/__init__.py",
                     "neuroaix/commands/run.py", "neuroaix/engine/_kernels.py",
                     "neuroaix/construction/_kernels.py",
                     "neuroaix/energy/__init__.py", "neuroaix/configs/neuroaix-35.toml",
                     "neuroaix/configs/neuroaix-35-energy.toml"):
        assert required in names
    tops = {n.split("/")[0] for n in names if not n.startswith("neuroaix-")}
    assert tops == {"neuroaix", "pyNN"}
    # pyNN.neuroaix goes into PyNN's package, which the wheel must not replace
    assert {n for n in names if n.startswith("pyNN/")} == {"pyNN/neuroaix/__init__.py"}
    assert "neuroaix/pynn/projections.py" in names


@pytest.mark.backend_independent
def test_pynn_finds_the_backend_by_its_name():
    code = ("import pyNN.neuroaix as sim, neuroaix.pynn as own; "
            "from pyNN.utility import get_simulator; "
            "assert sim.Projection is own.Projection and sim.setup is own.setup; "
            "import sys; sys.argv = ['script', 'neuroaix']; "
            "s, _ = get_simulator(); print(s.__name__, s.IF_curr_exp.__module__)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd="/")
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == ["pyNN.neuroaix", "neuroaix.pynn.standardmodels"]


@pytest.mark.backend_independent
def test_shipped_hardware_config_is_found_by_name():
    from neuroaix.emulator import load_hardware

    hw = load_hardware("neuroaix-35")
    assert hw.source.endswith("neuroaix-35.toml")
