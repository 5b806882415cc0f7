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
    assert e.scratch_bytes == 2 * 2 * 4 * 500 * 8 + 2 * (1 << 18) * 24
    assert e.total_bytes == sum(e[1:5])


def test_check_memory_names_need_available_and_scale():
    e = memory.estimate_build(n_neurons=77169, synapses=298_880_969, partitions=1, threads=2,
                              max_pre=21915)
    memory.check_memory(e, 8 << 30)
    with pytest.raises(MemoryError, match=r"^building this network needs about 2\.31 GiB "
                                          r"\(2\.989e\+08 synapses x 8 bytes plus indexes\), "
                                          r"but only 1\.00 GiB are available \(memory_limit\); "
                                          r"use --scale 0\.41 or smaller$"):
        memory.check_memory(e, 1 << 30, scale=1.0)
    with pytest.raises(MemoryError, match=r"use --scale 0\.64 or smaller$"):
        memory.check_memory(e, 1 << 30, scale=1.0, scale_exponent=2.0)
    with pytest.raises(MemoryError, match=r"reduce the number of synapses about 2\.4-fold$"):
        memory.check_memory(e, 1 << 30)


def test_cgroup_v2_and_v1_limits_less_usage(tmp_path):
    v2 = tmp_path / "v2"
    (v2 / "job").mkdir(parents=True)
    (v2 / "job" / "memory.max").write_text("3221225472\n")
    (v2 / "job" / "memory.current").write_text("1073741824\n")
    (tmp_path / "cg2").write_text("0::/job\n")
    assert memory.cgroup_bytes(str(tmp_path / "cg2"), str(v2)) == 2 << 30
    (v2 / "job" / "memory.max").write_text("max\n")
    assert memory.cgroup_bytes(str(tmp_path / "cg2"), str(v2)) is None
    v1 = tmp_path / "v1"
    (v1 / "memory").mkdir(parents=True)  # inside a container: the limit at the mount root
    (v1 / "memory" / "memory.limit_in_bytes").write_text(str(1 << 30))
    (v1 / "memory" / "memory.usage_in_bytes").write_text(str(1 << 28))
    (tmp_path / "cg1").write_text("4:memory:/docker/abc\n1:cpu:/\n")
    assert memory.cgroup_bytes(str(tmp_path / "cg1"), str(v1)) == (1 << 30) - (1 << 28)
    (v1 / "memory" / "memory.limit_in_bytes").write_text(str(2**63 - 4096))  # no limit
    assert memory.cgroup_bytes(str(tmp_path / "cg1"), str(v1)) is None


def test_memory_limit_takes_the_smallest_and_names_it(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemAvailable:   8388608 kB\n")
    (tmp_path / "memory.max").write_text(str(1 << 30))
    (tmp_path / "memory.current").write_text("0")
    (tmp_path / "cg").write_text("0::/\n")
    got = memory.memory_limit(meminfo=str(meminfo), proc_cgroup=str(tmp_path / "cg"),
                              root=str(tmp_path))
    assert got == (1 << 30, "the cgroup memory limit") or "ulimit" in got[1]


def test_a_build_under_a_ulimit_is_refused_by_name_before_it_allocates(tmp_path):
    """A real RLIMIT_AS of 1.5 GiB: the full microcircuit is refused at once, naming it."""
    import resource
    import subprocess
    import sys
    from pathlib import Path

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (3 << 29, 3 << 29))

    script = Path(sys.executable).with_name("neuroaix")
    res = subprocess.run([str(script), "run", "microcircuit", "--scale", "1.0", "--t-sim", "1",
                          "--out", str(tmp_path / "r")], preexec_fn=limit, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 2, res.stderr
    assert "ulimit RLIMIT_AS (1.50 GiB" in res.stderr and "use --scale 0." in res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "r").exists()
