"""Tests of neuroaix.memory: the build estimate and the refusal message."""

import pytest

from neuroaix import memory


def test_available_bytes_reads_memavailable(tmp_path):
    f = tmp_path / "meminfo"
    f.write_text("MemTotal:       24000000 kB\nMemFree:  1 kB\nMemAvailable:   1048576 kB\n")
    assert memory.available_bytes(str(f)) == 1 << 30
    assert memory.available_bytes(str(tmp_path / "missing")) is None
    assert memory.available_bytes() is None or memory.available_bytes() > 0


def test_estimate_parts():
    e = memory.estimate_build(n_neurons=1000, synapses=10**6, partitions=4, threads=2,
                              max_pre=500)
    assert e.synapse_bytes == 8 * 10**6
    assert e.index_bytes == 2 * 4 * 1001 * 8
    assert e.scratch_bytes == 2 * 2 * 4 * 500 * 8 + 2 * (1 << 22) * 24
    assert e.total_bytes == sum(e[1:5])


def test_check_memory_names_need_available_and_scale():
    e = memory.estimate_build(n_neurons=77169, synapses=298_880_969, partitions=1, threads=2,
                              max_pre=21915)
    memory.check_memory(e, 8 << 30)
    with pytest.raises(MemoryError, match=r"^building this network needs about 2\.30 GiB "
                                          r"\(2\.989e\+08 synapses x 8 bytes plus indexes\), "
                                          r"but only 1\.00 GiB are available \(memory_limit\); "
                                          r"use --scale 0\.41 or smaller$"):
        memory.check_memory(e, 1 << 30, scale=1.0)
    with pytest.raises(MemoryError, match=r"use --scale 0\.64 or smaller$"):
        memory.check_memory(e, 1 << 30, scale=1.0, scale_exponent=2.0)
    with pytest.raises(MemoryError, match=r"reduce the number of synapses about 2\.\d\d-fold$"):
        memory.check_memory(e, 1 << 30)
