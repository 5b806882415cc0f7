"""Tests of neuroaix.energy.power: RAPL counters, nvidia-smi parsing and the TDP estimate."""

from __future__ import annotations

import os
import stat

import pytest

from neuroaix.energy.power import (
    DEFAULT_WATTS_PER_CORE,
    EnergyMeter,
    estimate_power,
    nvidia_smi_power_w,
    nvml_energy_mj,
    rapl_energy_j,
    read_rapl,
)


def make_zone(root, name, energy_uj, max_uj=262143328850):
    zone = root / name
    zone.mkdir(parents=True)
    (zone / "energy_uj").write_text(f"{energy_uj}\n")
    (zone / "max_energy_range_uj").write_text(f"{max_uj}\n")
    return zone


def test_read_rapl_reads_packages_only(tmp_path):
    make_zone(tmp_path, "intel-rapl:0", 1_000_000)
    make_zone(tmp_path, "intel-rapl:1", 2_000_000)
    make_zone(tmp_path, "intel-rapl:0:0", 5)  # core sub-zone, inside package 0
    assert read_rapl(tmp_path) == {"intel-rapl:0": (1_000_000, 262143328850),
                                   "intel-rapl:1": (2_000_000, 262143328850)}


def test_read_rapl_without_zones_or_unreadable(tmp_path):
    assert read_rapl(tmp_path / "absent") is None
    assert read_rapl(tmp_path) is None
    zone = tmp_path / "intel-rapl:0"
    zone.mkdir()
    (zone / "max_energy_range_uj").write_text("100\n")
    assert read_rapl(tmp_path) is None  # energy_uj missing, as when access is denied


def test_rapl_energy_handles_wraparound():
    before = {"intel-rapl:0": (990, 999), "intel-rapl:1": (10, 999)}
    after = {"intel-rapl:0": (5, 999), "intel-rapl:1": (2_010, 999)}
    # zone 0 wrapped: 999 + 1 - 990 + 5 = 15 uJ; zone 1: 2,000 uJ
    assert rapl_energy_j(before, after) == pytest.approx(2_015e-6, rel=1e-12)


def test_rapl_energy_rejects_different_zones():
    with pytest.raises(ValueError, match=r"^RAPL readings name different zones"):
        rapl_energy_j({"a": (0, 1)}, {"b": (0, 1)})


def test_meter_measures_rapl_energy(tmp_path):
    zone = make_zone(tmp_path, "intel-rapl:0", 1_000_000)
    with EnergyMeter(powercap_root=tmp_path, nvidia_smi="") as meter:
        (zone / "energy_uj").write_text("4000000\n")  # 3 J spent inside the block
    r = meter.reading
    assert r.kind == "measured" and r.method == "rapl"
    assert r.energy_j == pytest.approx(3.0, rel=1e-12)
    assert r.power_w > 0


def test_meter_without_sources_gives_no_reading(tmp_path):
    with EnergyMeter(powercap_root=tmp_path, nvidia_smi="") as meter:
        pass
    assert meter.reading is None


@pytest.fixture
def fake_smi(tmp_path):
    script = tmp_path / "nvidia-smi"
    script.write_text("#!/bin/sh\nprintf '45.50\\n30.25\\n'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_nvidia_smi_sums_gpus(fake_smi):
    assert nvidia_smi_power_w(fake_smi) == 75.75


def test_nvidia_smi_absent(tmp_path):
    assert nvidia_smi_power_w(str(tmp_path / "none")) is None


def test_meter_uses_nvidia_smi(tmp_path, fake_smi):
    with EnergyMeter(powercap_root=tmp_path, nvidia_smi=fake_smi, nvml=False) as meter:
        pass
    assert meter.reading.method == "nvidia-smi"
    assert meter.reading.power_w == pytest.approx(75.75)


class _Counters:
    """NVML's total-energy counters of two GPUs, advanced by the test (millijoules)."""

    def __init__(self):
        self.mj = [1_000, 50_000]

    def nvmlInit(self):
        pass

    def nvmlDeviceGetCount(self):
        return len(self.mj)

    def nvmlDeviceGetHandleByIndex(self, i):
        return i

    def nvmlDeviceGetTotalEnergyConsumption(self, handle):
        return self.mj[handle]


class _NoNVML(_Counters):
    def nvmlInit(self):
        raise RuntimeError("NVML Shared Library Not Found")


def test_nvml_energy_reads_every_gpu():
    assert nvml_energy_mj(_Counters()) == [1_000, 50_000]
    assert nvml_energy_mj(_NoNVML()) is None


def test_meter_uses_nvml_counter_before_nvidia_smi(tmp_path, fake_smi):
    nvml = _Counters()
    with EnergyMeter(powercap_root=tmp_path, nvidia_smi=fake_smi, nvml=nvml) as meter:
        nvml.mj = [1_000 + 2_500, 50_000 + 500]  # 3 J over both boards
    r = meter.reading
    assert (r.kind, r.method) == ("measured", "nvml")
    assert r.energy_j == pytest.approx(3.0, rel=1e-12)
    assert "NVML total energy of 2 GPU(s)" in r.detail


def test_meter_falls_back_to_nvidia_smi_without_nvml(tmp_path, fake_smi):
    with EnergyMeter(powercap_root=tmp_path, nvidia_smi=fake_smi, nvml=_NoNVML()) as meter:
        pass
    assert meter.reading.method == "nvidia-smi"


def test_this_machine_measures_exactly_what_it_exposes():
    # What this machine exposes, read directly, decides what the meter must report.
    exposed = {"rapl": read_rapl() is not None, "nvml": nvml_energy_mj() is not None,
               "nvidia-smi": nvidia_smi_power_w() is not None}
    with EnergyMeter() as meter:
        sum(range(10_000))
    if not any(exposed.values()):
        assert meter.reading is None
    else:
        assert meter.reading.kind == "measured" and meter.reading.energy_j >= 0
        methods = set(meter.reading.method.split("+"))
        assert methods <= {m for m, ok in exposed.items() if ok} and methods, methods


def test_estimate_from_cores():
    r = estimate_power(4)
    assert r.power_w == 4 * DEFAULT_WATTS_PER_CORE
    assert (r.kind, r.method) == ("estimate", "tdp")
    assert r.detail == "4 cores x 10 W per core (TDP estimate)"
    assert estimate_power(2, watts_per_core=7.5).power_w == 15.0


def test_stated_power_is_an_estimate():
    r = estimate_power(4, power_w=65.0)
    assert (r.power_w, r.kind, r.method) == (65.0, "estimate", "stated")


@pytest.mark.parametrize("kw, msg", [
    ({"cores": 0}, r"^cores must be >= 1, not 0$"),
    ({"cores": 2, "power_w": -5.0}, r"^power_w must be > 0 W, not -5\.0$"),
    ({"cores": 2, "watts_per_core": 0.0}, r"^watts_per_core must be > 0 W, not 0\.0$"),
])
def test_estimate_validation(kw, msg):
    with pytest.raises(ValueError, match=msg):
        estimate_power(**kw)


def test_reading_to_dict():
    d = estimate_power(1).to_dict()
    assert set(d) == {"power_w", "energy_j", "kind", "method", "detail"}


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files regardless of mode")
def test_unreadable_counter_falls_back(tmp_path):
    zone = make_zone(tmp_path, "intel-rapl:0", 7)
    (zone / "energy_uj").chmod(0)
    assert read_rapl(tmp_path) is None
