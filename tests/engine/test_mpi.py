"""neuroaix.engine.mpi: identical results for any rank count and exchange mode, per-rank
memory, checkpoints across MPI and one process, and bad setups that end every rank."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from neuroaix.engine import Simulator
from neuroaix.engine.mpi import (
    CollectiveError,
    launched_ranks,
    rank_partitions,
)

from tests._mpi import mpiexec

from .mpi_runner import case_network, run_digest

HERE = pathlib.Path(__file__).parent
RUNNER = HERE / "mpi_runner.py"
ROOT = HERE.parent.parent


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env.setdefault("NUMBA_NUM_THREADS", "2")
    return env


def _launch(n, args, *, timeout=120, extra=(), env=None):
    """Run ``mpiexec -n n python ARGS`` (ranks may outnumber cores: MPICH needs no flag)."""
    cmd = [mpiexec(), "-n", str(n), *extra, sys.executable, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                          env=env or _env(), cwd=ROOT)


def _runner(n, *cases, timeout=150):
    proc = _launch(n, [str(RUNNER), *cases], timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


CASE_NAMES = ("brunel", "microcircuit", "microcircuit_d1", "models", "saturating")


@pytest.fixture(scope="module")
def single_process():
    """The single-process results of every case (threads 1)."""
    out = {}
    for name in CASE_NAMES:
        net, parts, steps = case_network(name)
        sim = Simulator(net.build(partitions=parts, threads=1), threads=1, progress=False)
        sim.run_steps(steps)
        out[name] = run_digest(sim)
    return out


@pytest.mark.parametrize("ranks", [1, 2, 4])
def test_every_rank_count_and_mode_equals_one_process(ranks, single_process):
    cases = ["brunel:step", "brunel:interval", "microcircuit:step", "microcircuit_d1:step",
             "microcircuit_d1:interval", "models:step", "models:interval", "saturating:step"]
    got = _runner(ranks, *cases)
    assert got["models:interval"]["interval"] == 10
    assert got["brunel:interval"]["interval"] == 15
    assert got["microcircuit_d1:interval"]["interval"] == 10
    assert got["brunel:step"]["interval"] == 1
    if ranks == 2:  # a burst outgrew the fixed-size message: the second collective ran
        assert sum(got[c]["exchanges"]["overflows"] for c in cases) > 0
    for case in cases:
        name = case.split(":")[0]
        want = single_process[name]
        assert want["spikes"] > 200  # the networks are active
        if name == "saturating":  # ring channels read at their bound, counted alike
            assert want["counters"]["saturations"] > 0
        for key in ("spike_hash", "spikes", "counters", "state"):
            assert got[case][key] == want[key], (case, key)


def test_each_rank_stores_a_quarter_of_the_synapses():
    got = _runner(4, "microcircuit:step")["microcircuit:step"]
    per_rank = np.array(got["synapses_per_rank"])
    assert per_rank.sum() == got["total_synapses"]
    np.testing.assert_allclose(per_rank, got["total_synapses"] / 4, rtol=0.02)
    # the words array holds exactly the rank's synapses: the scratch block was released
    assert got["word_bytes_per_rank"] == [8 * k for k in got["synapses_per_rank"]]


def test_subset_build_equals_the_full_build():
    net, parts, _ = case_network("microcircuit")
    full = net.build(partitions=parts, threads=2)
    part = net.build(partitions=parts, threads=2, only=[2, 1])
    assert part.owned == (1, 2)
    assert part.max_delay == full.max_delay and part.ring_depth == full.ring_depth
    for p in range(parts):
        if p in (1, 2):
            np.testing.assert_array_equal(part.partitions[p].words, full.partitions[p].words)
            np.testing.assert_array_equal(part.partitions[p].row_ptr,
                                          full.partitions[p].row_ptr)
        else:
            assert part.partitions[p].n_synapses == 0


def test_build_only_rejects_bad_partitions():
    net, parts, _ = case_network("brunel")
    with pytest.raises(ValueError, match=r"only must list partition indices in \[0, 4\)"):
        net.build(partitions=parts, only=[4])
    with pytest.raises(ValueError, match="only must list"):
        net.build(partitions=parts, only=[])


def test_rank_partitions_are_contiguous_blocks():
    blocks = [rank_partitions(35, 4, r).tolist() for r in range(4)]
    assert [p for b in blocks for p in b] == list(range(35))
    assert [len(b) for b in blocks] == [8, 9, 9, 9]
    with pytest.raises(CollectiveError, match="5 MPI ranks but only 4 partitions"):
        rank_partitions(4, 5, 0)


def test_launched_ranks_reads_the_launcher(monkeypatch):
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE", "PMIX_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert launched_ranks() == 1
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "3")
    assert launched_ranks() == 3


def test_checkpoint_under_mpi_restores_in_one_process_and_back(tmp_path, single_process):
    net, parts, steps = case_network("brunel")
    built = net.build(partitions=parts, threads=1)
    half = Simulator(built, threads=1, progress=False)
    half.run_steps(steps // 2)
    single_ckpt = tmp_path / "single.npz"
    half.checkpoint(single_ckpt)
    mpi_ckpt = tmp_path / "mpi.npz"
    got = _runner(2, "checkpoint", "brunel", str(mpi_ckpt), str(single_ckpt))
    # an MPI run resumed from a single-process checkpoint
    assert got["checkpoint"] == single_process["brunel"]
    # a single process resumed from the MPI checkpoint, with the same and other partitions
    sim = Simulator.restore(built, mpi_ckpt, threads=1, progress=False)
    sim.run_steps(steps - steps // 2)
    assert run_digest(sim) == single_process["brunel"]
    other = Simulator.restore(net.build(partitions=3, threads=1), mpi_ckpt, threads=1,
                              progress=False)
    other.run_steps(steps - steps // 2)
    assert other.spike_hash() == single_process["brunel"]["spike_hash"]
    # both files hold the same state
    with np.load(single_ckpt) as a, np.load(mpi_ckpt) as b:
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key])


# Bad setups: every rank ends with a message, nothing hangs --------------------------------


def _cli(n, *args, timeout=90, env=None):
    return _launch(n, ["-m", "neuroaix", "run", *args], timeout=timeout, env=env)


def test_more_ranks_than_partitions_ends_every_rank(tmp_path):
    proc = _cli(3, "brunel", "--scale", "0.02", "--t-sim", "5", "--partitions", "2",
                "--out", str(tmp_path), "--no-plot")
    assert proc.returncode != 0
    for r in range(3):
        assert f"[rank {r}/3] 3 MPI ranks but only 2 partitions" in proc.stderr


def test_ranks_with_different_parameters_end_every_rank(tmp_path):
    common = ["-m", "neuroaix", "run", "brunel", "--scale", "0.02", "--t-sim", "5",
              "--out", str(tmp_path), "--no-plot"]
    cmd = [mpiexec(), "-n", "1", sys.executable, *common, "--seed", "1", ":",
           "-n", "1", sys.executable, *common, "--seed", "2"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False,
                          env=_env(), cwd=ROOT)
    assert proc.returncode != 0
    for r in range(2):
        assert (f"[rank {r}/2] MPI ranks disagree on the run parameters: rank(s) [1] differ "
                "from rank 0") in proc.stderr


def test_missing_mpi4py_ends_every_rank(tmp_path):
    # a package directory that makes "import mpi4py" fail, as on a machine without it
    fake = tmp_path / "nompi" / "mpi4py"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named mpi4py')\n")
    env = _env()
    env["PYTHONPATH"] = os.pathsep.join([str(fake.parent), env["PYTHONPATH"]])
    proc = _cli(2, "brunel", "--scale", "0.02", "--t-sim", "5", "--out", str(tmp_path),
                "--no-plot", env=env)
    assert proc.returncode != 0
    assert proc.stderr.count("MPI is not available (ImportError: No module named mpi4py)") == 2
    assert "pip install 'neuroaix[mpi]'" in proc.stderr


def test_a_failing_rank_aborts_all_ranks():
    proc = _launch(2, [str(RUNNER), "fail"], timeout=90)
    assert proc.returncode != 0
    assert "[rank 1/2] RuntimeError: rank 1 lost its data; aborting all ranks" in proc.stderr


# The command line ------------------------------------------------------------------------


def test_run_command_writes_single_process_outputs_once(tmp_path):
    args = ["brunel", "--scale", "0.05", "--t-sim", "60", "--t-presim", "10", "--no-plot",
            "--partitions", "4", "--threads", "1"]
    single = subprocess.run([sys.executable, "-m", "neuroaix", "run", *args, "--out",
                             str(tmp_path / "one")], capture_output=True, text=True,
                            timeout=90, check=False, env=_env(), cwd=ROOT)
    assert single.returncode == 0, single.stderr
    proc = _cli(2, *args, "--out", str(tmp_path / "two"), "--checkpoint",
                str(tmp_path / "two.npz"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("spike_hash") == 1  # only rank 0 prints
    one = json.loads((tmp_path / "one" / "summary.json").read_text())
    two = json.loads((tmp_path / "two" / "summary.json").read_text())
    assert two.pop("mpi")["ranks"] == 2
    timing = ("wall_s_build", "wall_s_sim", "q_rtf", "synaptic_events_per_wall_s",
              "peak_rss_bytes")
    for s in (one, two):
        for key in timing:
            s["total"].pop(key)
        s.pop("energy", None)
    assert one == two
    with np.load(tmp_path / "one" / "spikes.npz") as a, \
            np.load(tmp_path / "two" / "spikes.npz") as b:
        assert a.files == b.files
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key])
    # continue the MPI checkpoint, once in one process and once over two ranks
    more = ["brunel", "--scale", "0.05", "--t-sim", "20", "--no-plot", "--partitions", "4",
            "--threads", "1", "--restore", str(tmp_path / "two.npz")]
    single = subprocess.run([sys.executable, "-m", "neuroaix", "run", *more, "--out",
                             str(tmp_path / "one_more")], capture_output=True, text=True,
                            timeout=90, check=False, env=_env(), cwd=ROOT)
    assert single.returncode == 0, single.stderr
    proc = _cli(2, *more, "--out", str(tmp_path / "two_more"))
    assert proc.returncode == 0, proc.stderr
    hashes = [json.loads((tmp_path / d / "summary.json").read_text())["total"]["spike_hash"]
              for d in ("one_more", "two_more")]
    assert hashes[0] == hashes[1]
    with np.load(tmp_path / "two_more" / "spikes.npz") as b:
        assert b["steps"].min() >= 700  # continued after presimulation and 60 ms
